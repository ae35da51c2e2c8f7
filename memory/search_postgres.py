"""Mail search on PostgreSQL: the query language read from the `search_doc` column and its indexes.

The column, its GIN indexes and the indexes the walk reads by are `memory.search_postgres_index`'s.
A read of the walk finds the rows of its days by the day index (in a folder, by the index of
the folder and the day) and tests each (the GIN index of a word in a third of the mail would
cost more than the window's rows); each document is kept in its row (step 17), so that test
does not fetch it from the TOAST table, and since a window costs its rows, the walk sizes the
windows by the matches found while the list is not full. A later read finds the matches of the
parts it needs by their GIN indexes (their pending lists kept short, step 18), so the walk
reads the rest at once as soon as only a match in two parts can win (one look-up of each part,
not one per window). A row's points come from weight-restricted queries (`_points`), not
`ts_filter` copies.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from memory.search_days import DaySql
from memory.search_postgres_index import DAY, FOLDER_DAY, ODD, WEIGHT_LETTERS
from memory.search_query import SearchQuery, Term, column_filters, folder_names, word_count
from memory.search_rank import (
    MAX_POINTS,
    PART_POINTS,
    RECENCY_DAYS,
    RELEVANCE_SHARE,
    day_number,
)
from memory.search_walk import FIRST_WINDOW, Hit, Window, best_matches, rarest_parts

_FIELD_PARTS = {"sender": "sender", "attachment": "attachments"}


_WORD = "'(''(?:[^'']|'''')*'')'"
"""A quoted word of a `tsquery`'s text form (a quote inside one is doubled), as an SQL string."""


def _tsquery(term: Term, name: str, letter: str = "") -> str:
    """The term as a `tsquery`; with a weight `letter`, one that matches in that part only.

    `doc @@ <query of weight A>` is `ts_filter(doc, '{a}') @@ <query>` without the copy of the
    whole document that `ts_filter` makes, which was most of what scoring a row cost.
    """
    phrase = f"phraseto_tsquery('simple'::regconfig, inbox_search_text(:{name}))"
    if not letter:
        if term.exact:
            return phrase
        # The phrase's text form with `:*` after its last word: FTS5's `"..." *`.
        return f"CAST(CAST({phrase} AS text) || ':*' AS tsquery)"
    # Each word of the text form followed by the weight (`'a' <-> 'b'` becomes
    # `'a':A <-> 'b':A`), and `*` after the last one for a prefix (`'b':A*`).
    weighted = f"regexp_replace(CAST({phrase} AS text), {_WORD}, '\\1:{letter.upper()}', 'g')"
    prefix = "" if term.exact else " || '*'"
    return f"CAST({weighted}{prefix} AS tsquery)"


_RECENCY = (
    "CASE WHEN e.date ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}' THEN "
    f"CAST({RECENCY_DAYS} AS float8) / ({RECENCY_DAYS} + greatest(0, :today - ("
    "CAST(substr(e.date, 1, 4) AS integer) * 372 + CAST(substr(e.date, 6, 2) AS integer) * 31 "
    "+ CAST(substr(e.date, 9, 2) AS integer)))) ELSE 0.0 END"
)


_DAY = DAY.format(r="e.")
_DAYS = DaySql(_DAY, ODD.format(r="e."))
_IN_FOLDER = DaySql(FOLDER_DAY.format(day=_DAY), _DAYS.odd)
"""The day conditions of a search with `folder:`, which the index of the folder and day serves."""
_ALL_OLDER = DaySql(f"({_DAY} + 0)", _DAYS.odd)
"""The same day conditions in a form the day index cannot serve, for the reads of all older
mail: their days are most of the table, and a bitmap of them (40,000 to 60,000 rows at 100,000,
4 to 8 ms) to intersect with a few matches of the GIN indexes cost more than testing the day
of each of those matches."""


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
    where = _filters(query, filters, params)
    ranked = [(f"t{n}", t) for n, t in enumerate(query.terms) if not t.folder_word]
    if not ranked:
        sql = (
            f"SELECT e.data FROM email e WHERE {' AND '.join(where) or 'true'} "
            'ORDER BY e.date COLLATE "C" DESC, e.id COLLATE "C" LIMIT :limit'
        )
        return [row[0] for row in conn.execute(text(sql), params)]
    for name, term in ranked:
        params[name] = term.text
        where.extend(_within_one_part(term, _tsquery(term, name)))
    match = f"e.search_doc @@ ({' && '.join(_tsquery(term, name) for name, term in ranked)})"

    def read(window: Window) -> list[Hit]:
        days = _ALL_OLDER if window.since is None else _IN_FOLDER if query.folders else _DAYS
        return _read(conn, ranked, [match, *where], dict(params), window, days)

    def day_at(before: int | None, count: int) -> int | None:
        return _DAYS.day_at(conn, query, filters, before, count)

    top = day_number(query.before) if query.before else None
    narrowed = bool(query.folders or filters.get("folder"))
    # A read costs every row of its days: windows sized by the matches found, not by days alone.
    found = best_matches(
        read,
        day_at,
        limit,
        today,
        first_window,
        top,
        narrowed=narrowed,
        rest_once_full=True,
        by_matches=True,
    )
    return [hit.data for hit in found]


def _read(
    conn: Connection,
    ranked: list[tuple[str, Term]],
    where: list[str],
    params: dict[str, Any],
    window: Window,
    days: DaySql = _DAYS,
) -> list[Hit]:
    """The best `limit` matches of a window (see `memory.search_walk`), its days by `days`."""
    if window.odd and not _any_odd(conn):
        return []
    if window.since is not None or window.needs is not None or window.odd:
        # The day or part indexes find the few rows; the GIN index of every match, which the
        # planner would add to them, would cost more than testing those rows one by one.
        where = [f"CASE WHEN {where[0]} THEN true ELSE false END", *where[1:]]
    where += days.window(window, params)
    if window.needs is not None:
        # The matches found in the rarest part of each set a match can fill: a look-up of one
        # small part index per set, where the exact sets looked up the subject's too.
        sets = tuple(parts for parts in window.needs if _all_found_in(ranked, parts))
        if not sets:
            return []
        where.append("(" + " OR ".join(_found_in(ranked, rarest_parts(sets))) + ")")
    sql = (
        "SELECT score, date, id, data FROM (SELECT e.data, e.date, e.id, "
        f"{RELEVANCE_SHARE} * ({_points(ranked)}) / {float(MAX_POINTS)} "
        f"+ {1 - RELEVANCE_SHARE} * {_RECENCY} AS score "
        f"FROM email e WHERE {' AND '.join(where)}) AS scored "
        'ORDER BY score DESC, date COLLATE "C" DESC, id COLLATE "C" LIMIT :limit'
    )
    return [Hit(*row) for row in conn.execute(text(sql), params)]


def _any_odd(conn: Connection) -> bool:
    """Whether any message has a date that does not exist.

    In the order of `ix_email_search_odd`: the planner guesses that most dates could be odd
    (it cannot estimate the test), and right after a bulk load, before autovacuum has seen the
    empty index, a plain `LIMIT 1` made it scan the whole table for a first one (about 130 ms
    at 100,000 messages, on every search); ordered by the index's key, it reads the index.
    """
    sql = f"SELECT 1 FROM email e WHERE {_DAYS.odd} ORDER BY e.date LIMIT 1"
    return conn.execute(text(sql)).first() is not None


def _points(ranked: list[tuple[str, Term]]) -> str:
    """The points of the parts a term was found in (a `from:` term counts in the sender only).

    Each part is asked with queries of its weight (`_tsquery`): the answer of `_found_in`,
    which the part indexes serve, at a fraction of its cost per row.
    """
    points = []
    for part, value in PART_POINTS:
        letter = WEIGHT_LETTERS[part]
        here = [
            _tsquery(term, name, letter)
            for name, term in ranked
            if _FIELD_PARTS.get(term.field, part) == part
        ]
        if here:
            points.append(f"{value} * CAST(e.search_doc @@ ({' || '.join(here)}) AS integer)")
    return " + ".join(points) or "0"


def _all_found_in(ranked: list[tuple[str, Term]], parts: tuple[str, ...]) -> str | None:
    """The condition that a query phrase is in each of `parts`; None: one part can have none."""
    found = [_found_in(ranked, (part,)) for part in parts]
    if not all(found):
        return None
    return "(" + " AND ".join(one for [one] in found) + ")"


def _found_in(ranked: list[tuple[str, Term]], parts: tuple[str, ...]) -> list[str]:
    """For each of `parts` a query phrase can be in: the condition that one is."""
    found = []
    for part, _ in PART_POINTS:
        here = [
            _tsquery(term, name)
            for name, term in ranked
            if part in parts and _FIELD_PARTS.get(term.field, part) == part
        ]
        if here:
            found.append(
                f"ts_filter(e.search_doc, '{{{WEIGHT_LETTERS[part]}}}') @@ ({' || '.join(here)})"
            )
    return found


def _within_one_part(term: Term, tsquery: str) -> list[str]:
    """Conditions that keep a term inside one part of the message, as FTS5 columns do.

    A `from:` or `attachment:` term must match within its weight; a phrase of several words
    within one weight, since in the whole document the last word of the subject sits right
    before the first word of the sender.
    """
    if term.field in _FIELD_PARTS:
        letter = WEIGHT_LETTERS[_FIELD_PARTS[term.field]]
        return [f"ts_filter(e.search_doc, '{{{letter}}}') @@ {tsquery}"]
    if word_count(term.text) < 2:
        return []
    parts = " OR ".join(
        f"ts_filter(e.search_doc, '{{{letter}}}') @@ {tsquery}"
        for letter in WEIGHT_LETTERS.values()
    )
    return [f"({parts})"]


def _filters(query: SearchQuery, filters: dict[str, Any], params: dict[str, Any]) -> list[str]:
    """SQL conditions on `email e`; every value from the user goes in `params`."""
    where = column_filters(query, filters, params, date='e.date COLLATE "C"')
    for n, term in enumerate(t for t in query.terms if t.folder_word):
        where.append(
            f"(e.search_doc @@ {_tsquery(term, f'word{n}')} "
            f"OR lower(e.folder) IN (:word{n}a, :word{n}b))"
        )
        params[f"word{n}"] = term.text
        params[f"word{n}a"], params[f"word{n}b"] = folder_names(term.text)
    return where
