"""The inbox actions' work: which messages a call acts on, the move or flag, what is remembered.

Every action acts on the whole conversation of each id it is given (the messages of it in the
same folder as that id; the user's own Sent mail and drafts are never moved), tells per
message what happened, makes the mail cache follow, and writes the undo journal
(`memory.inbox_store`) keyed by the chat thread it runs in. Moving is idempotent (a message
already where it should be is `already`), so a call re-run after a crash never moves twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from memory.inbox_store import InboxStore, moved_in_cache
from memory.ledger import running_call
from tools.mail.account_ops import AccountOperations
from tools.mail.conversation_tools import read_mailbox
from tools.mail.conversations import OWN_FOLDERS, conversation_of
from tools.mail.gmail.ops import GmailOperations
from tools.mail.gmail.source import GmailSource
from tools.mail.imap import ImapSource
from tools.mail.imap_ops import ImapOperations
from tools.mail.inbox_ops import (
    Flag,
    FolderError,
    MailboxOperations,
    MessageOutcome,
    Role,
    checked_folder,
)
from tools.mail.mailbox import MailboxEnv
from tools.mail.maildir import MaildirSource
from tools.mail.maildir_ops import MaildirOperations
from tools.mail.mcp_ops import McpOperations, current_bridge
from tools.mail.mcp_source import parse_mcp_spec
from tools.mail.model import DRAFTS, Email
from tools.mail.msgraph.ops import OutlookOperations
from tools.mail.msgraph.source import OutlookSource
from tools.mail.source_protocol import MailSourceError
from tools.mail.sources import parse_source_spec
from tools.toolkit import ToolFailure, ToolResult, text_result

logger = logging.getLogger(__name__)

NOT_MOVED_FOLDERS = frozenset({*OWN_FOLDERS, DRAFTS})
"""The user's own mail: part of a conversation, never archived or trashed with it."""


def mcp_cannot(source: str) -> str:
    """Why an MCP mail source cannot take inbox actions here, in one line."""
    return (
        f"this mail source ({source}) cannot archive, move or flag mail: it is read through an "
        "MCP server, and no MCP server is configured (mcp.json) to ask"
    )


def open_operations(env: MailboxEnv) -> MailboxOperations:
    """The folder and flag operations of the configured mail source (blocking, no connection).

    An inbox of several accounts acts on each message through the account it came to.
    """
    if env.accounts:
        return AccountOperations(
            {label: (own.source, open_operations(own)) for label, own in env.accounts.items()}
        )
    if env.source.lower().startswith("mcp:"):
        bridge = current_bridge()
        if bridge is None:
            raise ToolFailure(mcp_cannot(env.source))
        try:
            return McpOperations(parse_mcp_spec(env.source), bridge)
        except MailSourceError as err:
            raise ToolFailure(str(err)) from None
    try:
        source = parse_source_spec(env.source, secrets=env.secrets)
    except MailSourceError as err:
        raise ToolFailure(str(err)) from None
    if isinstance(source, MaildirSource):
        return MaildirOperations(source)
    if isinstance(source, ImapSource):
        return ImapOperations.of(source)
    if isinstance(source, OutlookSource):
        return OutlookOperations(source)
    if isinstance(source, GmailSource):
        return GmailOperations(source)
    raise ToolFailure(f"the mail source {env.source} cannot archive, move or flag mail")


def current_thread() -> str:
    """The chat thread of the running call ('' outside one): what the journal is keyed by."""
    call = running_call()
    return call.thread_id if call is not None else ""


@dataclass
class Targets:
    """The cached messages a call acts on, and the ids it could not find."""

    emails: list[Email]
    missing: list[MessageOutcome]


def targets(env: MailboxEnv, message_ids: Sequence[str], *, whole: bool = True) -> Targets:
    """The messages of each id's conversation in that id's folder (or only the ids: `whole`)."""
    found: dict[str, Email] = {}
    missing: list[MessageOutcome] = []
    mailbox = read_mailbox(env) if whole else None
    for message_id in dict.fromkeys(message_ids):
        email = env.db.get_email(message_id)
        if email is None or email.source != env.source:
            reason = f"no message with id {message_id!r} in the mailbox"
            missing.append(MessageOutcome(message_id, "failed", reason))
            continue
        found.setdefault(email.id, email)
        conversation = conversation_of(email.id, mailbox.conversations) if mailbox else None
        for other in conversation.emails if conversation else []:
            if other.folder == email.folder and other.folder not in NOT_MOVED_FOLDERS:
                found.setdefault(other.id, other)
    return Targets(list(found.values()), missing)


def follow_in_cache(
    env: MailboxEnv, emails: Sequence[Email], outcomes: Sequence[MessageOutcome]
) -> None:
    """Make the cache say where each moved message is now."""
    for email, outcome in zip(emails, outcomes, strict=True):
        if outcome.ok and outcome.to_folder and outcome.to_folder != email.folder:
            moved_in_cache(env.db, env.source, email.key, outcome.to_folder, outcome.key)


def journal_entries(
    emails: Sequence[Email], outcomes: Sequence[MessageOutcome]
) -> list[dict[str, Any]]:
    """What undo needs of each message that is as asked: from where (as cached) to where."""
    entries = []
    for email, outcome in zip(emails, outcomes, strict=True):
        if outcome.ok:
            entries.append(outcome.as_dict() | {"from": email.folder})
    return entries


def move_messages(
    env: MailboxEnv,
    ops: MailboxOperations,
    emails: Sequence[Email],
    folder: str,
    *,
    create: bool = False,
) -> list[MessageOutcome]:
    """Move the messages, then make the cache follow. `ToolFailure` for a folder refused."""
    try:
        outcomes = ops.move(emails, folder, create=create)
    except FolderError as err:
        raise ToolFailure(str(err)) from None
    except MailSourceError as err:
        raise ToolFailure(str(err)) from None
    follow_in_cache(env, emails, outcomes)
    return outcomes


def role_folder(ops: MailboxOperations, role: Role) -> str:
    """The folder of a role, created when missing; `ToolFailure` when it cannot be."""
    try:
        return ops.folder_for(role)
    except (FolderError, MailSourceError) as err:
        raise ToolFailure(str(err)) from None


def user_folder(name: str) -> str:
    """A folder name from a call, checked; `ToolFailure` when it is unsafe."""
    try:
        return checked_folder(name)
    except FolderError as err:
        raise ToolFailure(str(err)) from None


def set_flags(
    ops: MailboxOperations, emails: Sequence[Email], flag: Flag, on: bool
) -> list[MessageOutcome]:
    """Set or clear a flag on each message. `ToolFailure` when the mailbox cannot be reached."""
    try:
        return ops.set_flag(emails, flag, on)
    except MailSourceError as err:
        raise ToolFailure(str(err)) from None


def report(
    env: MailboxEnv,
    action: str,
    done: str,
    found: Targets,
    emails: Sequence[Email],
    outcomes: Sequence[MessageOutcome],
    extra: dict[str, Any] | None = None,
) -> ToolResult:
    """Journal the action and say how each message fared; all failed: `ToolFailure`."""
    every = [*found.missing, *outcomes]
    entries = journal_entries(emails, outcomes)
    if entries:
        InboxStore(env.db).record(current_thread(), action, env.source, entries, extra)
    failed = [o for o in every if not o.ok]
    lines = [o.line() for o in every]
    if every and len(failed) == len(every):
        raise ToolFailure(f"nothing was {done}: " + "; ".join(o.line() for o in failed))
    if not every:
        raise ToolFailure("no message was named")
    head = f"{done[:1].upper()}{done[1:]} {len(every) - len(failed)} of {len(every)} message(s)"
    if failed:
        head = f"Partly done: {head}; {len(failed)} failed"
    data = {"action": action, "results": [o.as_dict() for o in every], "failed": len(failed)}
    return text_result(head + ":\n" + "\n".join(f"- {line}" for line in lines), data=data)
