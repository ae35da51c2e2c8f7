"""One MCP server's connection: its transport, its session, the tail of its stderr, its failures.

The hub keeps one of these per server; the pieces here open a transport (stdio or
streamable HTTP), list its tools and say in a few words why a server failed.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Awaitable
from contextlib import AsyncExitStack
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any, Literal, TextIO, TypeVar
from urllib.parse import parse_qsl

import anyio
import httpx

from memory.redaction import (
    SECRET_ENV_NAME,
    SECRET_HEADER,
    remember_authorization,
    remember_secret,
)
from tools.mcp.config import McpServerConfig, redact_url
from tools.mcp.results import McpToolInfo, ServerStatus

if TYPE_CHECKING:
    # The SDK (client and server side) is imported when a session opens, in the functions
    # below: a command that calls no server does not load it.
    from mcp import ClientSession, types

logger = logging.getLogger(__name__)


HTTP_TIMEOUT = httpx.Timeout(30.0, read=300.0)
"""The MCP SDK's own defaults: responses may stream for a while; call timeouts are ours."""
STDERR_LINES = 20
"""Last lines of a stdio server's stderr kept for error messages."""


_T = TypeVar("_T")


class StderrTail:
    """A stdio server's stderr, read in a thread: every line to the debug log, the last kept."""

    def __init__(self, server: str) -> None:
        read_fd, write_fd = os.pipe()
        self.writer: TextIO = os.fdopen(write_fd, "w")
        self._reader = os.fdopen(read_fd, "rb")
        self._server = server
        self.lines: deque[str] = deque(maxlen=STDERR_LINES)
        self.ended = threading.Event()
        threading.Thread(target=self._drain, name=f"mcp-stderr-{server}", daemon=True).start()

    def _drain(self) -> None:
        with self._reader:
            for raw in self._reader:
                line = raw.decode("utf-8", "replace").rstrip()
                if line:
                    self.lines.append(line)
                    logger.debug("MCP server %r stderr: %s", self._server, line)
        self.ended.set()

    def close_writer(self) -> None:
        """Drop our copy of the pipe's write end once the child holds its own."""
        if not self.writer.closed:
            self.writer.close()

    async def tail(self, *, wait: float = 0.5) -> str:
        """The server's last stderr lines, after giving an exiting process a moment to finish."""
        deadline = time.monotonic() + wait
        while not self.ended.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        lines = list(self.lines)[-3:]
        return f" (server stderr: {' | '.join(lines)})" if lines else ""


class ServerConnection:
    """One attempt at a server's session, and what its owner task has learnt about it."""

    def __init__(
        self, config: McpServerConfig, last_known: dict[str, McpToolInfo] | None = None
    ) -> None:
        self.config = config
        self.session: ClientSession | None = None
        self.tools: dict[str, McpToolInfo] = dict(last_known or {})
        """As listed by this session; until then, what the previous session listed."""
        self.error = ""
        """Why the session could not be opened."""
        self.lost = ""
        """Why an open session ended without being asked to."""
        self.was_connected = False
        self.start_hung = False
        self.failed_at = 0.0
        self.ready = asyncio.Event()
        """Set once the session is open or has failed to open."""
        self.stop = asyncio.Event()
        """Set to make the owner close the session (asked to, or the session broke)."""

    @property
    def usable(self) -> bool:
        """Whether calls can go to the session now."""
        return self.session is not None and not self.stop.is_set()

    def opened(self, session: ClientSession, tools: list[types.Tool]) -> None:
        """Record the open session and its tools, and wake whoever waits for it."""
        self.session = session
        self.tools = {tool.name: McpToolInfo.from_tool(self.config.name, tool) for tool in tools}
        self.was_connected = True
        self.ready.set()
        logger.info(
            "MCP server %r connected over %s with %d tools",
            self.config.name,
            self.config.transport,
            len(self.tools),
        )

    def fail(self, reason: str) -> None:
        """Record why the session could not be opened (only before it was ready)."""
        if self.ready.is_set():
            return
        self.error = reason
        self.failed_at = time.monotonic()
        self.stop.set()
        self.ready.set()
        logger.warning("MCP server %r failed to start: %s", self.config.name, reason)

    def lose(self, reason: str) -> None:
        """The session broke (or stopped answering): close it; the next call reconnects."""
        if self.stop.is_set():
            return
        self.lost = reason
        self.stop.set()
        if self.was_connected:
            logger.warning(
                "MCP server %r lost its session: %s; the next call reconnects",
                self.config.name,
                reason,
            )

    def status(self) -> ServerStatus:
        """The server's state as the chat and the command line show it."""
        name, transport = self.config.name, self.config.transport
        tools = list(self.tools.values())
        if not self.ready.is_set():
            return ServerStatus(name, "connecting", tools=tools, transport=transport)
        if self.usable:
            return ServerStatus(name, "connected", tools=tools, transport=transport)
        if self.was_connected:
            error = f"disconnected: {self.lost}" if self.lost else "closed"
            return ServerStatus(name, "failed", error, tools, transport)
        return ServerStatus(name, "failed", self.error, tools, transport)


async def open_transport(
    config: McpServerConfig, stack: AsyncExitStack, stderr: StderrTail | None
) -> tuple[Any, Any]:
    """The read and write streams of the server's transport (stdio or streamable HTTP)."""
    from mcp import StdioServerParameters
    from mcp.client.stdio import stdio_client
    from mcp.client.streamable_http import streamable_http_client

    if config.command is not None:
        assert stderr is not None
        params = StdioServerParameters(
            command=config.command, args=list(config.args), env=dict(config.env), cwd=config.cwd
        )
        try:
            read, write = await stack.enter_async_context(
                stdio_client(params, errlog=stderr.writer)
            )
        finally:
            stderr.close_writer()
        return read, write
    assert config.url is not None
    # Building a client loads the CA bundle from disk: not on the event loop.
    client = await asyncio.to_thread(
        httpx.AsyncClient, headers=config.headers, timeout=HTTP_TIMEOUT
    )
    await stack.enter_async_context(client)
    read, write, _ = await stack.enter_async_context(
        streamable_http_client(config.url, http_client=client)
    )
    return read, write


async def relay_stderr(source: Any, sink: Any, connection: ServerConnection) -> None:
    """Pass the transport's messages to the session, and notice when the transport ends."""
    try:
        async with sink:
            async for message in source:
                await sink.send(message)
    except (anyio.BrokenResourceError, anyio.ClosedResourceError):
        return  # the session is closing and reads no more
    connection.lose("the server closed the connection (its process exited?)")


async def race(
    work: Awaitable[_T], connection: ServerConnection, limit: float
) -> tuple[Literal["done", "ended", "timeout"], asyncio.Future[_T]]:
    """Run `work` until it finishes, the session ends, or `limit` seconds pass."""
    task = asyncio.ensure_future(work)
    ended = asyncio.ensure_future(connection.stop.wait())
    try:
        await asyncio.wait((task, ended), timeout=limit, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for future in (task, ended):
            if not future.done():
                future.cancel()
            future.add_done_callback(_retrieve)
    if task.done() and not task.cancelled():
        return "done", task
    return ("ended" if ended.done() and not ended.cancelled() else "timeout"), task


def _retrieve(future: asyncio.Future[Any]) -> None:
    # An abandoned request may still fail later; its exception is expected, not news.
    if not future.cancelled():
        future.exception()


async def list_all_tools(session: ClientSession) -> list[types.Tool]:
    """Every tool the server offers, page after page."""
    from mcp import types

    tools: list[types.Tool] = []
    cursor: str | None = None
    while True:
        params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
        page = await session.list_tools(params=params)
        tools.extend(page.tools)
        cursor = page.nextCursor
        if not cursor:
            return tools


def describe_failure(exc: BaseException, config: McpServerConfig) -> str:
    """A readable reason from an exception or exception group, without secrets from the URL."""
    from mcp import McpError

    leaves = [e for e in _leaves(exc) if not isinstance(e, asyncio.CancelledError)] or [exc]
    parts = []
    for leaf in leaves:
        if isinstance(leaf, McpError):
            text = leaf.error.message
        elif isinstance(leaf, httpx.HTTPStatusError):
            text = f"HTTP {leaf.response.status_code} {leaf.response.reason_phrase}"
        else:
            text = f"{type(leaf).__name__}: {leaf}" if str(leaf) else type(leaf).__name__
        if config.url:
            text = text.replace(config.url, redact_url(config.url))
        if text not in parts:
            parts.append(text)
    return "; ".join(parts)


def remember_credentials(config: McpServerConfig) -> None:
    """The server's secret headers, environment values and URL query are masked from now on.

    They come from `mcp.json` with `${VAR}` expanded, not from a secret lookup, so a server
    (or its error) repeating them would otherwise go unrecognised.
    """
    for key, value in config.headers.items():
        name = f"mcp.{config.name}.{key.lower()}"
        if key.lower().endswith("authorization"):
            remember_authorization(value, name)
        elif SECRET_HEADER.search(key):
            remember_secret(name, value)
    for key, value in config.env.items():
        if SECRET_ENV_NAME.search(key.upper()):
            remember_secret(f"mcp.{config.name}.{key}", value)
    for key, value in parse_qsl((config.url or "").partition("?")[2]):
        remember_secret(f"mcp.{config.name}.url.{key}", value)


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


@functools.cache
def client_info() -> types.Implementation:
    """How this client names itself to MCP servers (the installed release, else 0)."""
    from mcp import types

    try:
        release = version("smart-inbox-agent")
    except PackageNotFoundError:
        release = "0"
    return types.Implementation(name="smart-inbox-agent", version=release)
