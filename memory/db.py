"""The app database: mail cache, sync cursors and triage results (tables in `memory.mail_tables`).

The audit log and the side-effect ledger share it (their tables are in `memory.audit_tables`),
and so do the encrypted credentials (`memory.credential_table`). It is a SQLite file or a PostgreSQL
database (`memory.database_url`); its schema is made and upgraded by the numbered steps of
`memory.migrations` when it is opened.

Every method is synchronous; async nodes call them through `asyncio.to_thread` so the
event loop never blocks on the database.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, SQLModel, col, create_engine, select

from memory.commits import count_commits
from memory.database_url import safe_url, sqlalchemy_url
from memory.email_ids import strip_id, with_unique_ids
from memory.mail_model import DRAFTS, SENT, Email
from memory.mail_rows import email_row, from_data, from_row
from memory.mail_tables import StoredEmail, SyncCursor, TriageRecord
from memory.migrations import migrate
from memory.search import search_stored
from memory.search_catch_up import IndexCatchUp
from memory.search_query import parse_query
from memory.search_sqlite_index import connect_search_tables, insert_behind
from memory.sqlite_wal import sqlite_pragmas
from memory.upsert import insert_new_then_upsert, upsert_statement

PRIORITY_ORDER = {"high": 0, "unknown": 1, "normal": 2, "low": 3}
"""How triage lists are sorted; a value not listed here comes last.

`unknown` is the priority of a message that could not be read (see
`graph.engines.triage.UNREADABLE_PRIORITY`): only a person who opens it can tell how much it
matters, so it comes right after the high-priority mail, never above a real incident and never
buried under newsletters."""
CATEGORY_ORDER = {
    "urgent_incident": 0,
    "bug_report": 1,
    "billing": 2,
    "meeting_request": 3,
    "sales_inquiry": 4,
}
"""Within one priority, what to show first; other categories follow."""
NOT_TRIAGED_FOLDERS = (DRAFTS, SENT, "Trash")
"""Folders of the user's own mail: searchable, but never triaged."""
_CURSOR = select(SyncCursor).where(SyncCursor.source == bindparam("source"))


class DatabaseUnavailableError(RuntimeError):
    """The app database cannot be reached or opened; the message names it, without a password."""


_Row = dict[str, Any]
BULK_INDEX_FROM = 200
"""Cache rows from which one write leaves its new rows for SQLite's search index to catch up."""
POSTGRES_POOL_SIZE = 10
POSTGRES_MAX_OVERFLOW = 10


def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", sqlite_pragmas)
        event.listen(engine, "connect", connect_search_tables)
        return count_commits(engine)
    # pre_ping: a connection the server dropped (a restart, an idle timeout) is replaced, not
    # handed to a request that would then fail.
    return count_commits(
        create_engine(
            url,
            pool_pre_ping=True,
            pool_size=POSTGRES_POOL_SIZE,
            max_overflow=POSTGRES_MAX_OVERFLOW,
        )
    )


class AppDatabase:
    """Typed access to the app tables; one instance per database URL."""

    def __init__(self, url: str) -> None:
        """Open the database at `url` and bring its schema up to date (blocking).

        Raises:
            DatabaseUnavailableError: the database cannot be reached or opened.
            memory.migrations.SchemaVersionError: it was made by a newer version.

        """
        self.url = sqlalchemy_url(url)
        self.engine: Engine = _engine(self.url)
        self.search_index = IndexCatchUp(self.engine)  # SQLite's, after a fetch
        try:
            self.schema_version = migrate(self.engine)
        except OperationalError as err:
            self.engine.dispose()
            reason = str(err.orig).strip().splitlines()[0] if err.orig else str(err)
            raise DatabaseUnavailableError(
                f"cannot open the app database {safe_url(self.url)}: {reason}"
            ) from None

    # -- mail ---------------------------------------------------------------

    def known_keys(self, source: str) -> set[str]:
        """Keys of every message of `source` already in the cache."""
        with Session(self.engine) as session:
            rows = session.exec(select(StoredEmail.key).where(StoredEmail.source == source))
            return set(rows.all())

    def known_ids(self, source: str) -> set[str]:
        """The parser ids (Message-IDs, or hashes of the bytes) of the messages of `source`."""
        with Session(self.engine) as session:
            rows = session.exec(select(StoredEmail.base_id).where(StoredEmail.source == source))
            return set(rows.all())

    def known_digests(self, source: str) -> dict[str, set[str]]:
        """The digests of the cached messages of `source`, by base id.

        What tells a message read a second time from a new message with the same Message-ID.
        A message cached before digests were kept has the digest ''.
        """
        found: dict[str, set[str]] = {}
        with Session(self.engine) as session:
            rows = session.exec(
                select(StoredEmail.base_id, StoredEmail.digest).where(StoredEmail.source == source)
            )
            for base_id, digest in rows.all():
                found.setdefault(base_id, set()).add(digest)
        return found

    def add_emails(self, emails: Iterable[Email]) -> list[Email]:
        """Insert or replace cached messages; returns them as stored, each with its unique id.

        A message's id is the id the parser gave it (its Message-ID) only when no other cached
        message, and no other message of this call, has that id or was given it: otherwise it
        is `<id>#<hash of source and key>` (`memory.email_ids`). Ids never change once given,
        so a copy that arrives later (a forged mail reusing a genuine Message-ID) can never take
        the id of the message cached first, whatever Date it claims; copies that arrive
        together (in one call: a Maildir fetch makes one per 1,000 messages) all get their
        own. A message stored again under its source and key keeps the id it has. Two writers
        racing for one id: the unique index refuses the second, which assigns again.
        """
        wanted = list(emails)
        for attempt in range(3):
            try:
                with Session(self.engine) as session:
                    if self.engine.dialect.name == "sqlite":  # the write lock first: ids race-free
                        session.connection().exec_driver_sql("DELETE FROM email WHERE 0")
                    stored = with_unique_ids(session, wanted)
                    fetched_at = datetime.now(UTC).isoformat(timespec="seconds")
                    rows = [email_row(email, base, fetched_at) for email, base in stored]
                    _write_rows(session, rows)
                    session.commit()
                return [email for email, _ in stored]
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def get_email(self, email_id: str) -> Email | None:
        """The cached message with this id, or None; ids are unique, so there is one at most."""
        with Session(self.engine) as session:
            row = session.exec(
                select(StoredEmail).where(StoredEmail.id == strip_id(email_id))
            ).first()
            return from_row(row) if row else None

    def emails_with_message_id(self, message_id: str) -> list[Email]:
        """Every cached message whose parser id (its Message-ID) is `message_id`.

        The one that has it as its id comes first (if any), then the copies, by when they were
        cached, then by source and key.
        """
        wanted = strip_id(message_id)
        with Session(self.engine) as session:
            rows = session.exec(select(StoredEmail).where(StoredEmail.base_id == wanted)).all()
        rows = sorted(rows, key=lambda r: (r.id != wanted, r.fetched_at, r.source, r.key))
        return [from_row(row) for row in rows]

    def emails_by_ids(self, email_ids: Sequence[str]) -> list[Email]:
        """Cached messages with these ids, in no particular order."""
        emails = (from_data(data, True) for data in stored_data(self.engine, email_ids))
        return list({email.id: email for email in emails}.values())

    def list_emails(
        self,
        *,
        source: str | None = None,
        query: str = "",
        sender: str = "",
        folder: str | None = None,
        limit: int = 20,
        today: date | None = None,
    ) -> list[Email]:
        """The messages matching a search, best first (newest first when nothing is ranked).

        `query` is in the search language of `memory.search_query` (words, "a phrase",
        `from:`, `after:`/`before:`, `folder:`, `label:`, `attachment:`); every word must match
        the subject, sender, an attachment's name or the body, and a word that names a standard
        folder ("draft", "sent") matches the mail in it too, so "draft Sofia" finds the user's
        draft to Sofia. `sender` is a `from:` term (the From name or address). Ranking is in
        `memory.search_rank`; `today` is the day recency counts from (today, UTC, if None).

        Raises:
            memory.search_query.SearchQueryError: the query cannot be read (the message says
                why); never an empty list in its place.

        """
        parsed = parse_query(query, sender=sender)
        found = search_stored(
            self.engine, parsed, source=source, folder=folder, limit=limit, today=today
        )
        return [Email.from_dict(json.loads(data)) for data in found]

    # -- cursors ------------------------------------------------------------

    def get_cursor(self, source: str) -> SyncCursor | None:
        """The stored cursor of a source, if it was ever fetched (no ORM session: every turn)."""
        with self.engine.connect() as conn:
            row = conn.execute(_CURSOR, {"source": source}).first()
        return None if row is None else SyncCursor(**row._mapping)

    def set_cursor(self, source: str, signature: str, message_count: int) -> None:
        """Remember where a fetch of `source` stopped."""
        with Session(self.engine) as session:
            _upsert(
                session,
                SyncCursor,
                [SyncCursor(source=source, signature=signature, message_count=message_count)],
            )
            session.commit()

    # -- triage -------------------------------------------------------------

    def triage_for(self, email_ids: Sequence[str]) -> dict[str, TriageRecord]:
        """Cached triage of the given ids (those triaged already)."""
        if not email_ids:
            return {}
        with Session(self.engine) as session:
            rows = session.exec(
                select(TriageRecord).where(col(TriageRecord.email_id).in_(list(email_ids)))
            ).all()
            return {row.email_id: row for row in rows}

    def forget_triage(self, email_ids: Sequence[str]) -> int:
        """Drop the cached triage of these messages, so the next run triages them again."""
        if not email_ids:
            return 0
        with Session(self.engine) as session:
            rows = session.exec(
                select(TriageRecord).where(col(TriageRecord.email_id).in_(list(email_ids)))
            ).all()
            for row in rows:
                session.delete(row)
            session.commit()
            return len(rows)

    def save_triage(self, records: Iterable[TriageRecord | _Row]) -> None:
        """Insert or replace triage results (records, or dicts of every column)."""
        with Session(self.engine) as session:
            _upsert(session, TriageRecord, list(records))
            session.commit()

    def untriaged_ids(self, source: str) -> list[str]:
        """Ids of cached messages of `source` with no triage yet."""
        with Session(self.engine) as session:
            triaged = select(TriageRecord.email_id)
            rows = session.exec(
                select(StoredEmail.id).where(
                    StoredEmail.source == source,
                    col(StoredEmail.id).not_in(triaged),
                    col(StoredEmail.folder).not_in(NOT_TRIAGED_FOLDERS),
                )
            )
            return list(dict.fromkeys(rows.all()))

    def triaged_emails(
        self,
        source: str,
        *,
        priority: str | None = None,
        category: str | None = None,
        limit: int | None = None,
        bodies: bool = True,
    ) -> list[tuple[Email, TriageRecord]]:
        """Messages of `source` with their triage, most important and newest first.

        Without `bodies` (a list of the whole inbox), as `memory.mail_rows.from_data` says.
        The triage rows come as plain records, not tracked by a session: half the memory.
        """
        columns = list(TriageRecord.__table__.columns)  # type: ignore[attr-defined]
        stmt = (
            select(StoredEmail.data, *columns)
            .join(TriageRecord, col(TriageRecord.email_id) == col(StoredEmail.id))
            .where(StoredEmail.source == source)
        )
        if priority:
            stmt = stmt.where(TriageRecord.priority == priority)
        if category:
            stmt = stmt.where(TriageRecord.category == category)
        with Session(self.engine) as session:
            found = session.exec(stmt.execution_options(yield_per=500))  # type: ignore[call-overload]
            names = [c.name for c in columns]
            pairs = [
                (
                    from_data(data, bodies),
                    TriageRecord.model_construct(**dict(zip(names, rest, strict=True))),
                )
                for data, *rest in found
            ]
        pairs.sort(key=lambda pair: pair[0].date, reverse=True)
        pairs.sort(
            key=lambda pair: (
                PRIORITY_ORDER.get(pair[1].priority, len(PRIORITY_ORDER)),
                CATEGORY_ORDER.get(pair[1].category, len(CATEGORY_ORDER)),
            )
        )
        return pairs[:limit] if limit else pairs


def _write_rows(session: Session, rows: list[_Row]) -> None:
    """Upsert cache rows; SQLite's index is left behind a large batch (`insert_behind`)."""
    if len(rows) < BULK_INDEX_FROM or session.get_bind().dialect.name != "sqlite":
        _upsert(session, StoredEmail, rows)
        return
    conn = session.connection()
    table: Any = StoredEmail.__table__  # type: ignore[attr-defined]
    upsert = partial(_upsert, session, StoredEmail)
    insert_behind(conn, lambda: insert_new_then_upsert(session, table, rows, upsert))


def stored_data(engine: Engine, email_ids: Sequence[str]) -> Iterator[str]:
    """The stored JSON of the cached messages with these ids, read 500 ids at a time.

    In no particular order; an id asked twice may come twice. Blocking.
    """
    ids = list(email_ids)
    with Session(engine) as session:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            yield from session.exec(select(StoredEmail.data).where(col(StoredEmail.id).in_(chunk)))


def _upsert(session: Session, model: type[SQLModel], rows: Sequence[SQLModel | _Row]) -> None:
    """Insert rows, or replace those whose primary key exists, in one statement.

    Unlike `session.merge` (read, then insert) this cannot fail when another process or thread
    inserts the same row in between; rows go in key order so two writers never deadlock.
    A row may be a dict of every column: no validated model object per cached message.
    """
    if not rows:
        return
    table: Any = model.__table__  # type: ignore[attr-defined]
    keys = [column.name for column in table.primary_key.columns]
    dumped = [row if isinstance(row, dict) else row.model_dump() for row in rows]
    key_of = itemgetter(*keys)  # a key of one column is that column's value: same order
    latest = {key_of(row): row for row in dumped}
    values = [latest[key] for key in sorted(latest)]
    session.execute(upsert_statement(table, session.get_bind().dialect.name, keys), values)


_databases: dict[str, AppDatabase] = {}
_lock = threading.Lock()


def open_database(url: str) -> AppDatabase:
    """The process-wide `AppDatabase` for `url` (schema brought up to date on first use)."""
    with _lock:
        if url not in _databases:
            _databases[url] = AppDatabase(url)
        return _databases[url]


def close_databases() -> None:
    """Close every database `open_database` opened in this process (at shutdown, in tests)."""
    with _lock:
        databases = list(_databases.values())
        _databases.clear()
    for database in databases:
        database.search_index.wait()
        database.engine.dispose()
