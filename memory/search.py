"""Full-text search of the mail cache: one query language, an index on each database.

The query is parsed once (`memory.search_query`) and handed to the database's own index:
SQLite's FTS5 table (`memory.search_sqlite`) or PostgreSQL's `tsvector` column
(`memory.search_postgres`). Both split text into the same words and rank with the same formula
(`memory.search_rank`), so a query returns the same messages on either; both read the matches
newest first and stop once no unread one can make the list (`memory.search_walk`). Migration
step 11 (`create_search_index`) builds the index and fills it from the messages already cached;
step 12 (`create_search_walk_indexes`) adds the indexes that walk reads by; step 13
(`key_search_index_by_date`) keys SQLite's index by date, so a read of some days is a range;
step 14 (`split_search_index`) splits SQLite's index in two, the body apart from the rest;
step 15 (`index_search_folders`) indexes SQLite's folders, step 16 (`index_search_folder_days`)
PostgreSQL's folders with their days; step 17 (`keep_search_documents_inline`) keeps
PostgreSQL's documents in their rows; step 18 (`keep_search_pending_lists_short`) its GIN
indexes' pending lists short; step 19 (`index_search_behind_writes`) lets SQLite's index be
behind a large write until it catches up (`memory.search_catch_up`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.engine import Connection, Engine

from memory import search_postgres, search_postgres_index, search_sqlite, search_sqlite_index
from memory.search_catch_up import catch_up_now
from memory.search_query import SearchQuery
from memory.search_rank import day_number
from memory.search_walk import FIRST_WINDOW


def create_search_index(conn: Connection) -> None:
    """Migration step 11: the full-text index of the `email` table, filled from its rows."""
    if conn.dialect.name == "postgresql":
        search_postgres_index.create_index(conn)
    elif conn.dialect.name == "sqlite":
        search_sqlite_index.create_index(conn)
    else:
        raise NotImplementedError(f"no full-text search for {conn.dialect.name}")


def create_search_walk_indexes(conn: Connection) -> None:
    """Migration step 12: the indexes that let a search read its matches newest first.

    Both databases: the `day_number` of each message's date (`ix_email_search_day`) and the
    messages whose date names a month or day that does not exist (`ix_email_search_odd`);
    PostgreSQL also the subject, the sender and the attachment names on their own
    (`ix_email_search_subject`, ...), since its full-text index cannot tell the parts apart
    (FTS5's can).
    """
    if conn.dialect.name == "postgresql":
        for statement in search_postgres_index.INDEXES:
            conn.exec_driver_sql(statement)
        conn.exec_driver_sql("ANALYZE email")
    elif conn.dialect.name == "sqlite":
        for statement in search_sqlite.INDEXES:
            conn.exec_driver_sql(statement)
    else:
        raise NotImplementedError(f"no full-text search for {conn.dialect.name}")


def key_search_index_by_date(conn: Connection) -> None:
    """Migration step 13: the full-text index read by ranges of days.

    SQLite: the FTS5 index's keys become date-ordered (`search_sqlite_index.key_index_by_date`), so
    a window of days is a range of keys FTS5 reads without touching the other matches.
    PostgreSQL: nothing to add (its reads follow the day index of step 12).
    """
    if conn.dialect.name == "sqlite":
        search_sqlite_index.key_index_by_date(conn)
    elif conn.dialect.name != "postgresql":
        raise NotImplementedError(f"no full-text search for {conn.dialect.name}")


def index_search_folders(conn: Connection) -> None:
    """Migration step 15: SQLite's index of a message's folder as `folder:` compares it.

    SQLite: `search_sqlite.FOLDER_INDEX`, so a search in a folder drops the other folders'
    matches before reading their rows. PostgreSQL: nothing (its reads filter the rows).
    """
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(search_sqlite.FOLDER_INDEX)
    elif conn.dialect.name != "postgresql":
        raise NotImplementedError(f"no full-text search for {conn.dialect.name}")


def index_search_folder_days(conn: Connection) -> None:
    """Migration step 16: PostgreSQL's index of each message's folder and day.

    PostgreSQL: `search_postgres_index.FOLDER_DAYS`, so a window of a search in a folder reads
    that folder's rows of its days only. SQLite: nothing (step 15's index of the folder drops
    the other folders' matches, which FTS5 finds by their days).
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(search_postgres_index.FOLDER_DAYS)
        conn.exec_driver_sql("ANALYZE email")
    elif conn.dialect.name != "sqlite":
        raise NotImplementedError(f"no full-text search for {conn.dialect.name}")


def keep_search_documents_inline(conn: Connection) -> None:
    """Migration step 17: PostgreSQL's `search_doc` of each message kept in its row.

    PostgreSQL: `search_postgres_index.keep_documents_inline` (a search tests the document of
    every row it reads; one in the TOAST table costs two more page reads). SQLite: nothing.
    """
    if conn.dialect.name == "postgresql":
        search_postgres_index.keep_documents_inline(conn)
    elif conn.dialect.name != "sqlite":
        raise NotImplementedError(f"no full-text search for {conn.dialect.name}")


def keep_search_pending_lists_short(conn: Connection) -> None:
    """Migration step 18: PostgreSQL's GIN indexes of a search with short pending lists.

    PostgreSQL: `search_postgres_index.keep_pending_lists_short` (every look-up reads a GIN
    index's whole pending list). SQLite: nothing.
    """
    if conn.dialect.name == "postgresql":
        search_postgres_index.keep_pending_lists_short(conn)
    elif conn.dialect.name != "sqlite":
        raise NotImplementedError(f"no full-text search for {conn.dialect.name}")


def split_search_index(conn: Connection) -> None:
    """Migration step 14: SQLite's index as two tables, the subject, sender and attachments apart.

    SQLite: `search_sqlite_index.split_index`, so the points of the small parts are read without the
    body's positions. PostgreSQL: nothing to change (its part indexes are apart already).
    """
    if conn.dialect.name == "sqlite":
        search_sqlite_index.split_index(conn)
    elif conn.dialect.name != "postgresql":
        raise NotImplementedError(f"no full-text search for {conn.dialect.name}")


def index_search_behind_writes(conn: Connection) -> None:
    """Migration step 19: SQLite's index may be behind a large write, up to a mark.

    SQLite: `search_sqlite_index.index_behind_writes`, so a first fetch writes its rows without
    waiting for FTS5, which catches up beside the work that follows. PostgreSQL: nothing (each
    row's document is written with it).
    """
    if conn.dialect.name == "sqlite":
        search_sqlite_index.index_behind_writes(conn)
    elif conn.dialect.name != "postgresql":
        raise NotImplementedError(f"no full-text search for {conn.dialect.name}")


def search_stored(
    engine: Engine,
    query: SearchQuery,
    *,
    source: str | None = None,
    folder: str | None = None,
    limit: int = 20,
    today: date | None = None,
    first_window: int = FIRST_WINDOW,
) -> list[str]:
    """The stored JSON (`email.data`) of the best `limit` matches, best first.

    `source` and `folder` keep one mailbox and one folder (exact names); `today` is the day
    recency is counted from (the current UTC day unless given). `first_window` is how many
    messages the first read of `memory.search_walk` takes (0: rank every match at once).
    """
    filters = {"source": source, "folder": folder}
    day = day_number(today or datetime.now(UTC).date())
    backend = search_postgres if engine.dialect.name == "postgresql" else search_sqlite
    catch_up_now(engine)  # rows a large write left for SQLite's index (`memory.search_catch_up`)
    with engine.connect() as conn:
        found: list[str] = backend.search(conn, query, filters, max(1, limit), day, first_window)
    return found
