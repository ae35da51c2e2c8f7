"""The chat in a real browser: ask with citations, triage, approve and reject a reply (a real
SMTP server), history after a reload and a server restart, and one user's chats hidden from
another."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import USERS, ChatServer, login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(300)]

SOFIA = "sofia.marchetti@northwind.example"
REPLY = "reply to the meeting request from Sofia and say Thursday works"


def open_chat(page: Page, server: ChatServer, user: str) -> None:
    """Log in and wait for the chat to be ready (its welcome message)."""
    login(page, server.base_url, user, USERS[user])
    expect(page.get_by_text("Running on the offline rules engine")).to_be_visible()


def ask(page: Page, text: str) -> None:
    box = page.locator("#chat-input")
    expect(box).to_be_editable()
    box.fill(text)
    box.press("Enter")


def test_ask_with_citations_and_the_triage_view(chat_server: ChatServer, page: Page) -> None:
    open_chat(page, chat_server, "alice")
    screenshot(page, "01-start")

    ask(page, "What needs my attention today?")
    expect(page.get_by_text("high priority").first).to_be_visible(timeout=60_000)
    expect(page.get_by_text("list_inbox").first).to_be_visible()  # the tool step
    # A citation opens the full message.
    page.get_by_text("mail 1", exact=True).first.click()
    panel = page.get_by_role("complementary")
    expect(panel.get_by_text("rollback to v5.11.3", exact=False).first).to_be_visible()
    screenshot(page, "02-cited-answer")

    page.get_by_role("button", name="Triage inbox").first.click()
    expect(page.get_by_role("columnheader", name="suggested action")).to_be_visible(timeout=60_000)
    rows = page.locator("table").last.locator("tbody tr")
    expect(rows).to_have_count(50)
    priorities = [rows.nth(i).locator("td").first.inner_text() for i in range(50)]
    order = {"high": 0, "normal": 1, "low": 2}
    assert priorities == sorted(priorities, key=order.__getitem__)
    rows.first.scroll_into_view_if_needed()  # the chat scrolls inside its own pane
    screenshot(page, "03-triage")

    # A suggested action becomes an approval card once the user says what to write.
    page.get_by_role("button", name=re.compile(r"Reply to Rafael Ortiz: Sync tomorrow")).click()
    expect(page.get_by_text("What should the reply to Rafael Ortiz say?").first).to_be_visible()
    ask(page, "09:30 works, see you in my office")
    expect(page.get_by_text("To: rafael.ortiz@northwind.example").first).to_be_visible(
        timeout=60_000
    )
    page.get_by_role("button", name="Approve").last.click()
    [received] = chat_server.smtp.wait_for(1, timeout=60)
    assert received.rcpt_tos == ["rafael.ortiz@northwind.example"]
    assert received.message.get_content().startswith("09:30 works, see you in my office")
    screenshot(page, "03b-suggested-reply-sent")


def test_approve_sends_one_reply_and_reject_sends_nothing(
    chat_server: ChatServer, page: Page
) -> None:
    open_chat(page, chat_server, "alice")
    ask(page, REPLY)
    expect(page.get_by_text("Send a reply").first).to_be_visible(timeout=60_000)
    card = page.get_by_text(f"To: {SOFIA}").first
    expect(card).to_be_visible()
    screenshot(page, "04-approval-card")
    page.get_by_role("button", name="Approve").last.click()
    expect(page.get_by_text(re.compile(r"Sent to sofia")).first).to_be_visible(timeout=60_000)
    [received] = chat_server.smtp.wait_for(1, timeout=30)
    assert received.rcpt_tos == [SOFIA]
    assert received.message["In-Reply-To"] == "<CAF9s0fia.Q1road.20261116@mail.northwind.example>"
    assert received.message.get_content().startswith("Thursday works")
    screenshot(page, "05-sent")

    ask(page, "reply to the meeting request from Sofia and say Friday is better")
    expect(page.get_by_text("Friday is better").first).to_be_visible(timeout=60_000)
    page.get_by_role("button", name="Reject").last.click()
    expect(page.get_by_text("Not done: you declined").first).to_be_visible(timeout=60_000)
    page.wait_for_timeout(1000)
    assert len(chat_server.smtp.messages) == 1, "a rejected reply is never sent"


def test_history_survives_reload_and_restart_and_stays_private(
    chat_server: ChatServer, page: Page, browser: Browser
) -> None:
    open_chat(page, chat_server, "alice")
    ask(page, "What needs my attention today?")
    expect(page.get_by_text("high priority").first).to_be_visible(timeout=60_000)
    page.wait_for_url(re.compile(r"/thread/"), timeout=30_000)
    thread_url = page.url

    page.reload()
    expect(page.get_by_text("high priority").first).to_be_visible(timeout=30_000)
    chat_server.restart()
    page.goto(thread_url)
    if "/login" in page.url:
        login(page, chat_server.base_url, "alice", USERS["alice"])
        page.goto(thread_url)
    # The answer itself (not only the chat's name in the sidebar) is back.
    expect(page.get_by_text("high priority").first).to_be_visible(timeout=30_000)
    screenshot(page, "06-history-after-restart")
    ask(page, "what does the first one say?")
    expect(page.get_by_text("rollback to v5.11.3", exact=False).first).to_be_visible(timeout=60_000)
    screenshot(page, "07-follow-up-after-restart")

    other = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        bob = other.new_page()
        open_chat(bob, chat_server, "bob")
        assert "What needs my attention today?" not in bob.locator("body").inner_text()
        bob.goto(thread_url)
        expect(bob.get_by_text("Couldn't resume chat", exact=False).first).to_be_visible()
        body = bob.locator("body").inner_text()
        assert "rollback to v5.11.3" not in body
        assert "What needs my attention today?" not in body
        screenshot(bob, "08-other-user")
    finally:
        other.close()


def test_a_pending_request_survives_a_reload_and_a_restart(
    chat_server: ChatServer, page: Page
) -> None:
    open_chat(page, chat_server, "alice")
    ask(page, REPLY)
    expect(page.get_by_text("Send a reply").first).to_be_visible(timeout=60_000)
    page.wait_for_url(re.compile(r"/thread/"), timeout=30_000)
    thread_url = page.url
    chat_server.restart()
    page.goto(thread_url)
    if "/login" in page.url:
        login(page, chat_server.base_url, "alice", USERS["alice"])
        page.goto(thread_url)
    expect(page.get_by_text("Still waiting for your decision").first).to_be_visible(timeout=30_000)
    # The chat's history comes back too: the card shown before the restart, above the new one.
    expect(page.get_by_text("Approval needed", exact=True)).to_have_count(2, timeout=30_000)
    screenshot(page, "09-pending-after-restart")
    page.get_by_role("button", name="Approve").last.click()
    [received] = chat_server.smtp.wait_for(1, timeout=60)
    assert received.rcpt_tos == [SOFIA]
