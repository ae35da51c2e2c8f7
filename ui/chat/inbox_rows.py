"""Which conversations the triage view shows: those still in the inbox, woken ones first.

Archived, trashed, snoozed or moved mail is out of the inbox (the inbox store says which, the
same way the `list_inbox` tool leaves it out), so it leaves the list; a snoozed conversation
that woke up is back in the inbox and comes first, marked. The messages left are threaded
with the user's own mail into one row per conversation (`tools.mail.conversation_triage`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from memory.db import AppDatabase
from memory.inbox_store import InboxStore, utc_text
from memory.mail_tables import TriageRecord
from tools.mail.conversation_triage import ConversationTriage, triaged_conversations
from tools.mail.mailbox import MailboxEnv
from tools.mail.model import Email
from ui.chat.render import TriageRow

BACK_FOR = timedelta(days=1)
"""How long a conversation woken from a snooze leads the list; then it sorts like any other."""


def inbox_pairs(
    db: AppDatabase, source: str, now: datetime | None = None
) -> tuple[list[tuple[Email, TriageRecord]], list[str]]:
    """The triaged messages still in the inbox, and the ids woken from a snooze (blocking).

    The woken ones are those woken within `BACK_FOR` of `now` (the clock when not given),
    most recently woken first.
    """
    store = InboxStore(db)
    away = store.away_ids(source)
    pairs = [(e, t) for e, t in db.triaged_emails(source) if e.id not in away]
    since = utc_text((now or datetime.now(UTC)) - BACK_FOR)
    woken = [s for s in store.snoozes(source, state="woken") if s.woken_at >= since]
    woken.sort(key=lambda s: s.woken_at, reverse=True)
    return pairs, list(dict.fromkeys(i for s in woken for i in s.message_ids))


def inbox_conversations(
    mailbox: MailboxEnv, now: datetime | None = None
) -> tuple[list[ConversationTriage], list[str], str]:
    """The conversations of the inbox, the ids woken from a snooze, and a note (blocking).

    The note is '' or why the user's sent mail could not be read (`triaged_conversations`).
    """
    pairs, woken = inbox_pairs(mailbox.db, mailbox.source, now)
    states, note = triaged_conversations(mailbox, pairs, with_sent=True)
    return states, woken, note


def woken_first(rows: Sequence[TriageRow], woken: Sequence[str]) -> list[TriageRow]:
    """The rows with those woken from a snooze first (most recently woken first), marked.

    A conversation's row is woken when any of its messages is.
    """
    order = {message_id: n for n, message_id in enumerate(woken)}

    def rank(row: TriageRow) -> int | None:
        ids = (row.id, row.triaged, *(m.id for m in row.messages))
        return min((order[i] for i in ids if i in order), default=None)

    ranked = [(rank(row), row) for row in rows]
    back = sorted(((n, r) for n, r in ranked if n is not None), key=lambda pair: pair[0])
    rest = [r for n, r in ranked if n is None]
    return [replace(row, woken=True) for _, row in back] + rest
