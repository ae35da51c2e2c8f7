"""Salesforce's REST API on a connected account: one call with its token, and SOQL look-ups.

The account's grant comes from `smart-inbox accounts add salesforce NAME` (the web server flow
with PKCE); its token endpoint names the org's API host (`instance_url`), kept with the grant.
Every call goes through the shared retry rule (`tools.api_requests`: 429 and 503 wait as
`Retry-After` asks); a 401 (the session expired) refreshes the token exactly once and sends
again, and a grant that cannot be refreshed is one line saying to connect the account again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlencode

import httpx

from memory.db import AppDatabase
from tools.api_requests import ApiRequest, IntegrationError, json_of, send
from tools.http import HttpSettings, HttpSettingsError, service_url
from tools.oauth.tokens import AccessTokens, TokenError
from tools.toolkit import ToolFailure

INTEGRATION = "Salesforce"
API_VERSION = "v62.0"
HINTS = {
    403: "the connected user needs API access and permission to read and create Leads and Tasks",
    404: "check the API version and that the org has the object",
}
PERSON_FIELDS = {
    "Contact": "Id, FirstName, LastName, Email, Account.Name",
    "Lead": "Id, FirstName, LastName, Email, Company, Status",
}
"""What is read of a matching person, by object."""


@runtime_checkable
class SalesforceTokens(AccessTokens, Protocol):
    """The tokens of a connected Salesforce account, and where its org's API lives."""

    def instance_url(self) -> str:
        """Return the org's API host, as the token endpoint said."""
        ...


@dataclass(frozen=True)
class SalesforceEnv:
    """What the Salesforce tools need at run time; the tokens are never shown."""

    tokens: SalesforceTokens = field(repr=False)
    db: AppDatabase = field(repr=False)
    http: HttpSettings = field(default_factory=HttpSettings)
    api_version: str = API_VERSION

    def again(self) -> str:
        """The command that connects the account again."""
        return f"smart-inbox accounts add salesforce {self.tokens.account}"


def soql_text(value: str) -> str:
    """`value` as a SOQL string literal: quotes and backslashes escaped, never the query's end."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    escaped = escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f"'{escaped}'"


def error_items(body: Any) -> list[dict[str, Any]]:
    """The error objects of a Salesforce error body (a list of them, or one OAuth error)."""
    items = body if isinstance(body, list) else [body] if isinstance(body, dict) else []
    return [item for item in items if isinstance(item, dict)]


def errors_text(body: Any) -> str:
    """`CODE: message; …` of an error body, at most 300 characters ('' when it has none)."""
    parts = []
    for item in error_items(body):
        code = item.get("errorCode") or item.get("error") or ""
        message = item.get("message") or item.get("error_description") or ""
        parts.append(f"{code}: {message}" if code and message else str(code or message))
    return "; ".join(p for p in parts if p)[:300]


def explain(response: httpx.Response) -> str:
    """Salesforce's `[{"errorCode": ..., "message": ...}]` (or an OAuth error) with a hint."""
    try:
        body = response.json()
    except ValueError:
        body = None
    text = errors_text(body) or " ".join(response.text.split())[:200] or "(no details)"
    hint = HINTS.get(response.status_code)
    return f"{text}; {hint}" if hint else text


def duplicate_ids(body: Any) -> list[str]:
    """The existing records a `DUPLICATES_DETECTED` refusal names, in its order ([] if none).

    An org's duplicate rules (a matching rule on name and company, say) can refuse a new lead
    whose address no Contact or Lead has; the refusal lists the records it matched under
    `duplicateResult.matchResults[].matchRecords[].record.Id`.
    """
    found: list[str] = []
    for item in error_items(body):
        if item.get("errorCode") != "DUPLICATES_DETECTED":
            continue
        result = item.get("duplicateResult")
        matches = result.get("matchResults") if isinstance(result, dict) else None
        for match in matches if isinstance(matches, list) else []:
            records = match.get("matchRecords") if isinstance(match, dict) else None
            for entry in records if isinstance(records, list) else []:
                record = entry.get("record") if isinstance(entry, dict) else None
                ident = record.get("Id") if isinstance(record, dict) else None
                if isinstance(ident, str) and ident and ident not in found:
                    found.append(ident)
    return found


async def bearer(env: SalesforceEnv, *, fresh: bool) -> tuple[str, str]:
    """(bearer token, API base URL); a grant that cannot be used is a `ToolFailure` line."""
    tokens = env.tokens
    try:
        token = await asyncio.to_thread(tokens.refreshed if fresh else tokens.access_token)
        instance = await asyncio.to_thread(tokens.instance_url)
    except TokenError as err:
        said = str(err)
        raise ToolFailure(said if said.startswith(INTEGRATION) else f"Salesforce: {said}") from None
    if not instance:
        raise ToolFailure(
            f"Salesforce: the account {tokens.account} has no instance URL: run `{env.again()}` "
            "again"
        )
    try:
        base = service_url("the Salesforce instance URL", instance)
    except HttpSettingsError as err:
        raise ToolFailure(f"Salesforce: {err}") from None
    return token, f"{base}/services/data/{env.api_version}"


async def call(
    env: SalesforceEnv,
    method: str,
    path: str,
    *,
    action: str,
    body: Any = None,
    idempotent: bool | None = None,
    accept: frozenset[int] = frozenset(),
) -> tuple[int, Any]:
    """(status, JSON) of one API call below `/services/data/vXX.X`; errors raise.

    A 401 refreshes the token once and sends again: the request was refused, not done.
    """
    token, base = await bearer(env, fresh=False)
    for attempt in (0, 1):
        request = ApiRequest(
            integration=INTEGRATION,
            method=method,
            url=base + path,
            action=action,
            json=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            idempotent=idempotent,
            accept=accept | {401},
        )
        response = await send(request, env.http, explain=explain)
        if response.status_code != 401:
            return response.status_code, json_of(response, request) if response.content else None
        if attempt:
            raise IntegrationError(
                INTEGRATION,
                f"Salesforce could not {action}: 401 Unauthorized: {explain(response)}; "
                f"the refreshed token was refused too: run `{env.again()}` again",
                status=401,
            )
        token, base = await bearer(env, fresh=True)
    raise AssertionError("unreachable")  # pragma: no cover


async def query(env: SalesforceEnv, soql: str, *, action: str) -> list[dict[str, Any]]:
    """The records of one SOQL query (the first page: the look-ups here ask for a few)."""
    _, body = await call(env, "GET", "/query?" + urlencode({"q": soql}), action=action)
    records = body.get("records") if isinstance(body, dict) else None
    if not isinstance(records, list):
        raise IntegrationError(INTEGRATION, f"Salesforce answered {action} without records")
    return [r for r in records if isinstance(r, dict)]


async def find_person(env: SalesforceEnv, addresses: list[str]) -> tuple[str, dict[str, Any]]:
    """The Contact with one of these addresses, else an unconverted Lead: (object, record).

    ("", {}) when neither exists. Earlier addresses win over later ones.
    """
    wanted = ", ".join(soql_text(a) for a in addresses)
    for kind, fields in PERSON_FIELDS.items():
        converted = " AND IsConverted = false" if kind == "Lead" else ""
        soql = f"SELECT {fields} FROM {kind} WHERE Email IN ({wanted}){converted} LIMIT 10"
        records = await query(env, soql, action=f"look up {' or '.join(addresses)}")
        for address in addresses:
            for record in records:
                if str(record.get("Email") or "").lower() == address:
                    return kind, record
    return "", {}


def describe(kind: str, record: dict[str, Any]) -> str:
    """`Lead Jorge Alvarez <j.alvarez@…> (id 00Q…, Meridian Health)`."""
    name = " ".join(str(p) for p in (record.get("FirstName"), record.get("LastName")) if p)
    company = record.get("Company") or (record.get("Account") or {}).get("Name") or ""
    who = f"{name} <{record.get('Email')}>" if name else str(record.get("Email"))
    extra = f", {company}" if company else ""
    return f"{kind} {who} (id {record.get('Id')}{extra})"
