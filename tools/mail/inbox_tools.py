"""Inbox actions the model can call: archive, done, move, trash, read, flag, snooze, undo.

Each takes the ids citations show and acts on the whole conversation of each (flagging only
on the messages named), answering per message: moved, already so, or failed with why. Every
one but `list_snoozed` changes the mailbox, so each needs the user's approval (level 1).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Any

from langchain_core.tools import InjectedToolArg, tool

from memory.inbox_store import InboxStore
from memory.triage_preferences import TriagePreferences
from tools.mail import inbox_moves as moves
from tools.mail.inbox_actions import current_thread
from tools.mail.inbox_undo import forget_sender_triage, undo
from tools.mail.mailbox import MailboxEnv
from tools.mail.mcp_ops import bridged, missing_server_tool
from tools.mail.unsubscribe import mail_route_note, way_out
from tools.mail.unsubscribe import unsubscribe as unsubscribe_from
from tools.mcp.config import McpConfigError
from tools.mcp.shared_hub import shared_hub
from tools.toolkit import ActionPreview, ToolFailure, Toolkit, ToolResult, text_result


@dataclass(frozen=True)
class InboxEnv:
    """What the inbox tools need at run time, injected by `act`."""

    mailbox: MailboxEnv
    mcp_config: Path | None = None
    """The MCP configuration (`mcp.json`): for an `mcp:` inbox, whose server is asked to act."""


Env = Annotated[InboxEnv, InjectedToolArg]


async def _acting(
    env: InboxEnv, work: Callable[..., ToolResult], *args: Any, **kwargs: Any
) -> ToolResult:
    """Run an action in a worker thread; for an `mcp:` inbox, with its server's hub at hand."""
    config = env.mcp_config
    remote = env.mailbox.source.lower().startswith("mcp:")
    if not remote or config is None or not await asyncio.to_thread(config.exists):
        return await asyncio.to_thread(work, env.mailbox, *args, **kwargs)
    try:
        hub = await shared_hub(config)
    except McpConfigError as err:
        raise ToolFailure(f"the MCP servers cannot be reached: {err}") from None
    with bridged(hub):
        return await asyncio.to_thread(work, env.mailbox, *args, **kwargs)


@tool
async def archive_conversations(message_ids: list[str], *, env: Env) -> ToolResult:
    """Archive the conversations of these messages (moved to Archive, nothing deleted)."""
    return await _acting(env, moves.archive, message_ids, action="archive_conversations")


@tool
async def mark_done(message_ids: list[str], *, env: Env) -> ToolResult:
    """Mark the conversations of these messages done: archived and remembered as done."""
    return await _acting(env, moves.archive, message_ids, action="mark_done")


@tool
async def move_to_folder(
    message_ids: list[str], folder: str, create: bool = False, *, env: Env
) -> ToolResult:
    """Move the conversations of these messages to a folder (create=True makes a new one)."""
    return await _acting(env, moves.move_to, message_ids, folder, create)


@tool
async def trash_conversations(message_ids: list[str], *, env: Env) -> ToolResult:
    """Move the conversations of these messages to Trash (never deleted outright)."""
    return await _acting(env, moves.trash, message_ids)


@tool
async def mark_read(message_ids: list[str], read: bool = True, *, env: Env) -> ToolResult:
    """Mark the conversations of these messages read (read=False: unread)."""
    return await _acting(env, moves.mark_read, message_ids, read)


@tool
async def flag_messages(message_ids: list[str], flagged: bool = True, *, env: Env) -> ToolResult:
    """Flag these messages (flagged=False: remove the flag)."""
    return await _acting(env, moves.flag, message_ids, flagged)


@tool
async def snooze_conversations(message_ids: list[str], until: str, *, env: Env) -> ToolResult:
    """Snooze the conversations until a time (ISO 8601 with offset); they come back then."""
    return await _acting(env, moves.snooze, message_ids, until)


@tool
async def unsubscribe(message_id: str, *, env: Env) -> ToolResult:
    """Unsubscribe from the mailing list a message came from (one-click link, else by mail)."""
    return await _acting(env, unsubscribe_from, message_id)


def _block(env: MailboxEnv, address: str) -> ToolResult:
    bare = parseaddr(address)[1].strip().casefold()
    if not bare or "@" not in bare or any(c.isspace() for c in bare):
        raise ToolFailure(f"{address!r} is not an e-mail address")
    stored = TriagePreferences(env.db).add(
        scope="sender", key=bare, decision="ignore", origin="block"
    )
    forgotten = forget_sender_triage(env, bare)
    extra = {"preference_id": stored.id, "address": bare}
    InboxStore(env.db).record(current_thread(), "block_sender", env.source, [], extra)
    text = (
        f"Blocked {bare}: their mail is triaged 'ignore' from now on "
        f"({forgotten} cached message(s) will be triaged again)."
    )
    return text_result(text, data={"action": "block_sender", **extra})


@tool
async def block_sender(address: str, *, env: Env) -> ToolResult:
    """Block a sender: their mail is triaged 'ignore' from now on."""
    return await _acting(env, _block, address)


@tool
async def undo_inbox_action(*, env: Env) -> ToolResult:
    """Undo the last inbox action of this conversation (within the undo window)."""
    return await _acting(env, undo, os.environ)


def _snoozed(env: MailboxEnv) -> ToolResult:
    snoozes = InboxStore(env.db).snoozes(env.source)
    rows: list[dict[str, Any]] = []
    for snooze in snoozes:
        emails = env.db.emails_by_ids(list(snooze.message_ids))
        subjects = sorted({e.subject or "(no subject)" for e in emails})
        rows.append(
            {"wake_at": snooze.wake_at, "ids": list(snooze.message_ids), "subjects": subjects}
        )
    if not rows:
        return text_result("Nothing is snoozed.", data={"snoozed": []})
    lines = [
        f"- until {row['wake_at']}: {', '.join(row['subjects'])} (ids: {', '.join(row['ids'])})"
        for row in rows
    ]
    return text_result(
        f"{len(rows)} snoozed conversation(s):\n" + "\n".join(lines), data={"snoozed": rows}
    )


@tool
async def list_snoozed(*, env: Env) -> ToolResult:
    """List the snoozed conversations and when each comes back."""
    return await _acting(env, _snoozed)


INBOX_TOOLS = [
    archive_conversations,
    mark_done,
    move_to_folder,
    trash_conversations,
    mark_read,
    flag_messages,
    snooze_conversations,
    unsubscribe,
    block_sender,
    undo_inbox_action,
    list_snoozed,
]
READ_ONLY_INBOX_TOOLS = frozenset({"list_snoozed"})


def preview(env: MailboxEnv, name: str, args: dict[str, Any]) -> ActionPreview | None:
    """The card of an unsubscribe: the exact link, marked as coming from the mail."""
    if name != "unsubscribe":
        return None
    email = env.db.get_email(str(args.get("message_id", "")))
    if email is None:
        return ActionPreview(title="Unsubscribe", notes=("No such message in the mailbox.",))
    way = way_out(email)
    how = {"post": "one-click POST (RFC 8058) to", "mailto": "a mail to"}.get(way.method or "", "")
    fields = [("From", email.sender), ("Subject", email.subject or "(no subject)")]
    if way.target:
        fields.append(("Link (from the message: untrusted)", way.target))
    notes = [f"It will send {how} the link above."] if how and not way.problem else []
    if way.method == "mailto" and not way.problem and mail_route_note(env, email):
        notes.append(mail_route_note(env, email))
    notes.append("The link was written by the sender of the message, not by you.")
    if way.problem:
        notes.append(f"Cannot unsubscribe: {way.problem}.")
    return ActionPreview(
        title=f"Unsubscribe from {email.from_addr or 'this mailing'}",
        fields=tuple(fields),
        notes=tuple(notes),
    )


def inbox_toolkit(env: MailboxEnv, mcp_config: Path | None = None) -> Toolkit:
    """The inbox actions on the mailbox; all but `list_snoozed` need approval.

    `mcp_config` is where the MCP servers are configured: an `mcp:` inbox acts through its
    server's own tools.
    """
    return Toolkit(
        name="inbox",
        tools=INBOX_TOOLS,
        read_only=READ_ONLY_INBOX_TOOLS,
        env=InboxEnv(env, mcp_config),
        preview=lambda name, args: preview(env, name, args),
        refuses=lambda name, _args, offered: missing_server_tool(env.source, name, offered),
    )
