"""Fixtures every test directory may use: a real local SMTP server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.smtp_server import SmtpSink


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A plain SMTP server on 127.0.0.1 (no TLS, no AUTH) that keeps what it receives."""
    with SmtpSink() as sink:
        yield sink
