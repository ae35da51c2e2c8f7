"""Versioned schema changes of the app database, run at start-up by every process that opens it.

The schema is a list of numbered steps (`STEPS`). The `schema_version` table records each step
applied; opening the database applies the steps it lacks, all in one transaction, under a lock
that makes two processes starting at once take turns (PostgreSQL: `pg_advisory_xact_lock`;
SQLite: `BEGIN IMMEDIATE`, the file's write lock). The second finds nothing left to do.
A database whose version is newer than this program's steps is refused, never downgraded.

Every step is idempotent: it checks what exists before it creates or adds anything. That is
what lets step 1 adopt databases made before versioning (tables from `create_all`, no version
table) without touching their rows, and lets a fresh database, created from today's models,
pass over later `add_column` steps whose columns it already has.

How to change the schema (one step per change, appended, never edited once released):

* **A new table**: define the SQLModel class (`table=True`) in a module of tables only (like
  `memory.mail_tables`, `memory.audit_tables`), so that this module imports no code that uses
  the database, and append

      Step(4, "snoozed messages", create_tables(SnoozedEmail)),

  `create_tables` creates the table and its indexes unless the table exists.
* **A new column**: add the field to the model, with a default (or `| None`), and append

      Step(5, "triage: model that decided", add_column(TriageRecord, "model")),

  `add_column` takes the type and default from the model and adds the column unless it is
  there; existing rows get the default. A NOT NULL column without a default is refused.
* **Anything else** (an index, a data fix): a function of a SQLAlchemy `Connection` that
  checks before it changes, e.g. `create_index(StoredEmail, "folder")`.

Two branches that each append a step conflict on the same line of `STEPS`: keep both, and
number them one after the other. Steps run inside a transaction: no `CREATE INDEX
CONCURRENTLY` or other statements PostgreSQL refuses there.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Index, event, func, inspect, literal, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel, create_engine

from memory.audit_tables import AuditRecord, LedgerEntry, OutgoingMessage
from memory.chat_owners import ChatOwner
from memory.chat_tables import ensure_chat_tables
from memory.credential_table import StoredCredential
from memory.email_ids import disambiguated_id
from memory.health_tables import HealthRecord
from memory.inbox_tables import InboxJournalEntry, SnoozedConversation
from memory.mail_tables import StoredEmail, SyncCursor, TriageRecord
from memory.mcp_tools import McpToolRecord
from memory.preference_table import TriagePreferenceRecord
from memory.search import (
    create_search_index,
    create_search_walk_indexes,
    index_search_behind_writes,
    index_search_folder_days,
    index_search_folders,
    keep_search_documents_inline,
    keep_search_pending_lists_short,
    key_search_index_by_date,
    split_search_index,
)
from memory.sqlite_wal import enable_wal

logger = logging.getLogger(__name__)

VERSION_TABLE = "schema_version"
MIGRATION_LOCK_KEY = 0x5E1A_2B0C_0000_0001
"""The PostgreSQL advisory lock taken around the app database's migrations (any 64-bit number
no other program on the same database uses)."""
SQLITE_LOCK_TIMEOUT_SECONDS = 60
"""How long a process waits for another one's migration of a SQLite file."""

Apply = Callable[[Connection], None]


class SchemaVersionError(RuntimeError):
    """The database cannot be used at its schema version (newer than this program)."""


@dataclass(frozen=True)
class Step:
    """One schema change: its number, what it does (recorded with it), how to apply it."""

    version: int
    description: str
    apply: Apply


def _table(model: type[SQLModel]) -> Any:
    return model.__table__  # type: ignore[attr-defined]


def create_tables(*models: type[SQLModel]) -> Apply:
    """A step that creates each model's table (and its indexes) unless it exists."""

    def apply(conn: Connection) -> None:
        for model in models:
            _table(model).create(conn, checkfirst=True)

    return apply


def add_column(model: type[SQLModel], name: str) -> Apply:
    """A step that adds the model's column `name` to its table unless it has it already."""
    table = _table(model)
    column = table.c[name]
    default = _server_default(column)
    if not column.nullable and default is None:
        raise ValueError(
            f"{table.name}.{name} is NOT NULL without a default: existing rows need a value; "
            "give the field a default or make it optional"
        )

    def apply(conn: Connection) -> None:
        present = {c["name"] for c in inspect(conn).get_columns(table.name)}
        if name in present:
            return
        quote = conn.dialect.identifier_preparer.quote
        sql = f"ALTER TABLE {quote(table.name)} ADD COLUMN {quote(name)} "
        sql += column.type.compile(dialect=conn.dialect)
        if default is not None:
            rendered = literal(default).compile(
                dialect=conn.dialect, compile_kwargs={"literal_binds": True}
            )
            sql += f" DEFAULT {rendered}"
        if not column.nullable:
            sql += " NOT NULL"
        conn.exec_driver_sql(sql)

    return apply


def create_index(model: type[SQLModel], *columns: str) -> Apply:
    """A step that indexes the model's table on `columns` unless that index exists."""
    table = _table(model)
    name = f"ix_{table.name}_{'_'.join(columns)}"

    def apply(conn: Connection) -> None:
        Index(name, *(table.c[c] for c in columns)).create(conn, checkfirst=True)

    return apply


def _server_default(column: Any) -> Any:
    if column.server_default is not None:
        return getattr(column.server_default, "arg", None)
    default = column.default
    if default is not None and getattr(default, "is_scalar", False):
        return default.arg
    return None


def _unique_email_ids(conn: Connection) -> None:
    """Give every cached message an id of its own, then let the database enforce it.

    Before this step two messages with one Message-ID shared an id, and a lookup returned
    either. The copy cached first (then by source and key) keeps the id; each other copy gets
    `<id>#<hash of source and key>`, and the triage of a shared id is dropped, so every copy
    is triaged again on its own content.
    """
    add_column(StoredEmail, "base_id")(conn)
    add_column(StoredEmail, "digest")(conn)
    table = _table(StoredEmail)
    conn.execute(table.update().where(table.c.base_id == "").values(base_id=table.c.id))
    shared = select(table.c.id).group_by(table.c.id).having(func.count() > 1).scalar_subquery()
    rows = conn.execute(
        select(table.c.source, table.c.key, table.c.id, table.c.data)
        .where(table.c.id.in_(shared))
        .order_by(table.c.id, table.c.fetched_at, table.c.source, table.c.key)
    ).all()
    previous = None
    for source, key, email_id, data in rows:
        if email_id != previous:
            previous = email_id  # the first copy keeps it
            continue
        new_id = disambiguated_id(email_id, source, key)
        values = json.loads(data)
        # What replies to it name, as before: the Message-ID its id was (none for a hash).
        values.setdefault("message_id", "" if email_id.startswith("sha256:") else email_id)
        values["id"] = new_id
        conn.execute(
            table.update()
            .where(table.c.source == source, table.c.key == key)
            .values(id=new_id, data=json.dumps(values, ensure_ascii=False))
        )
    triage = _table(TriageRecord)
    for email_id in sorted({row[2] for row in rows}):
        conn.execute(triage.delete().where(triage.c.email_id == email_id))
    # The model declares both indexes: a fresh database has them from step 1 already.
    for index in table.indexes:
        if index.name in ("uq_email_id", "ix_email_base_id"):
            index.create(conn, checkfirst=True)


_TRIAGE_DECISION = [add_column(TriageRecord, n) for n in ("decision", "suspicious", "unsure")]


def _triage_decision(conn: Connection) -> None:
    for apply in _TRIAGE_DECISION:
        apply(conn)


STEPS: tuple[Step, ...] = (
    Step(
        1,
        "mail cache, sync cursors, triage, audit log, side-effect ledger, MCP tool fingerprints",
        create_tables(
            StoredEmail, SyncCursor, TriageRecord, AuditRecord, LedgerEntry, McpToolRecord
        ),
    ),
    Step(2, "chat history (Chainlit's tables)", ensure_chat_tables),
    Step(3, "credential vault", create_tables(StoredCredential)),
    Step(4, "owners of the chat's graph threads", create_tables(ChatOwner)),
    Step(5, "mail cache: one message per id, copies of a Message-ID kept apart", _unique_email_ids),
    Step(
        6,
        "messages of side-effecting calls: Message-ID and progress",
        create_tables(OutgoingMessage),
    ),
    Step(7, "triage: the decision, the phishing warning, unsure", _triage_decision),
    Step(8, "the user's triage corrections", create_tables(TriagePreferenceRecord)),
    Step(
        9,
        "inbox actions: snoozed conversations, the undo journal",
        create_tables(SnoozedConversation, InboxJournalEntry),
    ),
    Step(10, "health check history", create_tables(HealthRecord)),
    Step(11, "full-text search index of the mail cache", create_search_index),
    Step(12, "search: indexes to read matches newest first", create_search_walk_indexes),
    Step(13, "search: the index read by ranges of days", key_search_index_by_date),
    Step(14, "search: the body indexed apart from the other parts", split_search_index),
    Step(15, "search: the folder of each message, as folder: compares it", index_search_folders),
    Step(16, "search: the folder and day of each message (PostgreSQL)", index_search_folder_days),
    Step(17, "search: each document kept in its row (PostgreSQL)", keep_search_documents_inline),
    Step(18, "search: short GIN pending lists (PostgreSQL)", keep_search_pending_lists_short),
    Step(19, "search: the index catches up with a large write", index_search_behind_writes),
)
"""The schema, oldest first; a step's number is its position (from 1)."""


def latest_version(steps: Sequence[Step] = STEPS) -> int:
    """The version a database has once every step ran."""
    return steps[-1].version if steps else 0


def _check(steps: Sequence[Step]) -> None:
    numbers = [step.version for step in steps]
    if numbers != list(range(1, len(steps) + 1)):
        raise ValueError(f"migration steps must be numbered 1, 2, 3, ... in order, not {numbers}")


def migrate(engine: Engine, steps: Sequence[Step] = STEPS) -> int:
    """Bring the database at `engine` up to the last step; returns the version it is at.

    Safe to run from several processes at once: they take turns, and each step runs once.

    Raises:
        SchemaVersionError: the database is at a version newer than `steps` know.

    """
    _check(steps)
    if engine.dialect.name == "sqlite":
        # A connection of its own whose transactions start with BEGIN IMMEDIATE: the write lock
        # is taken before the version is read, so two processes cannot both apply a step.
        locked = create_engine(
            engine.url,
            poolclass=NullPool,
            connect_args={"timeout": SQLITE_LOCK_TIMEOUT_SECONDS, "check_same_thread": False},
        )
        _immediate_transactions(locked)
        try:
            return _migrate(locked, steps)
        finally:
            locked.dispose()
    return _migrate(engine, steps)


def _immediate_transactions(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
        # The driver must not open transactions of its own; `begin` below opens them.
        dbapi_connection.isolation_level = None
        enable_wal(dbapi_connection.execute)

    @event.listens_for(engine, "begin")
    def _begin_immediate(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _migrate(engine: Engine, steps: Sequence[Step]) -> int:
    with engine.connect() as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        conn.exec_driver_sql(
            f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version INTEGER PRIMARY KEY, "
            "description TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        current = conn.execute(text(f"SELECT MAX(version) FROM {VERSION_TABLE}")).scalar() or 0
        latest = latest_version(steps)
        if current > latest:
            raise SchemaVersionError(
                f"the app database is at schema version {current}, newer than this program "
                f"knows (up to {latest}): upgrade smart-inbox before using it"
            )
        for step in steps[current:]:
            logger.info("app database: applying step %d, %s", step.version, step.description)
            try:
                step.apply(conn)
            except Exception as err:
                raise RuntimeError(
                    f"app database migration step {step.version} ({step.description}) failed: {err}"
                ) from err
            conn.execute(
                text(
                    f"INSERT INTO {VERSION_TABLE} (version, description, applied_at) "
                    "VALUES (:version, :description, :at)"
                ),
                {
                    "version": step.version,
                    "description": step.description,
                    "at": datetime.now(UTC).isoformat(timespec="seconds"),
                },
            )
        return max(current, latest)


def applied_versions(engine: Engine) -> list[int]:
    """The versions recorded in `schema_version`, in order (empty before the first migration)."""
    if not inspect(engine).has_table(VERSION_TABLE):
        return []
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT version FROM {VERSION_TABLE} ORDER BY version"))
        return [int(row[0]) for row in rows]
