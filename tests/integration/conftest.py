"""Fixtures for integration tests that talk to local stand-ins of external services."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.groq_server import FakeGroqServer

FAKE_GROQ_API_KEY = "gsk_fakeIntegrationKey0123456789abcdef"


@pytest.fixture
def groq_server() -> Iterator[FakeGroqServer]:
    """A fake Groq chat completions API on a free local port, expecting `FAKE_GROQ_API_KEY`."""
    server = FakeGroqServer(api_key=FAKE_GROQ_API_KEY).start()
    try:
        yield server
    finally:
        server.stop()
