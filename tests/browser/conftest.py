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
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import IO

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.fakes.smtp_server import SmtpSink, free_port
from tests.integration.cli_runner import ROOT, cli_env

HOST = "127.0.0.1"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
USER_EMAIL = "dana@northwind.example"
USERS = {"alice": "alice-password-1", "bob": "bob-password-1"}
"""Who may log in to every chat server of these tests, with their passwords."""
START_TIMEOUT = 60.0
"""Seconds a chat server may take before `/` answers."""
STOP_TIMEOUT = 10.0
"""Seconds a chat server has to exit after SIGTERM before it is killed."""

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


def login(page: Page, base_url: str, user: str, password: str) -> None:
    """Sign in on Chainlit's password login page; fails with the page's text if it refuses."""
    page.goto(f"{base_url}/login")
    page.locator("#email").fill(user)
    page.locator("#password").fill(password)
    page.locator("button[type=submit]").click()
    try:
        page.wait_for_url(lambda url: "/login" not in url, timeout=15_000)
    except Exception as err:  # playwright's TimeoutError: report what the page said instead
        said = page.locator("body").inner_text()
        raise AssertionError(f"login as {user!r} failed; the login page says:\n{said}") from err


class ChatServer:
    """`smart-inbox ui` in its own process on 127.0.0.1, with a private data directory and users.

    The data directory holds a private copy of the demo inbox; mail is sent to `smtp`.
    The server's output goes to files under `logs`, shown when it fails to start.
    """

    def __init__(self, home: Path, logs: Path, smtp: SmtpSink) -> None:
        self.home = home
        self.logs = logs
        self.smtp = smtp
        self.port = free_port(HOST)
        self.env = cli_env(home, {"SMTP_URL": smtp.url, "SMART_INBOX_USER_EMAILS": USER_EMAIL})
        self._process: subprocess.Popen[bytes] | None = None
        self._outputs: list[IO[bytes]] = []
        self._starts = 0
        logs.mkdir(parents=True, exist_ok=True)

    @property
    def base_url(self) -> str:
        """Where the chat answers, e.g. `http://127.0.0.1:PORT`."""
        return f"http://{HOST}:{self.port}"

    @property
    def stdout_path(self) -> Path:
        """Standard output of the current (or last) start."""
        return self.logs / f"ui-{self._starts}.stdout.log"

    @property
    def stderr_path(self) -> Path:
        """Standard error of the current (or last) start."""
        return self.logs / f"ui-{self._starts}.stderr.log"

    def add_user(self, name: str, password: str) -> None:
        """Add a chat user through the command line, the password on standard input."""
        result = subprocess.run(
            [sys.executable, "-m", "ui.cli", "users", "add", name, "--password-stdin"],
            cwd=ROOT,
            env=self.env,
            input=password,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0:
            raise AssertionError(
                f"users add {name}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
            )

    def start(self) -> ChatServer:
        """Start the server and wait until `/` answers; returns self."""
        if self._process is not None:
            raise RuntimeError("the chat server is already running")
        self._starts += 1
        stdout = self.stdout_path.open("wb")
        stderr = self.stderr_path.open("wb")
        self._outputs = [stdout, stderr]
        # Its own session, so stopping it also stops whatever it started (MCP servers).
        self._process = subprocess.Popen(
            [sys.executable, "-m", "ui.cli", "ui", "--host", HOST, "--port", str(self.port)],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT
        last_error = "no answer yet"
        while time.monotonic() < deadline:
            code = self._process.poll()
            if code is not None:
                raise AssertionError(
                    f"the chat server exited with status {code} before it answered\n{self.output()}"
                )
            try:
                with urllib.request.urlopen(f"{self.base_url}/", timeout=5) as response:
                    if response.status == 200:
                        return
                    last_error = f"HTTP {response.status}"
            except (urllib.error.URLError, ConnectionError, TimeoutError) as err:
                last_error = str(err)
            time.sleep(0.25)
        raise AssertionError(
            f"the chat server did not answer {self.base_url}/ within {START_TIMEOUT:.0f}s "
            f"({last_error})\n{self.output()}"
        )

    def output(self) -> str:
        """The current start's standard error and output, for failure messages."""
        for handle in self._outputs:
            handle.flush()
        parts = []
        for path in (self.stderr_path, self.stdout_path):
            text = path.read_text(errors="replace") if path.exists() else ""
            parts.append(f"--- {path.name} ---\n{text[-8000:]}")
        return "\n".join(parts)

    def stop(self) -> None:
        """Stop the server: SIGTERM to its process group, SIGKILL if it lingers."""
        process, self._process = self._process, None
        if process is not None:
            try:
                self._signal(process, signal.SIGTERM)
                try:
                    process.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self._signal(process, signal.SIGKILL)
                    process.wait(timeout=STOP_TIMEOUT)
            finally:
                self._signal(process, signal.SIGKILL)  # anything it started that outlived it
        for handle in self._outputs:
            handle.close()
        self._outputs = []

    @staticmethod
    def _signal(process: subprocess.Popen[bytes], signum: int) -> None:
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            pass

    def restart(self) -> ChatServer:
        """Stop the server and start it again on the same data directory and port."""
        self.stop()
        return self.start()


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
