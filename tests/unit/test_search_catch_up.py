"""SQLite's search index may be behind a large write, and is never wrong or missing for it.

A large write leaves its rows above the index's mark; a fetch's thread or the next search
indexes them (`memory.search_catch_up`). Each test below also tries what would walk around
the mark: a write while rows wait, a process that never ran its thread, two catch-ups at
once, a row moved to another rowid, an old database's triggers.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event

from memory import search_catch_up
from memory.db import BULK_INDEX_FROM, AppDatabase
from memory.mail_model import Email
from memory.migrations import STEPS, migrate
from memory.search_catch_up import catch_up_now
from memory.search_sqlite_index import (
    _REFUSE,
    MARK,
    MOVED,
    _add,
    _remove,
    catch_up,
    connect_search_tables,
)
from tests.search_corpus import CORPUS, SOURCE, TODAY
from tests.search_entries import assert_index_exact
from tools.mail.sync import sync_source

RELEASE_18_TRIGGERS = {
    "insert": f"AFTER INSERT ON email BEGIN {_REFUSE} {_add('new')} END",
    "delete": f"AFTER DELETE ON email BEGIN {_remove('old')} END",
    "update": f"AFTER UPDATE ON email BEGIN {_REFUSE} {_remove('old')} {_add('new')} END",
}
"""What steps 11-18 wrote: every write indexed as it happens."""


def _many(count: int, word: str = "bulk") -> list[Email]:
    return [
        replace(CORPUS[0], id=f"{word}-{n}", key=f"{word}-{n}", subject=f"{word} {n}",
                body=f"body of {word} {n}", from_name="Bulk", from_addr="bulk@example.com")
        for n in range(count)
    ]  # fmt: skip


def _mark(path: Path) -> tuple[int, int]:
    """(the mark, the highest rowid of the cache)."""
    with sqlite3.connect(path) as raw:
        upto = raw.execute(f"SELECT upto FROM {MARK}").fetchone()[0]
        highest = raw.execute("SELECT coalesce(max(rowid), 0) FROM email").fetchone()[0]
    return upto, highest


def _indexed(path: Path, word: str) -> int:
    with sqlite3.connect(path) as raw:
        found = raw.execute(
            "SELECT count(*) FROM email_fts_head WHERE email_fts_head MATCH ?", (word,)
        )
        return int(found.fetchone()[0])


def _found(db: AppDatabase, query: str) -> list[str]:
    return sorted(e.id for e in db.list_emails(source=SOURCE, query=query, limit=5000, today=TODAY))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "app.db"


@pytest.fixture
def db(path: Path) -> AppDatabase:
    return AppDatabase(f"sqlite:///{path}")


def test_a_large_write_waits_for_the_index_and_a_search_catches_it_up(
    db: AppDatabase, path: Path
) -> None:
    db.add_emails(CORPUS)  # small: the trigger indexes it at once and moves the mark
    upto, highest = _mark(path)
    assert upto == highest == len(CORPUS)
    db.add_emails(_many(BULK_INDEX_FROM + 20))
    assert _mark(path) == (len(CORPUS), len(CORPUS) + BULK_INDEX_FROM + 20)
    assert _indexed(path, "bulk") == 0  # above the mark: not in the index yet ...
    assert_index_exact(path)  # ... and the rows up to it exactly are
    # A process that wrote and ended before any thread ran: another opens the file and
    # searches; it indexes what waits before reading, so nothing is missing.
    again = AppDatabase(f"sqlite:///{path}")
    assert len(_found(again, "bulk")) == BULK_INDEX_FROM + 20
    assert _mark(path)[0] == _mark(path)[1]
    assert_index_exact(path)
    assert catch_up_now(again.engine) == 0  # nothing twice


def test_rows_changed_or_removed_while_they_wait_are_indexed_as_they_are(
    db: AppDatabase, path: Path
) -> None:
    """The walk-around of the triggers' mark: a write to a waiting row, and to an indexed one."""
    many = _many(BULK_INDEX_FROM + 5)
    db.add_emails(CORPUS)
    db.add_emails(many)
    with sqlite3.connect(path) as raw:  # behind the product's back, as another tool might
        raw.execute("UPDATE email SET subject = 'renamed waiting' WHERE id = 'bulk-3'")
        raw.execute("DELETE FROM email WHERE id = 'bulk-4'")
        raw.execute("UPDATE email SET subject = 'renamed indexed' WHERE id = 'inv-2'")
    late = replace(CORPUS[0], id="late-1", key="late-1", subject="zebrafinch arrival")
    db.add_emails([late])  # a new row while rows wait: it waits too, after them
    assert _indexed(path, "zebrafinch") == 0
    assert_index_exact(path)
    assert _found(db, "zebrafinch") == ["late-1"]
    assert _found(db, "renamed") == ["bulk-3", "inv-2"]
    assert _found(db, '"bulk 4"') == []  # removed while it waited: never indexed
    assert len(_found(db, "bulk")) == len(many) - 1
    assert_index_exact(path)


def test_a_catch_up_goes_a_few_rows_at_a_time(db: AppDatabase, path: Path) -> None:
    """Each transaction indexes at most its share; the rows after it still wait, unindexed."""
    db.add_emails(CORPUS)
    db.add_emails(_many(BULK_INDEX_FROM + 30))
    first = len(CORPUS)
    with db.engine.begin() as conn:
        assert catch_up(conn, rows=50) == 50
    assert _mark(path) == (first + 50, first + BULK_INDEX_FROM + 30)
    assert_index_exact(path)  # the 50 exactly, none of the others
    with db.engine.begin() as conn:
        assert catch_up(conn, rows=10_000) == BULK_INDEX_FROM - 20
        assert catch_up(conn, rows=10_000) == 0
    assert _mark(path)[0] == _mark(path)[1]
    assert_index_exact(path)


def test_two_catch_ups_at_once_index_each_row_once(db: AppDatabase, path: Path) -> None:
    db.add_emails(_many(3 * BULK_INDEX_FROM))
    others = [AppDatabase(f"sqlite:///{path}") for _ in range(3)]
    start = threading.Barrier(len(others))
    counts: list[int] = []

    def race(other: AppDatabase) -> None:
        start.wait()
        counts.append(catch_up_now(other.engine))

    threads = [threading.Thread(target=race, args=(other,)) for other in others]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(counts) == [0, 0, 3 * BULK_INDEX_FROM]
    assert_index_exact(path)


def test_a_fetch_indexes_its_mail_in_a_thread_while_others_write(
    db: AppDatabase, path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The thread holds the write lock while the fetch writes its next batch: the batch waits.

    Here the thread is started after every batch, not once after the fetch, so that it
    indexes while the fetch (parsing in worker processes) writes. The bulk write once dropped
    and re-made the insert trigger: a change of the schema, after which a connection that had
    not seen it read it again inside its write and failed at once ("database is locked")
    instead of waiting.
    """
    from bench.mailgen import generate_maildir

    root = tmp_path / "Maildir"
    generate_maildir(root, 4000, seed=3)
    add_emails = db.add_emails

    def add_then_index(emails: list[Email]) -> list[Email]:
        stored = add_emails(emails)
        db.search_index.start()
        return stored

    monkeypatch.setattr(db, "add_emails", add_then_index)
    result = sync_source(db, f"maildir:{root}")
    db.search_index.wait()
    assert len(result.new) == 4000
    upto, highest = _mark(path)
    assert upto == highest == 4000
    assert_index_exact(path)


def test_a_connection_waits_for_the_write_lock_instead_of_failing(
    db: AppDatabase, path: Path
) -> None:
    """Its first write to `email` uses FTS5's tables: their opening must not come inside it.

    A connection that had read the schema but not yet used FTS5 was
    refused its write at once ("database is locked") while another connection (a catch-up,
    another process's fetch) held the lock; opened at connect (`connect_search_tables`, which
    every connection of the app's engine runs), it waits for the lock like any write.
    """
    assert event.contains(db.engine, "connect", connect_search_tables)
    db.add_emails(CORPUS)
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("PRAGMA busy_timeout=30000")
    writer.execute("SELECT count(*) FROM email").fetchall()  # the schema read, FTS5 not used
    connect_search_tables(writer)
    db.add_emails(_many(BULK_INDEX_FROM))  # the index changes meanwhile, as a fetch would
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    released = threading.Timer(0.3, holder.execute, args=("COMMIT",))
    released.start()
    writer.execute("BEGIN")
    writer.execute("UPDATE email SET subject = 'zebrafinch again' WHERE id = 'inv-2'")
    writer.execute("COMMIT")
    released.join()
    holder.close()
    writer.close()
    assert _found(db, "zebrafinch") == ["inv-2"]
    assert_index_exact(path)


def test_a_row_moved_to_another_rowid_is_refused(db: AppDatabase, path: Path) -> None:
    db.add_emails(CORPUS)
    with sqlite3.connect(path) as raw, pytest.raises(sqlite3.IntegrityError, match=MOVED):
        raw.execute("UPDATE email SET rowid = 1000 WHERE id = 'inv-2'")
    db.add_emails(_many(BULK_INDEX_FROM))
    with sqlite3.connect(path) as raw, pytest.raises(sqlite3.IntegrityError, match=MOVED):
        raw.execute("UPDATE email SET rowid = 5000 WHERE id = 'bulk-1'")  # a waiting row too
    assert len(_found(db, "bulk")) == BULK_INDEX_FROM
    assert_index_exact(path)


def test_a_catch_up_that_fails_in_the_thread_is_said_and_the_search_does_it(
    db: AppDatabase, path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    db.add_emails(_many(BULK_INDEX_FROM))

    def locked(_: object) -> int:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(search_catch_up, "catch_up", locked)
    with caplog.at_level(logging.WARNING, logger="memory.search_catch_up"):
        db.search_index.start()
        db.search_index.wait()
    assert "could not catch up yet: database is locked" in caplog.text
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        db.list_emails(query="bulk")  # an error, never an empty list
    monkeypatch.undo()
    assert len(_found(db, "bulk")) == BULK_INDEX_FROM


def test_a_database_indexed_row_by_row_gets_its_mark_when_opened(path: Path) -> None:
    """Step 19 on a file of steps 1-18: every row was indexed by the old triggers."""
    engine = create_engine(f"sqlite:///{path}")
    migrate(engine, STEPS[:18])
    engine.dispose()
    with sqlite3.connect(path) as raw:  # the triggers of steps 11-18, which had no mark
        raw.execute(f"DROP TABLE {MARK}")
        for name, body in RELEASE_18_TRIGGERS.items():
            raw.execute(f"DROP TRIGGER email_fts_{name}")
            raw.execute(f"CREATE TRIGGER email_fts_{name} {body}")
    before = AppDatabase.__new__(AppDatabase)  # no migration: write as release 18 did
    before.engine = create_engine(f"sqlite:///{path}")
    for email in CORPUS:
        before.add_emails([email])  # one row at a time: the old trigger indexes each
    before.engine.dispose()
    db = AppDatabase(f"sqlite:///{path}")
    assert _mark(path) == (len(CORPUS), len(CORPUS))
    assert_index_exact(path)
    assert _found(db, "receipt") == ["inv-2"]
    db.add_emails(_many(BULK_INDEX_FROM))
    assert len(_found(db, "bulk")) == BULK_INDEX_FROM
    assert_index_exact(path)


def test_a_fetch_starts_the_catch_up_only_when_it_stored_mail(
    db: AppDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every chat turn fetches: one that finds nothing new must not start a thread."""
    from bench.mailgen import generate_maildir

    root = tmp_path / "Maildir"
    generate_maildir(root, 30, seed=5)
    started: list[int] = []
    monkeypatch.setattr(db.search_index, "start", lambda: started.append(1))
    assert sync_source(db, f"maildir:{root}").new and started == [1]
    assert not sync_source(db, f"maildir:{root}").new and started == [1]
    # The walk-around: a fetch that fails (after storing batches, perhaps) still starts it.
    other = AppDatabase(f"sqlite:///{tmp_path / 'other.db'}")
    monkeypatch.setattr(other.search_index, "start", lambda: started.append(2))
    monkeypatch.setattr(other, "add_emails", lambda _: (_ for _ in ()).throw(OSError("full")))
    with pytest.raises(OSError, match="full"):
        sync_source(other, f"maildir:{root}")
    assert started == [1, 2]
    other.engine.dispose()


def test_postgresql_is_never_behind_and_is_not_asked() -> None:
    """A fetch on PostgreSQL starts the catch-up too; it must neither query nor warn there."""
    nowhere = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")  # never connected
    assert catch_up_now(nowhere) == 0
    nowhere.dispose()
