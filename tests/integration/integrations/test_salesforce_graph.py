"""Salesforce through the whole graph: offline engine, demo inbox, a local org.

A sales inquiry becomes a "create lead" card; accepted, it makes exactly one Lead. "Log the
email from Jorge in Salesforce" becomes a card that logs it once as a Task on that lead, and
asking again logs nothing more. The session expires in between (one refresh), and no token the
grant holds is in the answer, the checkpoints, the audit log, the data directory or the logs.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from graph.context import DEMO_INBOX, Context
from memory.audit import AuditLog
from memory.db import open_database
from memory.keys import KEY_FILE
from memory.paths import app_database_url
from memory.vault import open_vault
from tests.fakes.salesforce_server import FakeSalesforce
from tests.integration.integrations.fixtures import SALES_ID, Run
from tests.integration.integrations.salesforce_fixtures import ME, connect
from tests.integration.integrations.test_echoed_secrets import stored
from tests.integration.test_no_plaintext_secrets import forms
from tools.oauth.accounts import AccountStore

pytestmark = pytest.mark.integration

JORGE = "j.alvarez@meridianhealth.example"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in (
        "JIRA_BASE_URL JIRA_EMAIL JIRA_API_TOKEN JIRA_PROJECT SLACK_API_URL SLACK_BOT_TOKEN "
        "SLACK_CHANNEL TEAMS_WEBHOOK_URL HUBSPOT_API_URL HUBSPOT_TOKEN WEBHOOK_URL "
        "WEBHOOK_SECRET WEBHOOKS_CONFIG SMTP_URL SMART_INBOX_CRM SMART_INBOX_KEY"
    ).split():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INTEGRATION_RETRIES", "2")
    yield


@pytest.fixture
def org() -> Iterator[FakeSalesforce]:
    with FakeSalesforce(address=ME) as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def context(tmp_path: Path) -> Context:
    inbox = shutil.copytree(DEMO_INBOX, tmp_path / "inbox", ignore=shutil.ignore_patterns(".*"))
    return Context(
        model="rules", inbox=f"maildir:{inbox}", home=str(tmp_path / "home"), user_addresses=(ME,)
    )


def cards(requests: list[dict[str, Any]], tool: str) -> dict[str, dict[str, Any]]:
    return {
        r["action_request"]["args"].get("email_id", ""): r
        for r in requests
        if r["action_request"]["action"] == tool
    }


def leaks(secrets: list[str], places: dict[str, bytes]) -> list[tuple[str, str]]:
    return [
        (where, form)
        for where, content in places.items()
        for secret in secrets
        for form, needle in forms(secret).items()
        if needle in content
    ]


async def test_an_inquiry_becomes_one_lead_and_its_mail_one_task_and_no_token_is_kept(
    context: Context,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    org: FakeSalesforce,
) -> None:
    caplog.set_level(logging.DEBUG)
    home = Path(context.home).resolve()
    store = AccountStore(open_vault(home))
    account = connect(org, store, monkeypatch)
    run = Run(context)

    await run.triage()
    requests = await run.pending()
    leads = cards(requests, "salesforce_create_lead")
    assert SALES_ID in leads and "hubspot_create_contact" not in str(requests)
    card = leads[SALES_ID]["description"]
    assert card.startswith(f"### Find or create the Salesforce lead {JORGE}")
    assert "- **LastName:** Alvarez" in card and "- **FirstName:** Jorge" in card
    assert not any(r.method == "POST" and "sobjects" in r.path for r in org.requests)

    decisions = {r["call_id"]: {"type": "ignore"} for r in requests}
    decisions[leads[SALES_ID]["call_id"]] = {"type": "accept"}
    result = await run.decide(decisions)
    [lead] = org.leads()
    assert lead["Email"] == JORGE
    assert "Created Salesforce Lead Jorge Alvarez" in result["messages"][-1].text

    org.expire_sessions()  # the org's session timeout passes: the next call refreshes once
    refreshes = len(org.calls("POST", "/services/oauth2/token"))
    await run.ask("log the email from Jorge in Salesforce")
    [log_card] = [
        r for r in await run.pending() if r["action_request"]["action"] == "salesforce_log_email"
    ]
    assert log_card["action_request"]["args"] == {"email_id": SALES_ID}
    assert "Email: Pricing for 200 seats (annual contract) [si:" in log_card["description"]
    await run.decide({"type": "accept"})
    [task] = org.tasks()
    assert (task["WhoId"], task["TaskSubtype"], task["Status"]) == (
        lead["Id"],
        "Email",
        "Completed",
    )
    assert len(org.calls("POST", "/services/oauth2/token")) == refreshes + 1

    # Asked again (or run again after a crash): it finds the logged mail and adds nothing.
    await run.ask("log the email from Jorge in Salesforce")
    again = await run.decide({"type": "accept"})
    assert "This mail is already logged on Salesforce Lead" in again["messages"][-1].text
    assert len(org.tasks()) == 1 and len(org.leads()) == 1

    saver = run.graph.checkpointer
    assert isinstance(saver, InMemorySaver)
    rows = AuditLog(open_database(app_database_url(home))).entries()
    assert any(r["tool"] == "salesforce_log_email" for r in rows)
    latest = store.get("work")
    assert latest is not None and latest.access_token != account.access_token
    tokens = [account.access_token, account.refresh_token, latest.access_token]
    places = {
        "checkpoints": stored([saver.storage, saver.writes, saver.blobs]),
        "audit": json.dumps(rows).encode(),
        "data directory": b"".join(
            p.read_bytes() for p in home.rglob("*") if p.is_file() and p.name != KEY_FILE
        ),
        "logs": (caplog.text + "".join(r.getMessage() for r in caplog.records)).encode(),
    }
    assert all(places.values()) and "refreshed the Salesforce access token" in caplog.text
    assert leaks(tokens, places) == []
    # The search would see a token that got there, however it was written down.
    planted = {"log": f"Authorization: Bearer {latest.access_token}".encode("utf-16-le")}
    assert ("log", "utf-16-le") in leaks(tokens, planted)
