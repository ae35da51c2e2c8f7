"""Which triaged messages the triage view shows: those still in the inbox, woken ones first.

Archived, trashed, snoozed or moved mail is out of the inbox (the inbox store says which, the
same way the `list_inbox` tool leaves it out), so it leaves the list; a snoozed conversation
that woke up is back in the inbox and comes first, marked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from memory.db import AppDatabase
from memory.inbox_store import InboxStore
from memory.mail_tables import TriageRecord
from tools.mail.model import Email
from ui.chat.render import TriageRow


def inbox_pairs(db: AppDatabase, source: str) -> tuple[list[tuple[Email, TriageRecord]], list[str]]:
    """The triaged messages still in the inbox, and the ids woken from a snooze (blocking)."""
    store = InboxStore(db)
    away = store.away_ids(source)
    pairs = [(e, t) for e, t in db.triaged_emails(source) if e.id not in away]
    return pairs, store.woken_ids(source)


def woken_first(rows: Sequence[TriageRow], woken: Sequence[str]) -> list[TriageRow]:
    """The rows with those woken from a snooze first (most recently woken first), marked."""
    order = {message_id: n for n, message_id in enumerate(woken)}
    back = sorted((r for r in rows if r.id in order), key=lambda r: order[r.id])
    rest = [r for r in rows if r.id not in order]
    return [replace(row, woken=True) for row in back] + rest
