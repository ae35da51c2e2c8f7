"""The app database: mail cache, sync cursors and triage results, in SQLModel tables.

The audit log and the side-effect ledger share it (their tables are defined in `memory.audit`),
and so do the encrypted credentials (`memory.vault`). It is a SQLite file or a PostgreSQL
database (`memory.database_url`); its schema is made and upgraded by the numbered steps of
`memory.migrations` when it is opened.

Every method is synchronous; async nodes call them through `asyncio.to_thread` so the
event loop never blocks on the database.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Index, event, func, or_
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Field, Session, SQLModel, col, create_engine, select

from memory.database_url import safe_url, sqlalchemy_url
from memory.sqlite_wal import enable_wal
from tools.mail.model import DRAFTS, SENT, Email


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class StoredEmail(SQLModel, table=True):
    """One cached, normalised message; `data` holds the whole `Email` as JSON.

    `id` is unique across the cache (the `uq_email_id` index): a lookup by id finds one message.
    `base_id` is the id the parser gave it (its Message-ID, or a hash of its bytes), which two
    messages may share; see `AppDatabase.add_emails` for how such messages get their ids.
    """

    __tablename__ = "email"
    __table_args__ = (Index("uq_email_id", "id", unique=True),)

    source: str = Field(primary_key=True)
    key: str = Field(primary_key=True)
    id: str
    base_id: str = Field(default="", index=True, sa_column_kwargs={"server_default": ""})
    digest: str = Field(default="", sa_column_kwargs={"server_default": ""})
    folder: str = "INBOX"
    from_addr: str = ""
    from_name: str = ""
    subject: str = ""
    date: str = Field(default="", index=True)
    body: str = ""
    error: str = ""
    data: str = "{}"
    fetched_at: str = Field(default_factory=_now)


class SyncCursor(SQLModel, table=True):
    """Where the last fetch of a source stopped: lets an unchanged mailbox be skipped."""

    __tablename__ = "sync_cursor"

    source: str = Field(primary_key=True)
    signature: str = ""
    message_count: int = 0
    fetched_at: str = Field(default_factory=_now)


class TriageRecord(SQLModel, table=True):
    """The triage of one message, cached by message id."""

    __tablename__ = "triage"

    email_id: str = Field(primary_key=True)
    priority: str
    category: str
    action: str
    reason: str
    confidence: float = 1.0
    engine: str = "rules"
    created_at: str = Field(default_factory=_now)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for state and JSON output."""
        return {
            "email_id": self.email_id,
            "priority": self.priority,
            "category": self.category,
            "action": self.action,
            "reason": self.reason,
            "confidence": self.confidence,
            "engine": self.engine,
        }


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


class DatabaseUnavailableError(RuntimeError):
    """The app database cannot be reached or opened; the message names it, without a password."""


POSTGRES_POOL_SIZE = 10
POSTGRES_MAX_OVERFLOW = 10


def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # pre_ping: a connection the server dropped (a restart, an idle timeout) is replaced, not
    # handed to a request that would then fail.
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=POSTGRES_POOL_SIZE,
        max_overflow=POSTGRES_MAX_OVERFLOW,
    )


class AppDatabase:
    """Typed access to the app tables; one instance per database URL."""

    def __init__(self, url: str) -> None:
        """Open the database at `url` and bring its schema up to date (blocking).

        Raises:
            DatabaseUnavailableError: the database cannot be reached or opened.
            memory.migrations.SchemaVersionError: it was made by a newer version.

        """
        from memory.migrations import migrate

        self.url = sqlalchemy_url(url)
        self.engine: Engine = _engine(self.url)
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
        """The parser ids (Message-IDs, or hashes of the bytes) of the cached messages of `source`."""
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
        is `<id>#<hash of source and key>` (`disambiguated_id`). Ids never change once given,
        so a copy that arrives later (a forged mail reusing a genuine Message-ID) can never take
        the id of the message cached first, whatever Date it claims; copies that arrive
        together all get their own. A message stored again under its source and key keeps the
        id it has. Two writers racing for one id: the unique index refuses the second, which
        assigns again.
        """
        wanted = list(emails)
        for attempt in range(3):
            try:
                with Session(self.engine) as session:
                    stored = _with_unique_ids(session, wanted)
                    _upsert(session, StoredEmail, [_to_row(email, base) for email, base in stored])
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
                select(StoredEmail).where(StoredEmail.id == _strip_id(email_id))
            ).first()
            return _from_row(row) if row else None

    def emails_with_message_id(self, message_id: str) -> list[Email]:
        """Every cached message whose parser id (its Message-ID) is `message_id`.

        The one that has it as its id comes first (if any), then the copies, by when they were
        cached, then by source and key.
        """
        wanted = _strip_id(message_id)
        with Session(self.engine) as session:
            rows = session.exec(select(StoredEmail).where(StoredEmail.base_id == wanted)).all()
        rows = sorted(rows, key=lambda r: (r.id != wanted, r.fetched_at, r.source, r.key))
        return [_from_row(row) for row in rows]

    def emails_by_ids(self, email_ids: Sequence[str]) -> list[Email]:
        """Cached messages with these ids, in no particular order."""
        emails: list[Email] = []
        ids = list(email_ids)
        with Session(self.engine) as session:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                rows = session.exec(select(StoredEmail).where(col(StoredEmail.id).in_(chunk)))
                emails.extend(_from_row(row) for row in rows.all())
        return list({email.id: email for email in emails}.values())

    def list_emails(
        self,
        *,
        source: str | None = None,
        query: str = "",
        sender: str = "",
        folder: str | None = None,
        limit: int = 20,
    ) -> list[Email]:
        """Newest first; every word of `query` matches subject, sender, body or folder name.

        A word that names a folder ("draft", "drafts", "sent") matches the messages in it, so
        "draft Sofia" finds the user's draft to Sofia: drafts stay searchable, and show as the
        user's own (`Email.sender`). `sender` matches the From name or address.
        """
        stmt = select(StoredEmail)
        if source:
            stmt = stmt.where(StoredEmail.source == source)
        if folder:
            stmt = stmt.where(StoredEmail.folder == folder)
        for word in query.split():
            like = f"%{word}%"
            stmt = stmt.where(
                or_(
                    col(StoredEmail.subject).ilike(like),
                    col(StoredEmail.from_addr).ilike(like),
                    col(StoredEmail.from_name).ilike(like),
                    col(StoredEmail.body).ilike(like),
                    func.lower(StoredEmail.folder).in_(_folder_names(word)),
                )
            )
        if sender:
            like = f"%{sender}%"
            stmt = stmt.where(
                or_(col(StoredEmail.from_addr).ilike(like), col(StoredEmail.from_name).ilike(like))
            )
        stmt = stmt.order_by(col(StoredEmail.date).desc()).limit(limit)
        with Session(self.engine) as session:
            return [_from_row(row) for row in session.exec(stmt).all()]

    # -- cursors ------------------------------------------------------------

    def get_cursor(self, source: str) -> SyncCursor | None:
        """The stored cursor of a source, if it was ever fetched."""
        with Session(self.engine) as session:
            return session.get(SyncCursor, source)

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

    def save_triage(self, records: Iterable[TriageRecord]) -> None:
        """Insert or replace triage results."""
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
    ) -> list[tuple[Email, TriageRecord]]:
        """Messages of `source` with their triage, most important and newest first."""
        stmt = (
            select(StoredEmail, TriageRecord)
            .join(TriageRecord, col(TriageRecord.email_id) == col(StoredEmail.id))
            .where(StoredEmail.source == source)
        )
        if priority:
            stmt = stmt.where(TriageRecord.priority == priority)
        if category:
            stmt = stmt.where(TriageRecord.category == category)
        with Session(self.engine) as session:
            pairs = [(_from_row(row), triage) for row, triage in session.exec(stmt).all()]
        pairs.sort(key=lambda pair: pair[0].date, reverse=True)
        pairs.sort(
            key=lambda pair: (
                PRIORITY_ORDER.get(pair[1].priority, len(PRIORITY_ORDER)),
                CATEGORY_ORDER.get(pair[1].category, len(CATEGORY_ORDER)),
            )
        )
        return pairs[:limit] if limit else pairs


def _upsert(session: Session, model: type[SQLModel], rows: Sequence[SQLModel]) -> None:
    """Insert rows, or replace those whose primary key exists, in one statement.

    Unlike `session.merge` (read, then insert) this cannot fail when another process or thread
    inserts the same row in between; rows go in key order so two writers never deadlock.
    """
    if not rows:
        return
    table: Any = model.__table__  # type: ignore[attr-defined]
    keys = [column.name for column in table.primary_key.columns]
    latest = {tuple(getattr(row, k) for k in keys): row.model_dump() for row in rows}
    values = [latest[key] for key in sorted(latest)]
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    else:
        raise NotImplementedError(f"no upsert for {dialect}")
    statement = insert(table)
    changes = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
    session.execute(statement.on_conflict_do_update(index_elements=keys, set_=changes), values)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        enable_wal(cursor.execute)
    finally:
        cursor.close()


def _folder_names(word: str) -> list[str]:
    """The lower-cased folder names a search word stands for: itself and its plural."""
    word = word.lower()
    return [word, word + "s"]


def _strip_id(email_id: str) -> str:
    return email_id.strip().strip("<>").strip()


def disambiguated_id(base_id: str, source: str, key: str, *, long: bool = False) -> str:
    """The id of a message whose parser id another message had first: `<base id>#<hash>`.

    The hash is of the message's source and key, so the same copy always gets the same id.
    """
    digest = hashlib.sha256(f"{source}\n{key}".encode()).hexdigest()
    return f"{base_id}#{digest if long else digest[:12]}"


Place = tuple[str, str]
"""Where a message is cached: its (source, key)."""


def _with_unique_ids(session: Session, emails: list[Email]) -> list[tuple[Email, str]]:
    """Each message as it is stored (with its unique id), and its base id (see `add_emails`)."""
    latest = {(email.source, email.key): email for email in emails}
    existing = _stored_ids(session, list(latest))
    decided: dict[Place, tuple[str, str]] = {}
    fresh: dict[str, list[Place]] = {}
    for place, email in latest.items():
        old = existing.get(place)
        if old is not None and email.id in old:
            decided[place] = old  # stored again: it keeps the id it has
        else:
            fresh.setdefault(_strip_id(email.id), []).append(place)
    newcomers = {place for places in fresh.values() for place in places}
    taken = _ids_in_use(session, list(fresh), exclude=newcomers)
    for base_id, places in fresh.items():
        alone = len(places) == 1 and base_id not in taken
        for place in places:
            decided[place] = (base_id if alone else _free_id(session, base_id, place), base_id)
    return [
        (replace(email, id=decided[place][0]), decided[place][1]) for place, email in latest.items()
    ]


def _stored_ids(session: Session, places: list[Place]) -> dict[Place, tuple[str, str]]:
    """(id, base id) of the messages already cached at these places."""
    found: dict[Place, tuple[str, str]] = {}
    by_source: dict[str, list[str]] = {}
    for source, key in places:
        by_source.setdefault(source, []).append(key)
    for source, keys in by_source.items():
        for start in range(0, len(keys), 500):
            rows = session.exec(
                select(StoredEmail.key, StoredEmail.id, StoredEmail.base_id)
                .where(StoredEmail.source == source)
                .where(col(StoredEmail.key).in_(keys[start : start + 500]))
            ).all()
            found.update({(source, key): (row_id, base_id) for key, row_id, base_id in rows})
    return found


def _ids_in_use(session: Session, ids: list[str], *, exclude: set[Place]) -> set[str]:
    """Which of `ids` a cached message (not at one of `exclude`) has as its id or its base id."""
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = session.exec(
            select(StoredEmail.source, StoredEmail.key, StoredEmail.id, StoredEmail.base_id).where(
                or_(col(StoredEmail.id).in_(chunk), col(StoredEmail.base_id).in_(chunk))
            )
        ).all()
        wanted = set(chunk)
        for source, key, row_id, base_id in rows:
            if (source, key) not in exclude:
                found.update({row_id, base_id} & wanted)
    return found


def _free_id(session: Session, base_id: str, place: Place) -> str:
    """The disambiguated id of the copy at `place`; the long form if a Message-ID took the short."""
    short = disambiguated_id(base_id, *place)
    if _ids_in_use(session, [short], exclude={place}):
        return disambiguated_id(base_id, *place, long=True)
    return short


def _to_row(email: Email, base_id: str) -> StoredEmail:
    return StoredEmail(
        source=email.source,
        key=email.key,
        id=email.id,
        base_id=base_id,
        digest=email.digest,
        folder=email.folder,
        from_addr=email.from_addr,
        from_name=email.from_name,
        subject=email.subject,
        date=email.date,
        body=email.body,
        error=email.error,
        data=json.dumps(email.to_dict(), ensure_ascii=False),
    )


def _from_row(row: StoredEmail) -> Email:
    return Email.from_dict(json.loads(row.data))


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
        database.engine.dispose()
