"""Fixtures every test directory may use: a real local SMTP server, fresh engine caches."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from graph.engines import load_engine
from tests.fakes.smtp_server import SmtpSink


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
