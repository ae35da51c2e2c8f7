"""Which triaged messages the triage view shows: those still in the inbox, woken ones first.

Archived, trashed, snoozed or moved mail has left the folder the source reads, so it leaves
the list; a snoozed conversation that woke up is back in that folder and comes first, marked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from memory.db import AppDatabase
from memory.inbox_store import InboxStore
from memory.mail_tables import TriageRecord
from tools.mail.imap_spec import parse_imap_spec
from tools.mail.model import Email
from ui.chat.render import TriageRow

INBOX = "INBOX"
"""The folder a Maildir source reads (its top level)."""


def reading_folder(source: str) -> str:
    """The folder whose mail is "in the inbox": an IMAP source's folder, else INBOX."""
    if source.startswith(("imap://", "imaps://")):
        return parse_imap_spec(source).folder
    return INBOX


def inbox_pairs(db: AppDatabase, source: str) -> tuple[list[tuple[Email, TriageRecord]], list[str]]:
    """The triaged messages still in the inbox, and the ids woken from a snooze (blocking)."""
    folder = reading_folder(source)
    pairs = [(e, t) for e, t in db.triaged_emails(source) if e.folder == folder]
    return pairs, InboxStore(db).woken_ids(source)


def woken_first(rows: Sequence[TriageRow], woken: Sequence[str]) -> list[TriageRow]:
    """The rows with those woken from a snooze first (most recently woken first), marked."""
    order = {message_id: n for n, message_id in enumerate(woken)}
    back = sorted((r for r in rows if r.id in order), key=lambda r: order[r.id])
    rest = [r for r in rows if r.id not in order]
    return [replace(row, woken=True) for row in back] + rest
