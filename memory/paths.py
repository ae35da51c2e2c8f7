"""Where the product keeps its files: one data directory, `SMART_INBOX_HOME`."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_HOME = ".smart-inbox"


def data_dir(home: str | os.PathLike[str] | None = None) -> Path:
    """Return the data directory, creating it (mode 0700) when missing.

    `home` wins over `SMART_INBOX_HOME`, which wins over `./.smart-inbox`.
    """
    raw = home or os.environ.get("SMART_INBOX_HOME") or DEFAULT_HOME
    path = Path(raw).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def app_database_url(home: Path) -> str:
    """SQLite URL of the app database inside the data directory."""
    return f"sqlite:///{home / 'app.db'}"


def checkpoint_path(home: Path) -> Path:
    """SQLite file of the conversation checkpoints inside the data directory."""
    return home / "checkpoints.db"
