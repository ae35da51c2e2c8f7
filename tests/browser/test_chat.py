"""The chat in a real browser: citations that open the message, the triage list, approve, edit
and reject a reply (a real SMTP server), history after a reload and a server restart, and one
user's chats hidden from another."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.chat_driver import ChatPage
from tests.browser.conftest import USERS, ChatServer, login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(300)]

SOFIA = "sofia.marchetti@northwind.example"
SOFIA_ID = "CAF9s0fia.Q1road.20261116@mail.northwind.example"
REPLY = "reply to the meeting request from Sofia and say Thursday works"
CONVERSATIONS = 47
"""The demo's 50 messages are 47 conversations (an incident and its update, a thread of 3)."""
ROW = "li.triage-row"
TEXT_BUDGET = 50_000
"""Characters of text the page may hold after the attention answer (it once held 396,000)."""


def open_chat(page: Page, server: ChatServer, user: str) -> ChatPage:
    """Log in and wait for the chat to be ready (its welcome message)."""
    chat = ChatPage(page)
    chat.open(server.base_url, user, USERS[user])
    expect(page.get_by_text("Running on the offline rules engine")).to_be_visible()
    return chat


def test_citations_open_the_message_and_no_panel_opens_by_itself(
    chat_server: ChatServer, page: Page
) -> None:
    chat = open_chat(page, chat_server, "alice")
    screenshot(page, "01-start")
    chat.ask("What needs my attention today?")
    chat.assert_idle()
    expect(page.get_by_text(re.compile(r"^Used ")).first).to_be_visible()  # the tool step
    links = chat.mail_links()
    assert links.count() >= 3, "the answer cites the messages it names"
    assert chat.text_size() < TEXT_BUDGET
    # Nothing opens by itself, and no message body is in the page until one is opened.
    expect(page.get_by_role("complementary")).to_have_count(0)
    assert "rollback to v5.11.3" not in page.locator("body").inner_text()
    screenshot(page, "02-cited-answer")

    label = links.first.inner_text()
    assert re.fullmatch(r"mail \d+", label), label
    mail = chat.open_mail(links.first)
    heading = mail.locator("h1").inner_text()
    assert heading and heading != "No such message"
    assert mail.locator("pre").inner_text().strip(), "the opened page shows the body"
    assert mail.title() == heading
    mail.close()


def test_the_triage_list_is_compact_ordered_and_offers_replies(
    chat_server: ChatServer, page: Page
) -> None:
    chat = open_chat(page, chat_server, "alice")
    chat.click(page.get_by_role("button", name="Triage inbox").first)
    expect(page.get_by_text("50 messages triaged")).to_be_visible()
    rows = page.locator(ROW)
    expect(rows.first).to_be_visible()
    shown = rows.count()
    assert 12 <= shown < CONVERSATIONS, "the most important rows first, the rest behind more"
    page.get_by_role("button", name=re.compile(r"Show \d+ more")).click()
    expect(rows).to_have_count(CONVERSATIONS)
    # One line a row at 1280 px, nothing wider than the list.
    heights = rows.evaluate_all("rows => rows.map(r => r.getBoundingClientRect().height)")
    assert max(heights) <= 40, heights
    widths = rows.evaluate_all("rows => rows.map(r => r.scrollWidth - r.clientWidth)")
    assert max(widths) <= 1, "a row's cells are cut with an ellipsis, never pushed out"
    # Grouped by decision (respond, notify, answered, ignore), by priority within each group.
    shown_rows = [
        (rows.nth(i).get_attribute("data-group"), rows.nth(i).get_attribute("data-priority"))
        for i in range(CONVERSATIONS)
    ]
    groups = {"error": -1, "respond": 0, "notify": 1, "answered": 1.5, "ignore": 2}
    order = {"error": -1, "high": 0, "normal": 1, "low": 2}
    assert shown_rows == sorted(shown_rows, key=lambda r: (groups[r[0]], order[r[1]]))
    priorities = [priority for _, priority in shown_rows]
    assert priorities[0] == "error", "the unreadable scanner mail is an error row, shown first"
    rows.first.scroll_into_view_if_needed()
    screenshot(page, "03-triage")
    # Named by its time, so that two triage chats are told apart.
    expect(
        page.get_by_text(re.compile(r"^Triage, \w{3} \d+ \w{3} \d\d:\d\d$")).first
    ).to_be_visible()

    # Every row opens its conversation's latest message.
    hrefs = rows.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert len(set(hrefs)) == CONVERSATIONS
    assert all(h.startswith("/mail/view?id=") for h in hrefs)

    # A suggested reply becomes an approval card once the user says what to write.
    chat.click(page.get_by_role("button", name=re.compile(r"Reply to Rafael Ortiz: Sync tomorrow")))
    expect(page.get_by_text("What should the reply to Rafael Ortiz say?").first).to_be_visible()
    chat.ask("09:30 works, see you in my office")
    expect(page.get_by_text("rafael.ortiz@northwind.example").last).to_be_visible()
    chat.click(chat.button("Approve"))
    chat.assert_idle()
    assert chat_server.smtp is not None
    [received] = chat_server.smtp.wait_for(1, timeout=60)
    assert received.rcpt_tos == ["rafael.ortiz@northwind.example"]
    assert "09:30 works, see you in my office" in received.message.get_content()
    screenshot(page, "03b-suggested-reply-sent")


def test_approve_sends_one_reply_and_reject_sends_nothing(
    chat_server: ChatServer, page: Page
) -> None:
    chat = open_chat(page, chat_server, "alice")
    chat.ask(REPLY)
    expect(page.get_by_text("Send a reply").first).to_be_visible()
    expect(page.get_by_text(SOFIA).first).to_be_visible()
    # The message id on the card is code with an `open` link, never a mailto link.
    expect(page.locator("code", has_text=SOFIA_ID).first).to_be_visible()
    assert page.locator(f'a[href^="mailto:{SOFIA_ID}"]').count() == 0
    screenshot(page, "04-approval-card")
    chat.click(chat.button("Approve"))
    expect(page.get_by_text(re.compile(r"Sent to sofia")).first).to_be_visible()
    assert chat_server.smtp is not None
    [received] = chat_server.smtp.wait_for(1, timeout=30)
    assert received.rcpt_tos == [SOFIA]
    assert received.message["In-Reply-To"] == f"<{SOFIA_ID}>"
    assert "Thursday works" in received.message.get_content()
    screenshot(page, "05-sent")

    chat.ask("reply to the meeting request from Sofia and say Friday is better")
    expect(page.get_by_text("Friday is better").first).to_be_visible()
    chat.click(chat.button("Reject"))
    expect(page.get_by_text("Not done: you declined").first).to_be_visible()
    page.wait_for_timeout(1000)
    assert len(chat_server.smtp.messages) == 1, "a rejected reply is never sent"


def test_edit_then_approve_ends_every_step_and_sends_the_edited_text(
    chat_server: ChatServer, page: Page
) -> None:
    chat = open_chat(page, chat_server, "alice")
    chat.ask(REPLY)
    expect(page.get_by_text("Send a reply").first).to_be_visible()
    chat.click(chat.button("Edit"))
    expect(page.get_by_text("Type the new text below").first).to_be_visible()
    chat.assert_idle()  # the Edit step is over: the chat takes the new text
    chat.ask("Thursday at 10:00 works for me.")
    chat.assert_idle()
    assert chat_server.smtp is not None
    [received] = chat_server.smtp.wait_for(1, timeout=30)
    assert "Thursday at 10:00 works for me." in received.message.get_content()
    assert "Thursday works" not in received.message.get_content().split("wrote:")[0]
    # The edit ran the call: no second card for the proposal it replaced.
    expect(page.get_by_text(re.compile(r"Sent to sofia")).first).to_be_visible()
    assert page.get_by_role("button", name="Approve").count() == 0
    chat.ask("what does the first one say?")  # the next message is posted and answered
    chat.assert_idle()
    screenshot(page, "05b-edited-and-sent")
    page.wait_for_timeout(500)
    assert len(chat_server.smtp.messages) == 1


def test_history_survives_reload_and_restart_and_stays_private(
    chat_server: ChatServer, page: Page, browser: Browser
) -> None:
    chat = open_chat(page, chat_server, "alice")
    chat.ask("What needs my attention today?")
    page.wait_for_url(re.compile(r"/thread/"), timeout=30_000)
    thread_url = page.url
    cited = chat.mail_links().count()
    assert cited >= 3

    page.reload()
    expect(page.get_by_text("What needs my attention today?").first).to_be_visible()
    expect(chat.mail_links()).to_have_count(cited)
    chat_server.restart()
    page.goto(thread_url)
    if "/login" in page.url:
        login(page, chat_server.base_url, "alice", USERS["alice"])
        page.goto(thread_url)
    # The answer itself (not only the chat's name in the sidebar) is back, its links working.
    expect(chat.mail_links()).to_have_count(cited)
    mail = chat.open_mail(chat.mail_links().first)
    assert mail.locator("h1").inner_text() != "No such message"
    mail.close()
    screenshot(page, "06-history-after-restart")
    chat.ask("what does the first one say?")
    expect(page.get_by_text("rollback to v5.11.3", exact=False).first).to_be_visible()
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
        # The mail page needs a login too: a stranger is sent to the login page.
        stranger = browser.new_context().new_page()
        stranger.goto(f"{chat_server.base_url}/mail/view?id={SOFIA_ID}")
        expect(stranger).to_have_url(re.compile(r"/login"))
        assert "Q1 roadmap" not in stranger.locator("body").inner_text()
        stranger.context.close()
    finally:
        other.close()


def test_a_pending_request_survives_a_reload_and_a_restart(
    chat_server: ChatServer, page: Page
) -> None:
    chat = open_chat(page, chat_server, "alice")
    chat.ask(REPLY)
    expect(page.get_by_text("Send a reply").first).to_be_visible()
    page.wait_for_url(re.compile(r"/thread/"), timeout=30_000)
    thread_url = page.url
    # The tab is closed first: otherwise its socket reconnects to the new server and resumes the
    # chat while the link below opens it again, and which of the two the page ends up showing
    # is a race (Chainlit's, not what this test is about). The reloads below reconnect an open
    # tab.
    page.goto("about:blank")
    chat_server.restart()
    page.goto(thread_url)
    if "/login" in page.url:
        login(page, chat_server.base_url, "alice", USERS["alice"])
        page.goto(thread_url)
    expect(page.get_by_text("Still waiting for your decision").first).to_be_visible(timeout=30_000)
    # The chat's history comes back too: the card shown before the restart, above the new one.
    expect(page.get_by_text("Approval needed", exact=True)).to_have_count(2, timeout=30_000)
    screenshot(page, "09-pending-after-restart")
    # Reopening again re-shows the request once: the copy shown on the last reopening is not
    # stored with the chat, so reloads (or a reconnect racing one) never pile up cards.
    for _ in range(2):
        page.reload()
        expect(page.get_by_text("Still waiting for your decision").first).to_be_visible(
            timeout=30_000
        )
        expect(page.get_by_text("Approval needed", exact=True)).to_have_count(2, timeout=30_000)
    chat.click(chat.button("Approve"))
    assert chat_server.smtp is not None
    [received] = chat_server.smtp.wait_for(1, timeout=60)
    assert received.rcpt_tos == [SOFIA]
