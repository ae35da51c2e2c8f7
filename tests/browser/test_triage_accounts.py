"""The triage list of an inbox of several accounts in a real browser: the account each
conversation came to is a column of its own; an inbox of one account has no such column."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.chat_driver import ChatPage
from tests.browser.conftest import USERS, ChatServer, screenshot
from tests.fakes.smtp_server import SmtpSink
from tests.integration.test_several_accounts import HOME_MAIL, WORK_MAIL
from tests.unit.conftest import write_maildir

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(300)]

ROW = "li.triage-row"


@pytest.fixture
def server(tmp_path: Path, smtp_sink: SmtpSink) -> Iterator[ChatServer]:
    work = write_maildir(
        tmp_path / "work", {f"17810000{n}0.M{n}P1.host": raw for n, raw in enumerate(WORK_MAIL)}
    )
    personal = write_maildir(tmp_path / "personal", HOME_MAIL)
    chat = ChatServer(tmp_path / "home", tmp_path / "logs", smtp_sink)
    chat.env["INBOX"] = f"work=maildir:{work}, personal=maildir:{personal}"
    try:
        chat.add_user("alice", USERS["alice"])
        yield chat.start()
    finally:
        chat.stop()


def triaged(browser: Browser, base_url: str, messages: int) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.set_default_timeout(30_000)
    chat = ChatPage(page)
    chat.open(base_url, "alice", USERS["alice"])
    chat.click(page.get_by_role("button", name="Triage inbox").first)
    expect(page.get_by_text(f"{messages} messages triaged")).to_be_visible()
    return page


def test_the_account_is_a_column_of_its_own_only_with_several(
    server: ChatServer, browser: Browser, tmp_path: Path
) -> None:
    page = triaged(browser, server.base_url, 5)
    rows = page.locator(ROW)
    expect(rows.first).to_be_visible()
    accounts = rows.evaluate_all("rows => rows.map(r => r.dataset.account)")
    shown = page.locator(f"{ROW} .triage-account").all_inner_texts()
    assert sorted(accounts) == sorted(shown) and set(shown) == {"work", "personal"}, shown
    outage = page.locator(ROW, has_text="Production outage")
    expect(outage.locator(".triage-account")).to_have_text("work")
    # The sender column holds the sender only: no `[work]` prefix left in it.
    assert not any(s.startswith("[") for s in rows.locator("span.font-medium").all_inner_texts())
    # Mail written to the work address that came to the personal account is the personal one's.
    wire = page.locator(ROW, has_text="Wire the deposit")
    expect(wire.locator(".triage-account")).to_have_text("personal")
    # Still one line a row at 1280 px, nothing pushed out by the new column.
    heights = rows.evaluate_all("rows => rows.map(r => r.getBoundingClientRect().height)")
    assert max(heights) <= 40, heights
    widths = rows.evaluate_all("rows => rows.map(r => r.scrollWidth - r.clientWidth)")
    assert max(widths) <= 1
    screenshot(page, "triage-several-accounts")
    page.context.close()

    server.env["INBOX"] = f"work=maildir:{tmp_path / 'work'}"  # a list of one account
    server.restart()
    page = triaged(browser, server.base_url, 2)
    expect(page.locator(ROW).first).to_be_visible()
    expect(page.locator(f"{ROW} .triage-account")).to_have_count(0)
    assert page.locator(f"{ROW}[data-account]").count() == 0
    screenshot(page, "triage-one-account")
    page.context.close()
