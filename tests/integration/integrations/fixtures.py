"""Names, fake credentials and variables shared by the integration tests, the demo mailbox, and
a thread of the graph to drive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from graph.builder import build_graph
from graph.context import DEMO_INBOX, Context
from memory.db import AppDatabase, open_database
from memory.secrets import SecretLookup, environment_secrets
from tests.fakes.hubspot_server import FakeHubSpot
from tests.fakes.jira_server import FakeJira
from tests.fakes.slack_server import FakeSlack
from tests.fakes.teams_server import FakeTeams
from tests.fakes.webhook_receiver import WebhookReceiver
from tools.http import HttpSettings
from tools.mail.sync import canonical_spec, sync_source
from ui.mcp_server.served_mailbox import triage_new_mail

JIRA_EMAIL = "dana@northwind.example"
JIRA_TOKEN = "ATATT3xFfGF0fakeJiraTokenForTests0123456789"
SLACK_TOKEN = "xoxb-1111-2222-fakeSlackTokenForTests"
HUBSPOT_TOKEN = "pat-na1-0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
WEBHOOK_SECRET = "whsec-fake-signing-secret-for-tests"
ME = "dana@northwind.example"

BUG_ID = "a7d3e21f-5c0b-4f9e-9a61-2b8e4d7c1f03@fjordline.example"
"""Beatrix Holm's CSV export bug (normal priority)."""
HIGH_BUG_ID = "DM6PR11MB4187F0A3B2C1D9E8@DM6PR11MB4187.solsticedental.example"
FEATURE_ID = "CAT0mas.fr-darkmode.20261117@mail.northwind.example"
SALES_ID = "BN8PR04MB6213A1C0E9F7D2B4@BN8PR04MB6213.namprd04.prod.meridianhealth.example"
WEBFORM_ID = "webform.demo.20261118154021.77f3@web-1.northwind.example"
OUTAGE_ID = "CAM1ee7Lk.inc-checkout-500@mail.northwind.example"

FAST = HttpSettings(timeout=5.0, retries=3, max_wait=5.0, backoff=0.01)
"""Short backoffs so retries do not slow the suite (a `Retry-After` is still honoured)."""


def demo_database(home: Path) -> AppDatabase:
    """The demo inbox fetched and triaged (offline rules) into an app database under `home`."""
    db = open_database(f"sqlite:///{home / 'app.db'}")
    spec = canonical_spec(f"maildir:{DEMO_INBOX}")
    sync_source(db, spec)
    triage_new_mail(db, spec, owner_addresses=(ME,))
    return db


def lookup(environ: dict[str, str]) -> SecretLookup:
    """The product's environment secret lookup over a test's own variables."""
    return environment_secrets(environ)


def jira_env(server: FakeJira) -> dict[str, str]:
    """The variables that point Jira at the fake."""
    return {
        "JIRA_BASE_URL": server.base_url,
        "JIRA_EMAIL": JIRA_EMAIL,
        "JIRA_API_TOKEN": JIRA_TOKEN,
        "JIRA_PROJECT": "NW",
        "JIRA_PROJECT_KEYS": "OPS",
    }


def slack_env(server: FakeSlack, channel: str = "#inbox-alerts") -> dict[str, str]:
    """The variables that point Slack at the fake."""
    return {
        "SLACK_API_URL": server.base_url + "/api",
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "SLACK_CHANNEL": channel,
    }


def teams_env(server: FakeTeams) -> dict[str, str]:
    return {"TEAMS_WEBHOOK_URL": server.webhook_url}


def hubspot_env(server: FakeHubSpot) -> dict[str, str]:
    return {"HUBSPOT_API_URL": server.base_url, "HUBSPOT_TOKEN": HUBSPOT_TOKEN}


def webhook_env(server: WebhookReceiver, events: str = "") -> dict[str, str]:
    env = {"WEBHOOK_URL": server.url, "WEBHOOK_SECRET": WEBHOOK_SECRET}
    if events:
        env["WEBHOOK_EVENTS"] = events
    return env


def use(monkeypatch: pytest.MonkeyPatch, *envs: dict[str, str]) -> None:
    """Set the variables of each env for the test."""
    for env in envs:
        for name, value in env.items():
            monkeypatch.setenv(name, value)


class Run:
    """One thread of the graph with an in-memory checkpointer."""

    def __init__(self, context: Context, thread: str = "t") -> None:
        self.graph = build_graph(checkpointer=InMemorySaver())
        self.context = context
        self.config: RunnableConfig = {"configurable": {"thread_id": thread}}

    async def send(self, payload: Any) -> dict[str, Any]:
        return await self.graph.ainvoke(payload, config=self.config, context=self.context)

    async def triage(self) -> dict[str, Any]:
        return await self.send({"mode": "triage", "messages": []})

    async def ask(self, text: str) -> dict[str, Any]:
        return await self.send({"messages": [HumanMessage(text)]})

    async def pending(self) -> list[dict[str, Any]]:
        snapshot = await self.graph.aget_state(self.config)
        return [r for item in snapshot.interrupts for r in item.value]

    async def decide(self, value: Any) -> dict[str, Any]:
        return await self.send(Command(resume=value))
