"""The calendar's part of our MCP server, in process: what its instructions say, and a calendar
whose stored credential cannot be read left out (the server still starts)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from mcp.server.fastmcp import FastMCP

from memory.credential_cipher import VaultError
from memory.db import AppDatabase
from tools.mail.mailbox import MailboxEnv
from tools.mail.smtp import SmtpSettings
from ui.mcp_server.calendar_tools import (
    add_calendar_tools,
    calendar_instructions,
    open_served_calendar,
)

ME = "dana@northwind.example"


def mailbox(tmp_path: Path, *, sender: str = "", smtp: bool = False) -> MailboxEnv:
    return MailboxEnv(
        db=AppDatabase(f"sqlite:///{tmp_path / 'app.db'}"),
        source="maildir:/nowhere",
        smtp=SmtpSettings.from_url("smtp://127.0.0.1:2525") if smtp else None,
        sender=sender,
        user_addresses=(ME,) if sender else (),
        secrets=lambda name: None,
    )


def test_instructions_say_what_creating_events_needs(tmp_path: Path) -> None:
    environ = {"SMART_INBOX_TZ": "Asia/Tokyo"}
    ready = open_served_calendar(mailbox(tmp_path, sender=ME, smtp=True), tmp_path, environ)
    assert ready.env is not None and ready.missing == ""
    text = calendar_instructions(ready)
    assert "in the Asia/Tokyo time zone" in text and "Note:" not in text

    no_smtp = calendar_instructions(
        open_served_calendar(mailbox(tmp_path, sender=ME), tmp_path, environ)
    )
    assert "events with attendees cannot be created: SMTP_URL is not set" in no_smtp
    assert "SMTP_FROM" not in no_smtp

    nobody = calendar_instructions(open_served_calendar(mailbox(tmp_path), tmp_path, environ))
    assert "create_calendar_event cannot run yet" in nobody
    assert "set SMTP_FROM or SMART_INBOX_USER_EMAILS" in nobody


async def test_an_unreadable_caldav_password_leaves_the_calendar_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def locked(name: str) -> str | None:
        raise VaultError(f"the credential {name} was stored under another key")

    mail = replace(mailbox(tmp_path, sender=ME), secrets=locked)
    environ = {
        "SMART_INBOX_TZ": "Europe/Berlin",
        "CALDAV_URL": "https://caldav.example/",
        "CALDAV_USER": "dana",
    }
    served = open_served_calendar(mail, tmp_path, environ)
    assert served.env is None
    assert served.missing == (
        "the calendar's credential cannot be read: the credential caldav.password was stored "
        "under another key"
    )
    assert served.missing in caplog.text
    assert calendar_instructions(served).startswith("The calendar tools are not available: ")

    server = FastMCP("test")
    add_calendar_tools(server, served, mailbox=None)  # type: ignore[arg-type]
    assert await server.list_tools() == []
