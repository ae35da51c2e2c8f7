"""Several processes opening one new SQLite database at the same moment.

Switching to WAL needs a moment of exclusive access, and SQLite answers "database is locked" at
once (without waiting) when another process opens the file then. Every opener must retry.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import aiosqlite
import pytest

from memory.sqlite_wal import enable_wal, enable_wal_async

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
OPENER = textwrap.dedent(
    """
    import os, sqlite3, sys, time
    from memory.sqlite_wal import enable_wal
    path, go = sys.argv[1], sys.argv[2]
    while not os.path.exists(go):
        time.sleep(0.001)
    conn = sqlite3.connect(path, isolation_level=None)
    enable_wal(conn.execute)
    conn.execute("CREATE TABLE IF NOT EXISTS opened (pid INTEGER)")
    conn.execute("INSERT INTO opened VALUES (?)", (os.getpid(),))
    """
)
PROCESSES = 6
ROUNDS = 5


def test_processes_opening_a_new_database_together_all_get_in(tmp_path: Path) -> None:
    # Without the retry about one round in five loses a process to "database is locked".
    for round_ in range(ROUNDS):
        path, go = tmp_path / f"race-{round_}.db", tmp_path / f"go-{round_}"
        children = [
            subprocess.Popen(
                [sys.executable, "-c", OPENER, str(path), str(go)],
                cwd=ROOT,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(PROCESSES)
        ]
        time.sleep(1.0)  # every child has imported and waits on the signal
        go.touch()
        for child in children:
            _, err = child.communicate(timeout=60)
            assert child.returncode == 0, err
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
            assert db.execute("SELECT COUNT(*) FROM opened").fetchone() == (PROCESSES,)


class _LockedAtFirst:
    """A DB-API `execute` whose WAL switch meets a lock `times` times, then goes through."""

    def __init__(self, times: int, error: str = "database is locked") -> None:
        self.left, self.error, self.seen = times, error, []

    def __call__(self, sql: str) -> None:
        self.seen.append(sql)
        if "journal_mode" in sql and self.left:
            self.left -= 1
            raise sqlite3.OperationalError(self.error)


def test_the_busy_timeout_is_set_before_the_switch_and_a_lock_is_retried() -> None:
    execute = _LockedAtFirst(times=2)
    enable_wal(execute)
    assert execute.seen[0].startswith("PRAGMA busy_timeout=")
    assert execute.seen[1:] == ["PRAGMA journal_mode=WAL"] * 3


def test_an_error_other_than_a_lock_is_not_retried() -> None:
    execute = _LockedAtFirst(times=1, error="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        enable_wal(execute)
    assert execute.seen.count("PRAGMA journal_mode=WAL") == 1


def test_the_async_opener_switches_a_real_database(tmp_path: Path) -> None:
    async def switch() -> tuple[str, int]:
        async with aiosqlite.connect(str(tmp_path / "async.db")) as conn:
            await enable_wal_async(conn.execute)
            mode = await (await conn.execute("PRAGMA journal_mode")).fetchone()
            timeout = await (await conn.execute("PRAGMA busy_timeout")).fetchone()
            return mode[0], timeout[0]

    assert asyncio.run(switch()) == ("wal", 30_000)
