"""Mail search on SQLite: an FTS5 index of the mail cache, kept in step by triggers.

`email_fts` is a contentless FTS5 table (it stores the index only, not a second copy of the
mail) keyed by date: a message's key is its day number shifted left `KEY_SHIFT` bits plus its
rowid in `email` (`key`), so the matches of a window of days are a range of keys, which FTS5
reads itself (its doclists are in key order). Each message is indexed as four columns: subject,
sender (name and address), attachment names (read from the stored JSON) and the first
`BODY_CHARS` characters of the body. Triggers on `email` add, replace and remove a message's
entry in the same transaction as the write, giving FTS5 the old values it needs to remove one,
so the code that fetches mail does not know the index exists. Tokenizer: `unicode61
remove_diacritics 2` (lower-cased, accents removed, split at everything that is not a letter
or a digit), which PostgreSQL's side (`memory.search_postgres`) mirrors.

Not external content: FTS5 cannot read a view whose column calls `json_each` (the attachment
names), and a copy of every body would double the file. Rowids of `email` stay as they are
unless the file is `VACUUM`ed (the product never does); after one, `rebuild_index` indexes every
message again. Step 11 (`create_index`) fills the index from the messages already cached;
step 12 adds `INDEXES`, which a search's newest-first walk (`memory.search_walk`) reads by;
step 13 (`key_index_by_date`) gives an index of steps 11-12, keyed by rowid, its date keys.

A read of the walk finds its matches with one FTS5 query over the window's range of keys, and
the points with one query per column (`_found_in`) over the same range, each tested against
those matches. A query with a prefix would cost FTS5 a merge of every word the prefix begins,
over all days, before it reads the range (and for each key asked for on its own, so nothing
here asks key by key); so a search first spells each prefix out as the indexed words it begins
(`memory.search_prefixes`), which FTS5 reads within the range only. A read of older days that
only matches found in some parts can win asks FTS5 for the matches found in the rarest part of
each such set (`search_walk.rarest_parts`), one column filter per phrase, not for the exact
sets: each column FTS5 is asked about costs a pass over the phrase's matches in the range.

FTS5 removes a contentless entry by being told the values it indexed: the triggers compute
them from the old row with the same expressions as when it was added. A release that changes
`_EXPRESSIONS` must therefore come with a migration step that calls `rebuild_index`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from memory.search_days import DaySql
from memory.search_prefixes import quoted, spelled_out
from memory.search_query import SearchQuery, Term, column_filters, folder_names
from memory.search_rank import (
    BODY_CHARS,
    MAX_POINTS,
    PART_CHARS,
    PART_POINTS,
    RECENCY_DAYS,
    RELEVANCE_SHARE,
    day_number,
)
from memory.search_walk import FIRST_WINDOW, Hit, Window, best_matches, rarest_parts

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


def _values(row: str) -> str:
    return ", ".join(expression.format(r=row) for expression in _EXPRESSIONS)


_COLUMN_LIST = ", ".join(COLUMNS)
DDL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS email_fts USING fts5({_COLUMN_LIST}, content='', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS email_fts_insert AFTER INSERT ON email BEGIN "
    f"SELECT RAISE(ABORT, '{TOO_HIGH}') WHERE new.rowid > {ROWID_MASK}; "
    f"INSERT INTO email_fts(rowid, {_COLUMN_LIST}) VALUES ({key('new')}, {_values('new')}); END",
    "CREATE TRIGGER IF NOT EXISTS email_fts_delete AFTER DELETE ON email BEGIN "
    f"INSERT INTO email_fts(email_fts, rowid, {_COLUMN_LIST}) "
    f"VALUES ('delete', {key('old')}, {_values('old')}); END",
    "CREATE TRIGGER IF NOT EXISTS email_fts_update AFTER UPDATE ON email BEGIN "
    f"SELECT RAISE(ABORT, '{TOO_HIGH}') WHERE new.rowid > {ROWID_MASK}; "
    f"INSERT INTO email_fts(email_fts, rowid, {_COLUMN_LIST}) "
    f"VALUES ('delete', {key('old')}, {_values('old')}); "
    f"INSERT INTO email_fts(rowid, {_COLUMN_LIST}) VALUES ({key('new')}, {_values('new')}); END",
)
"""The index and the three triggers that keep it in step; each statement is idempotent."""
FILL = (
    f"INSERT INTO email_fts(rowid, {_COLUMN_LIST}) SELECT {key('email')}, {_values('email')} "
    "FROM email"
)
"""Index every cached message (after `DELETE_ALL`, to start over)."""
DELETE_ALL = "INSERT INTO email_fts(email_fts) VALUES ('delete-all')"

_DAY = DAY.format(r="e.")
ODD = (
    "({r}date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*' "
    "AND (substr({r}date, 6, 2) NOT BETWEEN '01' AND '12' "
    "OR substr({r}date, 9, 2) NOT BETWEEN '01' AND '31'))"
)
"""A date whose month or day does not exist (see `memory.search_walk.Window.odd`)."""
_DAYS = DaySql(_DAY, ODD.format(r="e."), "email e INDEXED BY ix_email_search_day")
INDEXES = (
    f"CREATE INDEX IF NOT EXISTS ix_email_search_day ON email ({DAY.format(r='')})",
    f"CREATE INDEX IF NOT EXISTS ix_email_search_odd ON email (date) WHERE {ODD.format(r='')}",
)
"""The date's day, and the few messages of a date that does not exist."""
_RECENCY = (
    f"coalesce({float(RECENCY_DAYS)} / ({float(RECENCY_DAYS)} + max(0, :today - {_DAY})), 0.0)"
)


def create_index(conn: Connection) -> None:
    """Create the FTS5 index and its triggers, and index every cached message."""
    exists = conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'email_fts'"
    ).first()
    for statement in DDL:
        conn.exec_driver_sql(statement)
    if not exists:
        _check_rowids(conn)
        conn.exec_driver_sql(FILL)


def _check_rowids(conn: Connection) -> None:
    """Refuse rows whose rowid does not fit below a key's day (SQLite never numbers one so)."""
    highest = conn.exec_driver_sql("SELECT max(rowid) FROM email").scalar()
    if (highest or 0) > ROWID_MASK:
        raise RuntimeError(TOO_HIGH)


def rebuild_index(conn: Connection) -> None:
    """Index every cached message again, from nothing (for an index out of step)."""
    _check_rowids(conn)
    conn.exec_driver_sql(DELETE_ALL)
    conn.exec_driver_sql(FILL)


def key_index_by_date(conn: Connection) -> None:
    """Migration step 13: give an index keyed by `email.rowid` (steps 11-12) the keys of `key`.

    A contentless entry can only be removed under its key, so the triggers and every entry are
    made again. Nothing to do when the insert trigger already writes date keys (a database
    created by this release's step 11).
    """
    trigger = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'email_fts_insert'"
    ).scalar()
    if trigger is not None and f"<< {KEY_SHIFT}" in trigger:
        return
    for name in ("insert", "delete", "update"):
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS email_fts_{name}")
    conn.exec_driver_sql("DROP TABLE IF EXISTS email_fts")
    create_index(conn)


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
    _check_rowids(conn)
    conn.exec_driver_sql(f"{FILL} WHERE rowid > ?", (before,))
    conn.exec_driver_sql(DDL[1])


def match_text(term: Term, spelled: Mapping[Term, str]) -> str:
    """The FTS5 query of one term: its text as one quoted string, so nothing in it is syntax.

    Inside FTS5's double quotes every character is text (a quote is written twice), and the
    tokenizer splits it into the phrase's words; `*` after the closing quote, added here and
    never taken from the user, makes the last word a prefix. `spelled` holds the terms whose
    prefix is asked as the words it begins instead (`memory.search_prefixes`).
    """
    column = _FIELD_COLUMNS.get(term.field)
    phrase = _phrase(term, spelled)
    return f"{column} : {phrase}" if column else phrase


def _phrase(term: Term, spelled: Mapping[Term, str]) -> str:
    if term in spelled:
        return spelled[term]
    return quoted(term.text) if term.exact else quoted(term.text) + " *"


def _all_found_in(
    ranked: list[Term], parts: tuple[str, ...], spelled: Mapping[Term, str]
) -> str | None:
    """The FTS5 query of the messages with a query phrase in each of `parts` (None: none can)."""
    found = [_found_in(ranked, (part,), spelled) for part in parts]
    if not all(found):
        return None
    return "(" + " AND ".join(f"({one})" for one in found) + ")"


def _found_in(
    ranked: list[Term], parts: tuple[str, ...], spelled: Mapping[Term, str]
) -> str | None:
    """The FTS5 query of the messages where a query phrase occurs in one of `parts`.

    A `from:` or `attachment:` term counts in its own part only. None: no phrase can.
    """
    found = []
    for term in ranked:
        allowed = [part for part in parts if _FIELD_COLUMNS.get(term.field, part) == part]
        if allowed:
            found.append(f"{{{' '.join(allowed)}}} : {_phrase(term, spelled)}")
    return " OR ".join(found) or None


def search(
    conn: Connection,
    query: SearchQuery,
    filters: dict[str, Any],
    limit: int,
    today: int,
    first_window: int = FIRST_WINDOW,
) -> list[str]:
    """The stored JSON of the matching messages, best first (see `memory.search_rank`)."""
    params: dict[str, Any] = {"limit": limit, "today": today}
    params["key_first"], params["key_last"] = day_keys(None, None)
    spelled = spelled_out(conn, query.terms)
    where = _filters(query, filters, params, spelled)
    ranked = [t for t in query.terms if not t.folder_word]
    if not ranked:
        sql = (
            f"SELECT e.data FROM email e WHERE {' AND '.join(where) or '1'} "
            "ORDER BY e.date DESC, e.id LIMIT :limit"
        )
        return [row[0] for row in conn.execute(text(sql), params)]
    params["match"] = " AND ".join(match_text(t, spelled) for t in ranked)
    for n, (part, _) in enumerate(PART_POINTS):
        params[f"part{n}"] = _found_in(ranked, (part,), spelled)
    top = day_number(query.before) if query.before else None

    def read(window: Window) -> list[Hit]:
        return _read(conn, ranked, spelled, where, {**params, **_key_range(window)}, window)

    def day_at(before: int | None, count: int) -> int | None:
        return _DAYS.day_at(conn, query, filters, before, count)

    narrowed = bool(query.folders or filters.get("folder"))
    # A read of a wide range costs FTS5 a pass over the matches of each part it names, and a
    # prefix left to FTS5 (`search_prefixes.MAX_WORDS`) its merge whatever the days: wider
    # windows only until the list is full, then the rest at once.
    found = best_matches(
        read, day_at, limit, today, first_window, top, narrowed=narrowed, rest_once_full=True
    )
    return [hit.data for hit in found]


def _key_range(window: Window) -> dict[str, int]:
    """The first and last index key a window reads (every key for the odd window).

    Not narrowed by the query's `after:`/`before:`: those compare the date's text, which for a
    date that does not exist or cannot be read does not sort as its key does.
    """
    first, last = day_keys(None, None) if window.odd else day_keys(window.since, window.before)
    return {"key_first": first, "key_last": last}


_IN_RANGE = "rowid BETWEEN :key_first AND :key_last"


def _read(
    conn: Connection,
    ranked: list[Term],
    spelled: Mapping[Term, str],
    where: list[str],
    params: dict[str, Any],
    window: Window,
) -> list[Hit]:
    """The best `limit` matches of a window (see `memory.search_walk`).

    FTS5 reads a key range itself, skipping the older and newer matches; the odd window's few
    messages are tested against the matches instead (the `+` keeps FTS5 from being asked for
    each key, which costs a whole query each for a prefix).
    """
    if window.odd and not _DAYS.any_odd(conn):
        return []
    match = ":match"
    if window.needs is not None:
        sets = tuple(p for p in window.needs if _all_found_in(ranked, p, spelled))
        head = _found_in(ranked, rarest_parts(sets), spelled) if sets else None
        if head is None:
            return []
        params["head"] = f"({params['match']}) AND ({head})"
        match = ":head"
    odd = (
        f"AND +rowid IN (SELECT {key('e')} FROM email e INDEXED BY ix_email_search_odd "
        f"WHERE {_DAYS.odd})"
        if window.odd
        else ""
    )
    points = " + ".join(
        f"{value} * (h.rid IN (SELECT rowid FROM email_fts WHERE email_fts MATCH :part{n} "
        f"AND {_IN_RANGE} AND +rowid IN (SELECT rid FROM hits)))"
        for n, (_, value) in enumerate(PART_POINTS)
        if params[f"part{n}"] is not None
    )
    sql = (
        "WITH hits AS MATERIALIZED (SELECT rowid AS rid FROM email_fts "
        f"WHERE email_fts MATCH {match} AND {_IN_RANGE} {odd}) "
        "SELECT score, date, id, data FROM (SELECT e.data AS data, e.date AS date, e.id AS id, "
        f"{RELEVANCE_SHARE} * ({points or '0'}) / {float(MAX_POINTS)} "
        f"+ {1 - RELEVANCE_SHARE} * {_RECENCY} AS score "
        f"FROM hits h JOIN email e ON e.rowid = h.rid & {ROWID_MASK} "
        f"WHERE {' AND '.join(where) or '1'}) "
        "ORDER BY score DESC, date DESC, id LIMIT :limit"
    )
    return [Hit(*row) for row in conn.execute(text(sql), params)]


def _filters(
    query: SearchQuery,
    filters: dict[str, Any],
    params: dict[str, Any],
    spelled: Mapping[Term, str],
) -> list[str]:
    """SQL conditions on `email e`; every value from the user goes in `params`."""
    where = column_filters(query, filters, params)
    for n, term in enumerate(t for t in query.terms if t.folder_word):
        where.append(
            f"(e.rowid IN (SELECT rowid & {ROWID_MASK} FROM email_fts "
            f"WHERE email_fts MATCH :word{n} AND {_IN_RANGE}) "
            f"OR lower(e.folder) IN (:word{n}a, :word{n}b))"
        )
        params[f"word{n}"] = match_text(term, spelled)
        params[f"word{n}a"], params[f"word{n}b"] = folder_names(term.text)
    return where
