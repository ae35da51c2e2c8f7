"""Connecting a Gmail account in a real browser: `smart-inbox accounts add gmail work
--no-browser` prints the consent URL, Chromium opens it and clicks Approve on the local
authorization server's page, the loopback listener takes the code, and the command finishes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.fakes.oauth_server import FakeOAuth
from tests.integration.cli_runner import ROOT, cli_env, run_cli

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(120)]


@pytest.fixture
def oauth() -> Iterator[FakeOAuth]:
    with FakeOAuth(
        address="dana@northwind.example", client_secret="installed-app-secret"
    ) as server:
        yield server  # type: ignore[misc]


def test_gmail_account_connected_through_the_browser(
    tmp_path: Path, oauth: FakeOAuth, page: Page
) -> None:
    env = {
        **oauth.endpoints("google"),
        "SMART_INBOX_OAUTH_GOOGLE_CLIENT_ID": oauth.client_id,
        "SMART_INBOX_OAUTH_GOOGLE_CLIENT_SECRET": oauth.client_secret,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "ui.cli", "accounts", "add", "gmail", "work", "--no-browser"],
        cwd=ROOT,
        env=cli_env(tmp_path, env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert "connect your Google account" in process.stdout.readline()
        url = process.stdout.readline().strip()
        assert url.startswith(f"{oauth.base_url}/authorize?")

        page.goto(url)
        expect(page.get_by_text("dana@northwind.example")).to_be_visible()
        page.get_by_role("button", name="Approve").click()
        expect(page.get_by_text("the account is connected")).to_be_visible()
        screenshot(page, "accounts-gmail-connected")

        assert process.wait(timeout=30) == 0, process.stderr.read() if process.stderr else ""
        rest = process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
    assert rest.strip() == "connected gmail account work (dana@northwind.example)"

    listed = json.loads(run_cli(tmp_path, "accounts", "list", "--json", env=env).stdout)
    assert [(row["name"], row["kind"], row["state"]) for row in listed] == [
        ("work", "gmail", "connected")
    ]
    assert "https://www.googleapis.com/auth/gmail.modify" in listed[0]["scopes"]
