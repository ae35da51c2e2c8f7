"""The integrations through the whole graph, offline engine, demo inbox, local API servers.

A triage run proposes by code (a bug report → a Jira issue, a high-priority mail → a Slack
post), each call waits on its card, and only an accepted one reaches its server — once.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graph.context import DEMO_INBOX, Context
from graph.services import build_services
from memory.audit import AuditLog
from memory.db import open_database
from memory.paths import app_database_url
from tests.fakes.jira_server import FakeJira
from tests.fakes.slack_server import FakeSlack, rate_limited
from tests.fakes.smtp_server import SmtpSink
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.integration.integrations.fixtures import (
    BUG_ID,
    FEATURE_ID,
    HIGH_BUG_ID,
    JIRA_EMAIL,
    JIRA_TOKEN,
    ME,
    OUTAGE_ID,
    Run,
    jira_env,
    slack_env,
    use,
    webhook_env,
)

pytestmark = pytest.mark.integration

VARIABLES = (
    "JIRA_BASE_URL JIRA_EMAIL JIRA_API_TOKEN JIRA_PROJECT JIRA_PROJECT_KEYS SLACK_API_URL "
    "SLACK_BOT_TOKEN SLACK_CHANNEL TEAMS_WEBHOOK_URL HUBSPOT_API_URL HUBSPOT_TOKEN WEBHOOK_URL "
    "WEBHOOK_SECRET WEBHOOK_EVENTS WEBHOOKS_CONFIG MAIL_LINK_URL SMTP_URL"
).split()


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INTEGRATION_RETRIES", "2")
    yield


@pytest.fixture
def context(tmp_path: Path) -> Context:
    inbox = shutil.copytree(DEMO_INBOX, tmp_path / "inbox", ignore=shutil.ignore_patterns(".*"))
    return Context(
        model="rules", inbox=f"maildir:{inbox}", home=str(tmp_path / "home"), user_addresses=(ME,)
    )


def by_email(requests: list[dict[str, Any]], tool: str) -> dict[str, dict[str, Any]]:
    return {
        r["action_request"]["args"]["email_id"]: r
        for r in requests
        if r["action_request"]["action"] == tool
    }


async def test_a_triage_run_proposes_jira_issues_and_only_the_accepted_one_is_created(
    context: Context, monkeypatch: pytest.MonkeyPatch, jira: FakeJira
) -> None:
    use(monkeypatch, jira_env(jira))
    run = Run(context)
    await run.triage()
    requests = await run.pending()
    assert {r["action_request"]["action"] for r in requests} == {"jira_create_issue"}
    issues = by_email(requests, "jira_create_issue")
    assert {BUG_ID, HIGH_BUG_ID, FEATURE_ID} <= set(issues)
    bug = issues[BUG_ID]
    assert bug["action_request"]["args"] == {
        "email_id": BUG_ID,
        "issue_type": "Bug",
        "priority": "Medium",
    }
    assert issues[FEATURE_ID]["action_request"]["args"]["issue_type"] == "Story"
    assert issues[HIGH_BUG_ID]["action_request"]["args"]["priority"] == "High"
    card = bug["description"]
    assert card.startswith("### Create a Jira issue in NW")
    assert "- **Type:** Bug" in card and "- **Priority:** Medium" in card
    assert "- **Summary:** Bug: CSV export drops rows with non-ASCII names (v3.8.2)" in card
    assert f"Message-ID: {BUG_ID}" in card
    assert bug["flags"] == []
    assert jira.requests == [], "nothing is sent before a decision"

    decisions = {r["call_id"]: {"type": "ignore"} for r in requests}
    decisions[bug["call_id"]] = {"type": "accept"}
    result = await run.decide(decisions)
    [post] = jira.requests
    assert (post.method, post.path) == ("POST", "/rest/api/3/issue")
    assert post.json["fields"]["summary"].startswith("Bug: CSV export")
    assert list(jira.issues) == ["NW-1"]
    answer = result["messages"][-1].text
    assert "Created Jira issue NW-1 (Bug, priority Medium)" in answer
    assert answer.count("Not done: you declined `jira_create_issue`") == len(requests) - 1
    rows = AuditLog(open_database(app_database_url(Path(context.home).resolve()))).entries(
        thread_id="t"
    )
    created = [r for r in rows if r["tool"] == "jira_create_issue" and r["outcome"] == "ok"]
    assert [(r["decision"], r["args"]["email_id"]) for r in created] == [("accept", BUG_ID)]
    assert JIRA_TOKEN not in str(rows)

    # The next triage finds nothing new, so it proposes nothing and sends nothing.
    await run.triage()
    assert await run.pending() == []
    assert len(jira.requests) == 1


async def test_rejecting_every_proposal_sends_nothing(
    context: Context, monkeypatch: pytest.MonkeyPatch, jira: FakeJira
) -> None:
    use(monkeypatch, jira_env(jira))
    run = Run(context)
    await run.triage()
    assert await run.pending()
    result = await run.decide({"type": "ignore"})
    assert jira.requests == []
    assert "Not done: you declined `jira_create_issue`" in result["messages"][-1].text


async def test_slack_429_then_success_and_a_dead_jira_does_not_stop_slack(
    context: Context, monkeypatch: pytest.MonkeyPatch, slack: FakeSlack
) -> None:
    dead = FakeJira(JIRA_EMAIL, JIRA_TOKEN).start()
    dead.stop()  # configured, but nothing listens
    use(monkeypatch, jira_env(dead), slack_env(slack))
    slack.script(rate_limited("1"))
    run = Run(context)
    await run.triage()
    requests = await run.pending()
    posts = by_email(requests, "slack_post_message")
    assert OUTAGE_ID in posts
    assert posts[OUTAGE_ID]["description"].startswith("### Post to Slack #inbox-alerts")
    issues = by_email(requests, "jira_create_issue")
    assert len(requests) == 10, "at most ten proposals per triage run"
    keep = {posts[OUTAGE_ID]["call_id"], issues[HIGH_BUG_ID]["call_id"]}
    result = await run.decide(
        {r["call_id"]: {"type": "accept" if r["call_id"] in keep else "ignore"} for r in requests}
    )
    assert len(slack.requests) == 2, "one 429, then the post"
    assert len(slack.posted) == 1
    outcomes = {e["action"]: e for e in result["executed"]}
    assert outcomes["slack_post_message"]["status"] == "ok"
    assert outcomes["jira_create_issue"]["status"] == "error"
    answer = result["messages"][-1].text
    assert "Posted to Slack #inbox-alerts" in answer
    assert "The jira_create_issue call failed: " in answer
    assert "Jira could not create the issue: could not connect" in answer
    assert "more suggested action(s) of this triage were not proposed" in answer


async def test_an_unconfigured_integration_is_absent_and_says_what_to_set(
    context: Context, monkeypatch: pytest.MonkeyPatch, slack: FakeSlack
) -> None:
    use(monkeypatch, slack_env(slack))
    services = build_services(context)
    assert "slack_post_message" in services.tools.names()
    assert not any(
        name.startswith(("jira_", "teams_", "hubspot_")) for name in services.tools.names()
    )
    assert "deliver_webhook_event" not in services.tools.names()
    run = Run(context)
    await run.ask("list bugs")
    result = await run.ask("open a Jira ticket for the first one")
    assert await run.pending() == [], "nothing to approve: Jira is not there"
    [done] = result["executed"]
    assert (done["action"], done["status"]) == ("jira_create_issue", "error")
    assert "Jira is not configured: set JIRA_BASE_URL, JIRA_EMAIL, JIRA_PROJECT" in (
        result["messages"][-1].text
    )


async def test_chat_phrasing_reaches_jira_and_slack_offline(
    context: Context, monkeypatch: pytest.MonkeyPatch, jira: FakeJira, slack: FakeSlack
) -> None:
    use(monkeypatch, jira_env(jira), slack_env(slack))
    jira.seed("NW-1432", "Cart total off by 0.01 when a coupon is applied")
    run = Run(context)
    listing = await run.ask("list bugs")
    first = listing["evidence"][-1]["messages"][0]["id"]
    await run.ask("open a Jira ticket for the first one")
    [card] = await run.pending()
    assert card["action_request"]["action"] == "jira_create_issue"
    assert card["action_request"]["args"]["email_id"] == first
    assert card["action_request"]["args"]["issue_type"] == "Bug"
    await run.decide({"type": "accept"})
    assert [r.path for r in jira.requests] == ["/rest/api/3/issue"]

    found = await run.ask("search Jira for coupon")
    assert jira.requests[-1].path == "/rest/api/3/search/jql"
    assert "NW-1432" in found["messages"][-1].text

    await run.ask("post the first one to #ops on Slack")
    [card] = await run.pending()
    assert card["action_request"]["args"] == {"channel": "#ops", "email_id": first}
    assert card["flags"] == [], "the user typed the channel and pointed to the mail"
    await run.decide({"type": "accept"})
    assert slack.posted[0]["channel"] == "C0OPS0001"


async def test_webhook_events_follow_a_triage_run_and_a_sent_reply(
    context: Context,
    monkeypatch: pytest.MonkeyPatch,
    receiver: WebhookReceiver,
    smtp_sink: SmtpSink,
) -> None:
    use(monkeypatch, webhook_env(receiver), {"SMTP_URL": smtp_sink.url})
    run = Run(context)
    result = await run.triage()
    assert await run.pending() == [], "the subscription is the consent: no card"
    readable = [row for row in result["triage"] if not row.get("error")]
    assert len(receiver.events) == len(readable) > 40
    assert receiver.rejected == []
    assert {e["type"] for e in receiver.events} == {"email_classified"}
    assert "email_classified event(s) to webhooks" in result["messages"][-1].text

    await run.triage()
    assert len(receiver.events) == len(readable), "nothing new, no event"

    await run.ask("reply to the one from Marcus saying on it")
    [card] = await run.pending()
    assert card["action_request"]["action"] == "reply_to_email"
    await run.decide({"type": "accept"})
    assert len(smtp_sink.messages) == 1
    [sent] = [e for e in receiver.events if e["type"] == "reply_sent"]
    assert sent["data"]["to"] == ["marcus.lee@northwind.example"]
    assert sent["data"]["subject"].startswith("Re: ")
    assert sent["data"]["in_reply_to"].startswith("CAM1ee7Lk.inc-checkout-500")


async def test_an_issue_key_in_a_mail_is_looked_up_in_jira(
    context: Context, monkeypatch: pytest.MonkeyPatch, jira: FakeJira
) -> None:
    use(monkeypatch, jira_env(jira))
    jira.seed("NW-1432", "Cart total off by 0.01 when a coupon is applied", status="In Review")
    run = Run(context)
    await run.ask("any mail from jira@northwind.atlassian.example?")
    result = await run.ask("what's the status of the jira ticket in that one?")
    assert await run.pending() == [], "a read needs no card"
    [request] = jira.requests
    assert (request.method, request.path) == ("GET", "/rest/api/3/issue/NW-1432")
    assert "NW-1432 [Bug · In Review · Medium] Cart total off by 0.01" in (
        result["messages"][-1].text
    )
