"""Jira Cloud (REST API v3): open an issue from a mail, search, read and comment on issues.

An issue made from a mail takes its type from the triage (a bug report is a Bug, a feature
request a Story, anything else a Task), its priority from the triage priority, and carries the
mail in its description: sender, date, subject, Message-ID (a link when `MAIL_LINK_URL` is
set) and the sender's own words. Issue keys of the configured projects are recognised in mail.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

import httpx
from langchain_core.tools import InjectedToolArg, tool

from memory.db import AppDatabase, TriageRecord
from memory.secrets import SecretLookup
from tools.api_requests import ApiRequest, json_of, send
from tools.http import HttpSettings, HttpSettingsError, service_url
from tools.toolkit import (
    ActionPreview,
    ToolFailure,
    Toolkit,
    ToolResult,
    mail_excerpt,
    mail_link,
    mail_with_triage,
    text_result,
)

if TYPE_CHECKING:
    from tools.mail.model import Email

logger = logging.getLogger(__name__)

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


# --------------------------------------------------------------------------------------
# Atlassian Document Format
# --------------------------------------------------------------------------------------


def adf_text(text: str, *, strong: bool = False, link: str = "") -> dict[str, Any]:
    """An ADF text node, optionally bold or a link."""
    node: dict[str, Any] = {"type": "text", "text": text}
    marks: list[dict[str, Any]] = []
    if strong:
        marks.append({"type": "strong"})
    if link:
        marks.append({"type": "link", "attrs": {"href": link}})
    if marks:
        node["marks"] = marks
    return node


def adf_paragraphs(text: str) -> list[dict[str, Any]]:
    """Plain text as ADF paragraphs: blank lines split paragraphs, single newlines break lines.

    ADF forbids empty text nodes, so empty lines and paragraphs are left out.
    """
    blocks = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        content: list[dict[str, Any]] = []
        for line in chunk.splitlines():
            if not line.strip():
                continue
            if content:
                content.append({"type": "hardBreak"})
            content.append(adf_text(line.rstrip()))
        if content:
            blocks.append({"type": "paragraph", "content": content})
    return blocks


def adf_document(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """An ADF document (an empty one still holds one empty paragraph, as Jira's editor does)."""
    return {"type": "doc", "version": 1, "content": blocks or [{"type": "paragraph"}]}


def adf_to_text(node: Any) -> str:
    """The readable text of an ADF document (for issues read back from Jira)."""
    if isinstance(node, str):
        return node
    if not isinstance(node, dict):
        return ""
    kind = node.get("type")
    if kind == "text":
        return str(node.get("text", ""))
    if kind == "hardBreak":
        return "\n"
    inner = "".join(adf_to_text(child) for child in node.get("content") or [])
    if kind in ("paragraph", "heading", "blockquote", "codeBlock", "listItem"):
        return inner.strip("\n") + "\n\n"
    return inner


def mail_blocks(
    email: Email, triage: TriageRecord | None, link_template: str
) -> list[dict[str, Any]]:
    """The mail as ADF: who, when, what, its id (or a link to it) and the sender's words."""
    link = mail_link(link_template, email)
    facts = [
        ("From: ", email.sender),
        ("Date: ", email.date or "unknown"),
        ("Subject: ", email.subject or "(no subject)"),
    ]
    content: list[dict[str, Any]] = [adf_text("From the mail", strong=True)]
    for label, value in facts:
        # ADF refuses empty text nodes: a missing value is said, not left blank.
        text = value or "(unknown)"
        content += [{"type": "hardBreak"}, adf_text(label, strong=True), adf_text(text)]
    content += [{"type": "hardBreak"}, adf_text("Message-ID: ", strong=True)]
    content.append(adf_text(email.id, link=link) if link else adf_text(email.id))
    if triage is not None:
        line = f"{triage.priority} priority, {triage.category}: {triage.reason}"
        content += [{"type": "hardBreak"}, adf_text("Triage: ", strong=True), adf_text(line)]
    blocks: list[dict[str, Any]] = [{"type": "paragraph", "content": content}]
    quoted = adf_paragraphs(mail_excerpt(email))
    if quoted:
        blocks.append({"type": "blockquote", "content": quoted})
    return blocks


def mail_text(email: Email, triage: TriageRecord | None, link_template: str) -> str:
    """The same mail block as plain text (for the approval card)."""
    return adf_to_text(adf_document(mail_blocks(email, triage, link_template))).strip()


# --------------------------------------------------------------------------------------
# What a call will send
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# Talking to Jira
# --------------------------------------------------------------------------------------

HINTS = {
    401: "check JIRA_EMAIL and the API token (jira.api_token / JIRA_API_TOKEN)",
    403: "the account lacks permission for this in Jira",
    404: "check JIRA_BASE_URL, the project key and the issue key",
}


def explain(response: httpx.Response) -> str:
    """Jira's `{"errorMessages": [...], "errors": {field: message}}`, as one line, with a hint."""
    parts: list[str] = []
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        parts += [str(m) for m in body.get("errorMessages") or []]
        errors = body.get("errors") or {}
        if isinstance(errors, dict):
            parts += [f"{name}: {message}" for name, message in errors.items()]
    if not parts:
        text = " ".join(response.text.split())[:200]
        parts = [text or "(no details)"]
    hint = HINTS.get(response.status_code)
    return "; ".join(parts) + (f" ({hint})" if hint else "")


async def _call(
    env: JiraEnv,
    method: str,
    path: str,
    action: str,
    *,
    json: Any = None,
    idempotent: bool | None = None,
) -> Any:
    request = ApiRequest(
        integration=INTEGRATION,
        method=method,
        url=env.url(path),
        action=action,
        json=json,
        headers=env.headers,
        idempotent=idempotent,
    )
    response = await send(request, env.http, explain=explain)
    return json_of(response, request) if response.content else {}


def _issue_line(issue: dict[str, Any]) -> str:
    fields = issue.get("fields") or {}
    kind = (fields.get("issuetype") or {}).get("name", "")
    status = (fields.get("status") or {}).get("name", "")
    priority = (fields.get("priority") or {}).get("name", "")
    assignee = (fields.get("assignee") or {}).get("displayName", "unassigned")
    tags = " · ".join(t for t in (kind, status, priority) if t)
    updated = str(fields.get("updated") or "")[:10]
    line = f"{issue.get('key')} [{tags}] {fields.get('summary', '')} — {assignee}"
    return line + (f", updated {updated}" if updated else "")


@tool
async def jira_create_issue(
    email_id: str = "",
    summary: str = "",
    issue_type: str = "",
    priority: str = "",
    details: str = "",
    *,
    env: Annotated[JiraEnv, InjectedToolArg],
) -> ToolResult:
    """Create a Jira issue from a mail by its id (type and priority from its triage), or from a summary."""
    args = {
        "email_id": email_id,
        "summary": summary,
        "issue_type": issue_type,
        "priority": priority,
        "details": details,
    }
    plan = await asyncio.to_thread(plan_issue, env, args)
    created = await _call(
        env, "POST", "/rest/api/3/issue", "create the issue", json={"fields": plan.fields}
    )
    key = str(created.get("key", ""))
    url = f"{env.settings.base_url}/browse/{key}"
    priority_text = f", priority {plan.priority}" if plan.priority else ""
    text = (
        f"Created Jira issue {key} ({plan.issue_type}{priority_text}) in project "
        f"{plan.project}: {plan.summary} — {url}"
    )
    if plan.email_id:
        text += f" [msg:{plan.email_id}]"
    return text_result(text, data={"key": key, "id": str(created.get("id", "")), "url": url})


@tool
async def jira_search(
    query: str = "",
    jql: str = "",
    limit: int = 10,
    *,
    env: Annotated[JiraEnv, InjectedToolArg],
) -> ToolResult:
    """Search Jira issues by words (or by a JQL query); returns key, summary, status and priority."""
    expression = search_jql(env, query, jql)
    found = await _call(
        env,
        "POST",
        "/rest/api/3/search/jql",
        "search issues",
        json={"jql": expression, "maxResults": max(1, min(limit, 50)), "fields": SEARCH_FIELDS},
        idempotent=True,
    )
    issues = [i for i in found.get("issues") or [] if isinstance(i, dict)]
    if not issues:
        return text_result(f"No Jira issues matched ({expression}).")
    lines = [f"{len(issues)} Jira issue(s) matching {expression}:"]
    lines += [f"{n}. {_issue_line(issue)}" for n, issue in enumerate(issues, 1)]
    if not found.get("isLast", True):
        lines.append("(More issues match; only the first ones are shown.)")
    return text_result("\n".join(lines))


@tool
async def jira_get_issue(
    issue_key: str,
    *,
    env: Annotated[JiraEnv, InjectedToolArg],
) -> ToolResult:
    """Get one Jira issue by its key (such as NW-123): summary, status, priority, assignee."""
    key = checked_key(issue_key)
    fields = ",".join([*SEARCH_FIELDS, "description", "reporter", "created"])
    issue = await _call(
        env, "GET", f"/rest/api/3/issue/{quote(key)}?fields={fields}", f"read issue {key}"
    )
    data = issue.get("fields") or {}
    description = adf_to_text(data.get("description")).strip() or "(no description)"
    reporter = (data.get("reporter") or {}).get("displayName", "unknown")
    text = "\n".join(
        [
            _issue_line(issue),
            f"Reporter: {reporter}; created {str(data.get('created') or '')[:10]}",
            f"Link: {env.settings.base_url}/browse/{key}",
            "Description:",
            description,
        ]
    )
    return text_result(text)


@tool
async def jira_add_comment(
    issue_key: str,
    text: str = "",
    email_id: str = "",
    *,
    env: Annotated[JiraEnv, InjectedToolArg],
) -> ToolResult:
    """Add a comment to a Jira issue: your text and/or a mail by its id."""
    plan = await asyncio.to_thread(
        plan_comment, env, {"issue_key": issue_key, "text": text, "email_id": email_id}
    )
    created = await _call(
        env,
        "POST",
        f"/rest/api/3/issue/{quote(plan.issue_key)}/comment",
        f"comment on {plan.issue_key}",
        json={"body": plan.body},
    )
    url = f"{env.settings.base_url}/browse/{plan.issue_key}"
    result = f"Added a comment (id {created.get('id', '?')}) to Jira issue {plan.issue_key} — {url}"
    if email_id:
        result += f" [msg:{email_id}]"
    return text_result(result, data={"key": plan.issue_key, "comment_id": created.get("id")})


JIRA_TOOLS = [jira_create_issue, jira_search, jira_get_issue, jira_add_comment]
READ_ONLY_JIRA_TOOLS = frozenset({"jira_search", "jira_get_issue"})


def preview(env: JiraEnv, name: str, args: dict[str, Any]) -> ActionPreview | None:
    """The card of a Jira write: the issue or comment exactly as it will be sent."""
    if name == "jira_create_issue":
        plan = plan_issue(env, args)
        return ActionPreview(
            title=f"Create a Jira issue in {plan.project}",
            fields=(
                ("Site", env.settings.base_url),
                ("Type", plan.issue_type),
                ("Priority", plan.priority or "(Jira's default)"),
                ("Summary", plan.summary),
            ),
            content=plan.description,
        )
    if name == "jira_add_comment":
        comment = plan_comment(env, args)
        return ActionPreview(
            title=f"Comment on Jira issue {comment.issue_key}",
            fields=(("Site", env.settings.base_url), ("Issue", comment.issue_key)),
            content=comment.text,
        )
    return None


def jira_settings(environ: Mapping[str, str], mail_link_template: str = "") -> JiraSettings:
    """Read `JIRA_*`; `HttpSettingsError` names what is missing or wrong."""
    missing = [
        name for name in ("JIRA_BASE_URL", "JIRA_EMAIL", "JIRA_PROJECT") if not environ.get(name)
    ]
    if missing:
        raise HttpSettingsError(
            ", ".join(missing) + (" is" if len(missing) == 1 else " are") + " not set"
        )
    project = environ["JIRA_PROJECT"].strip().upper()
    if not re.fullmatch(r"[A-Z][A-Z0-9_]{0,19}", project):
        raise HttpSettingsError(f"JIRA_PROJECT must be a project key such as NW, not {project!r}")
    extra = {
        k.strip().upper() for k in environ.get("JIRA_PROJECT_KEYS", "").split(",") if k.strip()
    }
    return JiraSettings(
        base_url=service_url("JIRA_BASE_URL", environ["JIRA_BASE_URL"]),
        email=environ["JIRA_EMAIL"].strip(),
        project=project,
        project_keys=frozenset(extra | {project}),
        mail_link=mail_link_template,
    )


def jira_toolkit(
    db: AppDatabase,
    secrets: SecretLookup,
    http: HttpSettings,
    environ: Mapping[str, str],
    mail_link_template: str = "",
) -> Toolkit:
    """The Jira tools, or the toolkit absent with what to set."""
    base = Toolkit(name="jira", tools=JIRA_TOOLS, read_only=READ_ONLY_JIRA_TOOLS, timeout=None)
    token = secrets("jira.api_token")
    anything = token or any(environ.get(n) for n in ("JIRA_BASE_URL", "JIRA_EMAIL", "JIRA_PROJECT"))
    if not anything:
        return _absent(
            base,
            "Jira is not configured: set JIRA_BASE_URL, JIRA_EMAIL, JIRA_PROJECT and the API "
            "token (JIRA_API_TOKEN)",
        )
    try:
        settings = jira_settings(environ, mail_link_template)
        if not token:
            raise HttpSettingsError("the API token (jira.api_token / JIRA_API_TOKEN) is not set")
    except HttpSettingsError as err:
        logger.warning("Jira is left out: %s", err)
        return _absent(base, f"Jira is not configured: {err}")
    env = JiraEnv(settings=settings, token=token, db=db, http=http)
    return _configured(base, env)


def _absent(base: Toolkit, why: str) -> Toolkit:
    return replace(base, missing=why)


def _configured(base: Toolkit, env: JiraEnv) -> Toolkit:
    return replace(base, env=env, preview=lambda name, args: preview(env, name, args))
