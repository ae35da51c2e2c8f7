"""Our MCP server's triage, in process: each message's decision, phishing warning and doubt,
and the user's own rules applied before the generic ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp.shared.memory import create_connected_server_and_client_session

from memory.db import open_database
from memory.paths import app_database_url, data_dir
from memory.triage_preferences import TriagePreferences
from tests.unit.conftest import MEETING_ID, write_maildir
from ui.mcp_server.server import build_mail_server

pytestmark = pytest.mark.timeout(60)

PHISHING_ID = "reset-77@acme-support.example"
PHISHING = f"""\
From: Acme IT Helpdesk <helpdesk@acme-support.example>
To: me@acme.example
Subject: Action required: confirm your password within 24 hours
Date: Fri, 20 Nov 2026 09:00:00 +0000
Message-ID: <{PHISHING_ID}>

Your mailbox will be suspended today. Confirm your password now to keep access:
https://acme-support.example/login?user=me
IT Helpdesk
"""


def data_of(result: Any) -> dict[str, Any]:
    assert not result.isError, result.content
    return dict(result.structuredContent)


@pytest.fixture
def inbox(maildir: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SMART_INBOX_USER_EMAILS", "me@acme.example")
    write_maildir(maildir, {"1781000009.M9P1.testhost:2,S": PHISHING})
    return f"maildir:{maildir}"


async def test_every_listed_message_says_its_decision_warning_and_doubt(
    inbox: str, tmp_path: Path
) -> None:
    server = build_mail_server(inbox=inbox, home=str(tmp_path / "home"))
    async with create_connected_server_and_client_session(server._mcp_server) as session:
        listed = data_of(await session.call_tool("list_inbox", {"limit": 50}))["messages"]
        phishing = data_of(await session.call_tool("get_email", {"email_id": PHISHING_ID}))
    assert len(listed) == 6
    for message in listed:
        assert message["decision"] in ("respond", "notify", "ignore")
        assert isinstance(message["unsure"], bool) and isinstance(message["suspicious"], str)
    by_id = {m["id"]: m for m in listed}
    assert by_id[PHISHING_ID]["suspicious"]
    assert by_id[MEETING_ID]["suspicious"] == ""
    assert phishing["suspicious"] == by_id[PHISHING_ID]["suspicious"]
    assert phishing["decision"] == by_id[PHISHING_ID]["decision"]


async def test_the_detail_text_shows_the_decision_and_warns(inbox: str, tmp_path: Path) -> None:
    server = build_mail_server(inbox=inbox, home=str(tmp_path / "home"))
    async with create_connected_server_and_client_session(server._mcp_server) as session:
        result = await session.call_tool("get_email", {"email_id": PHISHING_ID})
    text = result.content[0].text  # type: ignore[union-attr]
    triage_line = next(line for line in text.splitlines() if line.startswith("triage: "))
    assert triage_line.split()[1] in ("respond", "notify", "ignore")
    assert "WARNING, looks like phishing or fraud: " in text


async def test_the_users_rules_come_before_the_generic_ones(inbox: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    db = open_database(app_database_url(data_dir(home)))
    TriagePreferences(db).add(
        scope="sender", key="bob@acme.example", decision="ignore", priority="low", origin="view"
    )
    server = build_mail_server(inbox=inbox, home=str(home))
    async with create_connected_server_and_client_session(server._mcp_server) as session:
        meeting = data_of(await session.call_tool("get_email", {"email_id": MEETING_ID}))
    assert (meeting["decision"], meeting["priority"]) == ("ignore", "low")
