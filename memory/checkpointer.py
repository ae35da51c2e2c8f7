"""The conversation checkpointer: SQLite or PostgreSQL, strict, optionally encrypted.

The exported graph carries no checkpointer (the LangGraph server brings its own); the
command line and the chat UI compile the graph with the one `open_checkpointer` opens, which
follows `DATABASE_URL` (`memory.database_url`) and `SMART_INBOX_ENCRYPT_STATE`
(`memory.state_encryption`).
"""

from __future__ import annotations

import asyncio
import copy
import functools
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    get_checkpoint_metadata,
)
from langgraph.checkpoint.base import CheckpointMetadata as Metadata
from langgraph.checkpoint.serde.base import SerializerProtocol
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from memory.database_url import DatabaseConfig, safe_url
from memory.keys import KeySourceError, load_keys
from memory.paths import data_dir
from memory.sqlite_wal import enable_wal_async
from memory.state_encryption import (
    KEY_PURPOSE,
    CheckpointSerializer,
    SealedValue,
    StateEncryptionError,
    encryption_wanted,
)

logger = logging.getLogger(__name__)

POSTGRES_POOL_SIZE = 10
"""Connections each process keeps to PostgreSQL for checkpoints (checkpoints of different
threads are read and written concurrently)."""
SETUP_LOCK_KEY = 0x5E1A_2B0C_0000_0002
"""The advisory lock held while the checkpointer's own tables are created or upgraded."""


MOVED_MODULES = {"memory.mail_model": "tools.mail.model"}
"""Modules whose types lived elsewhere when older checkpoints were written (new → old name).

A checkpoint records each revived type by module and name; allow-listing a type of one of these
modules allows its old name too, so a checkpoint written before the move still loads."""


class CheckpointStoreUnavailable(RuntimeError):
    """The checkpoint database cannot be reached; the message never shows a password."""


def strict_serializer() -> JsonPlusSerializer:
    """A serializer that only revives allow-listed types (what `LANGGRAPH_STRICT_MSGPACK` does)."""
    return JsonPlusSerializer(allowed_msgpack_modules=None)


def checkpoint_serializer(home: Path, *, encrypt: bool | None = None) -> CheckpointSerializer:
    """The strict serializer, encrypted when `encrypt` (default: `SMART_INBOX_ENCRYPT_STATE`).

    Keys come from `memory.keys` (derived for checkpoints). Encrypting loads them now (creating
    the key file if there is none); otherwise only when an encrypted payload must be read.
    Blocking: call it off the event loop.
    """
    if encrypt is None:
        encrypt = encryption_wanted()

    def keys() -> tuple[bytes, ...]:
        try:
            return load_keys(home, create=encrypt).derived(KEY_PURPOSE)
        except KeySourceError as err:
            if encrypt:
                raise
            raise StateEncryptionError(f"a checkpoint is encrypted, and {err}") from None

    return CheckpointSerializer(
        strict_serializer(), encrypt=encrypt, keys=keys() if encrypt else keys
    )


def with_old_names(allowlist: Collection[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """`allowlist`, and the old name of each of its types that moved (`MOVED_MODULES`)."""
    widened = list(allowlist)
    for entry in allowlist:
        if entry and entry[0] in MOVED_MODULES:
            widened.append((MOVED_MODULES[entry[0]], *entry[1:]))
    return widened


class _Allowlisting(BaseCheckpointSaver[Any]):
    """Keeps our serializer when the graph narrows the msgpack allow-list to its state types."""

    def with_allowlist(self, extra_allowlist: Collection[tuple[str, ...]]) -> Any:
        extra_allowlist = with_old_names(extra_allowlist)
        if not isinstance(self.serde, CheckpointSerializer):
            return super().with_allowlist(extra_allowlist)
        serde = self.serde.with_msgpack_allowlist(extra_allowlist)
        if serde is self.serde:
            return self
        clone = copy.copy(self)
        clone.serde = serde
        return clone


_PUT_CHECKPOINT = (
    "INSERT OR REPLACE INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, "
    "parent_checkpoint_id, type, checkpoint, metadata) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_PUT_WRITES = (
    "INSERT OR {} INTO writes (thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, "
    "idx, channel, type, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _write_and_commit(conn: aiosqlite.Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """Run on the connection's own thread: the rows, then the commit."""
    db: sqlite3.Connection = conn._conn
    db.executemany(sql, rows)
    db.commit()


class SqliteCheckpointer(_Allowlisting, AsyncSqliteSaver):
    """`AsyncSqliteSaver` with our serializer (the whole checkpoint is one serialised payload).

    A checkpoint, and a task's writes, go to the database in one trip to the connection's
    thread (the statement and its commit together) where the stock saver takes three or four
    (cursor, statement, commit, close): the same rows, committed when the call returns, as
    before. Without aiosqlite's queue to run a function on (`_execute`), the stock methods run.
    """

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: Metadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Save a checkpoint, committed when this returns."""
        if not _one_trip(self.conn):
            return await super().aput(config, checkpoint, metadata, new_versions)
        await self.setup()
        configurable = config["configurable"]
        type_, payload = self.serde.dumps_typed(checkpoint)
        meta = json.dumps(get_checkpoint_metadata(config, metadata), ensure_ascii=False)
        row = (
            str(configurable["thread_id"]),
            configurable["checkpoint_ns"],
            checkpoint["id"],
            configurable.get("checkpoint_id"),
            type_,
            payload,
            meta.encode("utf-8", "ignore"),
        )
        await self._write(_PUT_CHECKPOINT, [row])
        return {
            "configurable": {
                "thread_id": configurable["thread_id"],
                "checkpoint_ns": configurable["checkpoint_ns"],
                "checkpoint_id": checkpoint["id"],
            }
        }

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Save a task's writes, committed when this returns."""
        if not _one_trip(self.conn):
            return await super().aput_writes(config, writes, task_id, task_path)
        # Special channels (errors, interrupts) replace the row of their index; others keep
        # the first row written, as the stock saver does.
        sql = _PUT_WRITES.format(
            "REPLACE" if all(w[0] in WRITES_IDX_MAP for w in writes) else "IGNORE"
        )
        await self.setup()
        configurable = config["configurable"]
        key = (
            str(configurable["thread_id"]),
            str(configurable["checkpoint_ns"]),
            str(configurable["checkpoint_id"]),
            task_id,
            task_path,
        )
        rows = [
            (*key, WRITES_IDX_MAP.get(channel, idx), channel, *self.serde.dumps_typed(value))
            for idx, (channel, value) in enumerate(writes)
        ]
        await self._write(sql, rows)
        return None

    async def _write(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """The rows and their commit, in one trip to the connection's thread."""
        async with self.lock:
            trip: Any = self.conn._execute
            await trip(_write_and_commit, self.conn, sql, rows)


def _one_trip(conn: Any) -> bool:
    return callable(getattr(conn, "_execute", None)) and hasattr(type(conn), "_conn")


@asynccontextmanager
async def _open_sqlite(path: Path, serde: SerializerProtocol) -> AsyncIterator[SqliteCheckpointer]:
    await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
    async with aiosqlite.connect(str(path)) as conn:
        await enable_wal_async(conn.execute)
        # With WAL, NORMAL flushes at WAL checkpoints instead of at every commit: a power loss
        # may drop the last steps of a conversation, never corrupt it. Sends are kept exactly
        # once by the ledger in the app database (full sync), not by checkpoints.
        await conn.execute("PRAGMA synchronous=NORMAL")
        saver = SqliteCheckpointer(conn, serde=serde)
        await saver.setup()
        yield saver


@asynccontextmanager
async def open_checkpointer(
    where: DatabaseConfig | Path | None = None, *, serde: SerializerProtocol | None = None
) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """Open the checkpointer for the life of the context.

    `where` is a `DatabaseConfig` (SQLite file or PostgreSQL, as `DATABASE_URL` says), a path
    (a SQLite file; its folder stands for the data directory), or None (the configuration of
    `SMART_INBOX_HOME`). Without `serde`, payloads are strict and encrypted as
    `SMART_INBOX_ENCRYPT_STATE` says, with the keys of the data directory.

    Raises:
        CheckpointStoreUnavailable: the PostgreSQL server cannot be reached.
        StateEncryptionError: `SMART_INBOX_ENCRYPT_STATE` is malformed.

    """
    if where is None:
        from memory.database_url import database_config

        where = await asyncio.to_thread(lambda: database_config(data_dir()))
    home = where.home if isinstance(where, DatabaseConfig) else where.parent
    if serde is None:
        serde = await asyncio.to_thread(checkpoint_serializer, home)
    if isinstance(where, Path):
        async with _open_sqlite(where, serde) as saver:
            yield saver
    elif where.checkpoint_file is not None:
        async with _open_sqlite(where.checkpoint_file, serde) as saver:
            yield saver
    else:
        assert where.checkpoint_conninfo is not None
        async with _open_postgres(where.checkpoint_conninfo, serde) as pg_saver:
            yield pg_saver


# -- PostgreSQL ---------------------------------------------------------------------------------


@functools.cache
def _postgres_saver_class() -> type[Any]:
    """The PostgreSQL saver, imported only when used (psycopg loads libpq)."""
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

    class PostgresCheckpointer(_Allowlisting, AsyncPostgresSaver):
        """`AsyncPostgresSaver` that, when encrypting, stores no plain value in the clear.

        The stock saver keeps text and numbers of the state inline in the checkpoint's JSONB
        column, past the serializer; with encryption on they are stored as encrypted blobs
        instead, and a checkpoint holding such an inline value is refused when read.
        """

        def _encrypting(self) -> bool:
            return isinstance(self.serde, CheckpointSerializer) and self.serde.encrypt

        async def aput(
            self,
            config: RunnableConfig,
            checkpoint: Checkpoint,
            metadata: Metadata,
            new_versions: ChannelVersions,
        ) -> RunnableConfig:
            if self._encrypting():
                values = checkpoint["channel_values"]
                checkpoint = {
                    **checkpoint,
                    "channel_values": {
                        name: SealedValue(value) if _inline(value) else value
                        for name, value in values.items()
                    },
                }
            return await super().aput(config, checkpoint, metadata, new_versions)

        async def _load_checkpoint_tuple(self, value: Any) -> Any:
            if self._encrypting():
                inline = (value["checkpoint"].get("channel_values") or {}).items()
                plain = sorted(name for name, item in inline if item is not None)
                if plain:
                    raise StateEncryptionError(
                        "refusing to read a checkpoint with unencrypted values "
                        f"({', '.join(plain)}) while SMART_INBOX_ENCRYPT_STATE is on"
                    )
            return await super()._load_checkpoint_tuple(value)

    return PostgresCheckpointer


def _inline(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


@asynccontextmanager
async def _open_postgres(conninfo: str, serde: SerializerProtocol) -> AsyncIterator[Any]:
    import psycopg
    from psycopg.rows import dict_row
    from psycopg_pool import AsyncConnectionPool

    # The saver's own settings for each connection: autocommit, no prepared statements (safe
    # behind PgBouncer), rows as dicts.
    kwargs = {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}
    try:
        await _setup_postgres(conninfo, serde)
    except psycopg.OperationalError as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointStoreUnavailable(
            f"cannot open the checkpoint database {safe_url(conninfo)}: {reason}"
        ) from None
    # `check`: a connection the server dropped (a restart, an idle timeout) is replaced when
    # it is taken from the pool, not handed to a checkpoint write that would then fail.
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        conninfo,
        min_size=1,
        max_size=POSTGRES_POOL_SIZE,
        kwargs=kwargs,
        check=AsyncConnectionPool.check_connection,
        open=False,
    )
    await pool.open(wait=True, timeout=30)
    try:
        yield _postgres_saver_class()(pool, serde=serde)
    finally:
        await pool.close()


async def _setup_postgres(conninfo: str, serde: SerializerProtocol) -> None:
    """Create or upgrade the checkpointer's tables, one process at a time."""
    from psycopg import AsyncConnection
    from psycopg.rows import dict_row

    async with await AsyncConnection.connect(
        conninfo, autocommit=True, prepare_threshold=0, row_factory=dict_row
    ) as conn:
        # langgraph's `setup` runs its numbered migrations without a lock (and some outside a
        # transaction, CREATE INDEX CONCURRENTLY): two processes starting at once would both
        # apply them. A session lock makes them take turns; the second finds nothing to do.
        await conn.execute("SELECT pg_advisory_lock(%s)", (SETUP_LOCK_KEY,))
        try:
            await _postgres_saver_class()(conn, serde=serde).setup()
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (SETUP_LOCK_KEY,))
