"""Sessions to the configured MCP servers, opened once and kept, so a call costs a round trip.

An MCP session is a stack of anyio context managers that must be exited by the task that
entered them, so every server gets one long-lived owner task that opens, holds and closes its
session; callers in any task of the same event loop only send requests through it.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import hashlib
import json
import logging
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal, TextIO, TypeVar
from urllib.parse import parse_qsl

import anyio
import httpx
from mcp import ClientSession, McpError, StdioServerParameters, types
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from memory.redaction import (
    SECRET_ENV_NAME,
    SECRET_HEADER,
    remember_authorization,
    remember_secret,
)
from tools.mcp.config import McpServerConfig, load_mcp_config, redact_url

logger = logging.getLogger(__name__)

ServerState = Literal["connected", "disabled", "failed", "connecting"]
CallFailure = Literal[
    "unknown_server",
    "disabled",
    "start_failed",
    "unknown_tool",
    "timeout",
    "disconnected",
    "tool_error",
    "rejected",
    "failed",
]

PROBE_SECONDS = 2.0
"""After a call times out, how long the server gets to answer a ping before it counts as hung."""
CLOSE_SECONDS = 10.0
"""How long `aclose` waits for owner tasks to close their sessions before cancelling them."""
HTTP_TIMEOUT = httpx.Timeout(30.0, read=300.0)
"""The MCP SDK's own defaults: responses may stream for a while; call timeouts are ours."""
STDERR_LINES = 20
"""Last lines of a stdio server's stderr kept for error messages."""

_TRANSPORT_ENDED = {
    (types.CONNECTION_CLOSED, "Connection closed"),
    (32600, "Session terminated"),
}
"""Errors the SDK itself makes up when the transport ended (the stream closed, or an HTTP
server answered 404 for our session id); servers may use the same codes for their own errors."""

_T = TypeVar("_T")


@dataclass(frozen=True)
class McpToolInfo:
    """One tool as its server lists it."""

    server: str
    """The configured name of the server that offers it."""
    name: str
    """The server's own name for the tool (callers add a prefix where names collide)."""
    description: str
    input_schema: dict[str, Any]
    annotations: dict[str, Any]
    """The server's hints as given (readOnlyHint, destructiveHint, idempotentHint,
    openWorldHint, title); empty when it gave none."""
    fingerprint: str
    """sha256 of the description and input schema: a changed definition changes it."""

    @classmethod
    def from_tool(cls, server: str, tool: types.Tool) -> McpToolInfo:
        """The info of a tool from a `tools/list` answer."""
        description = tool.description or ""
        schema = dict(tool.inputSchema)
        return cls(
            server=server,
            name=tool.name,
            description=description,
            input_schema=schema,
            annotations=tool.annotations.model_dump(exclude_none=True) if tool.annotations else {},
            fingerprint=tool_fingerprint(description, schema),
        )


def tool_fingerprint(description: str, input_schema: Mapping[str, Any]) -> str:
    """sha256 hex of the canonical JSON of a tool's description and input schema."""
    canonical = json.dumps(
        {"description": description, "input_schema": input_schema},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass
class ServerStatus:
    """Where one configured server stands."""

    name: str
    state: ServerState
    error: str = ""
    """Why it failed or lost its session; empty otherwise."""
    tools: list[McpToolInfo] = field(default_factory=list)
    transport: str = ""


class McpCallError(Exception):
    """One MCP call that did not produce a result: which server and tool, and why."""

    def __init__(
        self,
        server: str,
        tool: str,
        kind: CallFailure,
        reason: str,
        *,
        result: McpResult | None = None,
    ) -> None:
        super().__init__(f"MCP server {server!r}, tool {tool!r}: {reason}")
        self.server = server
        self.tool = tool
        self.kind: CallFailure = kind
        self.reason = reason
        self.result = result
        """The server's error result, when the server itself reported the failure."""


@dataclass(frozen=True)
class McpResult:
    """A tool's result: its content blocks rendered to text, and its structured content."""

    text: str
    structured: Any | None = None
    is_error: bool = False
    """Always false on a result `McpHub.call` returns: an error result raises instead."""

    @classmethod
    def from_call(cls, result: types.CallToolResult) -> McpResult:
        """The rendering of a `tools/call` answer."""
        text = render_content(result.content)
        if not result.content and result.structuredContent is not None:
            text = json.dumps(result.structuredContent, ensure_ascii=False)
        return cls(text=text, structured=result.structuredContent, is_error=result.isError)


def render_content(blocks: Sequence[types.ContentBlock]) -> str:
    """Content blocks as text; binary content is named and sized, never dumped."""
    parts: list[str] = []
    for block in blocks:
        if isinstance(block, types.TextContent):
            parts.append(block.text)
        elif isinstance(block, types.ImageContent | types.AudioContent):
            parts.append(f"[{block.type}: {block.mimeType}, {_base64_size(block.data)} bytes]")
        elif isinstance(block, types.EmbeddedResource):
            resource = block.resource
            if isinstance(resource, types.TextResourceContents):
                parts.append(resource.text)
            else:
                parts.append(f"[resource: {resource.uri}]")
        elif isinstance(block, types.ResourceLink):
            parts.append(f"[link: {block.uri}]")
        else:
            parts.append(f"[{getattr(block, 'type', 'unknown')} content]")
    return "\n".join(parts)


def _base64_size(data: str) -> int:
    digits = sum(1 for c in data if c.isalnum() or c in "+/-_")
    return digits * 3 // 4


class _StderrTail:
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


class _Connection:
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
        return self.session is not None and not self.stop.is_set()

    def opened(self, session: ClientSession, tools: list[types.Tool]) -> None:
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


class McpHub:
    """Kept sessions to a set of MCP servers; see the module docstring.

    A hub belongs to the event loop it is started (or first called) in. Stdio servers get the
    MCP SDK's default environment (HOME, LOGNAME, PATH, SHELL, TERM, USER on POSIX) plus the
    server's configured `env`, never the rest of ours; their stderr goes to this module's
    debug log, and its last lines into error messages.
    """

    hung_start_retry_seconds = 30.0
    """A server whose start hung is not retried by calls for this long: they fail fast instead
    of each waiting `start_timeout`. Any other failure is retried by the next call."""

    def __init__(
        self, configs: Mapping[str, McpServerConfig], *, start_timeout: float = 20.0
    ) -> None:
        self._configs = dict(configs)
        for config in self._configs.values():
            _remember_credentials(config)
        self._start_timeout = start_timeout
        self._current: dict[str, _Connection] = {}
        self._locks = {name: asyncio.Lock() for name in self._configs}
        self._owners: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Connect every enabled server, concurrently; a server that fails is only marked so.

        Calling it again retries the servers that are not connected.
        """
        self._bind_loop()
        enabled = [name for name, config in self._configs.items() if not config.disabled]
        await asyncio.gather(*(self._ensure(name, retry_failed=True) for name in enabled))

    async def aclose(self) -> None:
        """Ask every owner task to close its session, and wait for them (bounded)."""
        self._closed = True
        for connection in self._current.values():
            connection.stop.set()
        pending = set(self._owners)
        if pending:
            _, pending = await asyncio.wait(pending, timeout=CLOSE_SECONDS)
        if pending:
            logger.warning("MCP sessions still closing after %g s; cancelling", CLOSE_SECONDS)
            for task in pending:
                task.cancel()
            await asyncio.wait(pending, timeout=CLOSE_SECONDS)

    @property
    def configs(self) -> Mapping[str, McpServerConfig]:
        """The servers this hub was built from, by name."""
        return dict(self._configs)

    def statuses(self) -> list[ServerStatus]:
        """Every configured server, in file order."""
        result = []
        for name, config in self._configs.items():
            connection = self._current.get(name)
            if config.disabled:
                result.append(ServerStatus(name, "disabled", transport=config.transport))
            elif connection is None:
                result.append(ServerStatus(name, "connecting", transport=config.transport))
            else:
                result.append(connection.status())
        return result

    def tools(self) -> list[McpToolInfo]:
        """Tools of connected servers, and the last known tools of servers that lost a session.

        A server that was connected keeps its tools offered after its session broke, even while
        reconnecting fails: each call to it tries to reconnect and reports why it could not.
        """
        if self._closed:
            return []
        return [tool for c in self._current.values() for tool in c.tools.values()]

    # ------------------------------------------------------------------ calls

    async def call(
        self, server: str, tool: str, args: dict[str, Any], *, timeout: float | None = None
    ) -> McpResult:
        """Call one tool through the server's kept session; any failure raises McpCallError.

        A call is never retried once sent (it may have side effects). If the session broke,
        this call fails and the next one reconnects.
        """
        if timeout is not None and not timeout > 0:
            raise ValueError(f"timeout must be positive, not {timeout!r}")
        connection = await self._connection_for(server, tool)
        limit = connection.config.timeout if timeout is None else timeout
        if tool not in connection.tools:
            await self._refresh_tools(connection, limit)
            if tool not in connection.tools:
                known = ", ".join(sorted(connection.tools)) or "none"
                raise McpCallError(
                    server, tool, "unknown_tool", f"the server has no such tool (it has: {known})"
                )
        session = connection.session
        if session is None or not connection.usable:
            raise McpCallError(
                server, tool, "disconnected", f"the session ended ({connection.lost or 'closed'})"
            )
        outcome, request = await _race(session.call_tool(tool, args), connection, limit)
        if outcome == "ended":
            reason = (
                f"the server disconnected during the call ({connection.lost}); "
                "the next call reconnects"
                if connection.lost
                else "the session was closed while the call was running"
            )
            raise McpCallError(server, tool, "disconnected", reason)
        if outcome == "timeout":
            if await self._answers_ping(connection):
                reason = f"timed out after {limit:g} s (the server is still up)"
            else:
                connection.lose(f"no answer to a ping after a call timed out after {limit:g} s")
                reason = (
                    f"timed out after {limit:g} s and the server no longer answers; "
                    "the next call restarts its session"
                )
            raise McpCallError(server, tool, "timeout", reason)
        return self._result(connection, tool, request)

    def _result(
        self, connection: _Connection, tool: str, request: asyncio.Future[types.CallToolResult]
    ) -> McpResult:
        server = connection.config.name
        try:
            answer = request.result()
        except McpError as exc:
            if (exc.error.code, exc.error.message) in _TRANSPORT_ENDED:
                connection.lose(exc.error.message)
                raise McpCallError(
                    server,
                    tool,
                    "disconnected",
                    f"the server disconnected during the call ({exc.error.message}); "
                    "the next call reconnects",
                ) from exc
            raise McpCallError(
                server, tool, "rejected", f"the server rejected the call: {exc.error.message}"
            ) from exc
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream) as exc:
            connection.lose("the connection is closed")
            raise McpCallError(
                server, tool, "disconnected", "the connection is closed; the next call reconnects"
            ) from exc
        except Exception as exc:
            raise McpCallError(
                server, tool, "failed", f"the call failed: {_describe(exc, connection.config)}"
            ) from exc
        result = McpResult.from_call(answer)
        if answer.isError:
            raise McpCallError(
                server,
                tool,
                "tool_error",
                f"the server reported an error: {result.text or '(no message)'}",
                result=result,
            )
        return result

    async def _answers_ping(self, connection: _Connection) -> bool:
        if connection.session is None:
            return False
        outcome, ping = await _race(connection.session.send_ping(), connection, PROBE_SECONDS)
        return outcome == "done" and ping.exception() is None

    async def _refresh_tools(self, connection: _Connection, limit: float) -> None:
        if connection.session is None:
            return
        outcome, listing = await _race(_list_tools(connection.session), connection, limit)
        if outcome == "done" and listing.exception() is None:
            tools = listing.result()
            connection.tools = {
                t.name: McpToolInfo.from_tool(connection.config.name, t) for t in tools
            }

    async def _connection_for(self, server: str, tool: str) -> _Connection:
        self._bind_loop()
        config = self._configs.get(server)
        if config is None:
            known = ", ".join(self._configs) or "none"
            raise McpCallError(
                server, tool, "unknown_server", f"no such server is configured (known: {known})"
            )
        if self._closed:
            raise McpCallError(server, tool, "disconnected", "the MCP sessions are closed")
        if config.disabled:
            raise McpCallError(
                server, tool, "disabled", "the server is disabled in the configuration"
            )
        current = self._current.get(server)
        if current is not None and current.usable:
            return current
        connection = await self._ensure(server, retry_failed=False)
        if not connection.usable:
            reason = connection.error or connection.lost or "the session was closed"
            raise McpCallError(
                server, tool, "start_failed", f"the server failed to start: {reason}"
            )
        return connection

    async def _ensure(self, server: str, *, retry_failed: bool) -> _Connection:
        """The server's open connection, opening a new one (one owner task) when there is none."""
        async with self._locks[server]:
            current = self._current.get(server)
            if current is not None and (current.usable or not current.ready.is_set()):
                await current.ready.wait()
                return current
            if (
                current is not None
                and not retry_failed
                and current.start_hung
                and time.monotonic() - current.failed_at < self.hung_start_retry_seconds
            ):
                return current
            carried = current.tools if current is not None else None
            connection = _Connection(self._configs[server], carried)
            self._current[server] = connection
            owner = asyncio.create_task(
                self._own(connection),
                name=f"mcp-session-{server}",
                # A fresh context: the owner outlives whatever run happened to start it.
                context=contextvars.Context(),
            )
            self._owners.add(owner)
            owner.add_done_callback(self._owners.discard)
            try:
                # The owner enforces start_timeout itself; this bound is only a backstop.
                await asyncio.wait_for(connection.ready.wait(), self._start_timeout + 5)
            except TimeoutError:
                connection.start_hung = True
                connection.fail(f"did not start within {self._start_timeout:g} s")
                owner.cancel()
            return connection

    # ------------------------------------------------------------------ the owner task

    async def _own(self, connection: _Connection) -> None:
        """Open the session, hold it until told to stop or until it breaks, then close it."""
        config = connection.config
        stderr: _StderrTail | None = None
        try:
            stderr = _StderrTail(config.name) if config.transport == "stdio" else None
            async with AsyncExitStack() as stack:
                info = await asyncio.to_thread(_client_info)  # reads package metadata
                read, write = await _open_transport(config, stack, stderr)
                relay = await stack.enter_async_context(anyio.create_task_group())
                stack.callback(relay.cancel_scope.cancel)
                to_session, session_read = anyio.create_memory_object_stream[Any](0)
                relay.start_soon(_relay, read, to_session, connection)
                session = await stack.enter_async_context(
                    ClientSession(session_read, write, client_info=info)
                )
                try:
                    with anyio.fail_after(self._start_timeout):
                        await session.initialize()
                        tools = await _list_tools(session)
                except TimeoutError:
                    connection.start_hung = True
                    tail = await stderr.tail(wait=0) if stderr else ""
                    connection.fail(
                        f"did not finish starting within {self._start_timeout:g} s{tail}"
                    )
                    return
                except Exception as exc:
                    tail = await stderr.tail() if stderr else ""
                    connection.fail(f"{_describe(exc, config)}{tail}")
                    return
                connection.opened(session, tools)
                await connection.stop.wait()
        except Exception as exc:
            reason = _describe(exc, config) + (await stderr.tail() if stderr else "")
            connection.fail(reason)
            connection.lose(reason)
        finally:
            connection.session = None
            if stderr is not None:
                stderr.close_writer()
            connection.stop.set()

    def _bind_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif self._loop is not loop:
            raise RuntimeError("this McpHub belongs to another event loop; use one hub per loop")


async def _open_transport(
    config: McpServerConfig, stack: AsyncExitStack, stderr: _StderrTail | None
) -> tuple[Any, Any]:
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


async def _relay(source: Any, sink: Any, connection: _Connection) -> None:
    """Pass the transport's messages to the session, and notice when the transport ends."""
    try:
        async with sink:
            async for message in source:
                await sink.send(message)
    except (anyio.BrokenResourceError, anyio.ClosedResourceError):
        return  # the session is closing and reads no more
    connection.lose("the server closed the connection (its process exited?)")


async def _race(
    work: Awaitable[_T], connection: _Connection, limit: float
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


async def _list_tools(session: ClientSession) -> list[types.Tool]:
    tools: list[types.Tool] = []
    cursor: str | None = None
    while True:
        params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
        page = await session.list_tools(params=params)
        tools.extend(page.tools)
        cursor = page.nextCursor
        if not cursor:
            return tools


def _describe(exc: BaseException, config: McpServerConfig) -> str:
    """A readable reason from an exception or exception group, without secrets from the URL."""
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


def _remember_credentials(config: McpServerConfig) -> None:
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
def _client_info() -> types.Implementation:
    try:
        release = version("smart-inbox-agent")
    except PackageNotFoundError:
        release = "0"
    return types.Implementation(name="smart-inbox-agent", version=release)


# ---------------------------------------------------------------------- one hub per process


@dataclass
class _LoopHubs:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    hubs: dict[Path, tuple[tuple[int, int] | None, McpHub]] = field(default_factory=dict)


_SHARED: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopHubs] = (
    weakref.WeakKeyDictionary()
)


def _stamp(path: Path) -> tuple[Path, tuple[int, int] | None]:
    resolved = path.resolve()
    try:
        stat = resolved.stat()
    except FileNotFoundError:
        return resolved, None
    return resolved, (stat.st_mtime_ns, stat.st_size)


async def shared_hub(path: Path, environ: Mapping[str, str] | None = None) -> McpHub:
    """The started hub for the configuration at `path`, shared by every caller in this loop.

    One hub per (running event loop, resolved path, file mtime and size), so sessions are kept
    across turns and threads of a long-lived process. When the file changes, the next call
    builds a new hub and closes the old one (its in-flight calls then fail as disconnected).
    `environ` is read when a hub is built. Raises McpConfigError for a broken file and keeps
    the previous hub until the file is fixed.
    """
    loop = asyncio.get_running_loop()
    per_loop = _SHARED.get(loop)
    if per_loop is None:
        per_loop = _SHARED[loop] = _LoopHubs()
    resolved, stamp = await asyncio.to_thread(_stamp, path)
    async with per_loop.lock:
        previous = per_loop.hubs.get(resolved)
        if previous is not None and previous[0] == stamp:
            return previous[1]
        configs = await asyncio.to_thread(load_mcp_config, resolved, environ)
        if previous is not None:
            await previous[1].aclose()
        hub = McpHub(configs)
        per_loop.hubs[resolved] = (stamp, hub)
        await hub.start()
        return hub


async def close_shared_hubs() -> None:
    """Close every shared hub of the running loop (at shutdown, or between tests)."""
    per_loop = _SHARED.pop(asyncio.get_running_loop(), None)
    if per_loop is not None:
        async with per_loop.lock:
            for _, hub in per_loop.hubs.values():
                await hub.aclose()
