"""Jira tools: create an issue from a mail, search issues, read one, comment (writes need approval).

The tools talk to Jira Cloud's REST API over the shared client; `jira_issues` plans what
they send and `jira_documents` writes the mail into it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Annotated, Any
from urllib.parse import quote

import httpx
from langchain_core.tools import InjectedToolArg, tool

from memory.db import AppDatabase
from memory.secrets import SecretLookup
from tools.api_requests import ApiRequest, json_of, send
from tools.http import HttpSettings, HttpSettingsError, service_url
from tools.integrations.jira_documents import adf_to_text
from tools.integrations.jira_issues import (
    INTEGRATION,
    SEARCH_FIELDS,
    JiraEnv,
    JiraSettings,
    checked_key,
    plan_comment,
    plan_issue,
    search_jql,
)
from tools.toolkit import (
    ActionPreview,
    Toolkit,
    ToolResult,
    text_result,
)

logger = logging.getLogger(__name__)


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
    """Create a Jira issue from a mail by its id (type and priority from its triage), or from a summary."""  # noqa: E501 — the model reads it as one line
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
    """Search Jira issues by words (or by a JQL query); returns key, summary, status and priority."""  # noqa: E501 — the model reads it as one line
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
