"""The mailbox MCP server in its own process, reached by a real MCP client over stdio and HTTP.

Each test serves a private copy of the demo inbox with its own data directory; sending goes to
a local SMTP server.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, TextContent

from memory.db import PRIORITY_ORDER
from tests.fakes.smtp_server import SmtpSink, free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "demo-inbox"
ME = "dana@northwind.example"
SOFIA = "sofia.marchetti@northwind.example"
SOFIA_ID = "CAF9s0fia.Q1road.20261116@mail.northwind.example"
SCANNER_ID = "SCAN.20261120091044.0042@mfp-3f.northwind.example"
READ_ONLY_TOOLS = {"search_emails", "get_email", "list_folders", "list_inbox"}
SENDING_TOOLS = {"send_email", "reply_to_email"}
INBOX_TOOLS = {
    "archive_conversations",
    "move_to_folder",
    "trash_conversations",
    "mark_read",
    "flag_messages",
}
CALENDAR_TOOLS = {"check_availability", "propose_meeting_slots", "create_calendar_event"}
"""Served too, on the local calendar file (tests/integration/test_calendar_mcp_server.py)."""
CALENDAR_SETTINGS = (
    "SMART_INBOX_TZ",
    "TZ",
    "SMART_INBOX_WORKING_HOURS",
    "SMART_INBOX_WORKING_DAYS",
    "CALDAV_URL",
    "CALDAV_USER",
    "CALDAV_PASSWORD",
    "CALDAV_CALENDAR",
    "CALDAV_TIMEOUT",
)
LATE_MAIL = b"""\
From: Ines Duarte <ines.duarte@harbourline.example>
To: dana@northwind.example
Subject: Harbourline renewal questions
Date: Sat, 21 Nov 2026 10:15:00 +0100
Message-ID: <late.renewal.20261121@harbourline.example>
Content-Type: text/plain; charset=utf-8

Hi Dana, before we renew: does the Pro plan include the audit log export?
"""


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    copy = tmp_path / "inbox"
    shutil.copytree(DEMO, copy, ignore=shutil.ignore_patterns(".Drafts", ".Sent"))
    return copy


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without the settings a test must choose itself."""
    own = ("SMTP_URL", "SMTP_FROM", "SMART_INBOX_USER_EMAILS", "INBOX", "SMART_INBOX_HOME")
    own += ("SMART_INBOX_KEY", *CALENDAR_SETTINGS)
    env = {k: v for k, v in os.environ.items() if k not in own}
    env.update(extra or {})
    return env


def server_args(transport: str, inbox: Path, home: Path, *more: str) -> list[str]:
    return [
        "-m",
        "ui.mcp_server",
        "--transport",
        transport,
        "--inbox",
        f"maildir:{inbox}",
        "--home",
        str(home),
        *more,
    ]


@asynccontextmanager
async def stdio_session(
    inbox: Path, home: Path, log: Path, env: dict[str, str] | None = None
) -> AsyncIterator[ClientSession]:
    """A client session with the server spawned over stdio; the process ends with the block."""
    params = StdioServerParameters(
        command=sys.executable,
        args=server_args("stdio", inbox, home),
        env=server_env(env),
        cwd=ROOT,
    )
    with log.open("w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session


@contextmanager
def http_server(
    inbox: Path, home: Path, log: Path, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Run the server over streamable HTTP on a free local port; yields its URL."""
    port = free_port()
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, *server_args("http", inbox, home, "--port", str(port))],
            cwd=ROOT,
            env=server_env(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(f"server exited {process.returncode}:\n{log.read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"server never listened:\n{log.read_text()}") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def text_of(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


def data_of(result: CallToolResult) -> dict[str, Any]:
    assert not result.isError, text_of(result)
    assert result.structuredContent is not None
    return result.structuredContent


async def tool_map(session: ClientSession) -> dict[str, Any]:
    return {tool.name: tool for tool in (await session.list_tools()).tools}


async def test_read_tools_over_stdio(inbox: Path, home: Path, tmp_path: Path) -> None:
    async with stdio_session(inbox, home, tmp_path / "server.log") as session:
        tools = await tool_map(session)
        assert set(tools) == READ_ONLY_TOOLS | INBOX_TOOLS | CALENDAR_TOOLS | {"save_draft"}
        for name in READ_ONLY_TOOLS:
            assert tools[name].annotations.readOnlyHint is True, name
            assert tools[name].annotations.destructiveHint is False, name
            assert tools[name].outputSchema is not None, name
        assert tools["save_draft"].annotations.readOnlyHint is False
        assert tools["save_draft"].annotations.destructiveHint is False

        found = data_of(
            await session.call_tool(
                "search_emails", {"query": "Q1 roadmap", "sender": "Sofia Marchetti"}
            )
        )["messages"]
        assert [m["id"] for m in found] == [SOFIA_ID]
        assert SOFIA in found[0]["from"]
        assert found[0]["subject"] == "30 min on Tue 24 Nov 10:00-10:30 for the Q1 roadmap?"
        assert found[0]["preview"].startswith("Hi Dana, Could I get 30 min with you")
        assert found[0]["category"] == "meeting_request"

        result = await session.call_tool("get_email", {"email_id": f"<{SOFIA_ID}>"})
        detail = data_of(result)
        assert detail["id"] == SOFIA_ID
        assert detail["to"] == [ME]
        assert detail["folder"] == "INBOX"
        assert detail["attachments"] == []
        assert "- whether SCIM provisioning can realistically land in Q1," in detail["body"]
        assert "Wed 25 Nov after 14:00 is also free for me" in detail["body"]
        assert "Wed 25 Nov after 14:00 is also free for me" in text_of(result)

        ranked = data_of(await session.call_tool("list_inbox", {"limit": 50}))["messages"]
        assert len(ranked) == 50
        ranks = [PRIORITY_ORDER[m["priority"]] for m in ranked]
        assert ranks == sorted(ranks)
        assert ranked[0]["priority"] == "high"
        high = data_of(await session.call_tool("list_inbox", {"priority": "high", "limit": 50}))
        assert [m["id"] for m in high["messages"]] == [
            m["id"] for m in ranked if m["priority"] == "high"
        ]
        meetings = data_of(
            await session.call_tool("list_inbox", {"category": "meeting_request", "limit": 50})
        )["messages"]
        assert SOFIA_ID in {m["id"] for m in meetings}
        assert {m["category"] for m in meetings} == {"meeting_request"}

        folders = data_of(await session.call_tool("list_folders", {}))
        assert folders == {"folders": [{"name": "INBOX", "messages": 50}]}

        missing = await session.call_tool("get_email", {"email_id": "no-such-id@example"})
        assert missing.isError
        assert "no message with id 'no-such-id@example' in this mailbox" in text_of(missing)

        # The malformed scanner mail is served as unreadable, never as an error of the server.
        scanner = data_of(await session.call_tool("get_email", {"email_id": SCANNER_ID}))
        assert "malformed MIME" in scanner["error"]
        assert scanner["body"].startswith("[UNREADABLE MESSAGE: malformed MIME")
        assert SCANNER_ID in {m["id"] for m in ranked}
        hits = data_of(await session.call_tool("search_emails", {"query": "Scanned document"}))
        assert [m["id"] for m in hits["messages"]] == [SCANNER_ID]

        unknown = await session.call_tool("send_email", {"to": SOFIA, "subject": "x", "body": "y"})
        assert unknown.isError

        # Mail arriving while the server runs is fetched and triaged by the next read.
        (inbox / "new" / "1795300000.M99P9999.demo").write_bytes(LATE_MAIL)
        late = data_of(await session.call_tool("search_emails", {"query": "Harbourline"}))
        assert [m["id"] for m in late["messages"]] == ["late.renewal.20261121@harbourline.example"]
        assert late["messages"][0]["priority"] in PRIORITY_ORDER
        folders = data_of(await session.call_tool("list_folders", {}))
        assert folders == {"folders": [{"name": "INBOX", "messages": 51}]}


async def test_drafts_over_stdio(inbox: Path, home: Path, tmp_path: Path) -> None:
    async with stdio_session(
        inbox, home, tmp_path / "server.log", {"SMART_INBOX_USER_EMAILS": ME}
    ) as session:
        new = data_of(
            await session.call_tool(
                "save_draft",
                {"to": SOFIA, "subject": "Roadmap agenda", "body": "Let's cover SCIM first."},
            )
        )
        reply = data_of(
            await session.call_tool(
                "save_draft", {"in_reply_to_id": SOFIA_ID, "body": "Tuesday works for me."}
            )
        )
        no_recipient = await session.call_tool("save_draft", {"body": "to nobody"})
        assert no_recipient.isError
        assert "a draft needs a recipient" in text_of(no_recipient)
        no_original = await session.call_tool(
            "save_draft", {"in_reply_to_id": "gone@example", "body": "hello"}
        )
        assert no_original.isError
        assert "no message with id 'gone@example'" in text_of(no_original)

        folders = data_of(await session.call_tool("list_folders", {}))
        assert folders == {
            "folders": [{"name": "INBOX", "messages": 50}, {"name": "Drafts", "messages": 2}]
        }
        # Drafts are searchable but never triaged.
        inbox_ids = {
            m["id"]
            for m in data_of(await session.call_tool("list_inbox", {"limit": 50}))["messages"]
        }
        assert len(inbox_ids) == 50

    files = {path.name.split(":2,")[0]: path for path in (inbox / ".Drafts" / "cur").iterdir()}
    assert set(files) == {new["key"], reply["key"]}
    first = message_from_bytes(files[new["key"]].read_bytes(), policy=policy.default)
    assert first["To"] == SOFIA
    assert first["From"] == ME
    assert first["Subject"] == "Roadmap agenda"
    assert "Let's cover SCIM first." in first.get_body().get_content()  # type: ignore[union-attr]
    second = message_from_bytes(files[reply["key"]].read_bytes(), policy=policy.default)
    assert second["To"] == SOFIA
    assert second["In-Reply-To"] == f"<{SOFIA_ID}>"
    assert second["Subject"] == "Re: 30 min on Tue 24 Nov 10:00-10:30 for the Q1 roadmap?"
    assert files[reply["key"]].name.endswith(":2,D")


async def test_sending_over_http(
    inbox: Path, home: Path, tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    env = {"SMTP_URL": smtp_sink.url, "SMTP_FROM": ME}
    with http_server(inbox, home, tmp_path / "server.log", env) as url:
        async with (
            streamable_http_client(url) as (read, write, _),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            tools = await tool_map(session)
            assert set(tools) == (
                READ_ONLY_TOOLS | SENDING_TOOLS | INBOX_TOOLS | CALENDAR_TOOLS | {"save_draft"}
            )
            for name in SENDING_TOOLS:
                assert tools[name].annotations.readOnlyHint is False, name
                assert tools[name].annotations.destructiveHint is True, name
                assert tools[name].annotations.openWorldHint is True, name
            assert all(tools[name].annotations.readOnlyHint for name in READ_ONLY_TOOLS)

            found = data_of(await session.call_tool("search_emails", {"sender": SOFIA}))
            assert SOFIA_ID in {m["id"] for m in found["messages"]}

            sent = data_of(
                await session.call_tool(
                    "send_email",
                    {
                        "to": "ines.duarte@harbourline.example",
                        "subject": "Audit log export",
                        "body": "Yes, Pro includes it.",
                    },
                )
            )
            assert sent["recipients"] == ["ines.duarte@harbourline.example"]
            received = smtp_sink.wait_for(1)
            assert received[0].rcpt_tos == ["ines.duarte@harbourline.example"]
            assert received[0].message["From"] == ME
            assert received[0].message["Subject"] == "Audit log export"
            assert received[0].message["Message-ID"] == sent["message_id"]

            replied = data_of(
                await session.call_tool(
                    "reply_to_email", {"email_id": SOFIA_ID, "body": "Tuesday works."}
                )
            )
            received = smtp_sink.wait_for(2)
            assert received[1].rcpt_tos == [SOFIA]
            assert received[1].message["In-Reply-To"] == f"<{SOFIA_ID}>"
            assert replied["subject"] == received[1].message["Subject"]

            missing = await session.call_tool(
                "reply_to_email", {"email_id": "no-such-id@example", "body": "hi"}
            )
            assert missing.isError
            assert "no message with id 'no-such-id@example'" in text_of(missing)
    assert len(smtp_sink.messages) == 2
    sent_copies = sorted(path.name.split(":2,")[0] for path in (inbox / ".Sent" / "cur").iterdir())
    assert sent_copies == sorted([sent["sent_copy_key"], replied["sent_copy_key"]])


async def test_smtp_failure_is_an_error_result(inbox: Path, home: Path, tmp_path: Path) -> None:
    dead = free_port()
    env = {"SMTP_URL": f"smtp://127.0.0.1:{dead}", "SMTP_FROM": ME, "SMTP_TIMEOUT": "5"}
    async with stdio_session(inbox, home, tmp_path / "server.log", env) as session:
        result = await session.call_tool(
            "send_email", {"to": SOFIA, "subject": "Hello", "body": "Hi"}
        )
        assert result.isError
        assert f"not sent: SMTP server 127.0.0.1:{dead}" in text_of(result)
        no_recipient = await session.call_tool(
            "send_email", {"to": " , ", "subject": "Hello", "body": "Hi"}
        )
        assert no_recipient.isError
        assert "needs at least one recipient" in text_of(no_recipient)
    assert not (inbox / ".Sent").exists()


def test_busy_port_is_refused_with_a_clear_message(inbox: Path, home: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, *server_args("http", inbox, home, "--port", str(port))],
            cwd=ROOT,
            env=server_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"cannot serve MCP on 127.0.0.1:{port}: the port is already in use" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
