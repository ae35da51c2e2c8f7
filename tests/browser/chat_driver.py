"""Driving the chat as a person does, for the browser tests and the browser benchmark.

`ChatServer` runs `smart-inbox ui` in its own process on 127.0.0.1 with a private data
directory; `ChatPage` sends a message or clicks a button and waits until the chat has
answered and is idle again (no Stop button), returning how long that took.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

from playwright.sync_api import Locator, Page, expect

from tests.fakes.smtp_server import SmtpSink, free_port
from tests.integration.cli_runner import NOT_INHERITED, ROOT, cli_env

HOST = "127.0.0.1"
USER_EMAIL = "dana@northwind.example"
START_TIMEOUT = 60.0
"""Seconds a chat server may take before `/` answers."""
STOP_TIMEOUT = 10.0
"""Seconds a chat server has to exit after SIGTERM before it is killed."""
ANSWER = '[data-step-type="assistant_message"]'
"""A message of the assistant in Chainlit's page (answers, cards, prompts)."""
BUSY = "#stop-button"
"""Chainlit's Stop button: shown while a step of the chat is running."""
SUBMIT = "#chat-submit"
"""Chainlit's send button: enabled when the input holds text and the chat takes a message."""
TURN_TIMEOUT_MS = 60_000


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

    With `smtp`, the data directory holds a private copy of the demo inbox and mail is sent to
    `smtp`; without, the chat runs on the bundled demo with no settings at all.
    The server's output goes to files under `logs`, shown when it fails to start.
    """

    def __init__(self, home: Path, logs: Path, smtp: SmtpSink | None) -> None:
        self.home = home
        self.logs = logs
        self.smtp = smtp
        self.port = free_port(HOST)
        if smtp is not None:
            extra = {"SMTP_URL": smtp.url, "SMART_INBOX_USER_EMAILS": USER_EMAIL}
            self.env = cli_env(home, extra)
        else:  # the bundled demo with no settings at all, as `make run` starts it
            self.env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
            self.env["SMART_INBOX_HOME"] = str(home)
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


class ChatPage:
    """One person's chat in a browser page: send, click, and wait until the chat is idle."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def open(self, base_url: str, user: str, password: str) -> None:
        """Log in and wait for the welcome message."""
        login(self.page, base_url, user, password)
        self.wait_for_welcome()

    def wait_for_welcome(self) -> None:
        """The chat is ready: its welcome message (with the engine's name) is shown."""
        expect(self.page.get_by_text("Running on").first).to_be_visible(timeout=TURN_TIMEOUT_MS)

    def answers(self) -> int:
        """How many assistant messages the page shows now."""
        return self.page.locator(ANSWER).count()

    def settle(self, before: int) -> None:
        """Wait until a new assistant message is shown and no step is running."""
        self.page.wait_for_function(
            f"() => document.querySelectorAll('{ANSWER}').length > {before}"
            f" && !document.querySelector('{BUSY}')",
            timeout=TURN_TIMEOUT_MS,
        )

    def ask(self, text: str) -> float:
        """Send `text` and wait for the chat's answer; seconds from Enter to idle."""
        box = self.page.locator("#chat-input")
        expect(box).to_be_editable()
        box.fill(text)
        # Chainlit drops Enter while a task still runs (the chat's start, say, which shows no
        # Stop button): its send button is enabled once the chat takes this text.
        expect(self.page.locator(SUBMIT)).to_be_enabled(timeout=TURN_TIMEOUT_MS)
        before = self.answers()
        started = time.perf_counter()
        box.press("Enter")
        self.settle(before)
        return time.perf_counter() - started

    def click(self, target: Locator) -> float:
        """Click a button and wait for the chat's reply; seconds from the click to idle."""
        before = self.answers()
        started = time.perf_counter()
        target.click()
        self.settle(before)
        return time.perf_counter() - started

    def button(self, name: str) -> Locator:
        """The last button of that name on the page (the newest card's, say)."""
        return self.page.get_by_role("button", name=name).last

    def assert_idle(self) -> None:
        """No step is running: the Stop button is gone and the input takes text."""
        expect(self.page.locator(BUSY)).to_have_count(0)
        expect(self.page.locator("#chat-input")).to_be_editable()

    def text_size(self) -> int:
        """Characters of text on the page now."""
        return int(self.page.evaluate("document.body.innerText.length"))

    def mail_links(self) -> Locator:
        """Every link that opens a message (citations, the triage list, cards)."""
        return self.page.locator('a[href^="/mail/view"]')

    def open_mail(self, link: Locator) -> Page:
        """Follow a mail link (it opens a new tab); the opened page, loaded."""
        with self.page.context.expect_page() as opened:
            link.click()
        mail = opened.value
        mail.wait_for_load_state()
        return mail
