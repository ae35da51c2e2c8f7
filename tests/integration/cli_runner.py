"""Running the `smart-inbox` command in its own process, on a private copy of the demo inbox.

With `demo=True` no inbox is set at all: the command opens the bundled demo as a new user's
`make run` does, and works on its own copy of it in the run's data directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "demo-inbox"
NOT_INHERITED = (
    "GROQ_API_KEY",
    "MODEL",
    "INBOX",
    "SMTP_URL",
    "SMTP_PASSWORD",
    "SMTP_FROM",
    "SMART_INBOX_USER_EMAILS",
    "SMART_INBOX_KEY",
    "SMART_INBOX_SIGNATURE",
    "SMART_INBOX_USER_NAME",
)
"""Settings of the machine running the tests that must not reach the command under test."""


def cli_env(
    home: Path, extra: dict[str, str] | None = None, *, demo: bool = False
) -> dict[str, str]:
    """The environment of one run: its data directory and a private copy of the demo inbox."""
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    env["SMART_INBOX_HOME"] = str(home)
    if not demo:
        inbox = home / "inbox"
        if not inbox.exists():
            shutil.copytree(DEMO, inbox, ignore=shutil.ignore_patterns(".Drafts", ".Sent"))
        env["INBOX"] = f"maildir:{inbox}"
    env.update(extra or {})
    return env


def run_cli(
    home: Path,
    *args: str,
    check: bool = True,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    demo: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run the command with its data directory and a private copy of the demo inbox under `home`."""
    result = subprocess.run(
        [sys.executable, "-m", "ui.cli", *args],
        cwd=ROOT,
        env=cli_env(home, env, demo=demo),
        capture_output=True,
        text=True,
        timeout=120,
        input=stdin,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result
