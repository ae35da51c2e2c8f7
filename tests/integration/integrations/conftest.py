"""Fixtures for the integration tests: local servers speaking each API, and the demo mailbox.

Every server is a real HTTP server on a free port of 127.0.0.1; the credentials are fake.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from memory.db import AppDatabase
from tests.fakes.hubspot_server import FakeHubSpot
from tests.fakes.jira_server import FakeJira
from tests.fakes.slack_server import FakeSlack
from tests.fakes.teams_server import FakeTeams
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.integration.integrations.fixtures import (
    HUBSPOT_TOKEN,
    JIRA_EMAIL,
    JIRA_TOKEN,
    SLACK_TOKEN,
    WEBHOOK_SECRET,
    demo_database,
)
from tools.http import close_shared_clients


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> AppDatabase:
    """The demo inbox fetched and triaged into a fresh app database (shared by a module)."""
    return demo_database(tmp_path_factory.mktemp("home"))


@pytest.fixture(autouse=True)
async def _close_http() -> AsyncIterator[None]:
    """Each test's event loop gets its own shared client; it is closed with the test."""
    yield
    await close_shared_clients()


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with FakeJira(JIRA_EMAIL, JIRA_TOKEN, projects=("NW", "OPS")) as server:
        assert isinstance(server, FakeJira)
        yield server


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(SLACK_TOKEN) as server:
        assert isinstance(server, FakeSlack)
        yield server


@pytest.fixture
def teams() -> Iterator[FakeTeams]:
    with FakeTeams() as server:
        assert isinstance(server, FakeTeams)
        yield server


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    with FakeHubSpot(HUBSPOT_TOKEN) as server:
        assert isinstance(server, FakeHubSpot)
        yield server


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(WEBHOOK_SECRET) as server:
        assert isinstance(server, WebhookReceiver)
        yield server
