"""Where the databases live: `DATABASE_URL`, or two SQLite files in the data directory.

Two stores hold everything that must survive a restart: the app database (mail cache, triage,
audit log, ledger, chat history; SQLModel) and the LangGraph checkpoints (conversation state).
Without `DATABASE_URL` both are SQLite files in `SMART_INBOX_HOME` (`app.db`, `checkpoints.db`).
`DATABASE_URL=sqlite:///PATH` moves the app database to PATH and the checkpoints beside it.
`DATABASE_URL=postgresql://...` puts both in one PostgreSQL database, so several chat and
command-line processes on several machines can share them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

DATABASE_URL_ENV = "DATABASE_URL"
APP_DATABASE_FILE = "app.db"
CHECKPOINT_FILE = "checkpoints.db"

POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")
"""What a user may write; SQLAlchemy gets `postgresql+psycopg` (psycopg 3), the checkpointer
`postgresql` (a libpq connection string)."""


class DatabaseConfigError(ValueError):
    """`DATABASE_URL` cannot be used; the message never shows a password."""


@dataclass(frozen=True)
class DatabaseConfig:
    """Both stores of one installation, resolved from `DATABASE_URL` and the data directory."""

    kind: Literal["sqlite", "postgresql"]
    app_url: str
    """Synchronous SQLAlchemy URL of the app database."""
    chat_url: str
    """Asynchronous SQLAlchemy URL of the same database, for the chat history."""
    checkpoint_file: Path | None
    """The SQLite checkpoint file (SQLite only)."""
    checkpoint_conninfo: str | None
    """The libpq connection string of the checkpointer (PostgreSQL only)."""
    home: Path
    """The data directory (key file, users, policy): per machine unless shared."""

    @property
    def is_postgres(self) -> bool:
        """Whether both stores live in PostgreSQL."""
        return self.kind == "postgresql"

    def describe(self) -> str:
        """Where the data is, for messages and logs: passwords are masked."""
        if self.checkpoint_file is not None:
            return f"{self.app_url.removeprefix('sqlite:///')} and {self.checkpoint_file}"
        return safe_url(self.app_url)


def safe_url(url: str) -> str:
    """`url` with its password, if any, replaced by `***`."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(an unreadable URL)"


def sqlalchemy_url(url: str) -> str:
    """`url` with a plain `postgresql://` or `postgres://` scheme mapped to psycopg 3's."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme.lower() in ("postgresql", "postgres"):
        return f"postgresql+psycopg://{rest}"
    return url


def database_config(home: Path, environ: Mapping[str, str] | None = None) -> DatabaseConfig:
    """The stores for data directory `home`, following `DATABASE_URL` when it is set.

    Raises:
        DatabaseConfigError: the URL is malformed or names a database this product cannot use.

    """
    raw = (os.environ if environ is None else environ).get(DATABASE_URL_ENV, "").strip()
    if not raw:
        return _sqlite(home, home / APP_DATABASE_FILE)
    scheme = raw.split(":", 1)[0].lower() if ":" in raw else ""
    if scheme == "sqlite":
        return _sqlite(home, _sqlite_path(raw))
    if scheme in POSTGRES_SCHEMES:
        return _postgres(home, raw)
    raise DatabaseConfigError(
        f"{DATABASE_URL_ENV} must start with sqlite:/// or postgresql://, "
        f"not {safe_url(raw).split('://', 1)[0]!r}://"
    )


def _sqlite_path(raw: str) -> Path:
    if not raw.lower().startswith("sqlite:///") or raw.rstrip("/").lower() == "sqlite:":
        raise DatabaseConfigError(
            f"{DATABASE_URL_ENV}: a SQLite URL is sqlite:///PATH (three slashes, then a file path)"
        )
    path_text = raw[len("sqlite:///") :].split("?", 1)[0]
    if not path_text or path_text == ":memory:":
        raise DatabaseConfigError(
            f"{DATABASE_URL_ENV}: name a file (sqlite:///PATH); an in-memory database "
            "would lose everything at exit"
        )
    return Path(path_text).expanduser().resolve()


def _sqlite(home: Path, app_file: Path) -> DatabaseConfig:
    return DatabaseConfig(
        kind="sqlite",
        app_url=f"sqlite:///{app_file}",
        chat_url=f"sqlite+aiosqlite:///{app_file}",
        checkpoint_file=app_file.with_name(CHECKPOINT_FILE),
        checkpoint_conninfo=None,
        home=home,
    )


def _postgres(home: Path, raw: str) -> DatabaseConfig:
    try:
        url = make_url(raw)
    except ArgumentError:
        raise DatabaseConfigError(
            f"{DATABASE_URL_ENV} is not a valid URL (postgresql://USER:PASSWORD@HOST:PORT/DB)"
        ) from None
    if url.drivername not in POSTGRES_SCHEMES:
        raise DatabaseConfigError(
            f"{DATABASE_URL_ENV}: use postgresql:// (the psycopg 3 driver is chosen for you), "
            f"not {url.drivername}://"
        )
    if not url.database:
        raise DatabaseConfigError(
            f"{DATABASE_URL_ENV} names no database: {safe_url(raw)} needs /DBNAME at its end"
        )
    app: URL = url.set(drivername="postgresql+psycopg")
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    app_text = app.render_as_string(hide_password=False)
    return DatabaseConfig(
        kind="postgresql",
        app_url=app_text,
        chat_url=app_text,
        checkpoint_file=None,
        checkpoint_conninfo=libpq,
        home=home,
    )
