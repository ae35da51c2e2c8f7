"""Mail search on PostgreSQL: a generated `tsvector` column of the mail cache with a GIN index.

`email.search_doc` is computed by PostgreSQL itself whenever a row is written (a `GENERATED
ALWAYS ... STORED` column), so the code that fetches mail does not know it exists. It holds
the same four parts as SQLite's FTS5 index (`memory.search_sqlite`), each with a weight that
names it: subject A, sender B, attachment names C, body D (its first `BODY_CHARS` characters).

The text goes through `inbox_search_text` first, so the words are the ones FTS5's
`unicode61 remove_diacritics 2` makes: ASCII and common Unicode punctuation become spaces
(PostgreSQL's parser would keep `a.b@c.d` or `x—y` as one word), accents are removed with the
`unaccent` extension when the server offers it, non-ASCII letters are lower-cased with the ICU
root collation when there is one, and the `simple` configuration (no stemming, no stop words)
does the rest.

Step 11 adds the column only when it is missing; a release that changes `DOCUMENT` or the
text functions needs a migration step that drops `search_doc` and adds it again. Step 12 adds
`INDEXES`, which a search's newest-first walk (`memory.search_walk`) reads by.

A read of the walk finds the rows of its days by the day index and tests each (the GIN index
of a word in a third of the mail would cost more than the window's rows); a later read finds
the matches of the parts it needs by their GIN indexes, so the walk reads the rest at once as
soon as only a match in two parts can win (one look-up of each part, not one per window). A
row's points come from weight-restricted queries (`_points`), not `ts_filter` copies.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from memory.search_days import DaySql
from memory.search_query import SearchQuery, Term, column_filters, folder_names, word_count
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

logger = logging.getLogger(__name__)

ASCII_PUNCTUATION = "".join(chr(c) for c in range(33, 127) if not chr(c).isalnum())
UNICODE_PUNCTUATION = (
    "\u00a0\u00a1\u00a7\u00ab\u00b0\u00b1\u00b6\u00b7\u00bb\u00bf\u00d7\u00f7\u2010\u2011\u2012"
    "\u2013\u2014\u2015\u2018\u2019\u201a\u201c\u201d\u201e\u2020\u2021\u2022\u2026\u2030\u2032"
    "\u2033\u2039\u203a\u20ac\u00a3\u00a5\u00a2\u00a9\u00ae\u2122\u200b\u3000\u3001\u3002\u300c"
    "\u300d\u300e\u300f\uff08\uff09\uff0c\uff1a\uff1b\uff1f\uff01"
)
"""Non-ASCII characters FTS5 splits words at and PostgreSQL's parser would keep inside one
(under the C locale it takes every non-ASCII character for a letter)."""
_WEIGHT_LETTERS = {"subject": "a", "sender": "b", "attachments": "c", "body": "d"}
_FIELD_PARTS = {"sender": "sender", "attachment": "attachments"}


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _text_function(unaccent_schema: str | None, icu: bool) -> str:
    punctuation = ASCII_PUNCTUATION + UNICODE_PUNCTUATION
    body = f"translate(value, {_literal(punctuation)}, {_literal(' ' * len(punctuation))})"
    if unaccent_schema:
        body = f"{unaccent_schema}.unaccent('{unaccent_schema}.unaccent'::regdictionary, {body})"
    lowered = f'lower({body} COLLATE "und-x-icu")' if icu else f"lower({body})"
    return (
        "CREATE OR REPLACE FUNCTION inbox_search_text(value text) RETURNS text "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$ SELECT "
        f"{lowered} $fn$"
    )


ATTACHMENTS_FUNCTION = """
CREATE OR REPLACE FUNCTION inbox_attachment_names(data text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
DECLARE
    doc jsonb;
BEGIN
    IF data IS NULL OR position('"filename"' IN data) = 0 THEN
        RETURN '';
    END IF;
    doc := data::jsonb -> 'attachments';
    IF jsonb_typeof(doc) IS DISTINCT FROM 'array' THEN
        RETURN '';
    END IF;
    RETURN coalesce((SELECT string_agg(a.value ->> 'filename', ' ' ORDER BY a.n)
        FROM jsonb_array_elements(doc) WITH ORDINALITY AS a(value, n)
        WHERE jsonb_typeof(a.value) = 'object'), '');
EXCEPTION WHEN others THEN
    RETURN '';  -- stored JSON PostgreSQL cannot read (a \\u0000): no attachment names
END
$fn$
"""
_PARTS = {
    "subject": f"left(coalesce(subject, ''), {PART_CHARS})",
    "sender": f"left(coalesce(from_name, '') || ' ' || coalesce(from_addr, ''), {PART_CHARS})",
    "attachments": f"left(inbox_attachment_names(data), {PART_CHARS})",
    "body": f"left(coalesce(body, ''), {BODY_CHARS})",
}
DOCUMENT = " || ".join(
    f"setweight(to_tsvector('simple'::regconfig, inbox_search_text({_PARTS[name]})), "
    f"'{_WEIGHT_LETTERS[name].upper()}')"
    for name, _ in PART_POINTS
)


def create_index(conn: Connection) -> None:
    """Create the text functions, the `search_doc` column and its GIN index (if missing).

    Adding the column computes it for every message already cached.
    """
    present = conn.exec_driver_sql(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = 'email' AND column_name = 'search_doc'"
    ).first()
    if not present:
        # psycopg reads `%` as a placeholder even without parameters.
        conn.exec_driver_sql(_text_function(_unaccent(conn), _has_icu(conn)).replace("%", "%%"))
        conn.exec_driver_sql(ATTACHMENTS_FUNCTION)
        conn.exec_driver_sql(
            f"ALTER TABLE email ADD COLUMN search_doc tsvector GENERATED ALWAYS AS ({DOCUMENT}) "
            "STORED"
        )
    conn.exec_driver_sql(
        "CREATE INDEX IF NOT EXISTS ix_email_search_doc ON email USING gin (search_doc)"
    )
    if not present:
        # Statistics for the new column, so the planner uses the index from the first search
        # rather than after autovacuum's next pass.
        conn.exec_driver_sql("ANALYZE email")


def _unaccent(conn: Connection) -> str | None:
    """The schema of the `unaccent` extension, created if the server has it; None if not."""
    try:
        with conn.begin_nested():
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS unaccent")
    except Exception as err:  # noqa: BLE001 - any refusal means: search without it
        logger.warning(
            "PostgreSQL: no unaccent extension (%s): search will tell accented letters apart",
            str(err).splitlines()[0],
        )
        return None
    schema = conn.exec_driver_sql(
        "SELECT n.nspname FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace "
        "WHERE x.extname = 'unaccent'"
    ).scalar_one()
    return conn.dialect.identifier_preparer.quote(str(schema))


def _has_icu(conn: Connection) -> bool:
    found = conn.exec_driver_sql("SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu'")
    return found.first() is not None


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


DAY = (
    "CASE WHEN {r}date ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}' THEN "
    "CAST(substr({r}date, 1, 4) AS integer) * 372 + CAST(substr({r}date, 6, 2) AS integer) * 31 "
    "+ CAST(substr({r}date, 9, 2) AS integer) END"
)
"""The `day_number` of a message's date (NULL without one), for the row prefix `{r}`: the
expression of the `ix_email_search_day` index."""
_DAY = DAY.format(r="e.")
ODD = (
    "({r}date ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}' "
    "AND (substr({r}date, 6, 2) COLLATE \"C\" NOT BETWEEN '01' AND '12' "
    "OR substr({r}date, 9, 2) COLLATE \"C\" NOT BETWEEN '01' AND '31'))"
)
"""A date whose month or day does not exist (see `memory.search_walk.Window.odd`)."""
_DAYS = DaySql(_DAY, ODD.format(r="e."))
INDEXES = (
    f"CREATE INDEX IF NOT EXISTS ix_email_search_day ON email (({DAY.format(r='')}))",
    f"CREATE INDEX IF NOT EXISTS ix_email_search_odd ON email (date) WHERE {ODD.format(r='')}",
    *(
        f"CREATE INDEX IF NOT EXISTS ix_email_search_{part} ON email "
        f"USING gin (ts_filter(search_doc, '{{{_WEIGHT_LETTERS[part]}}}'))"
        for part in ("subject", "sender", "attachments")
    ),
)
"""The date's day, and the parts other than the body on their own (the GIN index of
`search_doc` cannot tell the parts apart): a search's last read (`memory.search_walk`) wants
only the older matches found in the subject, say, and the sender."""


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
        return _read(conn, ranked, [match, *where], dict(params), window)

    def day_at(before: int | None, count: int) -> int | None:
        return _DAYS.day_at(conn, query, filters, before, count)

    top = day_number(query.before) if query.before else None
    narrowed = bool(query.folders or filters.get("folder"))
    found = best_matches(
        read, day_at, limit, today, first_window, top, narrowed=narrowed, rest_once_full=True
    )
    return [hit.data for hit in found]


def _read(
    conn: Connection,
    ranked: list[tuple[str, Term]],
    where: list[str],
    params: dict[str, Any],
    window: Window,
) -> list[Hit]:
    """The best `limit` matches of a window (see `memory.search_walk`)."""
    if window.odd and not _any_odd(conn):
        return []
    if window.since is not None or window.needs is not None or window.odd:
        # The day or part indexes find the few rows; the GIN index of every match, which the
        # planner would add to them, would cost more than testing those rows one by one.
        where = [f"CASE WHEN {where[0]} THEN true ELSE false END", *where[1:]]
    where += _DAYS.window(window, params)
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
        letter = _WEIGHT_LETTERS[part]
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
                f"ts_filter(e.search_doc, '{{{_WEIGHT_LETTERS[part]}}}') @@ ({' || '.join(here)})"
            )
    return found


def _within_one_part(term: Term, tsquery: str) -> list[str]:
    """Conditions that keep a term inside one part of the message, as FTS5 columns do.

    A `from:` or `attachment:` term must match within its weight; a phrase of several words
    within one weight, since in the whole document the last word of the subject sits right
    before the first word of the sender.
    """
    if term.field in _FIELD_PARTS:
        letter = _WEIGHT_LETTERS[_FIELD_PARTS[term.field]]
        return [f"ts_filter(e.search_doc, '{{{letter}}}') @@ {tsquery}"]
    if word_count(term.text) < 2:
        return []
    parts = " OR ".join(
        f"ts_filter(e.search_doc, '{{{letter}}}') @@ {tsquery}"
        for letter in _WEIGHT_LETTERS.values()
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
