"""The chat UI comes up behind its login in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import USERS, ChatServer, login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(240)]


def test_alice_logs_in_and_sees_the_chat_input(chat_server: ChatServer, page: Page) -> None:
    page.goto(f"{chat_server.base_url}/")
    expect(page).to_have_url(f"{chat_server.base_url}/login")

    login(page, chat_server.base_url, "alice", USERS["alice"])

    expect(page.locator("#chat-input")).to_be_visible()
    expect(page.locator("#chat-input")).to_be_editable()
    screenshot(page, "smoke-alice-chat")
