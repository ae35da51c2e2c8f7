"""A local stand-in for a Salesforce org: its OAuth endpoints and the REST API shapes we use.

OAuth (`/services/oauth2/authorize`, `token`, `revoke`, `userinfo`) is the local authorization
server's (`tests.fakes.oauth_server`) under Salesforce's paths; a token answer carries the
org's `instance_url` (this server) and no `expires_in`, as Salesforce's does, and an access
token older than `access_ttl` is refused with `401 INVALID_SESSION_ID`. The REST API under
`/services/data/v62.0`: `query` runs the SOQL shapes the product sends (`SELECT … FROM
Contact|Lead|Task WHERE F = '…' [AND F IN ('…', …)] [AND IsConverted = false] LIMIT n`, string
literals with their escapes, anything else `400 MALFORMED_QUERY`); `sobjects/Lead` and
`sobjects/Task` create records and check required fields, field names and picklists;
`limits` answers the daily API allowance.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from tests.fakes.http_api import Recorded, Reply
from tests.fakes.oauth_server import FakeOAuth

API = "/services/data/v62.0"
OAUTH = "/services/oauth2"
PREFIXES = {"Lead": "00Q", "Contact": "003", "Task": "00T"}
FIELDS = {
    "Lead": {"FirstName", "LastName", "Email", "Company", "Status", "LeadSource", "Description"},
    "Contact": {"FirstName", "LastName", "Email", "AccountId"},
    "Task": {
        "WhoId",
        "WhatId",
        "Subject",
        "Description",
        "Status",
        "TaskSubtype",
        "ActivityDate",
        "Priority",
    },
}
REQUIRED = {"Lead": ("LastName", "Company"), "Task": ()}
TASK_STATUS = frozenset({"Not Started", "In Progress", "Completed", "Waiting on someone else"})
TASK_SUBTYPES = frozenset({"Task", "Email", "Call", "ListEmail", "Cadence"})
LITERAL = r"'(?:[^'\\]|\\.)*'"
CONDITION = re.compile(
    rf"(?P<field>\w+)\s*(?:=\s*(?P<value>{LITERAL}|true|false)|IN\s*\((?P<values>{LITERAL}"
    rf"(?:\s*,\s*{LITERAL})*)\))",
    re.IGNORECASE,
)
QUERY = re.compile(
    r"SELECT\s+(?P<fields>[\w.,\s]+?)\s+FROM\s+(?P<object>\w+)\s+WHERE\s+(?P<where>.+?)"
    r"\s+LIMIT\s+(?P<limit>\d+)",
    re.IGNORECASE | re.DOTALL,
)
ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def sf_error(status: int, code: str, message: str, fields: list[str] | None = None) -> Reply:
    """An error in Salesforce's shape: a list of `{message, errorCode, fields}`."""
    item: dict[str, Any] = {"message": message, "errorCode": code}
    if fields is not None:
        item["fields"] = fields
    return Reply(status, [item])


def rate_limited(seconds: int = 1) -> Reply:
    """A 429 with `Retry-After` (an API gateway in front of the org)."""
    return Reply(
        429,
        [{"message": "Too many requests", "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
        {"Retry-After": str(seconds)},
    )


def _unquote(literal: str) -> str:
    body = literal[1:-1]
    return re.sub(r"\\(.)", lambda m: ESCAPES.get(m.group(1), "\\" + m.group(1)), body)


def parse_where(where: str) -> list[tuple[str, list[Any]]] | None:
    """`[(field, accepted values)]` of `cond AND cond …`, or None when it is not that shape."""
    found: list[tuple[str, list[Any]]] = []
    rest = where.strip()
    while rest:
        match = CONDITION.match(rest)
        if match is None:
            return None
        if match.group("values"):
            values: list[Any] = [_unquote(v) for v in re.findall(LITERAL, match.group("values"))]
        else:
            raw = match.group("value")
            values = (
                [raw.lower() == "true"] if raw.lower() in ("true", "false") else [_unquote(raw)]
            )
        found.append((match.group("field"), values))
        rest = rest[match.end() :].strip()
        if rest:
            if not rest.upper().startswith("AND "):
                return None
            rest = rest[4:].strip()
    return found


class FakeSalesforce(FakeOAuth):
    """One org with one user (`address`), its records, and its connected app (`client_id`)."""

    name = "fake salesforce"

    def __init__(self, *, access_ttl: float = 3600.0, **kwargs: Any) -> None:
        super().__init__(access_ttl=access_ttl, **kwargs)
        self.records: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in PREFIXES}
        self._next = 0
        self.on_create: Callable[[str, dict[str, Any]], None] | None = None
        """Called with (object, record) once a record is stored, before the answer is sent:
        where a test kills the client that asked, so that it never hears the answer."""
        self.duplicate_rule = False
        """A blocking duplicate rule on Lead, matching first name, last name and company
        (case-insensitive, whatever the address), as an org's admin may set up."""
        self.duplicate_details = True
        """Whether the rule's refusal lists the records it matched."""

    def endpoints(self, provider: str = "salesforce") -> dict[str, str]:
        """The `SMART_INBOX_OAUTH_SALESFORCE_*_URL` variables that point the provider here."""
        upper = provider.upper()
        return {
            f"SMART_INBOX_OAUTH_{upper}_{which.upper()}_URL": f"{self.base_url}{OAUTH}/{which}"
            for which in ("authorize", "token", "revoke", "userinfo")
        }

    def seed(self, kind: str, **fields: Any) -> dict[str, Any]:
        """A record that exists before the test."""
        return self._store(kind, fields)

    def _store(self, kind: str, fields: dict[str, Any]) -> dict[str, Any]:
        self._next += 1
        record_id = f"{PREFIXES[kind]}5g00000{self._next:08d}"
        record = {"Id": record_id, **fields}
        if kind == "Lead":
            record.setdefault("IsConverted", False)
            record.setdefault("Status", "Open - Not Contacted")
        self.records[kind][record_id] = record
        return record

    def _issue(self, *, refresh: bool, scope: str = "") -> dict[str, object]:
        answer = super()._issue(refresh=refresh, scope=scope)
        answer.pop("expires_in", None)  # Salesforce does not say when a session ends
        answer |= {
            "instance_url": self.base_url,
            "id": f"{self.base_url}/id/00D5g000000ORG/0055g000000USR",
            "issued_at": "1764700000000",
            "signature": "c2lnbmF0dXJl",
        }
        return answer

    def serve(self, request: Recorded) -> Reply:
        """Route OAuth to the authorization server, the REST API here."""
        if request.path.startswith(OAUTH + "/"):
            return super().serve(replace(request, path=request.path[len(OAUTH) :]))
        if request.path == "/authorize/decide":
            return super().serve(request)
        if not request.path.startswith(API + "/"):
            return sf_error(404, "NOT_FOUND", "The requested resource does not exist")
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if not self.live(token):
            return sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        path = request.path[len(API) :]
        if request.method == "GET" and path == "/limits":
            return Reply(200, {"DailyApiRequests": {"Max": 15000, "Remaining": 14990}})
        if request.method == "GET" and path == "/query":
            return self._query((request.query.get("q") or [""])[0])
        if request.method == "POST" and path in ("/sobjects/Lead", "/sobjects/Task"):
            return self._create(path.rsplit("/", 1)[1], request.json)
        return sf_error(404, "NOT_FOUND", "The requested resource does not exist")

    def _query(self, soql: str) -> Reply:
        match = QUERY.fullmatch(soql.strip())
        where = parse_where(match.group("where")) if match else None
        if match is None or where is None or match.group("object") not in self.records:
            return sf_error(400, "MALFORMED_QUERY", f"unexpected token in: {soql[:80]}")
        fields = [f.strip() for f in match.group("fields").split(",")]
        rows = [
            r
            for r in self.records[match.group("object")].values()
            if all(_matches(r.get(field), values) for field, values in where)
        ][: int(match.group("limit"))]
        kind = match.group("object")
        records = [self._row(kind, r, fields) for r in rows]
        return Reply(200, {"totalSize": len(records), "done": True, "records": records})

    def _row(self, kind: str, record: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        row: dict[str, Any] = {
            "attributes": {"type": kind, "url": f"{API}/sobjects/{kind}/{record['Id']}"}
        }
        for field in fields:
            if field == "Account.Name":
                row["Account"] = (
                    {"Name": record["AccountName"]} if "AccountName" in record else None
                )
            else:
                row[field] = record.get(field)
        return row

    def _create(self, kind: str, body: Any) -> Reply:
        if not isinstance(body, dict):
            return sf_error(400, "JSON_PARSER_ERROR", "The request body is not a JSON object")
        for field in body:
            if field not in FIELDS[kind]:
                return sf_error(
                    400, "INVALID_FIELD", f"No such column '{field}' on sobject of type {kind}"
                )
        missing = [f for f in REQUIRED[kind] if not body.get(f)]
        if missing:
            return sf_error(
                400,
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(missing)}]",
                missing,
            )
        problem = self._task_problem(body) if kind == "Task" else self._duplicate(body)
        if problem is not None:
            return problem
        record = self._store(kind, dict(body))
        if self.on_create is not None:
            self.on_create(kind, record)
        return Reply(201, {"id": record["Id"], "success": True, "errors": []})

    def _duplicate(self, body: dict[str, Any]) -> Reply | None:
        """`DUPLICATES_DETECTED` in Salesforce's shape when the duplicate rule matches."""
        fields = ("FirstName", "LastName", "Company")
        key = [str(body.get(f) or "").lower() for f in fields]
        same = [
            r for r in self.records["Lead"].values()
            if [str(r.get(f) or "").lower() for f in fields] == key
        ]  # fmt: skip
        if not self.duplicate_rule or not same:
            return None
        message = "You're creating a duplicate record. We recommend you use an existing record."
        records = [
            {"record": {"attributes": {"type": "Lead"}, "Id": r["Id"]}, "matchConfidence": 100.0}
            for r in same
        ]
        match = {"entityType": "Lead", "matchRecords": records if self.duplicate_details else []}
        result = {"allowSave": False, "errorMessage": message, "matchResults": [match]}
        item = {"duplicateResult": result, "errorCode": "DUPLICATES_DETECTED", "message": message}
        return Reply(400, [item | {"fields": []}])

    def _task_problem(self, body: dict[str, Any]) -> Reply | None:
        who = body.get("WhoId")
        if who and who not in self.records["Lead"] and who not in self.records["Contact"]:
            return sf_error(
                400, "FIELD_INTEGRITY_EXCEPTION", "Name ID: id value of incorrect type", ["WhoId"]
            )
        if body.get("Status", "Not Started") not in TASK_STATUS:
            return sf_error(400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "Status", ["Status"])
        if body.get("TaskSubtype", "Task") not in TASK_SUBTYPES:
            return sf_error(400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "TaskSubtype")
        if len(str(body.get("Subject", ""))) > 255:
            return sf_error(400, "STRING_TOO_LONG", "Subject: data value too large", ["Subject"])
        date = str(body.get("ActivityDate", "2026-01-01"))
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
            return sf_error(400, "JSON_PARSER_ERROR", f"Cannot deserialize date from {date}")
        return None

    def leads(self) -> list[dict[str, Any]]:
        """Every Lead of the org."""
        return list(self.records["Lead"].values())

    def tasks(self) -> list[dict[str, Any]]:
        """Every Task of the org."""
        return list(self.records["Task"].values())

    def expire_sessions(self) -> None:
        """Every access token stops working (the org's session timeout passed)."""
        self.access.clear()


def _matches(value: Any, accepted: list[Any]) -> bool:
    if isinstance(value, str):
        return any(isinstance(a, str) and a.lower() == value.lower() for a in accepted)
    return value in accepted
