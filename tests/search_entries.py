"""What SQLite's search index holds, compared with what it should hold for the cached rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from memory.search_sqlite_index import FILL, MARK, TABLES


def entries(raw: sqlite3.Connection, schema: str, table: str) -> list[tuple[str, int, str, int]]:
    """Every word FTS5 holds in `table`: (word, key, column, position)."""
    vocabulary = f"temp.words_{schema}_{table}"
    raw.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {vocabulary} "
        f"USING fts5vocab({schema}, '{table}', 'instance')"
    )
    return sorted(raw.execute(f"SELECT term, doc, col, offset FROM {vocabulary}"))


def assert_index_exact(path: Path) -> None:
    """Both tables hold exactly the words of the cached rows, under their keys, nothing more.

    Compared with tables filled afresh from `email` by `FILL`: an entry a trigger left behind
    (a delete told other values than those indexed, a table the trigger forgot) shows here.
    The rows a large write left above the index's mark for a catch-up must not be there yet:
    exactly the rows up to it are (`memory.search_sqlite_index.MARK`).
    """
    with sqlite3.connect(path) as raw:
        for (name, columns, _), fill in zip(TABLES, FILL, strict=True):
            raw.execute(
                f"CREATE VIRTUAL TABLE temp.{name} USING fts5({', '.join(columns)}, "
                "tokenize='unicode61 remove_diacritics 2')"
            )
            raw.execute(
                fill.replace(f"INSERT INTO {name}(", f"INSERT INTO temp.{name}(", 1)
                + f" WHERE rowid <= (SELECT upto FROM main.{MARK})"
            )
            held, fresh = entries(raw, "main", name), entries(raw, "temp", name)
            assert held == fresh, name
            assert {column for _, _, column, _ in held} <= set(columns)
