"""What a Jira call will send: the issue or comment planned from a mail and its triage.

An issue made from a mail takes its type from the triage (a bug report is a Bug, a feature
request a Story, anything else a Task) and its priority from the triage priority; the plan is
what the approval card shows and what the call then sends. Issue keys of the configured
projects are recognised in mail.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from memory.db import AppDatabase
from tools.http import HttpSettings
from tools.integrations.jira_documents import adf_document, adf_paragraphs, adf_to_text, mail_blocks
from tools.toolkit import (
    ToolFailure,
    mail_with_triage,
)

INTEGRATION = "Jira"
ISSUE_TYPE_BY_CATEGORY = {"bug_report": "Bug", "feature_request": "Story"}
DEFAULT_ISSUE_TYPE = "Task"
PRIORITY_BY_TRIAGE = {"high": "High", "normal": "Medium", "low": "Low"}
SUMMARY_LIMIT = 255
"""Jira refuses a longer summary."""
SEARCH_FIELDS = ["summary", "status", "priority", "issuetype", "assignee", "updated"]
ISSUE_KEY = re.compile(r"\b([A-Z][A-Z0-9_]{0,19})-([1-9]\d{0,8})\b")
SUBJECT_PREFIX = re.compile(r"^\s*((re|fwd?|aw|wg|sv|tr)\s*:\s*)+", re.IGNORECASE)
JQL_TEXT = re.compile(r"[^\w\s.@']")
"""Characters that mean something in a JQL text search; dropped from plain-word queries."""


@dataclass(frozen=True)
class JiraSettings:
    """Where Jira is and which projects are ours."""

    base_url: str
    """`JIRA_BASE_URL`, e.g. `https://your-site.atlassian.net`."""
    email: str
    """`JIRA_EMAIL`: the Atlassian account the API token belongs to."""
    project: str
    """`JIRA_PROJECT`: the key of the project new issues go to."""
    project_keys: frozenset[str] = frozenset()
    """`JIRA_PROJECT_KEYS`: projects whose issue keys are recognised in mail (and searched)."""
    mail_link: str = ""
    """`MAIL_LINK_URL`: a link template with `{id}` that opens a message in the mail client."""


@dataclass(frozen=True)
class JiraEnv:
    """What the Jira tools need at run time, injected by `act`; the token is never shown."""

    settings: JiraSettings
    token: str = field(repr=False)
    db: AppDatabase = field(repr=False)
    http: HttpSettings = field(default_factory=HttpSettings)

    @property
    def headers(self) -> dict[str, str]:
        """Basic auth with the account's e-mail and API token, JSON both ways."""
        pair = f"{self.settings.email}:{self.token}".encode()
        return {
            "Authorization": "Basic " + base64.b64encode(pair).decode("ascii"),
            "Accept": "application/json",
        }

    def url(self, path: str) -> str:
        """An API URL on the site."""
        return f"{self.settings.base_url}{path}"


@dataclass(frozen=True)
class IssuePlan:
    """The issue a `jira_create_issue` call creates, exactly as it will be sent."""

    project: str
    summary: str
    issue_type: str
    priority: str
    """Empty when neither the call nor a triage gives one (Jira then uses its default)."""
    description: str
    """The description as plain text, for the card."""
    fields: dict[str, Any]
    """The `fields` object of the request."""
    email_id: str = ""


def _clean_subject(subject: str) -> str:
    return SUBJECT_PREFIX.sub("", subject).strip()


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def jira_priority(value: str) -> str:
    """A Jira priority name from a triage priority (`high` → High) or as given."""
    value = value.strip()
    return PRIORITY_BY_TRIAGE.get(value.lower(), value)


def plan_issue(env: JiraEnv, args: Mapping[str, Any]) -> IssuePlan:
    """Work out summary, type, priority and description from the arguments and the mail."""
    email_id = str(args.get("email_id") or "").strip()
    details = str(args.get("details") or "").strip()
    email, triage = mail_with_triage(env.db, email_id) if email_id else (None, None)
    summary = str(args.get("summary") or "").strip()
    if not summary and email is not None:
        summary = _clean_subject(email.subject) or f"Mail from {email.sender}"
    if not summary:
        raise ToolFailure("a Jira issue needs a summary or the id of the mail it is about")
    summary = _cut(summary, SUMMARY_LIMIT)
    issue_type = str(args.get("issue_type") or "").strip()
    if not issue_type:
        category = triage.category if triage else ""
        issue_type = ISSUE_TYPE_BY_CATEGORY.get(category, DEFAULT_ISSUE_TYPE)
    priority = jira_priority(str(args.get("priority") or ""))
    if not priority and triage is not None:
        priority = PRIORITY_BY_TRIAGE.get(triage.priority, "")
    blocks = adf_paragraphs(details)
    if email is not None:
        blocks += mail_blocks(email, triage, env.settings.mail_link)
    fields: dict[str, Any] = {
        "project": {"key": env.settings.project},
        "summary": summary,
        "issuetype": {"name": issue_type},
        "description": adf_document(blocks),
    }
    if priority:
        fields["priority"] = {"name": priority}
    return IssuePlan(
        project=env.settings.project,
        summary=summary,
        issue_type=issue_type,
        priority=priority,
        description=adf_to_text(fields["description"]).strip(),
        fields=fields,
        email_id=email.id if email else "",
    )


@dataclass(frozen=True)
class CommentPlan:
    """The comment a `jira_add_comment` call adds."""

    issue_key: str
    body: dict[str, Any]
    text: str


def checked_key(value: Any) -> str:
    """An issue key such as `NW-12` (upper-cased), or `ToolFailure`."""
    key = str(value or "").strip().upper()
    if not ISSUE_KEY.fullmatch(key):
        raise ToolFailure(f"not a Jira issue key: {str(value)!r} (expected something like NW-12)")
    return key


def plan_comment(env: JiraEnv, args: Mapping[str, Any]) -> CommentPlan:
    """The comment: the given text, then the mail when an `email_id` is given."""
    key = checked_key(args.get("issue_key"))
    text = str(args.get("text") or "").strip()
    email_id = str(args.get("email_id") or "").strip()
    blocks = adf_paragraphs(text)
    if email_id:
        email, triage = mail_with_triage(env.db, email_id)
        blocks += mail_blocks(email, triage, env.settings.mail_link)
    if not blocks:
        raise ToolFailure("a Jira comment needs text or the id of a mail to add")
    body = adf_document(blocks)
    return CommentPlan(issue_key=key, body=body, text=adf_to_text(body).strip())


def issue_keys(text: str, projects: frozenset[str]) -> list[str]:
    """Issue keys of the given projects mentioned in a text, in order, without repeats."""
    found = [m.group(0) for m in ISSUE_KEY.finditer(text) if m.group(1) in projects]
    return list(dict.fromkeys(found))


def search_jql(env: JiraEnv, query: str, jql: str) -> str:
    """The JQL of a search: given as is, or the words as a text search in our projects."""
    if jql.strip():
        return jql.strip()
    words = " ".join(JQL_TEXT.sub(" ", query).split())
    projects = sorted({env.settings.project} | env.settings.project_keys)
    scope = "project in (" + ", ".join(f'"{p}"' for p in projects) + ")"
    if not words:
        return f"{scope} ORDER BY updated DESC"
    escaped = words.replace("\\", "\\\\").replace('"', '\\"')
    return f'{scope} AND text ~ "{escaped}" ORDER BY updated DESC'
