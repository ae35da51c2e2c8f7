"""Our MCP server's inbox actions, in process: archive a conversation, fail one line per id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp.shared.memory import create_connected_server_and_client_session

from tests.unit.conftest import NEWSLETTER_ID
from ui.mcp_server.server import build_mail_server

pytestmark = pytest.mark.timeout(60)


async def test_archive_and_flag_through_the_server(maildir: Path, tmp_path: Path) -> None:
    server = build_mail_server(inbox=f"maildir:{maildir}", home=str(tmp_path / "home"))
    async with create_connected_server_and_client_session(server._mcp_server) as session:
        tools = {t.name: t for t in (await session.list_tools()).tools}
        archived = await session.call_tool(
            "archive_conversations", {"message_ids": [NEWSLETTER_ID, "nope@x"]}
        )
        missing = await session.call_tool("flag_messages", {"message_ids": ["nope@x"]})
    assert tools["archive_conversations"].annotations.readOnlyHint is False
    data: dict[str, Any] = dict(archived.structuredContent or {})
    assert not archived.isError
    assert [(r["id"], r["status"]) for r in data["results"]] == [
        ("nope@x", "failed"),
        (NEWSLETTER_ID, "moved"),
    ]
    assert len(list((maildir / ".Archive" / "new").iterdir())) == 1
    assert missing.isError
    assert "no message with id 'nope@x'" in missing.content[0].text  # type: ignore[union-attr]
