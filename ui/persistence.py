"""Chat history for the Chainlit UI, kept in the app database next to the mail cache.

Chainlit lists and reopens past chats only for a logged-in user with a data layer. This module
creates the tables Chainlit's SQLAlchemy data layer reads and writes, and adapts that layer to
SQLite, which cannot store the lists and dicts it passes as they are.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from chainlit.data.base import BaseDataLayer
from chainlit.data.sql_alchemy import SQLAlchemyDataLayer
from chainlit.step import StepDict
from chainlit.types import ThreadDict
from chainlit.utils import utc_now

from memory.paths import app_database_url

if TYPE_CHECKING:
    from chainlit.element import Element

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_SECONDS = 10
"""How long a write waits for another writer of `app.db` (the app tables share the file)."""

CHAT_TABLES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "users": (
        ("id", "TEXT", "PRIMARY KEY"),
        ("identifier", "TEXT", "NOT NULL UNIQUE"),
        ("createdAt", "TEXT", ""),
        ("metadata", "TEXT", "NOT NULL DEFAULT '{}'"),
    ),
    "threads": (
        ("id", "TEXT", "PRIMARY KEY"),
        ("createdAt", "TEXT", ""),
        ("name", "TEXT", ""),
        ("userId", "TEXT", ""),
        ("userIdentifier", "TEXT", ""),
        ("tags", "TEXT", ""),
        ("metadata", "TEXT", ""),
    ),
    "steps": (
        ("id", "TEXT", "PRIMARY KEY"),
        ("name", "TEXT", "NOT NULL"),
        ("type", "TEXT", "NOT NULL"),
        ("threadId", "TEXT", "NOT NULL"),
        ("parentId", "TEXT", ""),
        ("streaming", "INTEGER", "NOT NULL DEFAULT 0"),
        ("waitForAnswer", "INTEGER", ""),
        ("isError", "INTEGER", ""),
        ("metadata", "TEXT", ""),
        ("tags", "TEXT", ""),
        ("input", "TEXT", ""),
        ("output", "TEXT", ""),
        ("createdAt", "TEXT", ""),
        ("command", "TEXT", ""),
        ("modes", "TEXT", ""),
        ("start", "TEXT", ""),
        ("end", "TEXT", ""),
        ("generation", "TEXT", ""),
        ("showInput", "TEXT", ""),
        ("language", "TEXT", ""),
        ("defaultOpen", "INTEGER", ""),
        ("autoCollapse", "INTEGER", ""),
    ),
    "elements": (
        ("id", "TEXT", "PRIMARY KEY"),
        ("threadId", "TEXT", ""),
        ("type", "TEXT", ""),
        ("url", "TEXT", ""),
        ("chainlitKey", "TEXT", ""),
        ("name", "TEXT", "NOT NULL"),
        ("display", "TEXT", ""),
        ("objectKey", "TEXT", ""),
        ("size", "TEXT", ""),
        ("page", "INTEGER", ""),
        ("language", "TEXT", ""),
        ("forId", "TEXT", ""),
        ("mime", "TEXT", ""),
        ("props", "TEXT", ""),
        ("autoPlay", "INTEGER", ""),
        ("playerConfig", "TEXT", ""),
    ),
    "feedbacks": (
        ("id", "TEXT", "PRIMARY KEY"),
        ("forId", "TEXT", "NOT NULL"),
        ("threadId", "TEXT", ""),
        ("value", "INTEGER", "NOT NULL"),
        ("comment", "TEXT", ""),
    ),
}
"""Chainlit's tables as (column, SQLite type, constraints), from what `SQLAlchemyDataLayer` and
the step, message and element dicts it stores use. Ids and JSON are TEXT, booleans INTEGER.
Relations are not declared as foreign keys: SQLite enforces them only when every connection
asks, and the data layer deletes a thread's steps, elements and feedback itself."""

CHAT_INDEXES = {
    "ix_threads_userId": ("threads", "userId"),
    "ix_steps_threadId": ("steps", "threadId"),
    "ix_elements_threadId": ("elements", "threadId"),
    "ix_feedbacks_forId": ("feedbacks", "forId"),
}
"""The lookups the data layer makes: a user's threads, a thread's steps and elements."""

THREAD_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
"""Chainlit's own thread ids are UUIDs. The browser chooses a new chat's id, and
`get_all_user_threads` writes the ids of a user's threads into its SQL text, so an id with
anything else in it is refused before it is stored."""

STEP_COLUMNS = frozenset(name for name, _, _ in CHAT_TABLES["steps"])
STEP_JSON_KEYS = ("metadata", "tags", "generation", "modes")
STEP_FLAGS = ("streaming", "waitForAnswer", "isError", "defaultOpen", "autoCollapse")


def chat_database_url(home: Path) -> str:
    """Async SQLAlchemy URL of the app database, where the chat history lives."""
    return app_database_url(home).replace("sqlite:///", "sqlite+aiosqlite:///", 1)


def ensure_chat_tables(home: Path) -> None:
    """Create Chainlit's tables in the app database, and any column they lack; idempotent.

    Synchronous: call it once at start-up, before the event loop serves anyone. Other tables
    in the file are left as they are.
    """
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = Path(app_database_url(home).removeprefix("sqlite:///"))
    with closing(sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        # IMMEDIATE: two servers starting at once do not both add the same column.
        db.execute("BEGIN IMMEDIATE")
        try:
            for table, columns in CHAT_TABLES.items():
                definitions = ", ".join(
                    f'"{name}" {kind} {constraints}'.rstrip() for name, kind, constraints in columns
                )
                db.execute(f'CREATE TABLE IF NOT EXISTS "{table}" ({definitions})')
                present = {row[1] for row in db.execute(f'PRAGMA table_info("{table}")')}
                for name, kind, _ in columns:
                    if name not in present:
                        db.execute(f'ALTER TABLE "{table}" ADD COLUMN "{name}" {kind}')
            for index, (table, column) in CHAT_INDEXES.items():
                db.execute(f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" ("{column}")')
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise


def create_data_layer(home: Path) -> BaseDataLayer:
    """Chainlit's SQLAlchemy data layer on the app database, with no file store for elements."""
    return SQLiteChatHistory(
        conninfo=chat_database_url(home), connect_args={"timeout": BUSY_TIMEOUT_SECONDS}
    )


class SQLiteChatHistory(SQLAlchemyDataLayer):
    """`SQLAlchemyDataLayer` made to work on SQLite.

    Chainlit writes that layer for PostgreSQL: it passes a thread's or a step's `tags` (a list)
    and a message's `modes` (a dict) to the driver as they are, which SQLite rejects, and the
    layer then only logs a warning, so the thread or the message is silently not saved. Here
    they are stored as JSON text, and JSON and 0/1 columns are read back as the lists, dicts and
    booleans `ThreadDict` and `StepDict` promise. Timestamps are UTC, as the `Z` they carry says.
    Thread ids are checked before they are stored (see `THREAD_ID`).
    """

    async def get_current_timestamp(self) -> str:
        """The current time in UTC, ISO 8601 with a `Z`."""
        return utc_now()

    async def update_thread(
        self,
        thread_id: str,
        name: str | None = None,
        user_id: str | None = None,
        metadata: dict[Any, Any] | None = None,
        tags: list[str] | None = None,
    ) -> None:
        """Create or change a thread; `tags` are stored as JSON."""
        if not THREAD_ID.fullmatch(thread_id):
            raise ValueError(f"refusing to store a thread with the id {thread_id!r}")
        stored_tags = None if tags is None else json.dumps(list(tags), ensure_ascii=False)
        await super().update_thread(
            thread_id, name=name, user_id=user_id, metadata=metadata, tags=cast(Any, stored_tags)
        )

    async def create_step(self, step_dict: StepDict) -> None:
        """Create or replace a step; its lists and non-empty dicts are stored as JSON.

        Keys that are not columns are left out: a step read back carries its `feedback` (from
        the feedbacks table), and one unknown key would make the whole row fail to save.
        """
        unknown = set(step_dict) - STEP_COLUMNS - {"feedback"}
        if unknown:
            logger.warning(
                "step %s: not saving %s", step_dict.get("id"), ", ".join(sorted(unknown))
            )
        row = {
            key: value if key in ("metadata", "generation") else _json_text(value)
            for key, value in step_dict.items()
            if key in STEP_COLUMNS
        }
        await super().create_step(cast(StepDict, row))

    async def get_step(self, step_id: str) -> StepDict | None:
        """One step, with its JSON and boolean columns decoded."""
        step = await super().get_step(step_id)
        if step is not None:
            _decode_step(step)
        return step

    async def get_favorite_steps(self, user_id: str) -> list[StepDict]:
        """A user's favourite steps, with their JSON and boolean columns decoded."""
        steps = await super().get_favorite_steps(user_id)
        for step in steps:
            _decode_step(step)
        return steps

    async def get_all_user_threads(
        self, user_id: str | None = None, thread_id: str | None = None
    ) -> list[ThreadDict] | None:
        """A user's threads (or one thread) with their steps, JSON and booleans decoded."""
        threads = await super().get_all_user_threads(user_id=user_id, thread_id=thread_id)
        for thread in threads or []:
            thread["tags"] = _decoded(thread["tags"])
            thread["metadata"] = _decoded(thread["metadata"])
            for step in thread["steps"]:
                _decode_step(step)
            for element in thread["elements"] or []:
                element["props"] = _decoded(element.get("props"))
        return threads

    async def create_element(self, element: Element) -> None:
        """Store an element only where a file store is configured (none is, by default).

        Without one the content has nowhere to go; the base class would log a warning for
        every element of every message.
        """
        if self.storage_provider is None:
            logger.debug("element %s of thread %s not kept", element.id, element.thread_id)
            return
        await super().create_element(element)


def _json_text(value: Any) -> Any:
    # An empty dict is left alone: the base class drops it instead of storing it.
    if isinstance(value, list) or (isinstance(value, dict) and value):
        return json.dumps(value, ensure_ascii=False)
    return value


def _decoded(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def _decode_step(step: StepDict) -> None:
    row = cast(dict[str, Any], step)
    for key in STEP_JSON_KEYS:
        if key in row:
            row[key] = _decoded(row[key])
    if row.get("metadata") is None and "metadata" in row:
        row["metadata"] = {}
    for key in STEP_FLAGS:
        if row.get(key) is not None:
            row[key] = bool(row[key])
