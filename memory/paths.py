"""Where the product keeps its files: one data directory, `SMART_INBOX_HOME`."""

from __future__ import annotations

import os
from pathlib import Path

from memory.database_url import database_config

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
    """SQLAlchemy URL of the app database: `DATABASE_URL`, else `app.db` in the data directory."""
    return database_config(home).app_url


def checkpoint_path(home: Path) -> Path:
    """The default SQLite file of the conversation checkpoints inside the data directory.

    Where the checkpoints really are depends on `DATABASE_URL`: see `memory.database_url`.
    """
    return home / "checkpoints.db"
