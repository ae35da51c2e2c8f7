"""Switching a SQLite database to write-ahead logging when several processes open it at once.

`PRAGMA journal_mode=WAL` needs a moment of exclusive access. When another process opens the
same new database at that moment, SQLite answers "database is locked" at once, without waiting
out the busy timeout (waiting could deadlock). Every connection we open therefore sets its busy
timeout first and retries the switch until the timeout has passed.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import Any

BUSY_TIMEOUT_SECONDS = 30
BUSY_TIMEOUT_MS = BUSY_TIMEOUT_SECONDS * 1000
_FIRST_PAUSE_SECONDS = 0.02
_LONGEST_PAUSE_SECONDS = 0.5


def _locked(err: sqlite3.OperationalError) -> bool:
    message = str(err).lower()
    return "locked" in message or "busy" in message


def _pauses() -> list[float]:
    pauses, pause, total = [], _FIRST_PAUSE_SECONDS, 0.0
    while total < BUSY_TIMEOUT_SECONDS:
        pauses.append(pause)
        total += pause
        pause = min(pause * 2, _LONGEST_PAUSE_SECONDS)
    return pauses


def enable_wal(execute: Callable[[str], Any]) -> None:
    """Set the busy timeout and WAL mode through `execute` (a DB-API `execute`), retrying."""
    execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    for pause in [*_pauses(), None]:
        try:
            execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as err:
            if pause is None or not _locked(err):
                raise
            time.sleep(pause)


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """SQLAlchemy's `connect` listener: `enable_wal` on each new connection of an engine."""
    cursor = dbapi_connection.cursor()
    try:
        enable_wal(cursor.execute)
    finally:
        cursor.close()


async def enable_wal_async(execute: Callable[[str], Awaitable[Any]]) -> None:
    """`enable_wal` for an async connection (aiosqlite's `execute`)."""
    await execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    for pause in [*_pauses(), None]:
        try:
            await execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as err:
            if pause is None or not _locked(err):
                raise
            await asyncio.sleep(pause)
