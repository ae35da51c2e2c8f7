"""Checkpoints and writes in one trip to the SQLite thread: the same rows, as durable as before.

The stock `AsyncSqliteSaver` is the reference: the same calls through both must leave the same
rows, each committed when its call returns (another connection sees it at once).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from memory.checkpointer import SqliteCheckpointer, open_checkpointer, strict_serializer

ERROR = "__error__"  # a special channel: its row is replaced, not kept


def _rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with closing(sqlite3.connect(path)) as conn:
        return {
            "checkpoints": conn.execute(
                "SELECT * FROM checkpoints ORDER BY checkpoint_id"
            ).fetchall(),
            "writes": conn.execute(
                "SELECT * FROM writes ORDER BY checkpoint_id, task_id, idx"
            ).fetchall(),
        }


async def _a_thread(saver: Any, path: Path) -> list[dict[str, list[tuple[Any, ...]]]]:
    """Two checkpoints with writes (a write repeated, an error replaced); rows after each call."""
    seen = []
    config: Any = {"configurable": {"thread_id": "t-1", "checkpoint_ns": ""}}
    for step in range(2):
        checkpoint = empty_checkpoint()
        checkpoint["id"] = f"1ef-000{step}"
        checkpoint["ts"] = f"2026-12-03T12:00:0{step}+00:00"
        checkpoint["channel_values"] = {"messages": [f"hello {step}"], "note": "é ✓"}
        metadata: Any = {"source": "loop", "step": step, "writes": {"act": {"ok": True}}}
        config = await saver.aput(config, checkpoint, metadata, {})
        seen.append(_rows(path))
        await saver.aput_writes(config, [("evidence", {"id": step}), ("note", "x")], "task-a")
        await saver.aput_writes(config, [("evidence", {"id": "again"})], "task-a")  # kept first
        await saver.aput_writes(config, [(ERROR, "first")], "task-b", "path")
        await saver.aput_writes(config, [(ERROR, "second")], "task-b", "path")  # replaces
        seen.append(_rows(path))
    return seen


async def test_the_rows_are_those_the_stock_saver_writes_committed_at_each_return(
    tmp_path: Path,
) -> None:
    ours_path, stock_path = tmp_path / "ours.db", tmp_path / "stock.db"
    async with open_checkpointer(ours_path, serde=strict_serializer()) as ours:
        ours_seen = await _a_thread(ours, ours_path)
        restored = await ours.aget_tuple({"configurable": {"thread_id": "t-1"}})
    async with aiosqlite.connect(str(stock_path)) as conn:
        stock = AsyncSqliteSaver(conn, serde=strict_serializer())
        await stock.setup()
        stock_seen = await _a_thread(stock, stock_path)

    assert ours_seen == stock_seen
    assert len(ours_seen[-1]["checkpoints"]) == 2
    assert [w[-3] for w in ours_seen[-1]["writes"] if w[3] == "task-b"] == [ERROR, ERROR]
    assert restored is not None
    assert restored.checkpoint["channel_values"]["note"] == "é ✓"
    assert {(w[0], w[1]) for w in restored.pending_writes or []} >= {("task-a", "evidence")}


async def test_the_writes_take_one_trip_to_the_connection_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One queued function per call (an aiosqlite without `_execute` would fail this)."""
    async with open_checkpointer(tmp_path / "c.db", serde=strict_serializer()) as saver:
        assert isinstance(saver, SqliteCheckpointer)
        trips: list[Any] = []
        queue = saver.conn._execute

        async def counted(fn: Any, *args: Any, **kwargs: Any) -> Any:
            trips.append(fn)
            return await queue(fn, *args, **kwargs)

        monkeypatch.setattr(saver.conn, "_execute", counted)
        config: Any = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
        config = await saver.aput(config, empty_checkpoint(), {"step": 0}, {})
        await saver.aput_writes(config, [("a", 1), ("b", 2)], "task")
        assert len(trips) == 2


async def test_without_a_queue_to_run_on_the_stock_methods_write(tmp_path: Path) -> None:
    """A connection object that offers no `_execute` still gets every row, the stock way."""
    path = tmp_path / "c.db"

    class WithoutQueue:
        def __init__(self, conn: aiosqlite.Connection) -> None:
            self._inner = conn

        def __getattr__(self, name: str) -> Any:
            if name == "_execute":
                raise AttributeError(name)
            return getattr(self._inner, name)

    async with open_checkpointer(path, serde=strict_serializer()) as saver:
        assert isinstance(saver, SqliteCheckpointer)
        inner = saver.conn
        saver.conn = WithoutQueue(inner)  # type: ignore[assignment]
        try:
            config: Any = {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}
            config = await saver.aput(config, empty_checkpoint(), {"step": 0}, {})
            await saver.aput_writes(config, [("a", 1)], "task")
        finally:
            saver.conn = inner
    rows = _rows(path)
    assert len(rows["checkpoints"]) == 1 and len(rows["writes"]) == 1
