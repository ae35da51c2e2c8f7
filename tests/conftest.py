"""Fixtures every test directory may use: a real local SMTP server, a real PostgreSQL server,
both database backends, fresh engine caches, no kept services, no secrets known from an earlier
test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from graph.engines import load_engine
from graph.services import clear_services_cache
from memory.database_url import DatabaseConfig, database_config
from memory.db import close_databases
from memory.redaction import KNOWN_SECRETS
from tests.fakes.smtp_server import SmtpSink
from tests.postgres_server import SKIP_ENV, PostgresServer, PostgresUnavailable, database_name

BACKENDS = ("sqlite", pytest.param("postgresql", marks=pytest.mark.postgres))


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A plain SMTP server on 127.0.0.1 (no TLS, no AUTH) that keeps what it receives."""
    with SmtpSink() as sink:
        yield sink


@pytest.fixture(autouse=True)
def _fresh_engines() -> Iterator[None]:
    """Engines are cached per spec; every test starts and ends with an empty cache."""
    load_engine.cache_clear()
    yield
    load_engine.cache_clear()


@pytest.fixture(autouse=True)
def _no_kept_services() -> Iterator[None]:
    """Services are kept per process; a test never gets one built in another (with its engine,
    its secrets remembered, its database handle)."""
    clear_services_cache()
    yield
    clear_services_cache()


@pytest.fixture(autouse=True)
def _no_known_secrets() -> Iterator[None]:
    """The secrets one test looked up are not masked in the next one's text."""
    KNOWN_SECRETS.forget_all()
    yield
    KNOWN_SECRETS.forget_all()


@pytest.fixture(autouse=True)
def _default_databases(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests use the embedded SQLite files unless they ask for a backend themselves."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("SMART_INBOX_ENCRYPT_STATE", raising=False)
    monkeypatch.delenv("SMART_INBOX_KEY", raising=False)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server of this test session on 127.0.0.1 (initdb in a temporary folder).

    Missing PostgreSQL is a failure with the way to install it, never a silent skip; only
    `SMART_INBOX_SKIP_POSTGRES=1` skips these tests.
    """
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"{SKIP_ENV}=1: the PostgreSQL tests are skipped on this machine")
    try:
        server = PostgresServer.start()
    except PostgresUnavailable as err:
        pytest.fail(f"PostgreSQL tests: {err}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database of the session's server, dropped after the test."""
    url = postgres_server.create_database()
    yield url
    close_databases()
    postgres_server.drop_database(database_name(url))


@dataclass(frozen=True)
class Backend:
    """Where one test's data lives: `DATABASE_URL` is set (or not) to match."""

    name: str
    home: Path
    url: str | None
    """The `postgresql://` URL, None for the SQLite files in `home`."""
    config: DatabaseConfig

    @property
    def env(self) -> dict[str, str]:
        """What a child process needs in its environment to use this backend."""
        return {"DATABASE_URL": self.url} if self.url else {}


@pytest.fixture(params=BACKENDS)
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Backend]:
    """Each test that takes it runs twice: on the SQLite files and on PostgreSQL."""
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    url: str | None = None
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        monkeypatch.setenv("DATABASE_URL", url)
    yield Backend(request.param, home, url, database_config(home))
    close_databases()
