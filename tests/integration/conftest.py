"""Fixtures for integration tests that talk to real local servers or local stand-ins."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.fakes.groq_server import FakeGroqServer
from tests.fakes.imap_server import DOVECOT_MISSING, DovecotServer, dovecot_binary

FAKE_GROQ_API_KEY = "gsk_fakeIntegrationKey0123456789abcdef"


@pytest.fixture
def groq_server() -> Iterator[FakeGroqServer]:
    """A fake Groq chat completions API on a free local port, expecting `FAKE_GROQ_API_KEY`."""
    server = FakeGroqServer(api_key=FAKE_GROQ_API_KEY).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def start_dovecot() -> Iterator[Callable[..., DovecotServer]]:
    """Start real Dovecot servers (options as `DovecotServer` takes them); all stop at the end.

    Fails, never skips, when Dovecot is not installed.
    """
    if dovecot_binary() is None:
        pytest.fail(DOVECOT_MISSING)
    started: list[DovecotServer] = []

    def start(**options: Any) -> DovecotServer:
        server = DovecotServer(**options)
        started.append(server)
        try:
            return server.start()
        except RuntimeError as err:
            pytest.fail(f"Dovecot could not be started: {err}")

    try:
        yield start
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def dovecot(start_dovecot: Callable[..., DovecotServer]) -> DovecotServer:
    """A real IMAP server (Dovecot) on 127.0.0.1 with user `dana`, Drafts and Sent marked."""
    return start_dovecot()
