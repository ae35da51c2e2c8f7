"""Mail search on SQLite: an FTS5 index of the mail cache, kept in step by triggers.

`email_fts` is a contentless FTS5 table (it stores the index only, not a second copy of the
mail) keyed by the `email` table's rowid. Each message is indexed as four columns: subject,
sender (name and address), attachment names (read from the stored JSON) and the first
`BODY_CHARS` characters of the body. Triggers on `email` add, replace and remove a message's
entry in the same transaction as the write, giving FTS5 the old values it needs to remove one,
so the code that fetches mail does not know the index exists. Tokenizer: `unicode61
remove_diacritics 2` (lower-cased, accents removed, split at everything that is not a letter
or a digit), which PostgreSQL's side (`memory.search_postgres`) mirrors.

Not external content: FTS5 cannot read a view whose column calls `json_each` (the attachment
names), and a copy of every body would double the file. Rowids of `email` stay as they are
unless the file is `VACUUM`ed (the product never does); after one, `rebuild_index` indexes every
message again. Step 11 (`create_index`) fills the index from the messages already cached.

FTS5 removes a contentless entry by being told the values it indexed: the triggers compute
them from the old row with the same expressions as when it was added. A release that changes
`_EXPRESSIONS` must therefore come with a migration step that calls `rebuild_index`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from memory.search_query import SearchQuery, Term, column_filters, folder_names
from memory.search_rank import (
    BODY_CHARS,
    MAX_POINTS,
    PART_CHARS,
    PART_POINTS,
    RECENCY_DAYS,
    RELEVANCE_SHARE,
)

COLUMNS = tuple(name for name, _ in PART_POINTS)
_FIELD_COLUMNS = {"sender": "sender", "attachment": "attachments"}

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


def _values(row: str) -> str:
    return ", ".join(expression.format(r=row) for expression in _EXPRESSIONS)


_COLUMN_LIST = ", ".join(COLUMNS)
DDL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS email_fts USING fts5({_COLUMN_LIST}, content='', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS email_fts_insert AFTER INSERT ON email BEGIN "
    f"INSERT INTO email_fts(rowid, {_COLUMN_LIST}) VALUES (new.rowid, {_values('new')}); END",
    "CREATE TRIGGER IF NOT EXISTS email_fts_delete AFTER DELETE ON email BEGIN "
    f"INSERT INTO email_fts(email_fts, rowid, {_COLUMN_LIST}) "
    f"VALUES ('delete', old.rowid, {_values('old')}); END",
    "CREATE TRIGGER IF NOT EXISTS email_fts_update AFTER UPDATE ON email BEGIN "
    f"INSERT INTO email_fts(email_fts, rowid, {_COLUMN_LIST}) "
    f"VALUES ('delete', old.rowid, {_values('old')}); "
    f"INSERT INTO email_fts(rowid, {_COLUMN_LIST}) VALUES (new.rowid, {_values('new')}); END",
)
"""The index and the three triggers that keep it in step; each statement is idempotent."""
FILL = f"INSERT INTO email_fts(rowid, {_COLUMN_LIST}) SELECT rowid, {_values('email')} FROM email"
"""Index every cached message (after `DELETE_ALL`, to start over)."""
DELETE_ALL = "INSERT INTO email_fts(email_fts) VALUES ('delete-all')"

_RECENCY = (
    "CASE WHEN e.date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*' THEN "
    f"{float(RECENCY_DAYS)} / ({float(RECENCY_DAYS)} + max(0, :today - ("
    "CAST(substr(e.date, 1, 4) AS INTEGER) * 372 + CAST(substr(e.date, 6, 2) AS INTEGER) * 31 "
    "+ CAST(substr(e.date, 9, 2) AS INTEGER)))) ELSE 0.0 END"
)


def _found_in(column: int) -> str:
    """1 when a query phrase occurs in the `column`-th column: bm25 weighted on it alone."""
    weights = ", ".join("1.0" if n == column else "0.0" for n in range(len(COLUMNS)))
    return f"(bm25(email_fts, {weights}) < 0)"


_POINTS = " + ".join(f"{points} * {_found_in(n)}" for n, (_, points) in enumerate(PART_POINTS))


def create_index(conn: Connection) -> None:
    """Create the FTS5 index and its triggers, and index every cached message."""
    exists = conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'email_fts'"
    ).first()
    for statement in DDL:
        conn.exec_driver_sql(statement)
    if not exists:
        conn.exec_driver_sql(FILL)


def rebuild_index(conn: Connection) -> None:
    """Index every cached message again, from nothing (for an index out of step)."""
    conn.exec_driver_sql(DELETE_ALL)
    conn.exec_driver_sql(FILL)


def insert_then_index(conn: Connection, insert: Callable[[], None]) -> None:
    """Run `insert` (rows added to `email`) with the insert trigger off, then index its rows.

    One statement indexes them all: a large write's fast path, giving the same index. The
    caller's transaction must already hold the write lock, so no other writer runs while the
    trigger is off; its drop and re-creation commit with the rows, or not at all. SQLite gives
    a new row a rowid above every existing one; a row `insert` replaces keeps its rowid and is
    indexed again by the update trigger, which stays on.
    """
    conn.exec_driver_sql("DROP TRIGGER IF EXISTS email_fts_insert")
    before = conn.exec_driver_sql("SELECT coalesce(max(rowid), 0) FROM email").scalar()
    insert()
    conn.exec_driver_sql(f"{FILL} WHERE rowid > ?", (before,))
    conn.exec_driver_sql(DDL[1])


def match_text(term: Term) -> str:
    """The FTS5 query of one term: its text as one quoted string, so nothing in it is syntax.

    Inside FTS5's double quotes every character is text (a quote is written twice), and the
    tokenizer splits it into the phrase's words; `*` after the closing quote, added here and
    never taken from the user, makes the last word a prefix.
    """
    quoted = '"' + term.text.replace('"', '""') + '"'
    if not term.exact:
        quoted += " *"
    column = _FIELD_COLUMNS.get(term.field)
    return f"{column} : {quoted}" if column else quoted


def search(
    conn: Connection, query: SearchQuery, filters: dict[str, Any], limit: int, today: int
) -> list[str]:
    """The stored JSON of the matching messages, best first (see `memory.search_rank`)."""
    params: dict[str, Any] = {"limit": limit, "today": today}
    where = _filters(query, filters, params)
    ranked = [t for t in query.terms if not t.folder_word]
    if not ranked:
        sql = (
            f"SELECT e.data FROM email e WHERE {' AND '.join(where) or '1'} "
            "ORDER BY e.date DESC, e.id LIMIT :limit"
        )
        return [row[0] for row in conn.execute(text(sql), params)]
    params["match"] = " AND ".join(match_text(t) for t in ranked)
    sql = (
        f"WITH hits AS (SELECT rowid AS rid, {_POINTS} AS points FROM email_fts "
        "WHERE email_fts MATCH :match) "
        "SELECT data FROM (SELECT e.data AS data, e.date AS date, e.id AS id, "
        f"{RELEVANCE_SHARE} * h.points / {float(MAX_POINTS)} "
        f"+ {1 - RELEVANCE_SHARE} * {_RECENCY} AS score "
        "FROM hits h JOIN email e ON e.rowid = h.rid "
        f"WHERE {' AND '.join(where) or '1'}) "
        "ORDER BY score DESC, date DESC, id LIMIT :limit"
    )
    return [row[0] for row in conn.execute(text(sql), params)]


def _filters(query: SearchQuery, filters: dict[str, Any], params: dict[str, Any]) -> list[str]:
    """SQL conditions on `email e`; every value from the user goes in `params`."""
    where = column_filters(query, filters, params)
    for n, term in enumerate(t for t in query.terms if t.folder_word):
        where.append(
            f"(e.rowid IN (SELECT rowid FROM email_fts WHERE email_fts MATCH :word{n}) "
            f"OR lower(e.folder) IN (:word{n}a, :word{n}b))"
        )
        params[f"word{n}"] = match_text(term)
        params[f"word{n}a"], params[f"word{n}b"] = folder_names(term.text)
    return where
