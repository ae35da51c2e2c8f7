"""An inbox action on an `mcp:` inbox whose server lacks the tool it needs: refused before any
card, naming the tool; asked as before when the server (by its own tool names) has it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from memory.db import AppDatabase
from tools.mail.inbox_tools import inbox_toolkit
from tools.mail.mailbox import MailboxEnv
from tools.mail.mcp_ops import missing_server_tool
from tools.mcp.results import McpToolInfo
from tools.registry import ToolRegistry
from tools.toolkit import ToolFailure

IDS = {"message_ids": ["a@b"]}


def info(server: str, name: str) -> McpToolInfo:
    return McpToolInfo(server, name, "", {"type": "object"}, {}, f"{server}/{name}")


def catalogue(tmp_path: Path, source: str, *tools: tuple[str, str]) -> ToolRegistry:
    env = MailboxEnv(db=AppDatabase(f"sqlite:///{tmp_path / 'app.db'}"), source=source)
    native = ToolRegistry.from_toolkits([inbox_toolkit(env)])
    return native.with_mcp(
        cast(Any, None), [info(s, n) for s, n in tools], auto_approve={}, changed={}
    )


def test_a_server_without_move_to_folder_cannot_archive_and_says_so(tmp_path: Path) -> None:
    registry = catalogue(tmp_path, "mcp:mail", ("mail", "search_emails"), ("mail", "get_email"))
    for action in ("archive_conversations", "mark_done", "trash_conversations"):
        why = registry.refusal(action, IDS)
        assert "its MCP server 'mail' offers no move_to_folder tool" in why
        assert "(it offers get_email, search_emails)" in why
    assert "offers no mark_read tool" in registry.refusal("mark_read", IDS)
    assert registry.refusal("block_sender", {"address": "x@y.example"}) == ""


async def test_a_refused_call_is_never_run(tmp_path: Path) -> None:
    registry = catalogue(tmp_path, "mcp:mail", ("mail", "search_emails"))
    with pytest.raises(ToolFailure, match="offers no move_to_folder tool"):
        await registry.invoke("archive_conversations", IDS)


def test_the_servers_own_name_counts_even_when_the_catalogue_prefixes_it(tmp_path: Path) -> None:
    # `move_to_folder` is also ours: the catalogue lists the server's as `mail__move_to_folder`.
    registry = catalogue(tmp_path, "mcp:mail", ("mail", "move_to_folder"))
    assert "mail__move_to_folder" in registry.names()
    assert registry.refusal("archive_conversations", IDS) == ""


def test_another_servers_tool_does_not_stand_in(tmp_path: Path) -> None:
    registry = catalogue(
        tmp_path, "mcp:mail?search=list", ("mail", "list"), ("files", "move_to_folder")
    )
    assert "server 'mail' offers no move_to_folder" in registry.refusal(
        "archive_conversations", IDS
    )


@pytest.mark.parametrize(
    ("source", "offered"),
    [
        ("mcp:mail", {}),  # the server is not in the catalogue (not started): the action says
        ("maildir:/x", {"mail": frozenset({"search_emails"})}),  # not an mcp: inbox
        ("mcp:", {"": frozenset({"search_emails"})}),  # a spec the fetch already refuses
    ],
)
def test_nothing_is_refused_that_cannot_be_told(
    source: str, offered: dict[str, frozenset[str]]
) -> None:
    assert missing_server_tool(source, "archive_conversations", offered) == ""
