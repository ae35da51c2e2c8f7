"""PostgreSQL's search index of the mail cache: the `search_doc` column and what reads it.

`email.search_doc` is computed by PostgreSQL itself whenever a row is written (a `GENERATED
ALWAYS ... STORED` column), so the code that fetches mail does not know it exists. It holds
the same four parts as SQLite's FTS5 index (`memory.search_sqlite_index`), each with a weight
that names it: subject A, sender B, attachment names C, body D (its first `BODY_CHARS`
characters). `memory.search_postgres` searches it.

The text goes through `inbox_search_text` first, so the words are the ones FTS5's
`unicode61 remove_diacritics 2` makes: ASCII and common Unicode punctuation become spaces
(PostgreSQL's parser would keep `a.b@c.d` or `x—y` as one word), accents are removed with the
`unaccent` extension when the server offers it, non-ASCII letters are lower-cased with the ICU
root collation when there is one, and the `simple` configuration (no stemming, no stop words)
does the rest.

Step 11 adds the column only when it is missing; a release that changes `DOCUMENT` or the
text functions needs a migration step that drops `search_doc` and adds it again. Step 12 adds
`INDEXES`, which a search's newest-first walk (`memory.search_walk`) reads by; step 16
`FOLDER_DAYS`, step 17 keeps each document in its row (`keep_documents_inline`), step 18 the
GIN indexes' pending lists short (`keep_pending_lists_short`).
"""

from __future__ import annotations

import logging

from sqlalchemy.engine import Connection

from memory.search_rank import BODY_CHARS, PART_CHARS, PART_POINTS

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
WEIGHT_LETTERS = {"subject": "a", "sender": "b", "attachments": "c", "body": "d"}
"""The weight that names each part in `search_doc`."""


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
    f"'{WEIGHT_LETTERS[name].upper()}')"
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


DAY = (
    "CASE WHEN {r}date ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}' THEN "
    "CAST(substr({r}date, 1, 4) AS integer) * 372 + CAST(substr({r}date, 6, 2) AS integer) * 31 "
    "+ CAST(substr({r}date, 9, 2) AS integer) END"
)
"""The `day_number` of a message's date (NULL without one), for the row prefix `{r}`: the
expression of the `ix_email_search_day` index."""
ODD = (
    "({r}date ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}' "
    "AND (substr({r}date, 6, 2) COLLATE \"C\" NOT BETWEEN '01' AND '12' "
    "OR substr({r}date, 9, 2) COLLATE \"C\" NOT BETWEEN '01' AND '31'))"
)
"""A date whose month or day does not exist (see `memory.search_walk.Window.odd`)."""
INDEXES = (
    f"CREATE INDEX IF NOT EXISTS ix_email_search_day ON email (({DAY.format(r='')}))",
    f"CREATE INDEX IF NOT EXISTS ix_email_search_odd ON email (date) WHERE {ODD.format(r='')}",
    *(
        f"CREATE INDEX IF NOT EXISTS ix_email_search_{part} ON email "
        f"USING gin (ts_filter(search_doc, '{{{WEIGHT_LETTERS[part]}}}'))"
        for part in ("subject", "sender", "attachments")
    ),
)
"""The date's day, and the parts other than the body on their own (the GIN index of
`search_doc` cannot tell the parts apart): a search's last read (`memory.search_walk`) wants
only the older matches found in the subject, say, and the sender."""
FOLDER_DAY = "({day}) * 1"
"""The day number as the folder index spells it, for the row prefix of `DAY` (`{r}`): a search
without `folder:` does not match it, so the planner cannot read that whole index for a range of
days (it did, for a second window of a phrase: 5.6-6.4 ms against 3.9-4.6 by the day index)."""
FOLDER_DAYS = (
    "CREATE INDEX IF NOT EXISTS ix_email_search_folder_day ON email "
    f"(lower(folder), ({FOLDER_DAY.format(day=DAY.format(r=''))}))"
)
"""Each message's folder as `folder:` compares it, then its day (step 16): a window of a
search in a folder reads that folder's rows of its days, where the day index gave every
folder's (in the bench's mail twenty times as many, each tested)."""
_OUT_OF_LINE = "pg_column_size(search_doc) <> pg_column_size(search_doc || ''::tsvector)"
"""True for a document stored out of line (and for a few others, rewritten for nothing):
`pg_column_size` counts the length header of a value in the row or in memory (the copy made
by the concatenation with an empty `tsvector`), not that of a value in the TOAST table."""


def keep_documents_inline(conn: Connection) -> None:
    """Step 17: each message's `search_doc` kept in its row, not in the TOAST table.

    PostgreSQL moves a row's largest values out of line until the row fits in about 2 kB, and
    with every column `EXTENDED` the document (about 1.1 kB, which does not compress) was often
    one of them: a search tests the document of every row of a window, and fetching it from
    the TOAST table (its index, then its page) was more than half of a read's time (4,384 rows
    of a window: 14 ms against 7). `MAIN` moves the stored JSON and the body out first; a
    document too large for the row still goes out of line. Rows written before this step are
    written again (the document is computed anew, which only an update of a column it is made
    of does) where their document is out of line.
    """
    conn.exec_driver_sql("ALTER TABLE email ALTER COLUMN search_doc SET STORAGE MAIN")
    conn.exec_driver_sql(f"UPDATE email SET subject = subject WHERE {_OUT_OF_LINE}")


GIN_INDEXES = (
    "ix_email_search_doc",
    *(f"ix_email_search_{part}" for part in ("subject", "sender", "attachments")),
)
PENDING_LIST_KB = 64
"""The most a GIN index's pending list holds (PostgreSQL's least; its default is 4 MB)."""


def keep_pending_lists_short(conn: Connection) -> None:
    """Step 18: the GIN indexes of a search merge new entries into their tree after 64 kB.

    A GIN index adds a write's entries to a pending list, unsorted, and every look-up reads
    that whole list; it is merged into the tree when it outgrows `gin_pending_list_limit` or
    when autovacuum passes (a manual `ANALYZE` does not). After writing 100,000 messages the
    four lists held about 14,000 entries each (50 to 320 pages), and each look-up of a part
    index that finds nothing took 2 to 3 ms instead of 0.01. The lists already there are
    merged now.
    """
    for name in GIN_INDEXES:
        conn.exec_driver_sql(f"ALTER INDEX {name} SET (gin_pending_list_limit = {PENDING_LIST_KB})")
        conn.exec_driver_sql(f"SELECT gin_clean_pending_list('{name}'::regclass)")
