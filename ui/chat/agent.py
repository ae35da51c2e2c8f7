"""The graph and services the chat runs on (built once a process), and who may use which chat.

Each Chainlit chat is one LangGraph thread; its owner is recorded the first time it is used
and checked on every connect, message and button.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import chainlit as cl
from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph

from graph.builder import build_graph
from graph.context import Context
from graph.services import Services, build_services
from memory.chat_owners import ChatAccessError, ChatOwners, graph_thread_id
from memory.checkpointer import open_checkpointer
from memory.database_url import database_config
from memory.db import open_database
from memory.paths import data_dir
from ui.chat.chainlit_calls import say

logger = logging.getLogger(__name__)


class Agent:
    """The compiled graph with its checkpointer, and the services the chat reads, once a process."""

    def __init__(self) -> None:
        self.graph: CompiledStateGraph[Any, Any, Any, Any] | None = None
        self._saver_cm: AbstractAsyncContextManager[Any] | None = None
        self._services: Services | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> CompiledStateGraph[Any, Any, Any, Any]:
        """The compiled graph, its checkpointer opened on first use."""
        async with self._lock:
            if self.graph is None:
                home = await asyncio.to_thread(data_dir)
                where = await asyncio.to_thread(database_config, home)
                self._saver_cm = open_checkpointer(where)
                saver = await self._saver_cm.__aenter__()
                self.graph = build_graph(checkpointer=saver)
            return self.graph

    async def services(self) -> Services:
        """The mail cache, tool catalogue and settings the chat itself reads (built once)."""
        async with self._lock:
            if self._services is None:
                self._services = await asyncio.to_thread(build_services, Context())
            return self._services

    async def forget(self, thread_id: str) -> None:
        """Delete a graph thread's checkpointed state (its chat was deleted)."""
        graph = await self.get()
        if graph.checkpointer is not None and not isinstance(graph.checkpointer, bool):
            await graph.checkpointer.adelete_thread(thread_id)

    async def close(self) -> None:
        """Close the checkpointer; the next use opens it again."""
        async with self._lock:
            if self._saver_cm is not None:
                await self._saver_cm.__aexit__(None, None, None)
            self._saver_cm, self.graph, self._services = None, None, None


AGENT = Agent()


def home() -> Path:
    """The data directory of this chat server."""
    return data_dir()


def thread_id() -> str:
    """The LangGraph thread of the current chat."""
    return graph_thread_id(cl.context.session.thread_id)


def thread_config() -> RunnableConfig:
    """The graph's configuration for the current chat."""
    return {"configurable": {"thread_id": thread_id()}}


@functools.cache
def _owners() -> ChatOwners:
    """The chat owners' record of this process's data directory (opened once)."""
    return ChatOwners(open_database(database_config(home()).app_url))


async def _may_use_this_chat() -> bool:
    """Claim a new chat's graph thread for the user, or check they own it; say so if not.

    Checked on every connect, resume, message and button: Chainlit's own rows go when a chat
    is deleted, and the browser chooses a chat's id.
    """
    user = cl.context.session.user
    try:
        if user is None:
            raise ChatAccessError("nobody is logged in")
        await asyncio.to_thread(_owners().claim, thread_id(), user.identifier)
    except ChatAccessError as err:
        logger.warning("chat %s refused: %s", cl.context.session.thread_id, err)
        await say(f"This chat cannot be used: {err}. Start a new chat.")
        return False
    return True


Handler = Callable[..., Awaitable[Any]]


def owned(handler: Handler) -> Handler:
    """Run a chat callback only for the owner of its chat (None for anyone else)."""

    @functools.wraps(handler)
    async def checked(*args: object, **kwargs: object) -> Any:
        # Chainlit passes a callback's arguments by the names in its signature.
        if await _may_use_this_chat():
            return await handler(*args, **kwargs)
        return None

    return checked
