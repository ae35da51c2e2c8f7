"""The conversation checkpointer: SQLite under the data directory, strict deserialisation.

The exported graph carries no checkpointer (the LangGraph server brings its own); the
command line and the chat UI compile the graph with the one opened here.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver


def strict_serializer() -> JsonPlusSerializer:
    """A serializer that only revives allow-listed types (what `LANGGRAPH_STRICT_MSGPACK` does)."""
    return JsonPlusSerializer(allowed_msgpack_modules=None)


@asynccontextmanager
async def open_checkpointer(path: Path) -> AsyncIterator[AsyncSqliteSaver]:
    """Open the SQLite checkpointer at `path` for the life of the context."""
    await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
    async with aiosqlite.connect(str(path)) as conn:
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA busy_timeout=10000")
        saver = AsyncSqliteSaver(conn, serde=strict_serializer())
        await saver.setup()
        yield saver
