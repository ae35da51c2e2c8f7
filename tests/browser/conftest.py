"""The chat UI in a real headless browser: `smart-inbox ui` on 127.0.0.1, driven by Playwright.

Playwright drives Debian's Chromium (`/usr/bin/chromium`, or the path in the `CHROMIUM`
environment variable) and never downloads a browser of its own. `.ci/run` installs Chromium
(`apt-get install chromium`); without it these tests fail rather than pass unseen. On a machine
that cannot run a browser at all, `SMART_INBOX_SKIP_BROWSER=1` skips them.

Screenshots (the `screenshot` helper, and one of every page whose test failed) are written to
`test-artifacts/browser/` at the root of the repository.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser.chat_driver import ChatServer, login
from tests.fakes.smtp_server import SmtpSink
from tests.integration.cli_runner import ROOT

__all__ = ["USERS", "ChatServer", "login", "screenshot"]

DEFAULT_CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
USERS = {"alice": "alice-password-1", "bob": "bob-password-1"}
"""Who may log in to every chat server of these tests, with their passwords."""

_REPORT = pytest.StashKey[dict[str, pytest.TestReport]]()


def chromium_path() -> Path:
    """The Chromium binary the tests drive; fails the test, with what to do, when it is missing."""
    configured = os.environ.get("CHROMIUM", DEFAULT_CHROMIUM)
    found = shutil.which(configured)
    if found is None:
        pytest.fail(
            f"Chromium not found at {configured!r}: the browser tests drive Debian's Chromium, "
            "which .ci/run installs (apt-get install -y --no-install-recommends chromium). "
            "Install it, point CHROMIUM at another binary, or set SMART_INBOX_SKIP_BROWSER=1 "
            "to skip these tests.",
            pytrace=False,
        )
    return Path(found)


# Session-scoped so that it runs before `browser`, which would fail without Chromium.
@pytest.fixture(scope="session", autouse=True)
def _browser_tests_wanted() -> None:
    """Skip every browser test, and only then, when SMART_INBOX_SKIP_BROWSER=1."""
    if os.environ.get("SMART_INBOX_SKIP_BROWSER") == "1":
        pytest.skip("SMART_INBOX_SKIP_BROWSER=1")


# Package scope, not session: while sync Playwright runs, its event loop counts as running in
# this thread, and the asyncio tests that follow could not start theirs.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the browser tests; each test gets its own context in `page`."""
    executable = chromium_path()
    # Chromium refuses to start its sandbox as root (CI containers run as root).
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(executable), headless=True, args=args
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    item.stash.setdefault(_REPORT, {})[report.when] = report
    return report


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh page in a fresh browser context (no cookies); screenshotted if the test failed."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(30_000)
    new_page = context.new_page()
    try:
        yield new_page
    finally:
        reports = request.node.stash.get(_REPORT, {})
        if any(report.failed for report in reports.values()):
            screenshot(new_page, f"{request.node.name}-failed")
        context.close()


def screenshot(page: Page, name: str) -> Path:
    """Save the whole page as `test-artifacts/browser/<name>.png` and return the file."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
    # Chainlit fades its views in; finished animations show what the test just saw.
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    return path


@pytest.fixture
def chat_server(tmp_path: Path, smtp_sink: SmtpSink) -> Iterator[ChatServer]:
    """A running chat server with users alice and bob (see `USERS`), stopped after the test."""
    server = ChatServer(tmp_path / "home", tmp_path / "logs", smtp_sink)
    try:
        for name, password in USERS.items():
            server.add_user(name, password)
        yield server.start()
    finally:
        server.stop()
