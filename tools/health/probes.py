"""The cheap checks, one per kind of part; none changes anything where it looks.

Each takes what the part's own settings already built (a source, SMTP settings, a calendar,
a request) and returns a `Verdict`; blocking I/O runs in a thread.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import httpx

from tools.calendar.backend import Calendar, CalendarError
from tools.health.model import Verdict
from tools.http import USER_AGENT, shared_client
from tools.mail.imap_session import ImapConnection
from tools.mail.maildir import MaildirSource
from tools.mail.smtp import SmtpSendError, probe_server
from tools.mail.smtp_settings import SmtpSettings
from tools.mail.source_protocol import MailSourceError
from tools.mcp.hub import McpHub
from tools.oauth.tokens import AccessTokens, TokenError


class ProbedSource(Protocol):
    """A mail source with a cheap check of its own (`probe`, blocking)."""

    def probe(self) -> str:
        """What the check found; `MailSourceError` when it fails."""
        ...


async def maildir_verdict(path: Path, spec: str) -> Verdict:
    """The Maildir exists and every folder of it can be listed."""

    def look() -> None:
        MaildirSource(path, spec).signature()

    try:
        await asyncio.to_thread(look)
    except MailSourceError as err:
        return Verdict("down", str(err))
    return Verdict("ok")


async def imap_verdict(source: ImapConnection) -> Verdict:
    """The IMAP server lets us log in and examine the folder (read-only)."""
    try:
        status = await asyncio.to_thread(source.probe)
    except MailSourceError as err:
        return Verdict("down", str(err))
    return Verdict("ok", f"{status.exists} messages in {source.imap.folder}")


async def smtp_verdict(settings: SmtpSettings) -> Verdict:
    """The SMTP server greets us and takes the login; nothing is sent."""
    try:
        await asyncio.to_thread(probe_server, settings)
    except SmtpSendError as err:
        return Verdict("down", str(err))
    return Verdict("ok", f"{settings.server} answers")


async def calendar_verdict(calendar: Calendar) -> Verdict:
    """The calendar can be read (the next minute of it)."""
    start = datetime.now(UTC)
    try:
        await asyncio.to_thread(calendar.events_between, start, start + timedelta(minutes=1))
    except CalendarError as err:
        return Verdict("down", str(err))
    return Verdict("ok", calendar.description)


async def mcp_verdict(hub: McpHub, server: str, timeout: float) -> Verdict:
    """The server's session answers a ping (a session is started when there is none)."""
    status = await hub.probe(server, timeout)
    if status.state == "connected":
        return Verdict("ok", f"{len(status.tools)} tools")
    if status.state == "disabled":
        return Verdict("not configured", "disabled in mcp.json")
    return Verdict("down", status.error or status.state)


@dataclass(frozen=True)
class HttpProbe:
    """One request that shows whether a service answers, and accepts our credentials."""

    method: str
    url: str = field(repr=False)
    """May itself be a secret (a Teams or webhook URL): never in a reason."""
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    shown: str = ""
    """How the service is named in reasons (a host, never the URL)."""
    reachable_is_enough: bool = False
    """A webhook receiver: any answer but a server error means it is there."""


def _answer_verdict(probe: HttpProbe, response: httpx.Response) -> Verdict:
    status = response.status_code
    if status == 429:
        return Verdict("degraded", f"{probe.shown} is rate-limiting us (429)")
    if status >= 500 and status != 501:
        return Verdict("degraded", f"{probe.shown} answers with a server error ({status})")
    if probe.reachable_is_enough:
        return Verdict("ok", f"{probe.shown} answers ({status})")
    if status in (401, 403):
        return Verdict("down", f"{probe.shown} refuses our credentials ({status})")
    if status >= 400:
        return Verdict("down", f"{probe.shown} answers {status} to the check")
    if "json" in response.headers.get("content-type", ""):
        body = response.json()
        if isinstance(body, dict) and body.get("ok") is False:  # Slack answers 200 and ok: false
            return Verdict("down", f"{probe.shown} refuses our credentials ({body.get('error')})")
    return Verdict("ok", f"{probe.shown} answers")


_PROBE_CLIENTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
    weakref.WeakKeyDictionary()
)


def _new_probe_client() -> httpx.AsyncClient:
    # Loads the CA bundle from disk: run in a thread.
    return httpx.AsyncClient(
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=0),
    )


async def probe_client() -> httpx.AsyncClient:
    """The client of checks on this loop; it keeps no connection, so each check opens its own.

    A connection kept from an earlier call (an alert, a tool) could outlive the server it
    would say is there: one that stops taking connections but still answers on those it has.
    """
    await shared_client()  # its first creation hides secret URLs in httpx's log
    loop = asyncio.get_running_loop()
    client = _PROBE_CLIENTS.get(loop)
    if client is None or client.is_closed:
        created = await asyncio.to_thread(_new_probe_client)
        client = _PROBE_CLIENTS.get(loop)
        if client is None or client.is_closed:
            _PROBE_CLIENTS[loop] = client = created
        else:  # another check of this round made one meanwhile
            await created.aclose()
    return client


async def http_verdict(probe: HttpProbe, timeout: float) -> Verdict:
    """Send the probe once (no retries: the next check is the retry), on a new connection."""
    client = await probe_client()
    try:
        headers = {**probe.headers, "Connection": "close"}
        response = await client.request(probe.method, probe.url, headers=headers, timeout=timeout)
    except httpx.TimeoutException:
        return Verdict("down", f"{probe.shown} did not answer within {timeout:g} s")
    except httpx.HTTPError as err:
        return Verdict("down", f"{probe.shown} cannot be reached ({type(err).__name__})")
    return _answer_verdict(probe, response)


async def source_probe_verdict(source: ProbedSource) -> Verdict:
    """A provider mail source (Gmail, Microsoft 365) answers one cheap call with its token."""
    try:
        said = await asyncio.to_thread(source.probe)
    except MailSourceError as err:
        return Verdict("down", str(err))
    return Verdict("ok", said)


async def account_verdict(tokens: AccessTokens) -> Verdict:
    """A connected account still has a usable token: refreshed now if it was about to expire.

    Refreshing is what any use of the account would do first; it changes nothing the user
    sees. A revoked or expired grant is `down`, with the command that connects it again.
    """
    try:
        await asyncio.to_thread(tokens.access_token)
    except TokenError as err:
        return Verdict("down", str(err))
    return Verdict("ok", f"a {tokens.provider} token for {tokens.account} is valid")
