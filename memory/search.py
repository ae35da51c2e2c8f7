"""Full-text search of the mail cache: one query language, an index on each database.

The query is parsed once (`memory.search_query`) and handed to the database's own index:
SQLite's FTS5 table (`memory.search_sqlite`) or PostgreSQL's `tsvector` column
(`memory.search_postgres`). Both split text into the same words and rank with the same formula
(`memory.search_rank`), so a query returns the same messages on either; both read the matches
newest first and stop once no unread one can make the list (`memory.search_walk`). Migration
step 11 (`create_search_index`) builds the index and fills it from the messages already cached;
step 12 (`create_search_walk_indexes`) adds the indexes that walk reads by.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.engine import Connection, Engine

from memory import search_postgres, search_sqlite
from memory.search_query import SearchQuery
from memory.search_rank import day_number
from memory.search_walk import WINDOWS


def create_search_index(conn: Connection) -> None:
    """Migration step 11: the full-text index of the `email` table, filled from its rows."""
    if conn.dialect.name == "postgresql":
        search_postgres.create_index(conn)
    elif conn.dialect.name == "sqlite":
        search_sqlite.create_index(conn)
    else:
        raise NotImplementedError(f"no full-text search for {conn.dialect.name}")


def create_search_walk_indexes(conn: Connection) -> None:
    """Migration step 12: the indexes that let a search read its matches newest first.

    Both databases: the `day_number` of each message's date (`ix_email_search_day`);
    PostgreSQL also the index of the parts other than the body (`ix_email_search_head`), since
    its full-text index cannot tell one part from another (FTS5's can).
    """
    if conn.dialect.name == "postgresql":
        for statement in search_postgres.INDEXES:
            conn.exec_driver_sql(statement)
        conn.exec_driver_sql("ANALYZE email")
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql(search_sqlite.DAY_INDEX)
    else:
        raise NotImplementedError(f"no full-text search for {conn.dialect.name}")


def search_stored(
    engine: Engine,
    query: SearchQuery,
    *,
    source: str | None = None,
    folder: str | None = None,
    limit: int = 20,
    today: date | None = None,
    windows: tuple[int, ...] = WINDOWS,
) -> list[str]:
    """The stored JSON (`email.data`) of the best `limit` matches, best first.

    `source` and `folder` keep one mailbox and one folder (exact names); `today` is the day
    recency is counted from (the current UTC day unless given). `windows` is how many dated
    messages each read of `memory.search_walk` takes (none: rank every match at once).
    """
    filters = {"source": source, "folder": folder}
    day = day_number(today or datetime.now(UTC).date())
    backend = search_postgres if engine.dialect.name == "postgresql" else search_sqlite
    with engine.connect() as conn:
        found: list[str] = backend.search(conn, query, filters, max(1, limit), day, windows)
    return found
