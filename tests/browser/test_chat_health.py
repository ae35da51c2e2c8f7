"""The chat says what is down: in its welcome, when asked, and on a card that needs it; its
watch alerts a configured webhook once when SMTP stops and once more when it is back."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from memory.db import open_database
from memory.health_history import HealthHistory
from memory.paths import app_database_url
from tests.browser.chat_driver import ChatPage
from tests.browser.conftest import USERS, ChatServer, screenshot
from tests.fakes.smtp_server import SmtpSink
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.integration.integrations.fixtures import WEBHOOK_SECRET, webhook_env
from tests.integration.test_health_server import restarted

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(300)]

DOWN = "smtp is down"


def test_the_chat_names_a_stopped_smtp_server(tmp_path: Path, page: Page) -> None:
    smtp = SmtpSink().start()
    receiver = WebhookReceiver(WEBHOOK_SECRET).start()
    server = ChatServer(tmp_path / "home", tmp_path / "logs", smtp)
    server.env["SMART_INBOX_HEALTH_INTERVAL"] = "1"
    server.env["SMART_INBOX_HEALTH_TIMEOUT"] = "2"
    server.env |= webhook_env(receiver, "health_changed")
    try:
        server.add_user("alice", USERS["alice"])
        server.start()
        watched_ok(tmp_path / "home")  # SMTP is stopped once the watch has seen it working
        smtp.stop()
        chat = ChatPage(page)
        page.wait_for_timeout(4000)  # a round or more of the watch after the stop
        chat.open(server.base_url, "alice", USERS["alice"])
        expect(page.get_by_text(f"Not working now: {DOWN}").first).to_be_visible()

        chat.ask("how are my integrations?")
        expect(page.locator("td", has_text="down").first).to_be_visible()
        expect(page.locator("td", has_text="smtp").first).to_be_visible()
        screenshot(page, "health-table")

        chat.ask("reply to the meeting request from Sofia and say Thursday works")
        expect(page.get_by_role("button", name="Approve").last).to_be_visible()
        note = page.get_by_text("This action depends on a part that is not working now")
        expect(note.last).to_be_visible()
        expect(note.last).to_contain_text(DOWN)
        screenshot(page, "health-card")
        assert smtp_alerts(receiver) == [[("smtp", "ok", "down")]]

        smtp = restarted(smtp)
        for _ in range(60):
            if len(smtp_alerts(receiver)) > 1:
                break
            page.wait_for_timeout(250)
        page.wait_for_timeout(2000)  # more rounds, smtp still ok: nothing more
        assert smtp_alerts(receiver) == [[("smtp", "ok", "down")], [("smtp", "down", "ok")]]
    finally:
        server.stop()
        with contextlib.suppress(AssertionError):  # stopped already, by the test
            smtp.stop()
        receiver.stop()


def watched_ok(home: Path, timeout: float = 60.0) -> None:
    """Wait until the chat's watch has recorded SMTP `ok` in the app database."""
    history = HealthHistory(open_database(app_database_url(home)))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        past = history.pasts(["smtp"]).get("smtp")
        if past is not None and past.state == "ok":
            return
        time.sleep(0.2)
    raise AssertionError(f"the watch recorded no ok round of SMTP within {timeout:.0f} s")


def smtp_alerts(receiver: WebhookReceiver) -> list[list[tuple[str, str, str]]]:
    """The verified health alerts that name SMTP, as (part, from, to)."""
    said = [
        [(c["part"], c["from"], c["to"]) for c in event["changes"]]
        for event in receiver.events
        if event.get("event") == "health_changed"
    ]
    return [changes for changes in said if any(part == "smtp" for part, _, _ in changes)]
