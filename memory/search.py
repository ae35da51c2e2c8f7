"""Full-text search of the mail cache: one query language, an index on each database.

The query is parsed once (`memory.search_query`) and handed to the database's own index:
SQLite's FTS5 table (`memory.search_sqlite`) or PostgreSQL's `tsvector` column
(`memory.search_postgres`). Both split text into the same words and rank with the same formula
(`memory.search_rank`), so a query returns the same messages on either. Migration step 11
(`create_search_index`) builds the index and fills it from the messages already cached.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.engine import Connection, Engine

from memory import search_postgres, search_sqlite
from memory.search_query import SearchQuery
from memory.search_rank import day_number


def create_search_index(conn: Connection) -> None:
    """Migration step 11: the full-text index of the `email` table, filled from its rows."""
    if conn.dialect.name == "postgresql":
        search_postgres.create_index(conn)
    elif conn.dialect.name == "sqlite":
        search_sqlite.create_index(conn)
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
) -> list[str]:
    """The stored JSON (`email.data`) of the best `limit` matches, best first.

    `source` and `folder` keep one mailbox and one folder (exact names); `today` is the day
    recency is counted from (the current UTC day unless given).
    """
    filters = {"source": source, "folder": folder}
    day = day_number(today or datetime.now(UTC).date())
    backend = search_postgres if engine.dialect.name == "postgresql" else search_sqlite
    with engine.connect() as conn:
        found: list[str] = backend.search(conn, query, filters, max(1, limit), day)
    return found
