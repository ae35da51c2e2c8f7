"""One started hub per event loop and configuration file, replaced when the file changes."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.mcp.launch import ECHO_MODULE, REPO_ROOT, running
from tools.mcp.config import McpConfigError
from tools.mcp.shared_hub import close_shared_hubs, shared_hub

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
async def _close_shared() -> AsyncIterator[None]:
    yield
    await close_shared_hubs()


def write_config(path: Path, label: str) -> Path:
    server = {
        "command": "${PYTHON}",
        "args": ["-m", ECHO_MODULE],
        "cwd": str(REPO_ROOT),
        "env": {"ECHO_LABEL": label},
    }
    path.write_text(json.dumps({"mcpServers": {"echo": server}}), encoding="utf-8")
    return path


ENVIRON = {"PYTHON": sys.executable}


async def test_the_same_hub_and_process_serve_later_turns(tmp_path: Path) -> None:
    path = write_config(tmp_path / "mcp.json", "first")
    hub = await shared_hub(path, ENVIRON)
    pid = (await hub.call("echo", "pid", {})).text

    async def later_turn() -> str:
        again = await shared_hub(path, ENVIRON)
        assert again is hub
        return (await again.call("echo", "pid", {})).text

    assert await asyncio.create_task(later_turn()) == pid


async def test_a_changed_file_gives_a_new_hub_and_closes_the_old(tmp_path: Path) -> None:
    path = write_config(tmp_path / "mcp.json", "first")
    old = await shared_hub(path, ENVIRON)
    old_pid = int((await old.call("echo", "pid", {})).text)
    write_config(path, "second-label")  # a different size, whatever the clock's resolution
    new = await shared_hub(path, ENVIRON)
    assert new is not old
    assert (await new.call("echo", "echo", {"text": "hi"})).text == "[second-label] hi"
    assert old.tools() == []
    assert not running(old_pid)


async def test_a_broken_edit_raises_and_keeps_the_working_hub(tmp_path: Path) -> None:
    path = write_config(tmp_path / "mcp.json", "first")
    hub = await shared_hub(path, ENVIRON)
    path.write_text('{"mcpServers": {"echo": {"command": }}}', encoding="utf-8")
    with pytest.raises(McpConfigError, match="line 1, column"):
        await shared_hub(path, ENVIRON)
    assert (await hub.call("echo", "echo", {"text": "still"})).text == "[first] still"


async def test_no_file_gives_a_hub_without_servers(tmp_path: Path) -> None:
    hub = await shared_hub(tmp_path / "absent.json", {})
    assert hub.statuses() == [] and hub.tools() == []
    assert await shared_hub(tmp_path / "absent.json", {}) is hub


def test_each_event_loop_gets_its_own_hub(tmp_path: Path) -> None:
    path = write_config(tmp_path / "mcp.json", "first")

    async def one_loop() -> int:
        hub = await shared_hub(path, ENVIRON)
        pid = int((await hub.call("echo", "pid", {})).text)
        await close_shared_hubs()
        return pid

    first, second = asyncio.run(one_loop()), asyncio.run(one_loop())
    assert first != second
    assert not running(first) and not running(second)
