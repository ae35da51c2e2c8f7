"""SQLite's search index catching up with a large write, beside the work that follows it.

A large write to the mail cache leaves its rows above the index's mark
(`search_sqlite_index.insert_behind`): the fetch that wrote them goes on without waiting for
FTS5. `IndexCatchUp` then indexes them in a thread of its own, while the process goes on (a
first triage's rules, the table): SQLite runs the one statement per table without holding
Python's lock, so on a machine with a core to spare the index costs the command no time.

A search never depends on that thread: it catches the index up itself before reading
(`catch_up_now`), so mail written by a process that ended or crashed before its thread was done
is found all the same, and a catch-up that fails fails the search with its error, never an
empty list. Two catch-ups (threads or processes) take the write lock before reading the mark,
so a row is never indexed twice.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.engine import Engine

from memory.search_sqlite_index import behind, catch_up

log = logging.getLogger(__name__)


def catch_up_now(engine: Engine) -> int:
    """Index whatever SQLite's index is behind on; returns how many rows (blocking).

    In transactions of `CATCH_UP_ROWS` rows, so another writer waits a fraction of a second
    at most, and memory stays flat for a fetch of any size. On PostgreSQL nothing is ever
    behind (each row's document is written with it): 0, without a query.
    """
    if engine.dialect.name != "sqlite":
        return 0
    with engine.connect() as conn:
        if not behind(conn):
            return 0
    total = 0
    while True:
        with engine.begin() as conn:
            indexed = catch_up(conn)
        if not indexed:
            return total
        total += indexed


class IndexCatchUp:
    """One thread at a time that brings the index of `engine` (SQLite) up to the cache."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._again = False

    def start(self) -> None:
        """Catch up soon, in the thread; a write while it runs makes it look once more.

        The thread is not a daemon: a process that is ending waits for it (seconds at most,
        for 100,000 messages), so its mail is searchable without a later search's wait.
        """
        with self._lock:
            self._again = True
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._run, name="search-index", daemon=False)
            self._thread.start()

    def wait(self) -> None:
        """Return once no catch-up is running (tests, and before the engine is closed)."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._again:
                    self._thread = None
                    return
                self._again = False
            try:
                catch_up_now(self._engine)
            except Exception as err:  # noqa: BLE001 - the next search catches up and says why
                reason = getattr(err, "orig", None) or err
                log.warning("the search index could not catch up yet: %s", reason)
