"""Chat history for the Chainlit UI, kept in the app database next to the mail cache.

Chainlit lists and reopens past chats only for a logged-in user with a data layer. The tables
its SQLAlchemy data layer reads and writes are made by the app database's migrations
(`memory.chat_tables`); this module opens that layer on the app database, SQLite or
PostgreSQL, and adapts it to tables that store lists and dicts as JSON text.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from chainlit.data.sql_alchemy import SQLAlchemyDataLayer
from chainlit.data.storage_clients.base import BaseStorageClient
from chainlit.data.utils import queue_until_user_message
from chainlit.step import StepDict
from chainlit.types import ThreadDict
from chainlit.utils import utc_now

from memory.chat_owners import ChatOwners, graph_thread_id
from memory.chat_tables import CHAT_INDEXES, CHAT_TABLES
from memory.database_url import database_config
from memory.db import open_database

if TYPE_CHECKING:
    from chainlit.element import Element

__all__ = [
    "CHAT_INDEXES",
    "CHAT_TABLES",
    "ChatHistory",
    "chat_database_url",
    "create_data_layer",
    "ensure_chat_tables",
]

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_SECONDS = 30
"""How long a SQLite write waits for another writer of `app.db` (the app tables share the file)."""

THREAD_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
"""Chainlit's own thread ids are UUIDs. The browser chooses a new chat's id, and
`get_all_user_threads` writes the ids of a user's threads into its SQL text, so an id with
anything else in it is refused before it is stored."""

STEP_COLUMNS = frozenset(name for name, _, _ in CHAT_TABLES["steps"])
STEP_JSON_KEYS = ("metadata", "tags", "generation", "modes")
STEP_FLAGS = ("streaming", "waitForAnswer", "isError", "defaultOpen", "autoCollapse")


def chat_database_url(home: Path) -> str:
    """Async SQLAlchemy URL of the app database, where the chat history lives."""
    return database_config(home).chat_url


def ensure_chat_tables(home: Path) -> None:
    """Bring the app database, chat tables included, up to date; idempotent.

    Synchronous: call it once at start-up, before the event loop serves anyone. It runs the
    app database's migrations, which other processes may run at the same moment.
    """
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    open_database(database_config(home).app_url)


ForgetThread = Callable[[str], Awaitable[None]]
"""Deletes a graph thread's checkpointed state, given the graph's thread id."""
ChatName = Callable[[str], str]
"""The name a new chat gets from its first interaction (Chainlit's own name for it)."""


def create_data_layer(
    home: Path, forget: ForgetThread | None = None, chat_name: ChatName | None = None
) -> ChatHistory:
    """Chainlit's SQLAlchemy data layer on the app database, with no file store for elements.

    Deleting a chat also locks its graph thread for good (`memory.chat_owners`) and, with
    `forget`, deletes the graph's state of it. `chat_name` names a new chat from its first
    interaction (so that two triage chats are not both called "triage").
    """
    config = database_config(home)
    connect_args = None if config.is_postgres else {"timeout": BUSY_TIMEOUT_SECONDS}
    layer = ChatHistory(
        conninfo=config.chat_url, connect_args=connect_args, storage_provider=NoFiles()
    )
    layer.owners = ChatOwners(open_database(config.app_url))
    layer.forget = forget
    layer.chat_name = chat_name
    return layer


class NoFiles(BaseStorageClient):
    """The chat's file store, which keeps no files.

    The chat's elements are the product's own lists and buttons, whose props are rows of the
    elements table (see `ChatHistory.create_element`), and messages open from links to the mail
    page instead of copies of their bodies.
    """

    async def upload_file(
        self,
        object_key: str,
        data: bytes | str,
        mime: str = "application/octet-stream",
        overwrite: bool = True,
        content_disposition: str | None = None,
    ) -> dict[str, Any]:
        """Refuse: nothing in the chat is kept as a file."""
        raise NotImplementedError(f"the chat keeps no files ({object_key} was not kept)")

    async def delete_file(self, object_key: str) -> bool:
        """Nothing to delete: no file was ever kept."""
        return False

    async def get_read_url(self, object_key: str) -> str:
        """No file has a URL: none was kept."""
        raise NotImplementedError(f"the chat keeps no files ({object_key} has no URL)")

    async def close(self) -> None:
        """Nothing to close."""


class ChatHistory(SQLAlchemyDataLayer):
    """`SQLAlchemyDataLayer` on tables that keep lists and dicts as JSON text.

    Chainlit passes a thread's or a step's `tags` (a list) and a message's `modes` (a dict) to
    the driver as they are, which SQLite rejects and a TEXT column of PostgreSQL too, and the
    layer then only logs a warning, so the thread or the message is silently not saved. Here
    they are stored as JSON text (on both databases), and JSON and flag columns are read back
    as the lists, dicts and booleans `ThreadDict` and `StepDict` promise. Timestamps are UTC, as
    the `Z` they carry says. Thread ids are checked before they are stored (see `THREAD_ID`).
    """

    owners: ChatOwners | None = None
    """The record of who owns each chat's graph thread."""
    forget: ForgetThread | None = None
    """Deletes a deleted chat's graph state."""
    chat_name: ChatName | None = None
    """Names a new chat from its first interaction."""

    async def delete_thread(self, thread_id: str) -> None:
        """Delete a chat: its graph thread is locked first, then its rows and graph state go.

        Locked before anything is deleted, so a failure half-way never leaves a thread that
        someone else could connect to.
        """
        graph_thread = graph_thread_id(thread_id)
        if self.owners is not None:
            await asyncio.to_thread(self.owners.delete, graph_thread)
        await super().delete_thread(thread_id)
        if self.forget is not None:
            await self.forget(graph_thread)

    async def get_current_timestamp(self) -> str:
        """The current time in UTC, ISO 8601 with a `Z`."""
        now: str = utc_now()  # type: ignore[no-untyped-call]
        return now

    async def update_thread(
        self,
        thread_id: str,
        name: str | None = None,
        user_id: str | None = None,
        metadata: dict[Any, Any] | None = None,
        tags: list[str] | None = None,
    ) -> None:
        """Create or change a thread; `tags` are stored as JSON, a new name may be changed."""
        if not THREAD_ID.fullmatch(thread_id):
            raise ValueError(f"refusing to store a thread with the id {thread_id!r}")
        if name is not None and self.chat_name is not None and not await self._named(thread_id):
            name = self.chat_name(name)
        stored_tags = None if tags is None else json.dumps(list(tags), ensure_ascii=False)
        await super().update_thread(
            thread_id, name=name, user_id=user_id, metadata=metadata, tags=cast(Any, stored_tags)
        )

    async def _named(self, thread_id: str) -> bool:
        """Whether the thread already has a name (a rename by its user is kept as typed)."""
        rows = await self.execute_sql(
            'SELECT "name" FROM threads WHERE "id" = :id', {"id": thread_id}
        )
        return isinstance(rows, list) and bool(rows) and bool(rows[0].get("name"))

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

    @queue_until_user_message()  # type: ignore[no-untyped-call, untyped-decorator]
    async def create_element(self, element: Element) -> None:
        """Keep the chat's own elements (lists, buttons) as rows; no other kind is kept.

        A custom element is its props, which fit in the row: it needs no file, so it is shown
        again after a reload, a reopened chat and a restart. An element is only ever changed
        within its own chat: Chainlit's element update takes the id from the browser, so an id
        that belongs to another chat leaves that chat's element as it was.
        """
        if element.type != "custom" or not element.for_id:
            logger.debug("element %s of thread %s not kept", element.id, element.thread_id)
            return
        row = {k: v for k, v in element.to_dict().items() if v is not None}
        row["props"] = json.dumps(row.get("props") or {}, ensure_ascii=False)
        columns = ", ".join(f'"{column}"' for column in row)
        values = ", ".join(f":{column}" for column in row)
        updates = ", ".join(f'"{column}" = :{column}' for column in row if column != "id")
        await self.execute_sql(
            query=f"INSERT INTO elements ({columns}) VALUES ({values}) "
            f"ON CONFLICT (id) DO UPDATE SET {updates} "
            'WHERE elements."threadId" = excluded."threadId";',
            parameters=row,
        )


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
