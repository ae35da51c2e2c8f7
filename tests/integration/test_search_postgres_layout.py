"""How PostgreSQL stores what a search reads: steps 16 to 18 on a cache made by step 15.

Step 16 adds the index of each message's folder and day; step 17 keeps each message's
`search_doc` in its row; step 18 keeps the GIN indexes' pending lists short. Whether a document
is in the row is measured, not inferred: reading it costs more buffers than reading the subject
of the same row only when it lies in the TOAST table (its index and its pages).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection

from memory.db import AppDatabase
from memory.migrations import applied_versions, latest_version
from memory.search_postgres_index import GIN_INDEXES, PENDING_LIST_KB
from tests.search_corpus import SOURCE, TEAM, TODAY, _mail

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def _words(first: int, count: int) -> str:
    return " ".join(f"w{n:04d}x" for n in range(first, first + count))


MAIL = (
    # About 100 distinct words: a document of about 1.5 kB, in a row of more than 2 kB.
    _mail("big-1", TEAM, "roadmap review", "2026-11-20", _words(0, 100), folder="Archive"),
    _mail("big-2", TEAM, "budget", "2026-11-21", "roadmap " + _words(100, 100)),
    _mail("big-3", TEAM, "roadmap", "2026-11-22", _words(200, 100), folder="Archive"),
    _mail("small", TEAM, "roadmap", "2026-11-23", "short", folder="Archive"),
    # Too large for any row: its document stays out of line.
    _mail("huge", TEAM, "roadmap", "2026-11-24", _words(1000, 3000), folder="Archive"),
)
QUERIES = ("roadmap", "folder:archive roadmap", "w0150x", "w01*", "folder:archive w02", "review")


def _blocks(conn: Connection, column: str, id: str) -> int:
    plan = conn.execute(
        text(
            "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "
            f"SELECT length(CAST({column} AS text)) FROM email WHERE id = :id"
        ),
        {"id": id},
    ).scalar_one()
    top = (plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]
    return int(top["Shared Hit Blocks"]) + int(top["Shared Read Blocks"])


def out_of_line(conn: Connection, id: str) -> bool:
    """Whether the message's document is read from the TOAST table."""
    return _blocks(conn, "search_doc", id) > _blocks(conn, "subject", id)


def found(db: AppDatabase, query: str) -> list[str]:
    return [e.id for e in db.list_emails(source=SOURCE, query=query, today=TODAY)]


def _storage(conn: Connection) -> Any:
    return conn.exec_driver_sql(
        "SELECT attstorage FROM pg_attribute WHERE attrelid = 'email'::regclass "
        "AND attname = 'search_doc'"
    ).scalar_one()


def _pending_list_limits(conn: Connection) -> set[Any]:
    """The options of the four GIN indexes, as a set of tuples (None: no option set)."""
    rows = conn.execute(
        text("SELECT c.reloptions FROM pg_class c WHERE c.relname = ANY(:names)"),
        {"names": list(GIN_INDEXES)},
    ).all()
    assert len(rows) == len(GIN_INDEXES)
    return {tuple(row[0]) if row[0] else None for row in rows}


def test_a_cache_of_step_15_gets_the_folder_index_and_documents_in_their_rows(
    postgres_url: str,
) -> None:
    before = AppDatabase(postgres_url)
    with before.engine.begin() as conn:  # the database as step 15 left it
        conn.exec_driver_sql("DELETE FROM schema_version WHERE version > 15")
        conn.exec_driver_sql("DROP INDEX ix_email_search_folder_day")
        conn.exec_driver_sql("ALTER TABLE email ALTER COLUMN search_doc SET STORAGE EXTENDED")
        for name in GIN_INDEXES:
            conn.exec_driver_sql(f"ALTER INDEX {name} RESET (gin_pending_list_limit)")
    before.add_emails(MAIL)
    expected = {query: found(before, query) for query in QUERIES}
    with before.engine.connect() as conn:
        assert _storage(conn) == "x" and _pending_list_limits(conn) == {None}
        assert [out_of_line(conn, m.id) for m in MAIL] == [True, True, True, False, True]
    before.engine.dispose()

    db = AppDatabase(postgres_url)
    assert applied_versions(db.engine)[-1] == latest_version() >= 18
    with db.engine.connect() as conn:
        assert _storage(conn) == "m"
        assert _pending_list_limits(conn) == {(f"gin_pending_list_limit={PENDING_LIST_KB}",)}
        assert [out_of_line(conn, m.id) for m in MAIL] == [False, False, False, False, True]
        assert (
            conn.exec_driver_sql(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_email_search_folder_day'"
            )
            .scalar_one()
            .startswith("CREATE INDEX ix_email_search_folder_day ON public.email")
        )
    assert {query: found(db, query) for query in QUERIES} == expected
    assert expected["folder:archive roadmap"] == ["huge", "small", "big-3", "big-1"]
    assert expected["w0150x"] == ["big-2"]


def test_documents_written_after_step_17_stay_in_their_rows(postgres_url: str) -> None:
    db = AppDatabase(postgres_url)
    db.add_emails(MAIL)
    with db.engine.connect() as conn:
        assert [out_of_line(conn, m.id) for m in MAIL] == [False, False, False, False, True]
    assert found(db, "folder:archive w02") == ["big-3"]
    assert found(db, "w0150x") == ["big-2"]
