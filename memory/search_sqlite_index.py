"""SQLite's search index: two FTS5 tables of the mail cache, kept in step by triggers.

The index is two contentless FTS5 tables (they store the index only, not a second copy of the
mail): `HEAD` holds a message's subject, sender (name and address) and attachment names (read
from the stored JSON), `BODY` the first `BODY_CHARS` characters of its body. Both are keyed by
date: a message's key is its day number shifted left `KEY_SHIFT` bits plus its rowid in
`email` (`key`), the same in both, so the matches of a window of days are a range of keys,
which FTS5 reads itself (its doclists are in key order). Triggers on `email` add, replace and
remove a message's entries in the same transaction as the write, giving FTS5 the old values it
needs to remove one, so the code that fetches mail does not know the index exists. Tokenizer:
`unicode61 remove_diacritics 2` (lower-cased, accents removed, split at everything that is not
a letter or a digit), which PostgreSQL's side (`memory.search_postgres`) mirrors. The searches
themselves are `memory.search_sqlite`'s.

Why two tables: FTS5 tells which column a phrase is in only by reading the positions of every
match in the range, so with the body in the same table each part's points cost a pass over the
body's positions too; apart, the subject's, sender's and attachments' are read from a small
table.

Not external content: FTS5 cannot read a view whose column calls `json_each` (the attachment
names), and a copy of every body would double the file. Rowids of `email` stay as they are
unless the file is `VACUUM`ed (the product never does); after one, `rebuild_index` indexes every
message again. Step 11 (`create_index`) fills the index from the messages already cached;
step 13 (`key_index_by_date`) gives an index of steps 11-12, keyed by rowid, its date keys;
step 14 (`split_index`) turns the one table of steps 11-13, `email_fts`, into the two.

FTS5 removes a contentless entry by being told the values it indexed: the triggers compute
them from the old row with the same expressions as when it was added. A release that changes
`_EXPRESSIONS` must therefore come with a migration step that calls `rebuild_index`.

The index may be behind the cache: `MARK` holds the rowid up to which every row is indexed,
and no row above it is (step 19, `index_behind_writes`). A large write leaves its rows above
the mark (`insert_behind`, the insert trigger held by the mark's `bulk`), and `catch_up`
indexes them later, `CATCH_UP_ROWS` at a time, each transaction moving the mark; the triggers
touch only rows at or below it, and a row inserted right above it is indexed at once and
moves it. A search catches the index up before it reads
(`memory.search_catch_up`), so a write the process never got to index (it ended, or crashed)
is still found; the write itself no longer waits for the index.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Connection

from memory.search_rank import BODY_CHARS, PART_CHARS, PART_POINTS

COLUMNS = tuple(name for name, _ in PART_POINTS)

_ATTACHMENTS = (
    "coalesce((SELECT group_concat(json_extract(a.value, '$.filename'), ' ') "
    "FROM json_each(CASE WHEN json_valid({r}.data) THEN {r}.data ELSE '{{}}' END, "
    "'$.attachments') AS a WHERE a.type = 'object'), '')"
)
_EXPRESSIONS = (
    f"substr(coalesce({{r}}.subject, ''), 1, {PART_CHARS})",
    "substr(coalesce({r}.from_name, '') || ' ' || coalesce({r}.from_addr, ''), 1, "
    f"{PART_CHARS})",
    f"substr({_ATTACHMENTS}, 1, {PART_CHARS})",
    f"substr(coalesce({{r}}.body, ''), 1, {BODY_CHARS})",
)
"""What each FTS5 column indexes, for the row `{r}` (the view, and the triggers' old/new)."""


DAY = (
    "CASE WHEN {r}date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*' THEN "
    "CAST(substr({r}date, 1, 4) AS INTEGER) * 372 + CAST(substr({r}date, 6, 2) AS INTEGER) * 31 "
    "+ CAST(substr({r}date, 9, 2) AS INTEGER) END"
)
"""The `day_number` of a message's date (NULL without one), for the row prefix `{r}`: the
expression of the `ix_email_search_day` index, which a query must repeat character for
character to be served by it."""
KEY_SHIFT = 32
"""An index key is the message's day shifted left this far, plus its rowid in `email` (which
stays below 2 ** 32: SQLite numbers rows from 1 up, one above the largest)."""
ROWID_MASK = (1 << KEY_SHIFT) - 1
LAST_KEY = (1 << 63) - 1
TOO_HIGH = "email rowid above 2**32: the search index cannot key it"
"""The error of a row written with a rowid too high for its key (it would share another's)."""


def key(row: str) -> str:
    """The FTS5 key of the row `row` of `email`: in date order, undated rows (day 0) first."""
    return f"((coalesce({DAY.format(r=row + '.')}, 0) << {KEY_SHIFT}) | {row}.rowid)"


def day_keys(since: int | None, before: int | None) -> tuple[int, int]:
    """The first and last key of days `since` <= day < `before` (None: no bound that side)."""
    first = 0 if since is None else since << KEY_SHIFT
    last = LAST_KEY if before is None else (before << KEY_SHIFT) - 1
    return first, last


HEAD = "email_fts_head"
"""The small FTS5 table: subject, sender and attachment names."""
BODY = "email_fts_body"
"""The FTS5 table of the body alone."""
HEAD_COLUMNS = COLUMNS[:-1]
TABLES = ((HEAD, HEAD_COLUMNS, _EXPRESSIONS[:-1]), (BODY, COLUMNS[-1:], _EXPRESSIONS[-1:]))
"""Each FTS5 table, its columns and what they index; a part is a column of one table only."""


def _table_ddl(name: str, columns: tuple[str, ...]) -> str:
    return (
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {name} USING fts5({', '.join(columns)}, "
        "content='', tokenize='unicode61 remove_diacritics 2')"
    )


def _add(row: str) -> str:
    """The statements that index the row `row` of `email` in both tables."""
    return " ".join(
        f"INSERT INTO {name}(rowid, {', '.join(columns)}) VALUES ({key(row)}, "
        f"{', '.join(e.format(r=row) for e in expressions)});"
        for name, columns, expressions in TABLES
    )


def _remove(row: str) -> str:
    """The statements that remove the row `row`'s entries, told the values they indexed."""
    return " ".join(
        f"INSERT INTO {name}({name}, rowid, {', '.join(columns)}) VALUES ('delete', "
        f"{key(row)}, {', '.join(e.format(r=row) for e in expressions)});"
        for name, columns, expressions in TABLES
    )


_TOO_HIGH = f"new.rowid > {ROWID_MASK}"
MARK = "email_fts_mark"
"""One row, `upto`: every row of `email` with a rowid up to it is indexed, none above it;
`bulk`: 1 while a large write adds rows for a catch-up (`insert_behind`)."""
_UPTO = f"(SELECT upto FROM {MARK})"
_BULK = f"(SELECT bulk FROM {MARK})"
_REFUSE = f"SELECT RAISE(ABORT, '{TOO_HIGH}') WHERE {_TOO_HIGH};"
MOVED = "email rowid changed: the search index cannot follow it"
_UNMOVED = f"SELECT RAISE(ABORT, '{MOVED}') WHERE new.rowid != old.rowid;"
TRIGGERS = {
    "insert": f"AFTER INSERT ON email WHEN new.rowid <= {_UPTO} + 1 AND NOT {_BULK} OR {_TOO_HIGH} "
    "BEGIN "
    f"{_REFUSE} {_add('new')} UPDATE {MARK} SET upto = new.rowid WHERE upto < new.rowid; END",
    "delete": f"AFTER DELETE ON email WHEN old.rowid <= {_UPTO} BEGIN {_remove('old')} END",
    "update": f"AFTER UPDATE ON email WHEN old.rowid <= {_UPTO} OR {_TOO_HIGH} "
    f"OR new.rowid != old.rowid BEGIN {_REFUSE} {_UNMOVED} {_remove('old')} {_add('new')} END",
}
"""Each trigger touches only rows at or below the mark, and refuses a rowid it cannot key or
a row moved to another rowid (an indexed row moved above the mark would be indexed twice)."""
DDL = (
    *(_table_ddl(name, columns) for name, columns, _ in TABLES),
    f"CREATE TABLE IF NOT EXISTS {MARK} (upto INTEGER NOT NULL, bulk INTEGER NOT NULL DEFAULT 0)",
    *(f"CREATE TRIGGER IF NOT EXISTS email_fts_{n} {body}" for n, body in TRIGGERS.items()),
)
"""The two tables, the mark and the three triggers that keep them in step; each idempotent."""
_MARK_ALL = f"INSERT INTO {MARK}(upto) SELECT coalesce(max(rowid), 0) FROM email"
FILL = tuple(
    f"INSERT INTO {name}(rowid, {', '.join(columns)}) SELECT {key('email')}, "
    f"{', '.join(e.format(r='email') for e in expressions)} FROM email"
    for name, columns, expressions in TABLES
)
"""Index every cached message (after `DELETE_ALL`, to start over)."""
DELETE_ALL = tuple(f"INSERT INTO {name}({name}) VALUES ('delete-all')" for name, _, _ in TABLES)


def create_index(conn: Connection) -> None:
    """Create the two FTS5 tables and their triggers, and index every cached message."""
    exists = conn.exec_driver_sql(
        f"SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '{HEAD}'"
    ).first()
    for statement in DDL:
        conn.exec_driver_sql(statement)
    if not exists:
        _check_rowids(conn)
        for statement in FILL:
            conn.exec_driver_sql(statement)
        conn.exec_driver_sql(f"DELETE FROM {MARK}")
    if conn.exec_driver_sql(f"SELECT 1 FROM {MARK}").first() is None:
        conn.exec_driver_sql(_MARK_ALL)  # indexed by FILL, or by triggers without a mark


def _check_rowids(conn: Connection) -> None:
    """Refuse rows whose rowid does not fit below a key's day (SQLite never numbers one so)."""
    highest = conn.exec_driver_sql("SELECT max(rowid) FROM email").scalar()
    if (highest or 0) > ROWID_MASK:
        raise RuntimeError(TOO_HIGH)


def rebuild_index(conn: Connection) -> None:
    """Index every cached message again, from nothing (for an index out of step)."""
    _check_rowids(conn)
    for statement in (*DELETE_ALL, *FILL, f"DELETE FROM {MARK}", _MARK_ALL):
        conn.exec_driver_sql(statement)


def _index_again(conn: Connection) -> None:
    """Drop the index of any earlier layout (one table or two) and its triggers; make it anew."""
    for name in TRIGGERS:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS email_fts_{name}")
    for table in ("email_fts", HEAD, BODY, MARK):
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
    create_index(conn)


def key_index_by_date(conn: Connection) -> None:
    """Migration step 13: give an index keyed by `email.rowid` (steps 11-12) the keys of `key`.

    A contentless entry can only be removed under its key, so the triggers and every entry are
    made again (in this release's layout, `split_index`'s). Nothing to do when the insert
    trigger already writes date keys (a database created by a release with step 13).
    """
    trigger = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'email_fts_insert'"
    ).scalar()
    if trigger is not None and f"<< {KEY_SHIFT}" in trigger:
        return
    _index_again(conn)


def split_index(conn: Connection) -> None:
    """Migration step 14: the one table of steps 11-13 (`email_fts`) becomes `HEAD` and `BODY`.

    Its triggers and the table are dropped and every cached message is indexed again in the
    two. Nothing to do when `email_fts` is gone (a database created by this release, or
    converted already), except what `create_index` adds if missing.
    """
    old = conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'email_fts'"
    ).first()
    if old:
        _index_again(conn)
    else:
        create_index(conn)


def connect_search_tables(dbapi_connection: Any, _record: Any = None) -> None:
    """SQLAlchemy's `connect` listener: open FTS5's two tables on a new connection, at once.

    FTS5 reads its settings when a connection first uses one of its tables. Left to the first
    write to `email` (whose triggers use both), that read starts inside the write, before its
    lock; when another connection holds the lock (a catch-up, another process's fetch), SQLite
    then refuses the write at once ("database is locked") instead of waiting its busy timeout.
    Read here, outside any transaction, it never is. A file whose tables are not made yet (its
    migrations run next, on a connection of their own) has nothing to open.
    """
    cursor = dbapi_connection.cursor()
    try:
        for table in (HEAD, BODY):
            with contextlib.suppress(sqlite3.OperationalError):
                cursor.execute(f"SELECT rowid FROM {table} WHERE 0").fetchall()
    finally:
        cursor.close()


def index_behind_writes(conn: Connection) -> None:
    """Migration step 19: the index may be behind the cache, up to `MARK`.

    The triggers of steps 11-18 index every write as it happens, so every cached row is
    indexed: the mark starts at the highest rowid, and the triggers become the ones that
    respect it. Nothing to do when the insert trigger already reads the mark.
    """
    trigger = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'email_fts_insert'"
    ).scalar()
    if trigger is None or MARK not in trigger:
        for name in TRIGGERS:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS email_fts_{name}")
    create_index(conn)


def insert_behind(conn: Connection, insert: Callable[[], None]) -> None:
    """Run `insert` (rows added to `email`) with the insert trigger held; `catch_up` indexes them.

    The mark's `bulk` is set for the insert and cleared after it, in the caller's transaction,
    so it commits as 0 or not at all; no other writer runs meanwhile (the transaction holds the
    write lock). Not a dropped trigger: a change of the schema makes every other connection
    read it again before its next statement, and one that then wants to write is refused at
    once ("database is locked") instead of waiting for the lock. SQLite gives a new row a rowid
    above every existing one, so above the mark; a row `insert` replaces keeps its rowid and,
    at or below the mark, is indexed again by the update trigger.
    """
    conn.exec_driver_sql(f"UPDATE {MARK} SET bulk = 1")
    insert()
    _check_rowids(conn)
    conn.exec_driver_sql(f"UPDATE {MARK} SET bulk = 0")


_BEHIND = f"SELECT {_UPTO}, (SELECT coalesce(max(rowid), 0) FROM email)"


def behind(conn: Connection) -> bool:
    """Whether some cached rows are not indexed yet (a read: no lock taken)."""
    upto, highest = conn.exec_driver_sql(_BEHIND).one()
    return bool(upto is None or upto < highest)


CATCH_UP_ROWS = 5_000
"""Rows one catch-up indexes in one transaction: the lock is held a fraction of a second, and
FTS5's memory and the log of one transaction stay small however large the fetch was."""


def catch_up(conn: Connection, rows: int = CATCH_UP_ROWS) -> int:
    """Index up to `rows` rows above the mark and move it past them; returns how many.

    Takes the write lock before reading the mark, so two catch-ups (threads or processes)
    never index a row twice: the second finds those rows done. 0 when nothing is behind.
    """
    conn.exec_driver_sql(f"UPDATE {MARK} SET upto = upto WHERE 0")
    upto, highest = conn.exec_driver_sql(_BEHIND).one()
    if upto is None:  # the mark's row removed by hand: start over from the cache
        rebuild_index(conn)
        return int(highest)
    if upto >= highest:
        return 0
    _check_rowids(conn)
    chunk = conn.exec_driver_sql(
        "SELECT count(*), max(rowid) FROM (SELECT rowid FROM email WHERE rowid > ? "
        "ORDER BY rowid LIMIT ?)",
        (upto, max(1, rows)),
    ).one()
    indexed, last = int(chunk[0]), int(chunk[1])
    for statement in FILL:
        conn.exec_driver_sql(f"{statement} WHERE rowid > ? AND rowid <= ?", (upto, last))
    conn.exec_driver_sql(f"UPDATE {MARK} SET upto = ?", (last,))
    return indexed
