"""Clearing the inbox in a real browser, on the bundled demo: "archive the newsletters" is one
card listing them all, Edit drops a row, Approve archives the rest and they leave the triage
list; a snooze hides the Vireo invoice; "undo" brings back what the last action moved. Every
step is timed (`test-artifacts/browser/inbox-actions-times.json`), and the cards and lists are
screenshotted (the ones docs/chat.md shows are copied from there to docs/screenshots/).
A snooze then comes due: the next triage wakes it, and it leads the list, marked."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.chat_driver import ANSWER, ChatPage, ChatServer
from tests.browser.conftest import ARTIFACTS, USERS, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(600)]

ROW = "li.triage-row"
CLOUDHOST = "What's new at CloudHost"
DIGEST = "DE Digest #87"
BACKEND = "The Pragmatic Backend #212"
INVOICE = "Invoice INV-2026-0412"
STEP_SECONDS = 20.0
"""The most one step may take on the offline engine (they take about a second)."""


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[ChatServer]:
    """The chat on the bundled demo with no settings (its working copy in the data directory)."""
    server = ChatServer(tmp_path / "home", tmp_path / "logs", None)
    try:
        server.add_user("alice", USERS["alice"])
        yield server.start()
    finally:
        server.stop()


def _triage(chat: ChatPage, page: Page, expected: int) -> float:
    lists = page.locator(".triage-list").count()
    took = chat.click(page.get_by_role("button", name="Triage inbox").first)
    expect(page.locator(".triage-list")).to_have_count(lists + 1, timeout=60_000)
    expect(page.get_by_text(f"{expected} messages triaged").last).to_be_visible()
    more = page.get_by_role("button", name=re.compile(r"Show \d+ more"))
    if more.count():
        more.last.click()
    return took


def _rows(page: Page, subject: str) -> int:
    return page.locator(".triage-list").last.locator(ROW, has_text=subject).count()


def _card(page: Page, title: str) -> object:
    card = page.locator(ANSWER, has_text=title).last
    expect(card).to_be_visible()
    card.scroll_into_view_if_needed()
    return card


def test_bulk_archive_with_an_edit_snooze_and_undo(demo_server: ChatServer, page: Page) -> None:
    chat = ChatPage(page)
    chat.open(demo_server.base_url, "alice", USERS["alice"])
    times: dict[str, float] = {}
    times["triage"] = _triage(chat, page, 50)
    assert _rows(page, CLOUDHOST) == _rows(page, DIGEST) == _rows(page, BACKEND) == 1

    # One card, every newsletter on it, as a table.
    times["archive the newsletters"] = chat.ask("archive the newsletters")
    card = page.locator(ANSWER, has_text="Archive 3 conversations").last
    expect(card).to_be_visible()
    table = card.locator("table")
    expect(table.locator("tbody tr")).to_have_count(3)
    for subject in (CLOUDHOST, DIGEST, BACKEND):
        expect(table).to_contain_text(subject)
    card.scroll_into_view_if_needed()
    screenshot(page, "inbox-bulk-card")

    # Edit lists the rows; sending back the lines to keep drops the one left out.
    times["edit"] = chat.click(chat.button("Edit"))
    prompt = page.locator(ANSWER, has_text="These are the conversations on the card").last
    expect(prompt).to_contain_text(DIGEST)
    screenshot(page, "inbox-edit-list")
    kept = [
        line for line in prompt.inner_text().splitlines() if CLOUDHOST in line or BACKEND in line
    ]
    assert len(kept) == 2, kept
    times["edit: keep two lines"] = chat.ask("\n".join(kept))
    expect(page.get_by_text(re.compile(r"Archived 2 of 2 message")).last).to_be_visible()

    times["triage after the archive"] = _triage(chat, page, 48)
    assert _rows(page, CLOUDHOST) == _rows(page, BACKEND) == 0, "archived mail left the list"
    assert _rows(page, DIGEST) == 1, "the row dropped by the edit stays"
    assert (demo_server.home / "demo-inbox" / ".Archive").is_dir()

    # A snooze hides the invoice until tomorrow 9am.
    assert _rows(page, INVOICE) == 1
    times["snooze"] = chat.ask("snooze the invoice from Vireo until tomorrow 9am")
    _card(page, "Snooze 1 conversation")
    times["approve the snooze"] = chat.click(chat.button("Approve"))
    expect(page.get_by_text(re.compile(r"Snoozed until .* 1 of 1 message")).last).to_be_visible()
    times["triage after the snooze"] = _triage(chat, page, 47)
    assert _rows(page, INVOICE) == 0

    # Undo says what it reverses: the snooze; again: the archive.
    times["undo"] = chat.ask("undo")
    undo = page.locator(ANSWER, has_text="It reverses:").last
    expect(undo).to_contain_text("Snooze 1 conversation")
    expect(undo).to_contain_text(INVOICE)
    undo.scroll_into_view_if_needed()
    screenshot(page, "inbox-undo-card")
    times["approve the undo"] = chat.click(chat.button("Approve"))
    times["undo again"] = chat.ask("undo")
    expect(page.locator(ANSWER, has_text="It reverses:").last).to_contain_text(
        "Archive 2 conversations"
    )
    times["approve the second undo"] = chat.click(chat.button("Approve"))
    times["triage after both undos"] = _triage(chat, page, 50)
    assert _rows(page, INVOICE) == _rows(page, CLOUDHOST) == _rows(page, BACKEND) == 1

    # Snoozed again, then its time comes (the clock: the snooze made due in the app
    # database): the next triage wakes it, and it leads the list, marked.
    chat.ask("snooze the invoice from Vireo until tomorrow 9am")
    chat.click(chat.button("Approve"))
    _triage(chat, page, 49)
    _make_snoozes_due(demo_server.home / "app.db")
    times["triage that wakes it"] = _triage(chat, page, 50)
    first = page.locator(".triage-list").last.locator(ROW).first
    expect(first).to_contain_text(INVOICE)
    expect(first).to_have_attribute("data-woken", "yes")
    expect(first.locator(".triage-woken")).to_have_text("back")
    expect(page.locator("li.triage-group").last).to_be_visible()
    heading = page.locator(".triage-list").last.locator("li.triage-group").first
    expect(heading).to_have_text(re.compile(r"^Back from snooze · 1"))
    heading.scroll_into_view_if_needed()
    screenshot(page, "inbox-woken")
    chat.assert_idle()

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "inbox-actions-times.json").write_text(json.dumps(times, indent=2))
    slow = {step: seconds for step, seconds in times.items() if seconds > STEP_SECONDS}
    assert not slow, f"steps slower than {STEP_SECONDS}s: {slow}"


def _make_snoozes_due(database: Path) -> None:
    """Move every snooze's wake time into the past, as if the clock had reached it."""
    with sqlite3.connect(database) as connection:
        changed = connection.execute(
            "UPDATE snoozed_conversation SET wake_at = '2000-01-01T00:00:00+00:00' "
            "WHERE state = 'snoozed'"
        ).rowcount
    assert changed == 1
