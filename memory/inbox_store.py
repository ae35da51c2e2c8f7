"""What the inbox actions remember: snoozes and their wake times, the undo journal, moved mail.

Kept in the app database, so a snooze wakes and an action can be undone after a restart. The
mail cache follows every move here too (`moved_in_cache`), so listings and the triage view
show a message where it is now and a fetch neither reads it twice nor loses it.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from memory.inbox_tables import InboxJournalEntry, SnoozedConversation
from memory.mail_tables import StoredEmail, TriageRecord

if TYPE_CHECKING:
    from memory.db import AppDatabase


AWAY_FOLDERS = ("Archive", "Trash", "Snoozed")
"""Where the inbox actions put mail on a Maildir (and on IMAP without SPECIAL-USE marks)."""
CLEARING_ACTIONS = ("archive_conversations", "mark_done", "trash_conversations")
"""The actions that clear mail out of the inbox for good (not a snooze, not a filing move)."""
MOVING_ACTIONS = (
    "archive_conversations",
    "mark_done",
    "move_to_folder",
    "trash_conversations",
    "snooze_conversations",
)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def utc_text(moment: datetime) -> str:
    """A time as the tables keep it: ISO 8601 in UTC, to the second (text order is time order)."""
    if moment.tzinfo is None:
        raise ValueError("a time without an offset is ambiguous")
    return moment.astimezone(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Snooze:
    """One snoozed conversation, in plain values."""

    id: int
    source: str
    message_ids: tuple[str, ...]
    wake_at: str
    state: str
    thread_id: str
    woken_at: str


@dataclass(frozen=True)
class JournalEntry:
    """One inbox action as the journal keeps it."""

    id: int
    thread_id: str
    action: str
    source: str
    entries: tuple[dict[str, Any], ...]
    extra: dict[str, Any]
    created_at: str
    undone_at: str


_SNOOZES = SnoozedConversation.__table__  # type: ignore[attr-defined]
_DUE = (
    sa.select(_SNOOZES)
    .where(
        _SNOOZES.c.wake_at <= sa.bindparam("now"),
        _SNOOZES.c.source == sa.bindparam("source"),
        _SNOOZES.c.state == "snoozed",
    )
    .order_by(_SNOOZES.c.wake_at, _SNOOZES.c.id)
)
"""The snoozes due (`InboxStore.due`), built once: every fetch asks."""


class TriageView(NamedTuple):
    """The triage of one message as a listing shows it: a row of the triage table, no object."""

    priority: str
    category: str
    action: str
    reason: str
    suspicious: str


def _snooze(row: SnoozedConversation | sa.Row[Any]) -> Snooze:
    return Snooze(
        id=row.id or 0,
        source=row.source,
        message_ids=tuple(json.loads(row.message_ids or "[]")),
        wake_at=row.wake_at,
        state=row.state,
        thread_id=row.thread_id,
        woken_at=row.woken_at,
    )


def _entry(row: InboxJournalEntry) -> JournalEntry:
    return JournalEntry(
        id=row.id or 0,
        thread_id=row.thread_id,
        action=row.action,
        source=row.source,
        entries=tuple(json.loads(row.entries or "[]")),
        extra=dict(json.loads(row.extra or "{}")),
        created_at=row.created_at,
        undone_at=row.undone_at,
    )


class InboxStore:
    """Snoozes and the undo journal in the app database (every method blocks)."""

    def __init__(self, db: AppDatabase) -> None:
        self.engine = db.engine

    # -- snoozes ------------------------------------------------------------

    def snooze(
        self, source: str, message_ids: Sequence[str], wake_at: datetime, thread_id: str = ""
    ) -> Snooze:
        """Record that these messages sleep until `wake_at` (a time with an offset)."""
        row = SnoozedConversation(
            source=source,
            message_ids=json.dumps(list(message_ids)),
            wake_at=utc_text(wake_at),
            thread_id=thread_id,
        )
        with Session(self.engine) as session:
            session.add(row)
            session.commit()
            session.refresh(row)
            return _snooze(row)

    def snoozes(self, source: str, *, state: str = "snoozed") -> list[Snooze]:
        """The snoozes of a source in one state, soonest to wake first."""
        stmt = (
            select(SnoozedConversation)
            .where(SnoozedConversation.source == source, SnoozedConversation.state == state)
            .order_by(col(SnoozedConversation.wake_at), col(SnoozedConversation.id))
        )
        with Session(self.engine) as session:
            return [_snooze(row) for row in session.exec(stmt).all()]

    def due(self, source: str, now: datetime) -> list[Snooze]:
        """The snoozes of a source whose wake time has come, soonest first.

        One query on the indexed wake time, rows without table objects: every fetch asks, and
        nearly always nothing is due.
        """
        with self.engine.connect() as conn:
            rows = conn.execute(_DUE, {"now": utc_text(now), "source": source})
            return [_snooze(row) for row in rows]

    def set_state(self, snooze_id: int, state: str, *, at: datetime | None = None) -> None:
        """Mark a snooze `woken` (when: `at`) or `cancelled`."""
        with Session(self.engine) as session:
            row = session.get(SnoozedConversation, snooze_id)
            if row is None:
                return
            row.state = state
            row.woken_at = utc_text(at) if at is not None and state == "woken" else row.woken_at
            session.add(row)
            session.commit()

    def woken_ids(self, source: str) -> list[str]:
        """The ids of messages woken from a snooze, most recently woken first."""
        woken = sorted(self.snoozes(source, state="woken"), key=lambda s: s.woken_at, reverse=True)
        return list(dict.fromkeys(i for s in woken for i in s.message_ids))

    # -- journal ------------------------------------------------------------

    def record(
        self,
        thread_id: str,
        action: str,
        source: str,
        entries: Sequence[dict[str, Any]],
        extra: dict[str, Any] | None = None,
    ) -> JournalEntry:
        """Write one action to the journal and return it with its id."""
        row = InboxJournalEntry(
            thread_id=thread_id,
            action=action,
            source=source,
            entries=json.dumps(list(entries), ensure_ascii=False),
            extra=json.dumps(extra or {}, ensure_ascii=False),
        )
        with Session(self.engine) as session:
            session.add(row)
            session.commit()
            session.refresh(row)
            return _entry(row)

    def latest(self, thread_id: str, *, now: datetime, window: timedelta) -> JournalEntry | None:
        """The newest action of the thread not undone yet, if it is within `window` of `now`."""
        stmt = (
            select(InboxJournalEntry)
            .where(InboxJournalEntry.thread_id == thread_id, InboxJournalEntry.undone_at == "")
            .order_by(col(InboxJournalEntry.id).desc())
        )
        with Session(self.engine) as session:
            row = session.exec(stmt).first()
        if row is None or row.created_at < utc_text(now - window):
            return None
        return _entry(row)

    def mark_undone(self, entry_id: int) -> None:
        """Mark a journal entry as undone, so the next undo reverses the one before it."""
        with Session(self.engine) as session:
            row = session.get(InboxJournalEntry, entry_id)
            if row is not None:
                row.undone_at = _now()
                session.add(row)
                session.commit()

    def away_ids(self, source: str) -> set[str]:
        """Ids of cached messages the inbox actions moved out of the inbox that are still out.

        Archive, Trash and Snoozed, and every folder an action that stands moved mail to (an
        IMAP server's own Archive, a `move_to_folder` target): listings of the inbox leave
        these out. A message woken or moved back (undone) is in the inbox again.
        """
        with self.engine.connect() as conn:
            folders = _away_folders(conn, source)
            ids = conn.scalars(
                select(StoredEmail.id).where(
                    StoredEmail.source == source, col(StoredEmail.folder).in_(sorted(folders))
                )
            ).all()
        return set(ids)

    def triage_and_away(
        self, source: str, email_ids: Sequence[str]
    ) -> tuple[dict[str, TriageView], set[str]]:
        """The triage of these messages (those triaged) and which of them are out of the inbox.

        What `AppDatabase.triage_for` and `away_ids` say about just these ids: one join of the
        mail cache and the triage table, then the journal only when one of them is in a folder
        other than the inbox and `AWAY_FOLDERS` (the journal can only add folders to those).
        A message not in the cache (any more) has neither.
        """
        if not email_ids:
            return {}, set()
        triage = TriageRecord.__table__.c  # type: ignore[attr-defined]
        stmt = (
            sa.select(
                col(StoredEmail.id),
                col(StoredEmail.source),
                col(StoredEmail.folder),
                triage.priority,
                triage.category,
                triage.action,
                triage.reason,
                triage.suspicious,
            )
            .outerjoin(TriageRecord, triage.email_id == StoredEmail.id)
            .where(col(StoredEmail.id).in_(list(email_ids)))
        )
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
            folders = {row[2] for row in rows if row[1] == source} - {"INBOX", ""}
            if not folders.issubset(AWAY_FOLDERS):
                folders &= _away_folders(conn, source)
        found = {row[0]: TriageView(*row[3:]) for row in rows if row[3] is not None}
        away = {row[0] for row in rows if row[1] == source and row[2] in folders}
        return found, away

    def cleared_since(
        self, source: str, since: datetime, away: Collection[str] | None = None
    ) -> list[tuple[str, str]]:
        """(message id, action) of what was archived, marked done or trashed since `since`.

        Newest first, each message once, only what is still out of the inbox (not undone, not
        moved back): what the daily digest tells the user was cleared for them. `away` is
        `away_ids(source)` when the caller has it already.
        """
        stmt = (
            select(InboxJournalEntry)
            .where(
                InboxJournalEntry.source == source,
                InboxJournalEntry.undone_at == "",
                InboxJournalEntry.created_at >= utc_text(since),
                col(InboxJournalEntry.action).in_(CLEARING_ACTIONS),
            )
            .order_by(col(InboxJournalEntry.id).desc())
        )
        with Session(self.engine) as session:
            rows = session.exec(stmt).all()
        away = self.away_ids(source) if away is None else away
        found: dict[str, str] = {}
        for row in rows:
            for entry in json.loads(row.entries or "[]"):
                message = str(entry.get("id") or "")
                if message in away and message not in found:
                    found[message] = row.action
        return list(found.items())

    def done_ids(self, source: str) -> set[str]:
        """The ids of messages marked done (and not undone)."""
        stmt = select(InboxJournalEntry).where(
            InboxJournalEntry.source == source,
            InboxJournalEntry.action == "mark_done",
            InboxJournalEntry.undone_at == "",
        )
        with Session(self.engine) as session:
            rows = session.exec(stmt).all()
        return {str(e.get("id")) for row in rows for e in json.loads(row.entries or "[]")}


def _away_folders(conn: Connection, source: str) -> set[str]:
    """The folders mail of `source` is out of the inbox in.

    `AWAY_FOLDERS`, and every folder an action that stands (not undone) moved mail to.
    """
    stmt = select(InboxJournalEntry.entries).where(
        InboxJournalEntry.source == source,
        InboxJournalEntry.undone_at == "",
        col(InboxJournalEntry.action).in_(MOVING_ACTIONS),
    )
    folders = set(AWAY_FOLDERS)
    folders |= {str(e.get("to")) for row in conn.scalars(stmt) for e in json.loads(row or "[]")}
    return folders - {"INBOX", ""}


def moved_in_cache(db: AppDatabase, source: str, key: str, folder: str, new_key: str = "") -> None:
    """Make the cached message at (`source`, `key`) say it is in `folder` now (under `new_key`).

    The message keeps its id; its row and its stored `Email` both follow, so a listing by
    folder and a later fetch agree with the mailbox.
    """
    with Session(db.engine) as session:
        row = session.get(StoredEmail, (source, key))
        if row is None:
            return
        data = json.loads(row.data or "{}")
        data["folder"] = folder
        if new_key and new_key != key:
            data["key"] = new_key
            moved = StoredEmail(**{**row.model_dump(), "key": new_key, "folder": folder})
            moved.data = json.dumps(data, ensure_ascii=False)
            session.delete(row)
            session.flush()
            session.add(moved)
        else:
            row.folder = folder
            row.data = json.dumps(data, ensure_ascii=False)
            session.add(row)
        session.commit()
