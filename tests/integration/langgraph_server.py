"""A real LangGraph server in its own process group, started on a free port and stopped for sure.

`smart-inbox serve` (or a bare `langgraph dev`) runs as a subprocess whose output goes to a log
file; a server that does not answer in time fails the test with that log.
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
from types import TracebackType

from tests.fakes.smtp_server import free_port
from tests.integration.cli_runner import ROOT, cli_env

START_TIMEOUT = 90.0
"""Generous: two shared cores, and the first start compiles every module."""
STOP_TIMEOUT = 30.0
OWN_ADDRESS = "dana@northwind.example"


def server_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The CLI's test environment without anything that could reach LangSmith."""
    env = {
        k: v
        for k, v in cli_env(home, extra).items()
        if not k.startswith(("LANGSMITH_", "LANGCHAIN_", "LANGGRAPH_"))
    }
    env["PYTHONUNBUFFERED"] = "1"
    return env


class LangGraphServer:
    """One server process: `with LangGraphServer(home, env) as server: server.url`."""

    def __init__(
        self,
        home: Path,
        *,
        env: dict[str, str] | None = None,
        command: list[str] | None = None,
        cwd: Path = ROOT,
        port: int | None = None,
        log_name: str = "server.log",
    ) -> None:
        self.home = home
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = server_env(home, env)
        self.command = command or [
            sys.executable,
            "-m",
            "ui.cli",
            "serve",
            "--port",
            str(self.port),
        ]
        self.cwd = cwd
        self.log_path = home / log_name
        self.process: subprocess.Popen[bytes] | None = None

    def log(self) -> str:
        """Everything the server printed so far."""
        try:
            return self.log_path.read_text("utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/ok", timeout=2) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def start(self) -> LangGraphServer:
        """Start the process and wait until `/ok` answers."""
        self.home.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"the server exited with {self.process.returncode} before answering:\n"
                    + self.log()[-6000:]
                )
            if self._answers():
                return self
            time.sleep(0.2)
        self.kill()
        raise AssertionError(
            f"the server did not answer on {self.url} in {START_TIMEOUT:.0f}s:\n{self.log()[-6000:]}"
        )

    def _signal_group(self, sig: signal.Signals) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self) -> int | None:
        """A graceful stop (SIGTERM, as a service manager sends), then SIGKILL if it hangs."""
        if self.process is None:
            return None
        self._signal_group(signal.SIGTERM)
        try:
            return self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"the server ignored SIGTERM for {STOP_TIMEOUT:.0f}s:\n{self.log()[-3000:]}"
            ) from None

    def kill(self) -> None:
        """SIGKILL the whole process group (a crash)."""
        if self.process is None:
            return
        self._signal_group(signal.SIGKILL)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            pass

    def __enter__(self) -> LangGraphServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.stop()
        finally:
            self.kill()
