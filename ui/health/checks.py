"""Which checks there are here: one per part, built from the same settings the tools use.

Nothing here reads a setting of its own: the services (`graph.services.build_services`) have
read them all, and `smart-inbox integrations` says which actions of a toolkit cannot run.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import os
from pathlib import Path
from typing import cast

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from graph.context import Context
from graph.engines import groq_api_key
from graph.services import Services, build_services, mcp_hub_for
from memory.credential_cipher import VaultError
from memory.db import DatabaseUnavailableError
from memory.keys import KeySourceError
from memory.paths import data_dir
from memory.vault import CredentialVault
from tools.health.model import (
    DEFAULT_TIMEOUT,
    Check,
    HealthState,
    PartHealth,
    Probe,
    Verdict,
    run_checks,
)
from tools.health.probes import (
    HttpProbe,
    ProbedSource,
    calendar_verdict,
    http_verdict,
    imap_verdict,
    maildir_verdict,
    mcp_verdict,
    smtp_verdict,
    source_probe_verdict,
)
from tools.mail.imap_session import ImapConnection
from tools.mail.mcp_source import parse_mcp_spec
from tools.mail.source_protocol import MailSourceError
from tools.mail.sources import parse_source_spec
from tools.mail.tools import SENDING_TOOLS
from tools.mcp.config import load_mcp_config, mcp_config_path
from tools.mcp.hub import McpHub
from tools.toolkit import Toolkit
from ui.cli.integrations import blocked_actions
from ui.health.accounts import account_checks
from ui.health.integrations import integration_checks

GROQ_URL = "https://api.groq.com"


def check_timeout() -> float:
    """`SMART_INBOX_HEALTH_TIMEOUT`: seconds one check may take (default 5)."""
    try:
        value = float(os.environ.get("SMART_INBOX_HEALTH_TIMEOUT", "") or DEFAULT_TIMEOUT)
    except ValueError:
        return DEFAULT_TIMEOUT
    return value if value > 0 else DEFAULT_TIMEOUT


def _source_check(services: Services, hub: McpHub | None, timeout: float) -> Check:
    spec, part = services.source, "mail source"
    if services.mailbox.outbox is not None:
        reason = "the demo mailbox"
    else:
        reason = spec.split("?")[0]
    if spec.lower().startswith("mcp:"):
        server = parse_mcp_spec(spec).server
        if hub is None or server not in hub.configs:
            why = f"the MCP server {server!r} is not started, or not in mcp.json"
            return Check(part, "mail", _fixed("down", why))
        return Check(
            part, "mail", functools.partial(mcp_verdict, hub, server, timeout), reason, timeout
        )
    try:
        source = parse_source_spec(spec, secrets=services.secrets)
    except MailSourceError as err:
        return Check(part, "mail", _fixed("down", str(err)), timeout=timeout)
    if isinstance(source, ImapConnection):
        limit = min(timeout, source.timeout)
        return Check(part, "mail", functools.partial(imap_verdict, source), reason, limit)
    if callable(getattr(source, "probe", None)):  # Gmail, Microsoft 365: one API call
        probe = functools.partial(source_probe_verdict, cast(ProbedSource, source))
        return Check(part, "mail", probe, reason, timeout)
    path = Path(spec.partition(":")[2])
    return Check(part, "mail", functools.partial(maildir_verdict, path, spec), reason, timeout)


def _smtp_check(services: Services, timeout: float) -> Check:
    smtp, mail = services.mailbox.smtp, "mail"
    if smtp is None:
        why = "SMTP_URL is not set"
        if services.mailbox.outbox is not None:
            why += " (the demo's replies go to its local outbox)"
        return Check("smtp", mail, None, why, tools=tuple(SENDING_TOOLS))
    probe = functools.partial(smtp_verdict, smtp)
    return Check("smtp", mail, probe, "", min(timeout, smtp.timeout), tuple(SENDING_TOOLS))


def _calendar_check(kit: Toolkit, timeout: float) -> Check:
    tools = tuple(n for n in kit.names if n not in kit.read_only)
    if kit.missing:
        # The local file needs no setting: a calendar left out has one set but unusable.
        return Check("calendar", "calendar", _fixed("down", kit.missing), "", timeout, tools)
    probe = _degraded_by(kit, functools.partial(calendar_verdict, kit.env.calendar))
    return Check("calendar", "calendar", probe, "", timeout, tools)


def _degraded_by(kit: Toolkit, probe: Probe) -> Probe:
    """The probe, its `ok` lowered to `degraded` while some action of `kit` cannot run."""
    # A tool only code proposes, and only once it is set up (a meetings channel), is optional.
    why = {name: reason for name, reason in kit.unavailable.items() if name not in kit.hidden}
    blocked = blocked_actions(kit, why)
    if not blocked:
        return probe
    said = "; ".join(f"{', '.join(names)} cannot run: {text}" for text, names in blocked.items())
    return functools.partial(_lowered, probe, said)


async def _lowered(probe: Probe, said: str) -> Verdict:
    verdict = await probe()
    return Verdict("degraded", said) if verdict.state == "ok" else verdict


def _fixed(state: HealthState, reason: str) -> Probe:
    return functools.partial(_verdict, Verdict(state, reason))


async def _verdict(verdict: Verdict) -> Verdict:
    return verdict


def _model_check(services: Services, home: Path, timeout: float) -> Check:
    name = services.engine.name
    if not name.startswith("groq:"):
        return Check("model", "model", None, f"the {name.split(':')[0]} engine, offline")
    key = groq_api_key(home) or ""
    base = (os.environ.get("GROQ_BASE_URL") or GROQ_URL).rstrip("/")
    probe = HttpProbe(
        "GET", f"{base}/openai/v1/models", {"Authorization": f"Bearer {key}"}, shown="Groq"
    )
    return Check("model", "model", functools.partial(http_verdict, probe, timeout), name, timeout)


async def _database_verdict(services: Services) -> Verdict:
    def ping() -> None:
        with services.db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    try:
        await asyncio.to_thread(ping)
    except Exception as exc:  # any driver error is the database down, with its words
        return Verdict("down", f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
    return Verdict("ok", services.db.engine.dialect.name)


def _vault_check(services: Services, home: Path, timeout: float) -> Check:
    vault = CredentialVault(services.db, home)
    if not vault.names():
        return Check("vault", "vault", None, "no credentials are stored")

    async def opens() -> Verdict:
        try:
            unreadable = await asyncio.to_thread(vault.unreadable)
        except (VaultError, KeySourceError) as err:
            return Verdict("down", str(err))
        if unreadable:
            return Verdict("down", f"cannot decrypt {', '.join(unreadable)}")
        return Verdict("ok", "every credential decrypts")

    return Check("vault", "vault", opens, "", timeout)


def checks_for(services: Services, hub: McpHub | None, home: Path) -> list[Check]:
    """Every part of this set-up, in the order the table shows them (blocking: the vault)."""
    timeout = check_timeout()
    kits = {kit.name: kit for kit in services.tools.toolkits}
    source = _source_check(services, hub, timeout)
    if "inbox" in kits:  # archiving, moving, flagging: actions on the source itself
        inbox = kits["inbox"]
        acting = tuple(n for n in inbox.names if n not in inbox.read_only)
        source = dataclasses.replace(source, tools=acting)
    checks = [source, _smtp_check(services, timeout)]
    checks.append(_calendar_check(kits["calendar"], timeout))
    checks += integration_checks(kits, timeout, _degraded_by)
    for name, config in (hub.configs if hub is not None else {}).items():
        assert hub is not None
        probe = functools.partial(mcp_verdict, hub, name, timeout)
        tools = tuple(n for n, entry in services.tools.mcp.items() if entry.server == name)
        limit = min(timeout, config.timeout)
        checks.append(Check(f"mcp {name}", "mcp", probe, "", limit, tools))
    checks.append(_model_check(services, home, timeout))
    db_probe = functools.partial(_database_verdict, services)
    checks.append(Check("database", "database", db_probe, "", timeout))
    checks.append(_vault_check(services, home, timeout))
    return checks + account_checks(services.mailbox, services.db, home, timeout)


async def _started_hub(context: Context, timeout: float) -> tuple[McpHub | None, list[str]]:
    """The process's MCP hub, or (None, the servers of `mcp.json`) while it is still starting.

    Starting a hub waits for every server (up to 20 s for one that hangs); the health round
    waits one check timeout, and the hub goes on starting for the next round.
    """
    task = asyncio.ensure_future(mcp_hub_for(context))
    done, _ = await asyncio.wait({task}, timeout=timeout)
    if task in done:
        return task.result(), []

    def names() -> list[str]:
        return list(load_mcp_config(mcp_config_path(data_dir(context.home))))

    return None, await asyncio.to_thread(names)


class DatabaseDown(Exception):
    """The app database cannot be reached, so nothing that reads settings from it is built.

    `parts` is the one row that can be said: the database, down, with the driver's words.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.parts = [PartHealth("database", "database", "down", reason)]

    @classmethod
    def because(cls, exc: SQLAlchemyError | DatabaseUnavailableError) -> DatabaseDown:
        """The database down with the driver's first line (never the password)."""
        if isinstance(exc, DatabaseUnavailableError):  # its first opening: the URL masked
            return cls(str(exc).splitlines()[0])
        first = str(exc.orig if isinstance(exc, DBAPIError) else exc).splitlines()[0]
        return cls(f"the app database cannot be reached: {first}")


async def check_everything(context: Context | None = None) -> tuple[list[PartHealth], Services]:
    """Build the services and check every part once, concurrently; the services too.

    Raises:
        DatabaseDown: the app database cannot be reached (the services cannot be built).

    """
    context = context or Context()
    hub, starting = await _started_hub(context, check_timeout())

    def build() -> tuple[Services, list[Check]]:
        services = build_services(context, hub)
        checks = checks_for(services, hub, data_dir(context.home))
        late = _fixed("down", "the MCP sessions did not finish starting within the timeout")
        return services, [*checks, *(Check(f"mcp {n}", "mcp", late) for n in starting)]

    try:
        services, checks = await asyncio.to_thread(build)
    except (SQLAlchemyError, DatabaseUnavailableError) as exc:
        raise DatabaseDown.because(exc) from exc
    return await run_checks(checks), services
