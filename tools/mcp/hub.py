"""Sessions with the configured MCP servers, opened once and kept, shared by every caller.

An MCP session is a stack of anyio context managers that must be exited by the task that
entered them, so every server gets one long-lived owner task that opens, holds and closes its
session; callers in any task of the same event loop only send requests through it.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Mapping
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

import anyio

from tools.mcp.config import McpServerConfig
from tools.mcp.connection import (
    ServerConnection,
    StderrTail,
    client_info,
    describe_failure,
    list_all_tools,
    open_transport,
    race,
    relay_stderr,
    remember_credentials,
)
from tools.mcp.results import McpCallError, McpResult, McpToolInfo, ServerStatus

if TYPE_CHECKING:
    # The SDK is imported when a session opens: a hub nobody calls costs no import.
    from mcp import types

logger = logging.getLogger(__name__)


PROBE_SECONDS = 2.0
"""After a call times out, how long the server gets to answer a ping before it counts as hung."""
CLOSE_SECONDS = 10.0
"""How long `aclose` waits for owner tasks to close their sessions before cancelling them."""


_TRANSPORT_ENDED = {
    (-32000, "Connection closed"),  # the SDK's `mcp.types.CONNECTION_CLOSED`
    (32600, "Session terminated"),
}
"""Errors the SDK itself makes up when the transport ended (the stream closed, or an HTTP
server answered 404 for our session id); servers may use the same codes for their own errors."""


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
            remember_credentials(config)
        self._start_timeout = start_timeout
        self._current: dict[str, ServerConnection] = {}
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

    async def probe(self, server: str, timeout: float) -> ServerStatus:
        """The server's state after a ping through its kept session (started when it has none).

        The health check: a session that does not answer the ping within `timeout` is lost,
        so the next call (or probe) starts a new one.
        """
        self._bind_loop()
        config = self._configs[server]
        if config.disabled or self._closed:
            return next(s for s in self.statuses() if s.name == server)
        connection = self._current.get(server)
        if connection is None or not connection.usable:
            connection = await self._ensure(server, retry_failed=True)
        if connection.usable and not await self._answers_ping(connection, timeout):
            connection.lose(f"no answer to a ping within {timeout:g} s")
        return connection.status()

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
        outcome, request = await race(session.call_tool(tool, args), connection, limit)
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
        self, connection: ServerConnection, tool: str, request: asyncio.Future[types.CallToolResult]
    ) -> McpResult:
        from mcp import McpError

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
                server,
                tool,
                "failed",
                f"the call failed: {describe_failure(exc, connection.config)}",
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

    async def _answers_ping(
        self, connection: ServerConnection, limit: float = PROBE_SECONDS
    ) -> bool:
        if connection.session is None:
            return False
        outcome, ping = await race(connection.session.send_ping(), connection, limit)
        return outcome == "done" and ping.exception() is None

    async def _refresh_tools(self, connection: ServerConnection, limit: float) -> None:
        if connection.session is None:
            return
        outcome, listing = await race(list_all_tools(connection.session), connection, limit)
        if outcome == "done" and listing.exception() is None:
            tools = listing.result()
            connection.tools = {
                t.name: McpToolInfo.from_tool(connection.config.name, t) for t in tools
            }

    async def _connection_for(self, server: str, tool: str) -> ServerConnection:
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

    async def _ensure(self, server: str, *, retry_failed: bool) -> ServerConnection:
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
            connection = ServerConnection(self._configs[server], carried)
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

    async def _own(self, connection: ServerConnection) -> None:
        """Open the session, hold it until told to stop or until it breaks, then close it."""
        from mcp import ClientSession

        config = connection.config
        stderr: StderrTail | None = None
        try:
            stderr = StderrTail(config.name) if config.transport == "stdio" else None
            async with AsyncExitStack() as stack:
                info = await asyncio.to_thread(client_info)  # reads package metadata
                read, write = await open_transport(config, stack, stderr)
                relay = await stack.enter_async_context(anyio.create_task_group())
                stack.callback(relay.cancel_scope.cancel)
                to_session, session_read = anyio.create_memory_object_stream[Any](0)
                relay.start_soon(relay_stderr, read, to_session, connection)
                session = await stack.enter_async_context(
                    ClientSession(session_read, write, client_info=info)
                )
                try:
                    with anyio.fail_after(self._start_timeout):
                        await session.initialize()
                        tools = await list_all_tools(session)
                except TimeoutError:
                    connection.start_hung = True
                    tail = await stderr.tail(wait=0) if stderr else ""
                    connection.fail(
                        f"did not finish starting within {self._start_timeout:g} s{tail}"
                    )
                    return
                except Exception as exc:
                    tail = await stderr.tail() if stderr else ""
                    connection.fail(f"{describe_failure(exc, config)}{tail}")
                    return
                connection.opened(session, tools)
                await connection.stop.wait()
        except Exception as exc:
            reason = describe_failure(exc, config) + (await stderr.tail() if stderr else "")
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
