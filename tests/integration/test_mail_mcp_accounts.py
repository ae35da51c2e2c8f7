"""Our MCP server on an inbox of several accounts, reached by a real MCP client over stdio.

`send_email` and `save_draft` take `account=` as the chat's tools do: new mail goes from the
account named (else the first) through that account's own SMTP server; an account the inbox
lacks is refused in the chat's words, and nothing is sent or written.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.fakes.smtp_server import SmtpSink
from tests.integration.test_mail_mcp_server import ROOT, data_of, server_env, text_of, tool_map
from tests.unit.conftest import write_maildir

pytestmark = pytest.mark.integration

WORK, HOME = "dana@work.example", "dana@home.example"
HELLO = """\
From: Sam Okafor <sam@friends.example>
To: {to}
Subject: Hello from Sam
Date: Sat, 21 Nov 2026 10:15:00 +0100
Message-ID: <hello.{label}@friends.example>
Content-Type: text/plain; charset=utf-8

Hi Dana, how are things?
"""
NEW_MAIL = {"to": "sam@friends.example", "subject": "Hello", "body": "Hi Sam."}


@asynccontextmanager
async def accounts_session(
    tmp_path: Path, work_smtp: SmtpSink, home_smtp: SmtpSink
) -> AsyncIterator[ClientSession]:
    """The server on `work=maildir:…, personal=maildir:…`, each account with its own SMTP."""
    work = write_maildir(tmp_path / "work", {"1.w": HELLO.format(to=WORK, label="w")})
    home = write_maildir(tmp_path / "home-mail", {"1.h": HELLO.format(to=HOME, label="h")})
    env = {
        "SMTP_URL_WORK": work_smtp.url,
        "SMTP_FROM_WORK": WORK,
        "SMTP_URL_PERSONAL": home_smtp.url,
        "SMTP_FROM_PERSONAL": HOME,
    }
    params = StdioServerParameters(
        command=sys.executable,
        args=[
            "-m",
            "ui.mcp_server",
            "--transport",
            "stdio",
            "--inbox",
            f"work=maildir:{work}, personal=maildir:{home}",
            "--home",
            str(tmp_path / "data"),
        ],
        env=server_env(env),
        cwd=ROOT,
    )
    with (tmp_path / "server.log").open("w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session


def drafts(maildir: Path) -> list[Path]:
    folder = maildir / ".Drafts" / "cur"
    return sorted(folder.iterdir()) if folder.is_dir() else []


async def test_new_mail_and_drafts_go_from_the_account_named_else_the_first(
    tmp_path: Path,
) -> None:
    with SmtpSink() as work_smtp, SmtpSink() as home_smtp:
        async with accounts_session(tmp_path, work_smtp, home_smtp) as session:
            tools = await tool_map(session)
            for name in ("send_email", "save_draft"):
                assert "account" in tools[name].inputSchema["properties"], name

            first = data_of(await session.call_tool("send_email", NEW_MAIL))
            named = data_of(
                await session.call_tool("send_email", {**NEW_MAIL, "account": "PERSONAL"})
            )
            draft = data_of(
                await session.call_tool(
                    "save_draft", {"to": "sam@friends.example", "body": "x", "account": "personal"}
                )
            )
            default_draft = data_of(
                await session.call_tool("save_draft", {"to": "sam@friends.example", "body": "y"})
            )

        [at_work] = work_smtp.wait_for(1)
        [at_home] = home_smtp.wait_for(1)
    assert at_work.message["From"] == WORK
    assert at_work.message["Message-ID"] == first["message_id"]
    assert at_home.message["From"] == HOME
    assert at_home.message["Message-ID"] == named["message_id"]
    [home_draft] = drafts(tmp_path / "home-mail")
    [work_draft] = drafts(tmp_path / "work")
    assert home_draft.name.startswith(draft["key"].split("/")[-1])
    assert work_draft.name.startswith(default_draft["key"].split("/")[-1])
    assert message_from_bytes(home_draft.read_bytes(), policy=policy.default)["From"] == HOME
    assert message_from_bytes(work_draft.read_bytes(), policy=policy.default)["From"] == WORK


@pytest.mark.parametrize("named", ["hobby", "work,personal", "personal/"])
async def test_an_account_the_inbox_lacks_is_refused_and_nothing_is_sent_or_written(
    tmp_path: Path, named: str
) -> None:
    why = f"the inbox has no account {named!r} (its accounts: work, personal)"
    with SmtpSink() as work_smtp, SmtpSink() as home_smtp:
        async with accounts_session(tmp_path, work_smtp, home_smtp) as session:
            sent = await session.call_tool("send_email", {**NEW_MAIL, "account": named})
            draft = await session.call_tool(
                "save_draft", {"to": "sam@friends.example", "body": "x", "account": named}
            )
            # A reply draft is From the account its message came to: naming another is refused.
            found = data_of(await session.call_tool("search_emails", {"query": "Sam"}))
            [home_id] = [m["id"] for m in found["messages"] if m["id"].startswith("hello.h")]
            other = await session.call_tool(
                "save_draft", {"in_reply_to_id": home_id, "body": "z", "account": "work"}
            )
    assert sent.isError and why in text_of(sent)
    assert draft.isError and why in text_of(draft)
    assert other.isError and "came to the account 'personal'" in text_of(other)
    assert work_smtp.messages == [] and home_smtp.messages == []
    assert drafts(tmp_path / "work") == [] and drafts(tmp_path / "home-mail") == []
