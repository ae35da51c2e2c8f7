"""Mail search on SQLite: the query language read from FTS5's index of the mail cache.

The index, its two tables and the triggers that keep them are `memory.search_sqlite_index`'s:
`HEAD` (subject, sender, attachment names) and `BODY`, keyed by date so a window of days is a
range of keys. A message matches when each term is found in one table or the other (a phrase
never spans two parts): per term the union of both tables' matches, intersected over the
terms; `from:` and `attachment:` terms look in their column of `HEAD`. The points of the
subject, the sender and the attachments are column filters on `HEAD`, the body's a plain match
of `BODY`.

A read of the walk finds its matches with FTS5 queries over the window's range of keys, and
the points with one query per part (`_found_in`) over the range of those matches, each tested
against them. A query with a prefix would cost FTS5 a merge of every word the prefix begins,
over all days, before it reads the range (and for each key asked for on its own, so nothing
here asks key by key); so a search first spells each prefix out as the indexed words it begins
(`memory.search_prefixes`), which FTS5 reads within the range only. A read of older days that
only matches found in some parts can win first asks for the candidates, the matches found in
the rarest part of each such set (`search_walk.rarest_parts`), not for the exact sets; the
terms and the points are then read between the first and the last candidate's key only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from memory.search_days import DaySql
from memory.search_prefixes import quoted, spelled_out
from memory.search_query import SearchQuery, Term, column_filters, folder_names
from memory.search_rank import MAX_POINTS, PART_POINTS, RECENCY_DAYS, RELEVANCE_SHARE, day_number
from memory.search_sqlite_index import BODY, DAY, HEAD, HEAD_COLUMNS, ROWID_MASK, day_keys, key
from memory.search_walk import FIRST_WINDOW, Hit, Window, best_matches, rarest_parts

_FIELD_COLUMNS = {"sender": "sender", "attachment": "attachments"}


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
FOLDER_INDEX = "CREATE INDEX IF NOT EXISTS ix_email_search_folder ON email (lower(folder))"
"""A message's folder as `folder:` compares it: the keys of a folder's mail without its rows."""
_RECENCY = (
    f"coalesce({float(RECENCY_DAYS)} / ({float(RECENCY_DAYS)} + max(0, :today - {_DAY})), 0.0)"
)


def head_match(term: Term, spelled: Mapping[Term, str]) -> str:
    """The FTS5 query of one term in `HEAD`: its text as one quoted string, nothing of it syntax.

    Inside FTS5's double quotes every character is text (a quote is written twice), and the
    tokenizer splits it into the phrase's words; `*` after the closing quote, added here and
    never taken from the user, makes the last word a prefix. `spelled` holds the terms whose
    prefix is asked as the words it begins instead (`memory.search_prefixes`). A `from:` or
    `attachment:` term is asked in its own column only.
    """
    column = _FIELD_COLUMNS.get(term.field)
    phrase = _phrase(term, spelled)
    return f"{{{column}}} : {phrase}" if column else phrase


def body_match(term: Term, spelled: Mapping[Term, str]) -> str | None:
    """The FTS5 query of one term in `BODY` (None: a `from:` or `attachment:` term, never there)."""
    return None if term.field in _FIELD_COLUMNS else _phrase(term, spelled)


def _phrase(term: Term, spelled: Mapping[Term, str]) -> str:
    if term in spelled:
        return spelled[term]
    return quoted(term.text) if term.exact else quoted(term.text) + " *"


def _all_found_in(ranked: list[Term], parts: tuple[str, ...], spelled: Mapping[Term, str]) -> bool:
    """Whether a query phrase can be found in each of `parts`."""
    return all(_found_in(ranked, (part,), spelled) for part in parts)


def _found_in(
    ranked: list[Term], parts: tuple[str, ...], spelled: Mapping[Term, str]
) -> str | None:
    """The FTS5 query of the messages where a query phrase occurs in one of `parts`.

    `parts` are all of `HEAD`'s columns, or `("body",)` (asked of `BODY` without a filter). A
    `from:` or `attachment:` term counts in its own part only. None: no phrase can.
    """
    found = []
    for term in ranked:
        allowed = [part for part in parts if _FIELD_COLUMNS.get(term.field, part) == part]
        if allowed == ["body"]:
            found.append(_phrase(term, spelled))
        elif allowed:
            found.append(f"{{{' '.join(allowed)}}} : {_phrase(term, spelled)}")
    return " OR ".join(found) or None


def _table(part: str) -> str:
    return HEAD if part in HEAD_COLUMNS else BODY


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
    for n, term in enumerate(ranked):
        params[f"head{n}"] = head_match(term, spelled)
        params[f"body{n}"] = body_match(term, spelled)
    for n, (part, _) in enumerate(PART_POINTS):
        params[f"part{n}"] = _found_in(ranked, (part,), spelled)
    top = day_number(query.before) if query.before else None

    in_folders = _in_folders(query, conn)

    def read(window: Window) -> list[Hit]:
        window_params = {**params, **_key_range(window)}
        return _read(conn, ranked, spelled, where, window_params, window, in_folders)

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


def _within(keys: str) -> str:
    """The range of keys from the first to the last of the CTE `keys` (none: an empty range).

    FTS5 reads a bound of NULL as no bound, so an empty CTE gives the bounds 1 and 0.
    """
    return (
        f"rowid BETWEEN coalesce((SELECT min(rid) FROM {keys}), 1) "
        f"AND coalesce((SELECT max(rid) FROM {keys}), 0)"
    )


def _matches(table: str, param: str, only: str, within: str = _IN_RANGE) -> str:
    """The keys of `table` matching the query `:param` within a range (and `only`)."""
    return f"SELECT rowid AS rid FROM {table} WHERE {table} MATCH :{param} AND {within}{only}"


def _in_folders(query: SearchQuery, conn: Connection) -> str:
    """A condition on an index key: the message is filed in each `folder:` of the query.

    Read from `ix_email_search_folder` (no row of `email`), so the matches of other folders are
    dropped before their rows are read for the final test; '' without `folder:` or the index.
    """
    indexed = conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'ix_email_search_folder'"
    ).first()
    if not query.folders or not indexed:
        return ""
    return "".join(
        f" AND (rowid & {ROWID_MASK}) IN (SELECT rowid FROM email INDEXED BY "
        f"ix_email_search_folder WHERE lower(folder) IN (:folder{n}a, :folder{n}b))"
        for n in range(len(query.folders))
    )


def _read(
    conn: Connection,
    ranked: list[Term],
    spelled: Mapping[Term, str],
    where: list[str],
    params: dict[str, Any],
    window: Window,
    in_folders: str = "",
) -> list[Hit]:
    """The best `limit` matches of a window (see `memory.search_walk`).

    A message matches when each term is found in `HEAD` or in `BODY` (a phrase never spans
    two parts): per term the union of the two tables' matches, intersected over the terms.
    FTS5 reads a key range itself, skipping the older and newer matches; the odd window's few
    messages, and a later read's candidates (the matches found in the rarest needed parts),
    are tested against the matches instead (the `+` keeps FTS5 from being asked for each key,
    which costs a whole query each for a prefix).
    """
    if window.odd and not _DAYS.any_odd(conn):
        return []
    only = in_folders + (
        f" AND +rowid IN (SELECT {key('e')} FROM email e INDEXED BY ix_email_search_odd "
        f"WHERE {_DAYS.odd})"
        if window.odd
        else ""
    )
    ctes = []
    within = _IN_RANGE
    if window.needs is not None:
        candidates = _candidates(ranked, spelled, params, window.needs, only)
        if candidates is None:
            return []
        ctes.append(f"candidates AS MATERIALIZED ({candidates})")
        only, within = " AND +rowid IN (SELECT rid FROM candidates)", _within("candidates")
    if window.needs is not None and len(ranked) == 1:
        hits = "SELECT rid FROM candidates"  # each candidate is a match of the one term
    else:
        hits = _every_term(len(ranked), params, only, within)
    ctes.append(f"hits AS MATERIALIZED ({hits})")
    points = " + ".join(
        f"{value} * (h.rid IN (SELECT rowid FROM {_table(part)} "
        f"WHERE {_table(part)} MATCH :part{n} "
        f"AND {_within('hits')} AND +rowid IN (SELECT rid FROM hits)))"
        for n, (part, value) in enumerate(PART_POINTS)
        if params[f"part{n}"] is not None
    )
    sql = (
        f"WITH {', '.join(ctes)} "
        "SELECT score, date, id, data FROM (SELECT e.data AS data, e.date AS date, e.id AS id, "
        f"{RELEVANCE_SHARE} * ({points or '0'}) / {float(MAX_POINTS)} "
        f"+ {1 - RELEVANCE_SHARE} * {_RECENCY} AS score "
        f"FROM hits h JOIN email e ON e.rowid = h.rid & {ROWID_MASK} "
        f"WHERE {' AND '.join(where) or '1'}) "
        "ORDER BY score DESC, date DESC, id LIMIT :limit"
    )
    return [Hit(*row) for row in conn.execute(text(sql), params)]


def _candidates(
    ranked: list[Term],
    spelled: Mapping[Term, str],
    params: dict[str, Any],
    needs: tuple[tuple[str, ...], ...],
    only: str,
) -> str | None:
    """The keys found in the rarest part of each set of `needs` (None: no match can have one)."""
    sets = tuple(p for p in needs if _all_found_in(ranked, p, spelled))
    rarest = rarest_parts(sets) if sets else ()
    reads = []
    for table in (HEAD, BODY):
        parts = tuple(part for part in rarest if _table(part) == table)
        found = _found_in(ranked, parts, spelled) if parts else None
        if found is not None:
            params[f"need_{table}"] = found
            reads.append(_matches(table, f"need_{table}", only))
    return " UNION ".join(reads) or None


def _every_term(terms: int, params: dict[str, Any], only: str, within: str) -> str:
    """The keys where each term (`:head<n>`, `:body<n>`) is found in one table or the other."""
    return " INTERSECT ".join(
        "SELECT rid FROM ("
        + " UNION ".join(
            _matches(table, f"{table_key}{n}", only, within)
            for table, table_key in ((HEAD, "head"), (BODY, "body"))
            if params[f"{table_key}{n}"] is not None
        )
        + ")"
        for n in range(terms)
    )


def _filters(
    query: SearchQuery,
    filters: dict[str, Any],
    params: dict[str, Any],
    spelled: Mapping[Term, str],
) -> list[str]:
    """SQL conditions on `email e`; every value from the user goes in `params`."""
    where = column_filters(query, filters, params)
    for n, term in enumerate(t for t in query.terms if t.folder_word):
        found = " UNION ALL ".join(
            f"SELECT rowid & {ROWID_MASK} FROM {table} WHERE {table} MATCH :word{n} AND {_IN_RANGE}"
            for table in (HEAD, BODY)
        )
        where.append(f"(e.rowid IN ({found}) OR lower(e.folder) IN (:word{n}a, :word{n}b))")
        params[f"word{n}"] = _phrase(term, spelled)  # a bare word: any part of either table
        params[f"word{n}a"], params[f"word{n}b"] = folder_names(term.text)
    return where
