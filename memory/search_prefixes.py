"""The prefix words of an SQLite search, spelled out as the indexed words they begin.

FTS5 answers a prefix query (`"invoice" *`) by first merging the matches of every indexed word
that begins with `invoice`, over the whole index, whatever range of keys the query asks for;
and it does so again for each query, of which a search asks up to twenty (`memory.search_sqlite`:
the matches and the points of each part, per read of the walk). The same matches are those of
`("invoice" OR "invoices" OR "invoiced")`, whose words FTS5 reads each within the range only.
So a search reads, once, which words of the index a prefix begins (FTS5's own vocabulary table,
`fts5vocab`, one over each of the index's two tables) and asks with them. The words of a term
are split by FTS5 itself (the same tokenizer, on a table in memory), so the phrase asked is the
one FTS5 would have made.

A prefix that begins more than `MAX_WORDS` words ("a", "t") keeps FTS5's prefix query: an OR of
hundreds of words costs more than the merge. The prefix itself is always one of the words
asked for, indexed or not (one the index lacks matches nothing, as the prefix would not). The
vocabulary is read in the same read transaction as the search's own queries when the caller
holds one; a message cached between the two would at worst be missed by this search, as it
would by one started a moment earlier.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable

from sqlalchemy.engine import Connection

from memory.search_query import Term
from memory.search_sqlite_index import BODY, HEAD

MAX_WORDS = 64
"""The most indexed words a prefix is spelled out as (more: FTS5's own prefix query)."""
TOKENIZER = "unicode61 remove_diacritics 2"
"""The tokenizer of the mail index (`memory.search_sqlite_index.DDL`) and of `split_words`."""
VOCABULARIES = ("temp.email_fts_head_words", "temp.email_fts_body_words")
"""FTS5's vocabulary of each table of the index (`search_sqlite_index.HEAD` and `BODY`)."""
_VOCABULARY_DDL = tuple(
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {vocabulary} USING fts5vocab(main, '{table}', 'row')"
    for vocabulary, table in zip(VOCABULARIES, (HEAD, BODY), strict=True)
)
_WORDS = " UNION ".join(
    f"SELECT * FROM (SELECT term FROM {vocabulary} WHERE term >= ? AND term < ? LIMIT ?)"
    for vocabulary in VOCABULARIES
)
"""The words of either table in a range, at most `MAX_WORDS` of each: when neither has that
many, all of them; when one has, at least that many (which is all that is asked)."""
_LAST = "\U0010ffff"
"""Sorts after every character a word can continue with (UTF-8 bytes compare as code points)."""


class _Splitter:
    """FTS5's tokenizer on a table in memory: the words it makes of a text, in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = -1
        self._conn: sqlite3.Connection | None = None

    def words(self, text: str) -> list[str]:
        with self._lock:
            conn = self._connection()
            with conn:
                conn.execute("INSERT INTO t(x) VALUES (?)", (text,))
                rows = conn.execute("SELECT term FROM v ORDER BY offset").fetchall()
                conn.execute("DELETE FROM t")
        return [row[0] for row in rows]

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():  # not a parent's, after a fork
            conn = sqlite3.connect(":memory:", check_same_thread=False)
            conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize='{TOKENIZER}')")
            conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
            self._conn, self._pid = conn, os.getpid()
        return self._conn


_SPLITTER = _Splitter()


def split_words(text: str) -> list[str]:
    """The words FTS5 indexes `text` as (lower-cased, accents removed), in order."""
    return _SPLITTER.words(text)


def quoted(text: str) -> str:
    """`text` as one FTS5 string: every character in it is text (a quote is written twice)."""
    return '"' + text.replace('"', '""') + '"'


def spelled_out(conn: Connection, terms: Iterable[Term]) -> dict[Term, str]:
    """The FTS5 phrase of each term that is a prefix, as an OR of the words it begins.

    Terms left out (quoted ones, and prefixes beginning no word or too many) are asked as
    FTS5 would have them (`memory.search_sqlite._phrase`).
    """
    found: dict[Term, str] = {}
    created = False
    for term in terms:
        if term.exact or term in found:
            continue
        words = split_words(term.text)
        if not words:
            continue
        if not created:
            for statement in _VOCABULARY_DDL:
                conn.exec_driver_sql(statement)
            created = True
        last = words[-1]
        # The vocabulary counts each word's matches as it lists it: starting just after the
        # word itself (no word holds a NUL) spares the count of the commonest one, which is
        # asked for whether or not the index holds it (a word it lacks matches nothing).
        longer = [
            row[0]
            for row in conn.exec_driver_sql(
                f"SELECT term FROM ({_WORDS}) ORDER BY term",
                (last + "\x00", last + _LAST, MAX_WORDS) * len(VOCABULARIES),
            )
        ]
        if len(longer) >= MAX_WORDS:
            continue
        head = " ".join(words[:-1] + [""])
        phrases = [quoted(head + word) for word in [last, *longer]]
        found[term] = phrases[0] if len(phrases) == 1 else "(" + " OR ".join(phrases) + ")"
    return found
