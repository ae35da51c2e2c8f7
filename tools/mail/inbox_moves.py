"""The inbox actions that move or flag mail: archive, done, move, trash, read, flag, snooze.

Each is a blocking function of the mailbox and its arguments; `tools.mail.inbox_tools` wraps
them as tools. How the messages are picked, moved and journaled is `tools.mail.inbox_actions`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from memory.inbox_store import InboxStore
from tools.mail.inbox_actions import (
    current_thread,
    move_messages,
    open_operations,
    report,
    role_folder,
    set_flags,
    targets,
    user_folder,
)
from tools.mail.mailbox import MailboxEnv
from tools.toolkit import ToolFailure, ToolResult


def archive(env: MailboxEnv, message_ids: Sequence[str], *, action: str) -> ToolResult:
    """Move the conversations to Archive (`action` says whether they are also done)."""
    found = targets(env, message_ids)
    if not found.emails:
        return report(env, action, "archived", found, [], [])
    ops = open_operations(env)
    outcomes = move_messages(env, ops, found.emails, role_folder(ops, "archive"))
    done = "archived and marked done" if action == "mark_done" else "archived"
    return report(env, action, done, found, found.emails, outcomes)


def move_to(env: MailboxEnv, message_ids: Sequence[str], folder: str, create: bool) -> ToolResult:
    """Move the conversations to `folder` (which must exist unless `create`)."""
    folder = user_folder(folder)
    found = targets(env, message_ids)
    if not found.emails:
        return report(env, "move_to_folder", f"moved to {folder}", found, [], [])
    ops = open_operations(env)
    outcomes = move_messages(env, ops, found.emails, folder, create=create)
    return report(env, "move_to_folder", f"moved to {folder}", found, found.emails, outcomes)


def trash(env: MailboxEnv, message_ids: Sequence[str]) -> ToolResult:
    """Move the conversations to Trash (never deleted outright)."""
    found = targets(env, message_ids)
    if not found.emails:
        return report(env, "trash_conversations", "moved to Trash", found, [], [])
    ops = open_operations(env)
    outcomes = move_messages(env, ops, found.emails, role_folder(ops, "trash"))
    return report(env, "trash_conversations", "moved to Trash", found, found.emails, outcomes)


def mark_read(env: MailboxEnv, message_ids: Sequence[str], read: bool) -> ToolResult:
    """Mark every message of the conversations read (or unread)."""
    found = targets(env, message_ids)
    done = "marked read" if read else "marked unread"
    if not found.emails:
        return report(env, "mark_read", done, found, [], [])
    outcomes = set_flags(open_operations(env), found.emails, "seen", read)
    return report(env, "mark_read", done, found, found.emails, outcomes)


def flag(env: MailboxEnv, message_ids: Sequence[str], flagged: bool) -> ToolResult:
    """Flag (or unflag) these messages only, not their whole conversations."""
    found = targets(env, message_ids, whole=False)
    done = "flagged" if flagged else "unflagged"
    if not found.emails:
        return report(env, "flag_messages", done, found, [], [])
    outcomes = set_flags(open_operations(env), found.emails, "flagged", flagged)
    return report(env, "flag_messages", done, found, found.emails, outcomes)


def wake_time(until: str, now: datetime) -> datetime:
    """The wake time of a snooze: ISO 8601 with an offset, in the future."""
    try:
        when = datetime.fromisoformat(until.strip())
    except ValueError:
        raise ToolFailure(
            f"{until!r} is not a time: give ISO 8601 with an offset, e.g. 2026-12-04T09:00:00+01:00"
        ) from None
    if when.tzinfo is None:
        raise ToolFailure(
            f"{until!r} has no offset: say which time zone, e.g. {until.strip()}+00:00"
        )
    if when <= now:
        raise ToolFailure(f"{until} is not in the future")
    return when


def snooze(
    env: MailboxEnv, message_ids: Sequence[str], until: str, now: datetime | None = None
) -> ToolResult:
    """Move the conversations to Snoozed and remember when they come back."""
    when = wake_time(until, now or datetime.now(UTC))
    found = targets(env, message_ids)
    done = f"snoozed until {when.isoformat()}"
    if not found.emails:
        return report(env, "snooze_conversations", done, found, [], [])
    ops = open_operations(env)
    outcomes = move_messages(env, ops, found.emails, role_folder(ops, "snoozed"))
    sleeping = [o.id for o in outcomes if o.ok]
    extra = {}
    if sleeping:
        row = InboxStore(env.db).snooze(env.source, sleeping, when, current_thread())
        extra = {"snooze_id": row.id}
    return report(env, "snooze_conversations", done, found, found.emails, outcomes, extra)
