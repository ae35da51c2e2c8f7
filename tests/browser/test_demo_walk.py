"""The whole bundled demo as a new user walks it, with no settings at all (as `make run` starts
it): triage, questions, a reply edited then sent, a meeting booked, then a reload, a reopened
chat and a restart. Every step ends (no busy chat), every link and button still works, and
nothing fails for a missing setting.
"""

from __future__ import annotations

import mailbox
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.chat_driver import ANSWER, ChatPage, ChatServer
from tests.browser.conftest import USERS, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(600)]

DANA = "dana@northwind.example"
SOFIA = "sofia.marchetti@northwind.example"
MISSING_SETTING = re.compile(
    r"set SMTP_FROM|SMTP_URL is not set|SMART_INBOX_USER_EMAILS|sending is unavailable|"
    r"cannot run|could not run"
)
"""What the page would say if an action failed for a setting (the demo needs none)."""


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[ChatServer]:
    """The chat on the bundled demo with no settings: no SMTP, no addresses, no inbox."""
    server = ChatServer(tmp_path / "home", tmp_path / "logs", None)
    try:
        server.add_user("alice", USERS["alice"])
        yield server.start()
    finally:
        server.stop()


def _outbox(server: ChatServer) -> list[mailbox.MaildirMessage]:
    box = server.home / "demo-outbox"
    return list(mailbox.Maildir(box, create=False)) if box.exists() else []


def _everything_clickable_works(chat: ChatPage, page: Page, where: str) -> None:
    """After a reload, a reopen or a restart: links open their message, buttons answer."""
    chat.wait_for_welcome()
    links = chat.mail_links()
    expect(links.first).to_be_visible()
    mail = chat.open_mail(links.first)
    assert mail.locator("h1").inner_text() not in ("", "No such message"), where
    mail.close()
    rows = page.locator("li.triage-row")
    expect(rows.first).to_be_visible()
    # A row's reply button asks for the text; "cancel" leaves nothing behind.
    chat.click(page.get_by_role("button", name=re.compile(r"^Reply to ")).first)
    expect(page.get_by_text(re.compile(r"What should the reply to .* say\?")).last).to_be_visible()
    chat.ask("cancel")
    # The Triage button of the welcome message runs a triage again.
    shown = page.get_by_text("messages triaged").count()
    page.get_by_role("button", name="Triage inbox").first.click()
    expect(page.get_by_text("messages triaged")).to_have_count(shown + 1, timeout=60_000)
    chat.assert_idle()
    assert not MISSING_SETTING.search(page.locator("body").inner_text()), where


def test_the_demo_walk_with_no_settings(demo_server: ChatServer, page: Page) -> None:
    chat = ChatPage(page)
    chat.open(demo_server.base_url, "alice", USERS["alice"])

    page.get_by_role("button", name="Triage inbox").first.click()
    expect(page.get_by_text("50 messages triaged")).to_be_visible(timeout=60_000)
    expect(page.locator("li.triage-row").first).to_be_visible()
    chat.assert_idle()
    screenshot(page, "walk-01-triage")
    # The free times for the new meeting requests, as people write them (no ISO intervals).
    offers = page.locator(ANSWER, has_text="Free times for the meeting requests")
    expect(offers).to_have_count(1)
    offer_text = offers.inner_text()
    slot = re.compile(r"^\w{3} \d{1,2} \w{3}, \d\d:\d\d–\d\d:\d\d$", re.MULTILINE)
    assert slot.search(offer_text), offer_text
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:", offer_text), offer_text

    chat.ask("What needs my attention today?")
    chat.assert_idle()
    assert chat.mail_links().count() >= 3
    screenshot(page, "walk-02-attention")
    chat.ask("what does the first one say?")
    chat.assert_idle()
    chat.ask("summarize the checkout incident")
    chat.assert_idle()
    expect(page.get_by_text("rollback", exact=False).last).to_be_visible()
    screenshot(page, "walk-03-summary")

    # A reply, edited, then sent: it lands in the local demo outbox, from the demo's owner.
    chat.ask("reply to the meeting request from Sofia and say Thursday works")
    expect(page.get_by_text("Send a reply").last).to_be_visible()
    chat.click(chat.button("Edit"))
    chat.assert_idle()
    chat.ask("Thursday at 10:00 works for me.")
    chat.assert_idle()
    expect(page.get_by_text("local demo outbox", exact=False).last).to_be_visible()
    [reply] = _outbox(demo_server)
    assert DANA in str(reply["From"]) and SOFIA in str(reply["To"])
    assert "Thursday at 10:00 works for me." in reply.get_payload(decode=True).decode()
    screenshot(page, "walk-04-reply-sent")

    # The meeting the triage offered slots for: booked, one invitation, from Dana.
    chat.ask("book the first slot for Sofia")
    expect(page.get_by_text("Approval needed").last).to_be_visible()
    chat.click(chat.button("Approve"))
    chat.assert_idle()
    invitations = [m for m in _outbox(demo_server) if "calendar" in m.as_string()]
    assert len(invitations) == 1, [m["Subject"] for m in _outbox(demo_server)]
    assert DANA in str(invitations[0]["From"]) and SOFIA in str(invitations[0]["To"])
    assert not MISSING_SETTING.search(page.locator("body").inner_text())
    screenshot(page, "walk-05-booked")

    page.wait_for_url(re.compile(r"/thread/"), timeout=30_000)
    thread_url = page.url
    page.reload()
    _everything_clickable_works(chat, page, "after a reload")

    page.goto(demo_server.base_url)  # a new chat, then the old one from the sidebar
    chat.wait_for_welcome()
    page.get_by_text(re.compile(r"^Triage, ")).first.click()
    page.wait_for_url(thread_url)
    _everything_clickable_works(chat, page, "after reopening the chat")

    demo_server.restart()
    page.goto(thread_url)
    if "/login" in page.url:
        chat.open(demo_server.base_url, "alice", USERS["alice"])
        page.goto(thread_url)
    _everything_clickable_works(chat, page, "after a restart")
    screenshot(page, "walk-06-after-restart")
    assert len(_outbox(demo_server)) == 2, "nothing was sent twice by the reloads"
