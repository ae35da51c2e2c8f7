"""`fetch`: pull new mail from the configured source into the cache, and start the turn."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from langgraph.runtime import Runtime

from graph.context import Context
from graph.services import Services, mcp_hub_for, services_and, services_for
from graph.state import State
from memory.redaction import scrub
from memory.untriaged import has_untriaged
from tools.mail.inbox_actions import open_operations
from tools.mail.mcp_ops import bridged
from tools.mail.mcp_source import sync_mcp_source
from tools.mail.sent_folder import sync_sent_folders
from tools.mail.snoozes import wake_quietly
from tools.mail.source_protocol import MailSourceError, SyncResult
from tools.mail.sync import sync_source

logger = logging.getLogger(__name__)


def _has_new_question(state: State) -> bool:
    messages = state.get("messages") or []
    return bool(messages) and messages[-1].type == "human"


def _waking(services: Services) -> Callable[[], str]:
    """Move the snoozed mail that is due back to the inbox; why it could not, or '' (blocking).

    Run after the fetch, so a woken message is in the cache to move back: every fetch (and so
    every scheduled triage run) wakes what is due, whatever restarts happened meanwhile. An
    `mcp:` inbox is asked through its server's tools, on this loop's hub.
    """
    mailbox = services.mailbox
    return partial(
        wake_quietly,
        services.db,
        mailbox.source,
        lambda: open_operations(mailbox),
        datetime.now(UTC),
    )


def _sync_and_wake(services: Services, *, with_sent: bool) -> tuple[SyncResult, str]:
    """Fetch a local or IMAP source, then wake what is due: one trip off the event loop.

    With `with_sent` (a triage run), an IMAP account's separate Sent folder is fetched too,
    so the triage knows whom the user wrote to (`tools.mail.sent_folder.sync_sent_folders`).
    One that cannot be read loses no triage: it is said once, as a warning, and the profile
    goes on with what was cached of it.
    """
    result = sync_source(services.db, services.source, secrets=services.secrets)
    if with_sent and (problem := sync_sent_folders(services.mailbox)):
        logger.warning(
            "the Sent folder could not be read (%s): the triage knows only the people "
            "cached from it before",
            scrub(problem),
        )
    return result, _waking(services)()


def _local_fetch(services: Services, *, with_sent: bool) -> tuple[SyncResult, str, bool] | None:
    """`_sync_and_wake`, and whether untriaged mail waits; None for an MCP server's source.

    One trip off the event loop for a local or IMAP source.
    """
    if _is_mcp(services):
        return None
    return *_sync_and_wake(services, with_sent=with_sent), _untriaged(services)


def _untriaged(services: Services) -> bool:
    return has_untriaged(services.db.engine, services.source)


def _is_mcp(services: Services) -> bool:
    return services.source.lower().startswith("mcp:")


async def _fetch_mail(
    runtime: Runtime[Context], *, with_sent: bool = False
) -> tuple[Services, SyncResult, str, bool]:
    """The run's services, what the fetch found, why waking failed, whether mail is untriaged.

    Why waking snoozed mail failed is '' when it did not. A local or IMAP source is fetched
    in the same trip off the event loop as the services are looked up in (`services_and`);
    with `with_sent`, its separate Sent folder too.
    """
    services, fetched = await services_and(runtime, partial(_local_fetch, with_sent=with_sent))
    if fetched is None:
        fetched = await _fetch_mcp(services)
    return services, *fetched


async def _fetch_mcp(services: Services) -> tuple[SyncResult, str, bool]:
    """Fetch an `mcp:` source through its server's tools, then wake what is due."""
    hub = await mcp_hub_for(services.context)
    result = await sync_mcp_source(services.db, services.source, hub)
    if hub is None:
        problem = await asyncio.to_thread(_waking(services))
    else:
        with bridged(hub):
            problem = await asyncio.to_thread(_waking(services))
    return result, problem, await asyncio.to_thread(_untriaged, services)


async def fetch(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Fetch incrementally and reset the per-turn fields."""
    mode = "triage" if state.get("mode") == "triage" or not _has_new_question(state) else "chat"
    update: dict[str, Any] = {
        "mode": mode,
        "turn": state.get("turn", 0) + 1,
        "steps": 0,
        "last_round": False,
        "focus": [],
        "proposed_calls": [],
        "approved_calls": [],
        "decisions": [],
        "executed": [],
        "triage": [],
        "answer_note": "",
        "evidence": state.get("evidence") or [],
    }
    try:
        services, result, problem, untriaged = await _fetch_mail(
            runtime, with_sent=mode == "triage"
        )
    except MailSourceError as err:
        services = await services_for(runtime)
        # Mail cached before may still wait for its triage: `classify` looks.
        return {**update, "new_email_ids": [], "untriaged": True, "fetch_errors": [
            {"id": "", "key": services.source, "error": scrub(str(err))}
        ]}  # fmt: skip
    fetch_errors = [{"id": e.id, "key": e.key, "error": scrub(e.error)} for e in result.errors]
    if problem:
        # Not a failure of the fetch: the mail was read; what was due back stays snoozed.
        fetch_errors.append(
            {"id": "", "key": services.mailbox.source, "error": scrub(problem), "stage": "wake"}
        )
    return {
        **update,
        "new_email_ids": [email.id for email in result.new],
        "untriaged": untriaged,
        "fetch_errors": fetch_errors,
    }
