"""Kept MCP sessions against real server processes, over stdio and streamable HTTP."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Iterator

import pytest

from tests.fakes.mcp.launch import HANG_MODULE, HttpMcpServer, child_pids, running, stdio_config
from tools.mcp.config import McpServerConfig
from tools.mcp.hub import McpHub
from tools.mcp.results import McpCallError, McpToolInfo

pytestmark = pytest.mark.integration

ECHO_TOOLS = {"echo", "add", "slow", "crash", "write_note", "pid", "fail", "picture"}


@pytest.fixture
def http_server() -> Iterator[HttpMcpServer]:
    with HttpMcpServer() as server:
        yield server


@pytest.fixture(params=["stdio", "http"])
def echo_config(request: pytest.FixtureRequest) -> McpServerConfig:
    """The echo server, once run as a child process over stdio, once reached over HTTP."""
    if request.param == "stdio":
        return stdio_config("echo")
    server: HttpMcpServer = request.getfixturevalue("http_server")
    return server.config("echo")


@pytest.fixture
async def hub(echo_config: McpServerConfig) -> AsyncIterator[McpHub]:
    hub = McpHub({"echo": echo_config})
    await hub.start()
    yield hub
    await hub.aclose()


async def pid_of(hub: McpHub, server: str = "echo") -> int:
    return int((await hub.call(server, "pid", {})).text)


def tool(hub: McpHub, server: str, name: str) -> McpToolInfo:
    return next(t for t in hub.tools() if (t.server, t.name) == (server, name))


# ---------------------------------------------------------------------- both transports


async def test_lists_tools_with_annotations_and_fingerprints(hub: McpHub) -> None:
    (status,) = hub.statuses()
    assert status.state == "connected", status.error
    assert {t.name for t in status.tools} == ECHO_TOOLS
    echo = tool(hub, "echo", "echo")
    assert echo.annotations == {"title": "Echo", "readOnlyHint": True, "openWorldHint": False}
    assert tool(hub, "echo", "write_note").annotations == {"destructiveHint": True}
    assert tool(hub, "echo", "pid").annotations == {}
    assert echo.input_schema["properties"]["text"]["type"] == "string"
    assert len(echo.fingerprint) == 64
    assert echo.fingerprint != tool(hub, "echo", "add").fingerprint


async def test_call_returns_text_and_structured_content(hub: McpHub) -> None:
    echoed = await hub.call("echo", "echo", {"text": "héllo"})
    assert echoed.text == "héllo"
    assert not echoed.is_error
    added = await hub.call("echo", "add", {"a": 2, "b": 40})
    assert added.text == "42"
    assert added.structured == {"result": 42}


async def test_binary_content_is_named_not_dumped(hub: McpHub) -> None:
    result = await hub.call("echo", "picture", {})
    assert result.text == "a caption\n[image: image/png, 10 bytes]"


async def test_error_result_raises_with_the_servers_text(hub: McpHub) -> None:
    with pytest.raises(McpCallError) as caught:
        await hub.call("echo", "fail", {"message": "the ledger is locked"})
    assert caught.value.kind == "tool_error"
    assert "the ledger is locked" in str(caught.value)
    assert "'echo'" in str(caught.value) and "'fail'" in str(caught.value)
    assert caught.value.result is not None and caught.value.result.is_error
    assert (await hub.call("echo", "echo", {"text": "still fine"})).text == "still fine"


async def test_the_same_server_process_serves_every_call(hub: McpHub) -> None:
    pids = {await pid_of(hub) for _ in range(20)}
    assert len(pids) == 1


async def test_concurrent_calls_share_one_session(hub: McpHub) -> None:
    before = await pid_of(hub)
    # Long enough that a loaded machine still starts all ten before the first one ends.
    results = await asyncio.gather(*(hub.call("echo", "slow", {"seconds": 2}) for _ in range(10)))
    spans = [(r.structured["started"], r.structured["ended"]) for r in results]
    # Every sleep began before any ended: all ten ran at once, on one server process.
    assert max(start for start, _ in spans) < min(end for _, end in spans)
    assert {r.structured["pid"] for r in results} == {before}


async def test_a_call_that_never_answers_times_out_and_the_session_survives(
    hub: McpHub,
) -> None:
    before = await pid_of(hub)
    with pytest.raises(McpCallError) as caught:
        await hub.call("echo", "slow", {"seconds": 60}, timeout=1)
    assert caught.value.kind == "timeout"
    assert "timed out after 1 s" in str(caught.value)
    assert await pid_of(hub) == before


async def test_unknown_tool_and_server_are_reported(hub: McpHub) -> None:
    with pytest.raises(McpCallError) as tool_error:
        await hub.call("echo", "delete_everything", {})
    assert tool_error.value.kind == "unknown_tool"
    assert "echo" in tool_error.value.reason  # names the tools it does have
    with pytest.raises(McpCallError) as server_error:
        await hub.call("jira", "create_issue", {})
    assert server_error.value.kind == "unknown_server"


async def test_calls_and_close_from_other_tasks_than_start(echo_config: McpServerConfig) -> None:
    hub = McpHub({"echo": echo_config})
    await asyncio.create_task(hub.start())  # the starting task ends here
    assert (await asyncio.create_task(hub.call("echo", "echo", {"text": "x"}))).text == "x"
    await asyncio.create_task(hub.aclose())
    assert hub.tools() == []


# ---------------------------------------------------------------------- a server that dies


async def test_stdio_server_crashing_mid_call_fails_that_call_then_reconnects() -> None:
    hub = McpHub({"echo": stdio_config("echo")})
    await hub.start()
    try:
        before = await pid_of(hub)
        with pytest.raises(McpCallError) as caught:
            await hub.call("echo", "crash", {})
        assert caught.value.kind == "disconnected"
        assert [t.name for t in hub.tools() if t.name == "echo"] == ["echo"]  # still offered
        after = await pid_of(hub)
        assert after != before
        assert not running(before)
        assert await pid_of(hub) == after
    finally:
        await hub.aclose()


async def test_stdio_server_killed_while_idle_is_restarted_by_the_next_call() -> None:
    hub = McpHub({"echo": stdio_config("echo")})
    await hub.start()
    try:
        before = await pid_of(hub)
        os.kill(before, signal.SIGKILL)
        for _ in range(100):
            if hub.statuses()[0].state != "connected":
                break
            await asyncio.sleep(0.05)
        (status,) = hub.statuses()
        assert status.state == "failed" and status.error.startswith("disconnected")
        assert await pid_of(hub) != before
        assert hub.statuses()[0].state == "connected"
    finally:
        await hub.aclose()


async def test_http_server_gone_fails_one_call_then_reconnects(
    http_server: HttpMcpServer,
) -> None:
    hub = McpHub({"web": http_server.config("web")})
    await hub.start()
    try:
        before = await pid_of(hub, "web")
        await asyncio.to_thread(http_server.kill)
        await asyncio.to_thread(http_server.start)  # same port, fresh process
        with pytest.raises(McpCallError) as caught:
            await hub.call("web", "pid", {}, timeout=5)
        assert caught.value.kind == "disconnected"
        after = await pid_of(hub, "web")
        assert after != before and after == http_server.process.pid  # type: ignore[union-attr]
    finally:
        await hub.aclose()


async def test_http_server_down_reports_a_failed_start_and_recovers(
    http_server: HttpMcpServer,
) -> None:
    hub = McpHub({"web": http_server.config("web")})
    await hub.start()
    try:
        await asyncio.to_thread(http_server.kill)
        with pytest.raises(McpCallError):
            await hub.call("web", "pid", {}, timeout=5)  # the session's last request
        with pytest.raises(McpCallError) as caught:
            await hub.call("web", "pid", {}, timeout=5)
        assert caught.value.kind == "start_failed"
        assert "ConnectError" in caught.value.reason
        (status,) = hub.statuses()
        assert status.state == "failed" and "ConnectError" in status.error
        # Still offered, so the next call can find the server back.
        assert {t.name for t in hub.tools()} == ECHO_TOOLS
        await asyncio.to_thread(http_server.start)
        assert await pid_of(hub, "web") == http_server.process.pid  # type: ignore[union-attr]
    finally:
        await hub.aclose()


# ---------------------------------------------------------------------- servers that don't start

START_WITH_OTHERS = 8.0
"""Start timeout where a real server must start beside a hanging one: a loaded machine can take
seconds to import a Python MCP server, and the hanging one fails only after this long."""


async def test_a_hanging_start_is_marked_failed_and_others_still_work() -> None:
    hub = McpHub(
        {"stuck": stdio_config("stuck", HANG_MODULE), "echo": stdio_config("echo")},
        start_timeout=START_WITH_OTHERS,
    )
    await hub.start()
    try:
        states = {s.name: s for s in hub.statuses()}
        assert states["stuck"].state == "failed"
        assert f"did not finish starting within {START_WITH_OTHERS:g} s" in states["stuck"].error
        assert states["echo"].state == "connected"
        assert (await hub.call("echo", "echo", {"text": "ok"})).text == "ok"
        assert {t.server for t in hub.tools()} == {"echo"}
        with pytest.raises(McpCallError) as caught:
            await hub.call("stuck", "anything", {})
        assert caught.value.kind == "start_failed"  # fails fast instead of hanging again
    finally:
        await hub.aclose()


async def test_a_hanging_http_server_is_marked_failed() -> None:
    with HttpMcpServer(HANG_MODULE) as stuck:
        hub = McpHub({"stuck": stuck.config("stuck")}, start_timeout=1)
        await hub.start()
        try:
            (status,) = hub.statuses()
            assert status.state == "failed"
            assert "did not finish starting within 1 s" in status.error
        finally:
            await hub.aclose()


async def test_a_missing_command_is_failed_with_the_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hub = McpHub(
        {
            "ghost": McpServerConfig("ghost", command="no-such-mcp-server-binary"),
            "echo": stdio_config("echo"),
        }
    )
    await hub.start()
    try:
        ghost, echo = hub.statuses()
        assert ghost.state == "failed"
        assert "No such file or directory" in ghost.error
        assert "no-such-mcp-server-binary" in ghost.error
        assert echo.state == "connected"
        assert any("ghost" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")
        with pytest.raises(McpCallError) as caught:
            await hub.call("ghost", "echo", {"text": "x"})
        assert caught.value.kind == "start_failed"
        assert "No such file or directory" in str(caught.value)
    finally:
        await hub.aclose()


async def test_a_server_that_exits_at_start_reports_its_stderr() -> None:
    broken = McpServerConfig(
        "broken", command=sys.executable, args=("-c", "raise SystemExit('bad token file')")
    )
    hub = McpHub({"broken": broken})
    await hub.start()
    try:
        (status,) = hub.statuses()
        assert status.state == "failed"
        assert "bad token file" in status.error
    finally:
        await hub.aclose()


async def test_a_disabled_server_is_not_started() -> None:
    hub = McpHub({"off": stdio_config("off", disabled=True)})
    await hub.start()
    try:
        (status,) = hub.statuses()
        assert (status.state, status.tools) == ("disabled", [])
        assert hub.tools() == []
        assert child_pids() == set()
        with pytest.raises(McpCallError) as caught:
            await hub.call("off", "echo", {"text": "x"})
        assert caught.value.kind == "disabled"
    finally:
        await hub.aclose()


# ---------------------------------------------------------------------- several servers


async def test_fingerprint_changes_with_the_tool_description() -> None:
    async def fingerprints(env: dict[str, str]) -> dict[str, str]:
        hub = McpHub({"echo": stdio_config("echo", env=env)})
        await hub.start()
        try:
            return {t.name: t.fingerprint for t in hub.tools()}
        finally:
            await hub.aclose()

    first = await fingerprints({})
    again = await fingerprints({})
    changed = await fingerprints({"ECHO_DESCRIPTION": "Return the text, and forward it."})
    assert first == again
    assert changed["echo"] != first["echo"]
    assert changed["add"] == first["add"]


async def test_two_servers_with_the_same_tool_names_are_both_reachable(
    http_server: HttpMcpServer,
) -> None:
    hub = McpHub(
        {
            "alpha": stdio_config("alpha", env={"ECHO_LABEL": "alpha"}),
            "beta": stdio_config("beta", env={"ECHO_LABEL": "beta"}),
            "web": http_server.config("web"),
        }
    )
    await hub.start()
    try:
        echoes = sorted(t.server for t in hub.tools() if t.name == "echo")
        assert echoes == ["alpha", "beta", "web"]
        assert (await hub.call("alpha", "echo", {"text": "hi"})).text == "[alpha] hi"
        assert (await hub.call("beta", "echo", {"text": "hi"})).text == "[beta] hi"
        assert (await hub.call("web", "echo", {"text": "hi"})).text == "hi"
        assert await pid_of(hub, "alpha") != await pid_of(hub, "beta")
    finally:
        await hub.aclose()


async def test_aclose_leaves_no_child_process() -> None:
    hub = McpHub(
        {
            "one": stdio_config("one"),
            "two": stdio_config("two"),
            "stuck": stdio_config("stuck", HANG_MODULE),
        },
        start_timeout=START_WITH_OTHERS,
    )
    await hub.start()
    pids = {await pid_of(hub, "one"), await pid_of(hub, "two")}
    assert pids <= child_pids()
    pending = asyncio.create_task(hub.call("one", "slow", {"seconds": 60}))
    await asyncio.sleep(0.2)
    await hub.aclose()
    assert child_pids() == set()
    assert not any(running(pid) for pid in pids)
    with pytest.raises(McpCallError) as caught:
        await pending
    assert caught.value.kind == "disconnected"
