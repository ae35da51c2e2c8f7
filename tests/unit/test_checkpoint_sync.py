"""The checkpoint file trades the last steps on a power loss for speed; the ledger does not."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

from memory.checkpointer import SqliteCheckpointer, open_checkpointer
from memory.db import AppDatabase

NORMAL, FULL = 1, 2


async def test_the_checkpoint_file_syncs_at_wal_checkpoints(tmp_path: Path) -> None:
    async with open_checkpointer(tmp_path / "checkpoints.db") as saver:
        assert isinstance(saver, SqliteCheckpointer)
        cursor = await saver.conn.execute("PRAGMA synchronous")
        row = await cursor.fetchone()
        mode = await (await saver.conn.execute("PRAGMA journal_mode")).fetchone()
    assert row is not None and row[0] == NORMAL
    # NORMAL is only safe from corruption in write-ahead-log mode.
    assert mode is not None and str(mode[0]).lower() == "wal"


def test_the_app_database_that_holds_the_ledger_keeps_full_sync(tmp_path: Path) -> None:
    db = AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")
    try:
        with closing(db.engine.raw_connection()) as raw:
            value = raw.cursor().execute("PRAGMA synchronous").fetchone()[0]
    finally:
        db.engine.dispose()
    assert value == FULL
