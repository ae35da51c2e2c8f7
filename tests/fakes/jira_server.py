"""A local stand-in for Jira Cloud's REST API v3, as documented.

It checks Basic auth (account e-mail and API token), validates a create request the way Jira
does (project, summary, issue type, priority, an Atlassian Document Format description) and
answers in Jira's shapes: `201 {"id", "key", "self"}`, errors as
`{"errorMessages": [...], "errors": {field: message}}`, the enhanced search at
`POST /rest/api/3/search/jql` (`{"issues", "isLast"}`) and 410 on the removed
`/rest/api/3/search`.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.http_api import FakeApi, Recorded, Reply

ISSUE_PATH = re.compile(r"^/rest/api/3/issue/(?P<key>[A-Z][A-Z0-9_]*-\d+)(?P<comment>/comment)?$")
NOT_AUTHENTICATED = Reply(
    401,
    {
        "errorMessages": [
            "You are not authenticated. Authentication required to perform this operation."
        ],
        "errors": {},
    },
)


def jira_error(status: int, messages: list[str] | None = None, **errors: str) -> Reply:
    """An error in Jira's shape."""
    return Reply(status, {"errorMessages": messages or [], "errors": errors})


def rate_limited(retry_after: str = "1") -> Reply:
    """Jira's 429 with `Retry-After`."""
    return Reply(
        429,
        {"errorMessages": ["Rate limit exceeded."], "errors": {}},
        {"Retry-After": retry_after, "X-RateLimit-Reason": "jira-burst-based"},
    )


@dataclass
class Issue:
    """One stored issue."""

    id: str
    key: str
    fields: dict[str, Any]
    comments: list[dict[str, Any]] = field(default_factory=list)


def _adf_ok(node: Any) -> bool:
    """A document Jira accepts: `doc`, version 1, text nodes with text."""
    if not isinstance(node, dict) or node.get("type") != "doc" or node.get("version") != 1:
        return False

    def walk(item: Any) -> bool:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            return False
        if item["type"] == "text" and not item.get("text"):
            return False
        return all(walk(child) for child in item.get("content") or [])

    return all(walk(child) for child in node.get("content") or [])


def adf_plain(node: Any) -> str:
    """Every text of an ADF document, joined (for searching)."""
    if isinstance(node, dict):
        own = str(node.get("text", "")) if node.get("type") == "text" else ""
        return " ".join([own, *(adf_plain(child) for child in node.get("content") or [])])
    return ""


class FakeJira(FakeApi):
    """Jira Cloud with one account and a few projects."""

    name = "fake jira"

    def __init__(
        self,
        email: str,
        token: str,
        projects: tuple[str, ...] = ("NW",),
        issue_types: tuple[str, ...] = ("Bug", "Story", "Task"),
        priorities: tuple[str, ...] = ("Highest", "High", "Medium", "Low", "Lowest"),
    ) -> None:
        super().__init__()
        self.email, self.token = email, token
        self.projects, self.issue_types, self.priorities = projects, issue_types, priorities
        self.issues: dict[str, Issue] = {}
        self._next_id = 10000

    def seed(self, key: str, summary: str, status: str = "To Do", **extra: Any) -> Issue:
        """An issue that exists before the test."""
        self._next_id += 1
        fields = {
            "summary": summary,
            "status": {"name": status},
            "issuetype": {"name": extra.pop("issuetype", "Bug")},
            "priority": {"name": extra.pop("priority", "Medium")},
            "assignee": None,
            "updated": "2026-11-18T09:00:00.000+0000",
            "created": "2026-11-16T09:00:00.000+0000",
            **extra,
        }
        issue = Issue(id=str(self._next_id), key=key, fields=fields)
        self.issues[key] = issue
        return issue

    def _authorized(self, request: Recorded) -> bool:
        pair = base64.b64encode(f"{self.email}:{self.token}".encode()).decode()
        return request.headers.get("authorization") == f"Basic {pair}"

    def serve(self, request: Recorded) -> Reply:
        if not self._authorized(request):
            return NOT_AUTHENTICATED
        if request.method == "GET" and request.path == "/rest/api/3/myself":
            return Reply(200, {"accountId": "5b10ac8d82e05b22cc7d4ef5", "emailAddress": self.email})
        if request.path == "/rest/api/3/search":
            return jira_error(
                410,
                [
                    "The requested API has been removed. Please migrate to the "
                    "/rest/api/3/search/jql API."
                ],
            )
        if request.method == "POST" and request.path == "/rest/api/3/issue":
            return self._create(request.json)
        if request.method == "POST" and request.path == "/rest/api/3/search/jql":
            return self._search(request.json)
        match = ISSUE_PATH.match(request.path)
        if match:
            issue = self.issues.get(match.group("key"))
            if issue is None:
                return jira_error(
                    404, ["Issue does not exist or you do not have permission to see it."]
                )
            if match.group("comment") and request.method == "POST":
                return self._comment(issue, request.json)
            if request.method == "GET":
                return Reply(200, self._issue_json(issue))
        return jira_error(404, [f"No API at {request.method} {request.path}"])

    def _create(self, body: Any) -> Reply:
        fields = body.get("fields") if isinstance(body, dict) else None
        if not isinstance(fields, dict):
            return jira_error(400, ["Can not deserialize the request: 'fields' is required."])
        errors: dict[str, str] = {}
        project = (fields.get("project") or {}).get("key")
        if project not in self.projects:
            errors["project"] = "valid project is required"
        if not str(fields.get("summary") or "").strip():
            errors["summary"] = "You must specify a summary of the issue."
        elif len(fields["summary"]) > 255:
            errors["summary"] = "Summary must be less than 255 characters."
        if (fields.get("issuetype") or {}).get("name") not in self.issue_types:
            errors["issuetype"] = "Specify an issue type"
        if "priority" in fields and (fields["priority"] or {}).get("name") not in self.priorities:
            errors["priority"] = "Specify the Priority (id or name) in the string format"
        if "description" in fields and not _adf_ok(fields["description"]):
            errors["description"] = (
                "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
            )
        if errors:
            return jira_error(400, [], **errors)
        self._next_id += 1
        key = f"{project}-{sum(1 for k in self.issues if k.startswith(project + '-')) + 1}"
        stored = {
            **fields,
            "status": {"name": "To Do"},
            "assignee": None,
            "updated": "2026-11-21T10:00:00.000+0000",
            "created": "2026-11-21T10:00:00.000+0000",
        }
        issue = Issue(id=str(self._next_id), key=key, fields=stored)
        self.issues[key] = issue
        return Reply(
            201,
            {"id": issue.id, "key": key, "self": f"{self.base_url}/rest/api/3/issue/{issue.id}"},
        )

    def _search(self, body: Any) -> Reply:
        jql = str((body or {}).get("jql") or "")
        scope = re.search(r"project\s+(?:in\s*\((?P<many>[^)]*)\)|=\s*\"?(?P<one>\w+)\"?)", jql)
        if scope is None:
            return jira_error(
                400,
                [
                    "Unbounded JQL queries are not allowed here. Please add a search "
                    "restriction to your query."
                ],
            )
        projects = (
            {p.strip().strip('"') for p in scope.group("many").split(",")}
            if scope.group("many")
            else {scope.group("one")}
        )
        words = re.search(r'text\s*~\s*"(?P<words>(?:[^"\\]|\\.)*)"', jql)
        wanted = words.group("words").lower().split() if words else []
        found = []
        for issue in self.issues.values():
            if issue.key.split("-")[0] not in projects:
                continue
            text = f"{issue.fields.get('summary', '')} {adf_plain(issue.fields.get('description'))}"
            if all(w in text.lower() for w in wanted):
                found.append(issue)
        limit = int((body or {}).get("maxResults") or 50)
        names = (body or {}).get("fields") or ["summary"]
        return Reply(
            200,
            {
                "issues": [self._issue_json(i, names) for i in found[:limit]],
                "isLast": len(found) <= limit,
            },
        )

    def _comment(self, issue: Issue, body: Any) -> Reply:
        if not isinstance(body, dict) or not _adf_ok(body.get("body")):
            return jira_error(
                400,
                [],
                comment="Comment body can not be empty!"
                if not body
                else "Operation value must be an Atlassian Document",
            )
        self._next_id += 1
        comment = {
            "id": str(self._next_id),
            "body": body["body"],
            "created": "2026-11-21T10:00:00.000+0000",
            "author": {"displayName": "Dana Whitfield"},
        }
        issue.comments.append(comment)
        return Reply(201, comment)

    def _issue_json(self, issue: Issue, names: list[str] | None = None) -> dict[str, Any]:
        fields = issue.fields if names is None else {k: issue.fields.get(k) for k in names}
        return {
            "id": issue.id,
            "key": issue.key,
            "self": f"{self.base_url}/rest/api/3/issue/{issue.id}",
            "fields": fields,
        }
