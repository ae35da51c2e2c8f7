"""Inbox actions on an `mcp:` inbox: done by the server's own tools, or one line saying it cannot."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from memory.db import AppDatabase
from tests.fakes.mcp.launch import stdio_config
from tests.integration.cli_runner import run_cli
from tests.integration.mcp.test_mcp_agent import write_config
from tools.mail import inbox_moves as moves
from tools.mail.inbox_tools import inbox_toolkit
from tools.mail.inbox_undo import undo
from tools.mail.mailbox import MailboxEnv
from tools.mail.mcp_ops import McpOperations, bridged, current_bridge
from tools.mail.mcp_source import parse_mcp_spec, sync_mcp_source
from tools.mail.source_protocol import MailSourceError
from tools.mcp.hub import McpHub
from tools.registry import ToolRegistry
from tools.toolkit import ToolFailure

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

ROOT = Path(__file__).resolve().parents[2]
NEWSLETTER = "212.8f2c41d0.20261116060211@mail.backendweekly.example"


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[McpHub]:
    shutil.copytree(ROOT / "data" / "demo-inbox", tmp_path / "served")
    env = {"INBOX": f"maildir:{tmp_path / 'served'}", "SMART_INBOX_HOME": str(tmp_path / "srv")}
    hub = McpHub(
        {
            "mail": stdio_config("mail", "tests.integration.mcp_inbox_server", env=env),
            "echo": stdio_config("echo"),
        }
    )
    await hub.start()
    yield hub
    await hub.aclose()


def served(tmp_path: Path, folder: str) -> list[str]:
    root = tmp_path / "served" / (f".{folder}" if folder else "")
    return sorted(p.name for sub in ("cur", "new") for p in (root / sub).glob("*"))


async def test_archive_mark_read_and_undo_through_the_server(hub: McpHub, tmp_path: Path) -> None:
    db = AppDatabase(f"sqlite:///{tmp_path / 'client.db'}")
    await sync_mcp_source(db, "mcp:mail", hub)
    env = MailboxEnv(db=db, source="mcp:mail")

    with bridged(hub):
        assert current_bridge() is not None
        archived = await asyncio.to_thread(
            moves.archive, env, [NEWSLETTER], action="archive_conversations"
        )
        assert [r["status"] for r in archived["data"]["results"]] == ["moved"]
        assert len(served(tmp_path, "Archive")) == 1
        email = db.get_email(NEWSLETTER)
        assert email is not None and email.folder == "Archive"

        await asyncio.to_thread(undo, env, {})
        assert served(tmp_path, "Archive") == []
        read = await asyncio.to_thread(moves.mark_read, env, [NEWSLETTER], True)
        assert read["data"]["failed"] == 0
    assert any(name.endswith(",S") for name in served(tmp_path, ""))


async def test_a_server_without_move_tools_cannot_archive(hub: McpHub) -> None:
    with bridged(hub):
        bridge = current_bridge()
        assert bridge is not None
        ops = McpOperations(parse_mcp_spec("mcp:echo"), bridge)
        with pytest.raises(MailSourceError, match="offers no move_to_folder tool"):
            await asyncio.to_thread(ops.move, [], "Archive")


async def test_the_tool_asks_the_server_of_mcp_json(hub: McpHub, tmp_path: Path) -> None:
    db = AppDatabase(f"sqlite:///{tmp_path / 'client.db'}")
    await sync_mcp_source(db, "mcp:mail", hub)
    config = tmp_path / "mcp.json"
    server = {
        "command": sys.executable,
        "args": ["-m", "tests.integration.mcp_inbox_server"],
        "cwd": str(ROOT),
        "env": {
            "INBOX": f"maildir:{tmp_path / 'served'}",
            "SMART_INBOX_HOME": str(tmp_path / "srv"),
        },
    }
    config.write_text(json.dumps({"mcpServers": {"mail": server}}))
    env = MailboxEnv(db=db, source="mcp:mail")
    registry = ToolRegistry.from_toolkits([inbox_toolkit(env, config)])

    result = await registry.invoke("trash_conversations", {"message_ids": [NEWSLETTER]})

    assert result["content"].startswith("Moved to Trash 1 of 1")
    assert len(served(tmp_path, "Trash")) == 1
    missing = ToolRegistry.from_toolkits([inbox_toolkit(env, tmp_path / "none.json")])
    with pytest.raises(ToolFailure, match=r"this mail source \(mcp:mail\) cannot archive"):
        await missing.invoke("archive_conversations", {"message_ids": [NEWSLETTER]})


def test_an_action_the_server_cannot_do_is_refused_before_any_card(tmp_path: Path) -> None:
    """A server that lists and reads mail but moves none: no card, one line naming the tool."""
    shutil.copytree(ROOT / "data" / "demo-inbox", tmp_path / "served")
    served_env = {"INBOX": f"maildir:{tmp_path / 'served'}", "SMART_INBOX_HOME": str(tmp_path)}
    home = tmp_path / "home"
    server = {
        "command": sys.executable,
        "args": ["-m", "tests.integration.mcp_inbox_server"],
        "cwd": str(ROOT),
    }
    before = served(tmp_path, "")

    def ask(leave_out: str) -> dict[str, Any]:
        env = {**served_env, "MCP_INBOX_LEAVE_OUT": leave_out}
        write_config(home, {"mail": {**server, "env": env}})
        result = run_cli(home, "ask", "archive the newsletters", "--inbox", "mcp:mail", "--json")
        found: dict[str, Any] = json.loads(result.stdout)
        return found

    refused = ask("move_to_folder")
    assert refused["pending"] == [], "nothing to approve: the server cannot archive"
    assert "its MCP server 'mail' offers no move_to_folder tool" in refused["answer"]
    assert served(tmp_path, "") == before and served(tmp_path, "Archive") == []

    # The same server with the tool, the same words: the card is put as before.
    [card] = ask("")["pending"]
    assert card["action"] == "archive_conversations"
    assert served(tmp_path, "") == before, "nothing moves before approval"
