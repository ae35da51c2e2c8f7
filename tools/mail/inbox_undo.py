"""Undo the newest inbox action of a chat thread: move mail back, restore flags, lift a block.

The journal (`memory.inbox_store`) says what each action changed: per message the folder it
was in (as the mail cache knew it) and its flags before. Undo works within
`SMART_INBOX_UNDO_WINDOW` (default one hour; `90`, `30m`, `2h`, `1d`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from memory.inbox_store import InboxStore, JournalEntry
from memory.triage_preferences import TriagePreferences
from tools.mail.inbox_actions import (
    current_thread,
    move_messages,
    open_operations,
    set_flags,
)
from tools.mail.inbox_ops import Flag, MessageOutcome
from tools.mail.mailbox import MailboxEnv
from tools.toolkit import ToolFailure, ToolResult, text_result

UNDO_WINDOW = "SMART_INBOX_UNDO_WINDOW"
DEFAULT_WINDOW = timedelta(hours=1)
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
FLAG_ACTIONS: dict[str, Flag] = {"mark_read": "seen", "flag_messages": "flagged"}
CANNOT_UNDO = {"unsubscribe": "an unsubscribe cannot be undone: the sender has been told"}


def undo_window(environ: Mapping[str, str]) -> timedelta:
    """`SMART_INBOX_UNDO_WINDOW` as a duration; `ToolFailure` when it is not one."""
    text = environ.get(UNDO_WINDOW, "").strip().lower()
    if not text:
        return DEFAULT_WINDOW
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smhd]?)", text)
    if match is None:
        raise ToolFailure(f"{UNDO_WINDOW}={text!r} is not a duration (e.g. 3600, 30m, 1h)")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def _moved_back(env: MailboxEnv, entry: JournalEntry) -> list[MessageOutcome]:
    """Every message of a move back in the folder it came from."""
    by_folder: dict[str, list[str]] = {}
    for item in entry.entries:
        if item.get("from") and item.get("from") != item.get("to"):
            by_folder.setdefault(str(item["from"]), []).append(str(item["id"]))
    if not by_folder:
        return []
    ops = open_operations(env)
    outcomes: list[MessageOutcome] = []
    for folder, ids in by_folder.items():
        emails = env.db.emails_by_ids(ids)
        gone = set(ids) - {e.id for e in emails}
        outcomes += [MessageOutcome(i, "failed", "it is no longer in the mail cache") for i in gone]
        outcomes += move_messages(env, ops, emails, folder, create=True)
    return outcomes


def _flags_back(env: MailboxEnv, entry: JournalEntry, flag: Flag) -> list[MessageOutcome]:
    """Every message's flag as it was before."""
    outcomes: list[MessageOutcome] = []
    ops = open_operations(env)
    for was_set in (True, False):
        ids = [
            str(i["id"]) for i in entry.entries if (flag in i.get("flags_before", [])) == was_set
        ]
        emails = env.db.emails_by_ids(ids)
        if emails:
            outcomes += set_flags(ops, emails, flag, was_set)
    return outcomes


def _unblocked(env: MailboxEnv, entry: JournalEntry) -> str:
    preference = int(entry.extra.get("preference_id", 0))
    address = str(entry.extra.get("address", ""))
    TriagePreferences(env.db).remove(preference)
    forget_sender_triage(env, address)
    return f"Unblocked {address}: their mail is triaged as before."


def forget_sender_triage(env: MailboxEnv, address: str) -> int:
    """Drop the cached triage of the sender's mail, so the next triage run applies the rules."""
    mail = env.db.list_emails(source=env.source, sender=address, limit=10_000)
    return env.db.forget_triage([e.id for e in mail if e.from_addr.casefold() == address])


def undo(env: MailboxEnv, environ: Mapping[str, str], now: datetime | None = None) -> ToolResult:
    """Reverse the newest inbox action of this chat thread, if it is within the undo window."""
    store = InboxStore(env.db)
    window = undo_window(environ)
    entry = store.latest(current_thread(), now=now or datetime.now(UTC), window=window)
    if entry is None:
        raise ToolFailure(
            f"there is no inbox action of this conversation to undo (within {window})"
        )
    if entry.action in CANNOT_UNDO:
        raise ToolFailure(CANNOT_UNDO[entry.action])
    if entry.action == "block_sender":
        store.mark_undone(entry.id)
        return text_result(_unblocked(env, entry), data={"undone": entry.action})
    if entry.action in FLAG_ACTIONS:
        outcomes = _flags_back(env, entry, FLAG_ACTIONS[entry.action])
    else:
        outcomes = _moved_back(env, entry)
        if entry.extra.get("snooze_id"):
            store.set_state(int(entry.extra["snooze_id"]), "cancelled")
    failed = [o for o in outcomes if not o.ok]
    if outcomes and len(failed) == len(outcomes):
        raise ToolFailure("nothing was undone: " + "; ".join(o.line() for o in failed))
    store.mark_undone(entry.id)
    head = f"Undid {entry.action}: {len(outcomes) - len(failed)} of {len(outcomes)} message(s)"
    if failed:
        head = f"Partly undone: {head}; {len(failed)} failed"
    lines = "\n".join(f"- {o.line()}" for o in outcomes)
    data = {"undone": entry.action, "results": [o.as_dict() for o in outcomes]}
    return text_result(f"{head}:\n{lines}", data=data)
