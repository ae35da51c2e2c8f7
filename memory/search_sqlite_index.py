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
"""

from __future__ import annotations

from collections.abc import Callable

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


_REFUSE = f"SELECT RAISE(ABORT, '{TOO_HIGH}') WHERE new.rowid > {ROWID_MASK};"
TRIGGERS = {
    "insert": f"AFTER INSERT ON email BEGIN {_REFUSE} {_add('new')} END",
    "delete": f"AFTER DELETE ON email BEGIN {_remove('old')} END",
    "update": f"AFTER UPDATE ON email BEGIN {_REFUSE} {_remove('old')} {_add('new')} END",
}
DDL = (
    *(_table_ddl(name, columns) for name, columns, _ in TABLES),
    *(f"CREATE TRIGGER IF NOT EXISTS email_fts_{n} {body}" for n, body in TRIGGERS.items()),
)
"""The two tables and the three triggers that keep them in step; each statement is idempotent."""
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


def _check_rowids(conn: Connection) -> None:
    """Refuse rows whose rowid does not fit below a key's day (SQLite never numbers one so)."""
    highest = conn.exec_driver_sql("SELECT max(rowid) FROM email").scalar()
    if (highest or 0) > ROWID_MASK:
        raise RuntimeError(TOO_HIGH)


def rebuild_index(conn: Connection) -> None:
    """Index every cached message again, from nothing (for an index out of step)."""
    _check_rowids(conn)
    for statement in (*DELETE_ALL, *FILL):
        conn.exec_driver_sql(statement)


def _index_again(conn: Connection) -> None:
    """Drop the index of any earlier layout (one table or two) and its triggers; make it anew."""
    for name in TRIGGERS:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS email_fts_{name}")
    for table in ("email_fts", HEAD, BODY):
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


def insert_then_index(conn: Connection, insert: Callable[[], None]) -> None:
    """Run `insert` (rows added to `email`) with the insert trigger off, then index its rows.

    One statement per table indexes them all: a large write's fast path, giving the same
    index. The caller's transaction must already hold the write lock, so no other writer runs
    while the trigger is off; its drop and re-creation commit with the rows, or not at all.
    SQLite gives a new row a rowid above every existing one; a row `insert` replaces keeps its
    rowid and is indexed again by the update trigger, which stays on.
    """
    conn.exec_driver_sql("DROP TRIGGER IF EXISTS email_fts_insert")
    before = conn.exec_driver_sql("SELECT coalesce(max(rowid), 0) FROM email").scalar()
    insert()
    _check_rowids(conn)
    for statement in FILL:
        conn.exec_driver_sql(f"{statement} WHERE rowid > ?", (before,))
    conn.exec_driver_sql(f"CREATE TRIGGER IF NOT EXISTS email_fts_insert {TRIGGERS['insert']}")
