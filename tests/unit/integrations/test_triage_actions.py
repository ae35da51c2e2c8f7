"""From a triage to proposals, and which events are due: pure functions of the data."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from graph.events import due_events
from graph.state import TriageRow
from graph.triage_actions import triage_proposals
from tools.hubspot import HubSpotEnv, hubspot_toolkit
from tools.jira import JiraEnv, JiraSettings, jira_toolkit
from tools.mail.model import Email
from tools.registry import ToolRegistry
from tools.slack import SlackEnv, slack_toolkit
from tools.teams import TeamsEnv, teams_toolkit
from tools.toolkit import Toolkit
from tools.webhooks import Endpoint, WebhooksEnv, webhooks_toolkit

DB: Any = None  # the proposals never read the database


def configured(kit: Toolkit, env: Any) -> Toolkit:
    return replace(kit, env=env, missing="")


def catalogue(*, jira: bool = True, slack: str = "#alerts", hubspot: bool = True) -> ToolRegistry:
    settings = JiraSettings(
        base_url="https://x.atlassian.net",
        email="me@x.example",
        project="NW",
        project_keys=frozenset({"NW", "OPS"}),
    )
    none: dict[str, str] = {}

    def secrets(_: str) -> None:
        return None

    kits = [
        jira_toolkit(DB, secrets, None, none),  # type: ignore[arg-type]
        slack_toolkit(DB, secrets, None, none),  # type: ignore[arg-type]
        teams_toolkit(DB, secrets, None, none),  # type: ignore[arg-type]
        hubspot_toolkit(DB, secrets, None, none),  # type: ignore[arg-type]
    ]
    if jira:
        kits[0] = configured(kits[0], JiraEnv(settings=settings, token="t", db=DB))
    if slack:
        kits[1] = configured(
            kits[1], SlackEnv(api_url="https://s", channel=slack, token="t", db=DB)
        )
    if hubspot:
        kits[3] = configured(kits[3], HubSpotEnv(api_url="https://h", token="t", db=DB))
    return ToolRegistry.from_toolkits(kits)


def row(mail_id: str, category: str, priority: str = "normal", **extra: Any) -> TriageRow:
    return {
        "id": mail_id,
        "sender": "A <a@x.example>",
        "subject": "s",
        "date": "",
        "priority": priority,
        "category": category,
        "action": "",
        "reason": "",
        "engine": "rules",
        **extra,
    }


def email(mail_id: str, subject: str, body: str = "") -> Email:
    return Email(id=mail_id, source="s", folder="INBOX", key=mail_id, subject=subject, body=body)


def calls(proposals: list[Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(p.name, p.args) for p in proposals]


def test_bugs_and_features_become_jira_issues_with_type_and_priority() -> None:
    rows = [row("b1", "bug_report", "high"), row("f1", "feature_request", "low")]
    assert calls(triage_proposals(rows, {}, catalogue(slack=""))) == [
        ("jira_create_issue", {"email_id": "b1", "issue_type": "Bug", "priority": "High"}),
        ("jira_create_issue", {"email_id": "f1", "issue_type": "Story", "priority": "Low"}),
    ]


def test_a_bug_naming_an_issue_of_our_projects_becomes_a_comment() -> None:
    mails = {
        "b1": email("b1", "Still broken (OPS-311)", "See also UTF-8 and ISO-8859-1."),
        "b2": email("b2", "Crash", "Probably the same as NW-1432, or XY-9."),
        "b3": email("b3", "Crash", "Nothing about UTF-8 or SHA-256 here."),
    }
    rows = [row("b1", "bug_report"), row("b2", "bug_report"), row("b3", "bug_report")]
    assert [c[0] for c in calls(triage_proposals(rows, mails, catalogue(slack="")))] == [
        "jira_add_comment",
        "jira_add_comment",
        "jira_create_issue",
    ]
    first, second, _ = triage_proposals(rows, mails, catalogue(slack=""))
    assert first.args == {"issue_key": "OPS-311", "email_id": "b1"}
    assert second.args == {"issue_key": "NW-1432", "email_id": "b2"}


def test_sales_become_leads_and_high_priority_becomes_posts() -> None:
    rows = [row("s1", "sales_inquiry"), row("o1", "urgent_incident", "high")]
    assert calls(triage_proposals(rows, {}, catalogue())) == [
        ("hubspot_create_contact", {"email_id": "s1"}),
        ("slack_post_message", {"email_id": "o1"}),
    ]


def test_only_configured_integrations_propose() -> None:
    rows = [row("b1", "bug_report", "high"), row("s1", "sales_inquiry")]
    assert triage_proposals(rows, {}, catalogue(jira=False, slack="", hubspot=False)) == []
    # Slack without a default channel has nowhere to post a triage notification.
    assert "slack_post_message" not in [
        p.name for p in triage_proposals(rows, {}, catalogue(slack=""))
    ]


def test_unreadable_spam_and_newsletters_propose_nothing() -> None:
    rows = [
        row("x1", "bug_report", "high", error="could not be read"),
        row("x2", "spam_or_cold", "high"),
        row("x3", "newsletter", "high"),
    ]
    assert triage_proposals(rows, {}, catalogue()) == []


def test_teams_posts_high_priority_mail_when_configured() -> None:
    base = catalogue(jira=False, slack="", hubspot=False)
    kits = [
        configured(k, TeamsEnv(webhook_url="https://t", db=DB)) if k.name == "teams" else k
        for k in base.toolkits
    ]
    tools = ToolRegistry.from_toolkits(kits)
    assert calls(triage_proposals([row("o1", "urgent_incident", "high")], {}, tools)) == [
        ("teams_post_message", {"email_id": "o1"})
    ]


def webhook_catalogue(*events: str) -> ToolRegistry:
    kit = webhooks_toolkit(DB, lambda _: None, None, {}, Path("/nonexistent"))  # type: ignore[arg-type]
    endpoint = Endpoint(name="e", url="https://h", events=frozenset(events), secret="s")
    return ToolRegistry.from_toolkits([configured(kit, WebhooksEnv(endpoints=(endpoint,), db=DB))])


def test_due_events_follow_the_subscription() -> None:
    state: Any = {
        "mode": "triage",
        "triage": [row("a", "other"), row("b", "other", error="unreadable")],
        "new_email_ids": ["a", "b", "c"],
        "executed": [
            {"call_id": "c1", "action": "reply_to_email", "status": "ok"},
            {"call_id": "c2", "action": "reply_to_email", "status": "error"},
            {"call_id": "c3", "action": "send_email", "status": "ok"},
        ],
    }
    everything = webhook_catalogue("email_classified", "reply_sent")
    assert calls(due_events(state, everything, "t1")) == [
        ("deliver_webhook_event", {"event": "email_classified", "email_ids": ["a", "c"]}),
        ("deliver_webhook_event", {"event": "reply_sent", "thread_id": "t1", "call_id": "c1"}),
    ]
    assert due_events(state, webhook_catalogue("meeting_scheduled"), "t1") == []
    assert due_events({**state, "mode": "chat"}, webhook_catalogue("email_classified"), "t") == []
    assert due_events(state, catalogue(), "t1") == [], "no webhooks configured"
