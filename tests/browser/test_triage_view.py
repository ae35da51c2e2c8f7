"""The triage view in a real browser: a row per conversation that opens onto its messages,
decisions first, phishing warned about, unsure rows marked, and a correction from a row that
the row keeps after a reload, a restart and the next triage."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.chat_driver import ChatPage
from tests.browser.conftest import USERS, ChatServer, login

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(300)]

ROW = "li.triage-row"
NEWSLETTER = "The Pragmatic Backend #212"
"""A newsletter the demo's rules leave at notify; the person says: ignore it."""
BANK_DETAILS = "updated bank"
"""The demo's fraud: an invoice 'update' asking to pay into new bank details."""
GROUPS = ["error", "respond", "notify", "ignore"]
INCIDENT = "checkout API returning 500s"
"""The demo's incident: Marcus's alarm and his update, one conversation."""
CONVERSATIONS = 47
"""The demo's 50 messages: a thread of three, one of two, each a row."""


def _shot(page: Page, where: Path, name: str) -> Path:
    path = where / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    return path


def _row(page: Page, subject: str) -> Locator:
    """The row of the last triage list whose subject has `subject`."""
    return page.locator(".triage-list").last.locator(ROW, has_text=subject)


def _show_all(page: Page) -> None:
    more = page.get_by_role("button", name=re.compile(r"Show \d+ more"))
    if more.count():
        more.last.click()


def _keeps_the_correction(page: Page) -> None:
    row = _row(page, NEWSLETTER)
    expect(row).to_have_attribute("data-decision", "ignore")
    expect(row).to_have_attribute("data-yours", "yes")
    expect(row.locator(".triage-yours")).to_have_text("your rule")


def test_decisions_warnings_and_a_correction_that_stays(
    chat_server: ChatServer, page: Page, tmp_path: Path
) -> None:
    chat = ChatPage(page)
    chat.open(chat_server.base_url, "alice", USERS["alice"])
    chat.click(page.get_by_role("button", name="Triage inbox").first)
    expect(page.get_by_text("50 messages triaged")).to_be_visible()
    expect(page.get_by_text(re.compile(r"⚠ \d+ look like phishing or fraud"))).to_be_visible()
    rows = page.locator(ROW)
    # The first screen: what to answer, under its heading, before what only informs.
    expect(page.locator("li.triage-group").first).to_have_text(re.compile(r"^Unreadable · 1"))
    expect(page.locator("li.triage-group", has_text="Respond")).to_have_count(1)
    _shot(page, tmp_path, "01-triage-first-screen")

    _show_all(page)
    expect(rows).to_have_count(CONVERSATIONS)
    decisions = rows.evaluate_all("rows => rows.map(r => r.dataset.decision)")
    assert decisions == sorted(decisions, key=GROUPS.index), "respond, then notify, then ignore"
    assert set(decisions) == set(GROUPS)
    # Still one line a row at 1280 px, nothing pushed out.
    heights = rows.evaluate_all("rows => rows.map(r => r.getBoundingClientRect().height)")
    assert max(heights) <= 40, heights
    widths = rows.evaluate_all("rows => rows.map(r => r.scrollWidth - r.clientWidth)")
    assert max(widths) <= 1

    # Ignore rows are there, faded; suspicious rows warn and offer nothing to act on.
    ignored = page.locator(f'{ROW}[data-decision="ignore"]')
    assert ignored.count() >= 3
    assert float(ignored.first.evaluate("r => getComputedStyle(r).opacity")) < 0.8
    suspicious = page.locator(f'{ROW}[data-suspicious="yes"]')
    assert suspicious.count() >= 1
    fraud = _row(page, BANK_DETAILS)
    expect(fraud).to_have_attribute("data-suspicious", "yes")
    expect(fraud.locator(".triage-warning")).to_contain_text("asks to pay into new bank details")
    assert suspicious.get_by_role("button", name=re.compile(r"^Reply to ")).count() == 0
    expect(page.locator(f"{ROW} .triage-unsure").first).to_be_visible()
    fraud.scroll_into_view_if_needed()
    _shot(page, tmp_path, "02-warnings")

    # The incident is one row in the state of its update; opened, it shows both messages.
    incident = _row(page, INCIDENT)
    expect(incident).to_have_count(1)
    expect(incident).to_have_attribute("data-count", "2")
    expect(incident).to_contain_text("Re: URGENT: checkout API returning 500s")
    assert page.locator("li.triage-message").count() == 0, "closed until opened"
    incident.get_by_role("button", name=re.compile(r"^Open the 2 messages of ")).click()
    lines = page.locator("li.triage-message")
    expect(lines).to_have_count(2)
    expect(lines.first).to_contain_text("Re: URGENT")
    expect(lines.nth(1)).to_contain_text("URGENT: checkout API returning 500s in production")
    expect(lines.nth(1)).not_to_contain_text("Re: URGENT")
    assert max(lines.evaluate_all("ls => ls.map(l => l.scrollWidth - l.clientWidth)")) <= 1
    incident.scroll_into_view_if_needed()
    _shot(page, tmp_path, "02b-conversation-open")
    incident.get_by_role("button", name=re.compile(r"^Close the 2 messages of ")).click()
    expect(lines).to_have_count(0)

    # A wrong value is refused with a clear line, and the choices stay as they were.
    newsletter = _row(page, NEWSLETTER)
    expect(newsletter).to_have_attribute("data-decision", "notify")
    newsletter.get_by_role("button", name=re.compile(r"^Correct the triage of ")).click()
    editor = page.locator("li.triage-editor")
    decision = editor.get_by_label("Decision")
    decision.evaluate("s => s.add(new Option('urgent', 'urgent'))")
    decision.select_option("urgent")
    editor.get_by_role("button", name="Save").click()
    expect(editor.get_by_role("alert")).to_contain_text(
        "Not saved: decision must be one of respond, notify, ignore"
    )
    expect(decision).to_have_value("urgent")
    _shot(page, tmp_path, "03-refused")

    # The person's correction: this newsletter is to be ignored.
    decision.select_option("ignore")
    editor.get_by_role("button", name="Save").click()
    expect(page.locator("li.triage-note")).to_contain_text("Saved as your rule for")
    _keeps_the_correction(page)
    expect(page.locator("li.triage-editor")).to_have_count(0)
    _row(page, NEWSLETTER).scroll_into_view_if_needed()
    _shot(page, tmp_path, "04-corrected")
    page.wait_for_url(re.compile(r"/thread/"), timeout=30_000)
    thread_url = page.url

    page.reload()
    chat.wait_for_welcome()
    _show_all(page)
    _keeps_the_correction(page)

    chat_server.restart()
    page.goto(thread_url)
    if "/login" in page.url:
        login(page, chat_server.base_url, "alice", USERS["alice"])
        page.goto(thread_url)
    chat.wait_for_welcome()
    _show_all(page)
    _keeps_the_correction(page)
    _shot(page, tmp_path, "05-after-restart")

    # The next triage run applies the stored rule as well.
    before = page.locator(".triage-list").count()
    chat.click(page.get_by_role("button", name="Triage inbox").first)
    expect(page.locator(".triage-list")).to_have_count(before + 1)
    _show_all(page)
    _keeps_the_correction(page)
    _row(page, NEWSLETTER).scroll_into_view_if_needed()
    _shot(page, tmp_path, "06-next-triage")


def test_the_reply_lists_follow_the_triage_list_and_a_follow_up_is_a_card(
    chat_server: ChatServer, page: Page, tmp_path: Path
) -> None:
    # A question Dana sent five days ago that nobody answered, in the inbox's Sent folder.
    sent = chat_server.home / "inbox" / ".Sent"
    for sub in ("cur", "new", "tmp"):
        (sent / sub).mkdir(parents=True, exist_ok=True)
    asked = datetime.now(UTC) - timedelta(days=5)
    (sent / "cur" / "asked-1:2,S").write_text(
        "Message-ID: <asked-1@northwind.example>\n"
        "From: Dana Whitfield <dana@northwind.example>\n"
        "To: Priya Nair <priya.nair@lumen-labs.example>\n"
        "Subject: Pilot figures\n"
        f"Date: {format_datetime(asked)}\n"
        "Content-Type: text/plain; charset=utf-8\n\n"
        "Hi Priya,\n\ncould you send me the pilot figures for November?\n\nThanks,\nDana\n",
        encoding="utf-8",
    )
    chat = ChatPage(page)
    chat.open(chat_server.base_url, "alice", USERS["alice"])
    chat.click(page.get_by_role("button", name="Triage inbox").first)
    lists = page.locator(".followup-lists").last
    expect(lists).to_be_visible()
    needs = lists.locator("details.followup-needs")
    awaited = lists.locator("details.followup-awaited")
    expect(needs.locator("summary")).to_have_text(re.compile(r"^Needs your reply · [1-9]\d*$"))
    expect(awaited.locator("summary")).to_have_text("Awaiting their reply (asked 3+ days ago) · 1")
    expect(needs.locator("li.followup-row").first).to_be_hidden()  # folded until opened
    needs.locator("summary").click()
    expect(needs.locator("li.followup-row").first).to_be_visible()
    awaited.locator("summary").click()
    row = awaited.locator("li.followup-row", has_text="Pilot figures")
    expect(row).to_contain_text("priya.nair@lumen-labs.example")
    expect(row.locator(".followup-age")).to_have_text("5d")
    _shot(page, tmp_path, "07-reply-lists")

    chat.click(row.get_by_role("button", name=re.compile(r"^Follow up with ")))
    expect(page.get_by_text("I am following up on my message of").last).to_be_visible()
    expect(
        page.get_by_text("could you send me the pilot figures for November?").last
    ).to_be_visible()
    expect(chat.button("Approve")).to_be_visible()
    _shot(page, tmp_path, "08-follow-up-card")
