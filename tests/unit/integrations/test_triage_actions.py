"""From a triage to proposals, and which events are due: pure functions of the data."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from graph.events import due_announcements, due_events
from graph.state import Evidence, TriageRow
from graph.triage_actions import triage_proposals
from tests.offer_text import offer_data
from tools.calendar.tools import CALENDAR_TOOLS, READ_ONLY_CALENDAR_TOOLS
from tools.integrations.hubspot import HubSpotEnv, hubspot_toolkit
from tools.integrations.jira import jira_toolkit
from tools.integrations.jira_issues import JiraEnv, JiraSettings
from tools.integrations.slack import SlackEnv, slack_toolkit
from tools.integrations.teams import TeamsEnv, teams_toolkit
from tools.integrations.webhook_endpoints import Endpoint
from tools.integrations.webhooks import WebhooksEnv, webhooks_toolkit
from tools.mail.model import Email
from tools.registry import ToolRegistry
from tools.toolkit import Toolkit

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


# --- meeting requests -------------------------------------------------------------------


def calendar_catalogue(*, book: bool = True) -> ToolRegistry:
    kit = Toolkit(
        name="calendar",
        tools=CALENDAR_TOOLS,
        read_only=READ_ONLY_CALENDAR_TOOLS,
        env=object(),
        unavailable={} if book else {"create_calendar_event": "no address to organize from"},
    )
    return ToolRegistry.from_toolkits([kit])


def offer(mail_id: str, *slots: tuple[str, str, bool], error: str = "") -> Evidence:
    lines = [
        f"Meeting request: message id {mail_id}",
        f"Title: Plan {mail_id}",
        f"Attendees: Ana <{mail_id}@x.example>",
        "Slots to offer (Europe/Berlin):",
    ]
    for n, (start, end, asked) in enumerate(slots, 1):
        origin = "asked for in the mail (“then”)" if asked else "free"
        lines.append(f"{n}. Some day [{start}/{end}] — {origin}")
    return {
        "id": f"ev-2-{mail_id}",
        "tool": "propose_meeting_slots",
        "args": {"email_id": mail_id},
        "at": "",
        "turn": 2,
        "completeness": "COMPLETE",
        "content": "" if error else "\n".join(lines),
        "messages": [],
        "error": error,
        **({} if error else {"data": offer_data("\n".join(lines))}),
    }


TEN = ("2026-12-08T10:00:00+01:00", "2026-12-08T10:30:00+01:00")
TEN_FIFTEEN = ("2026-12-08T10:15:00+01:00", "2026-12-08T10:45:00+01:00")
ELEVEN = ("2026-12-08T11:00:00+01:00", "2026-12-08T11:30:00+01:00")


def test_meeting_requests_first_get_their_slots_read() -> None:
    rows = [row(f"m{n}", "meeting_request") for n in range(12)] + [row("o", "other")]
    proposals = triage_proposals(rows, {}, calendar_catalogue())
    assert calls(proposals) == [
        ("propose_meeting_slots", {"email_id": f"m{n}"}) for n in range(10)
    ], "at most ten meeting requests per run"


def test_a_free_time_the_mail_asked_for_becomes_an_event_card() -> None:
    rows = [row("m1", "meeting_request", "high"), row("m2", "meeting_request")]
    evidence = [offer("m1", (*TEN, True), (*ELEVEN, False)), offer("m2", (*ELEVEN, False))]
    assert calls(triage_proposals(rows, {}, calendar_catalogue(), evidence)) == [
        (
            "create_calendar_event",
            {
                "title": "Plan m1",
                "start": TEN[0],
                "end": TEN[1],
                "attendees": "Ana <m1@x.example>",
                "in_reply_to_id": "m1",
            },
        )
    ], "m2's only slot is not a time it asked for: the user chooses that one in the chat"


def test_two_requests_for_the_same_time_do_not_both_get_it() -> None:
    rows = [row("m1", "meeting_request", "high"), row("m2", "meeting_request")]
    evidence = [
        offer("m1", (*TEN, True)),
        offer("m2", (*TEN_FIFTEEN, True), (*ELEVEN, True)),
    ]
    cards = triage_proposals(rows, {}, calendar_catalogue(), evidence)
    assert [(c.args["in_reply_to_id"], c.args["start"]) for c in cards] == [
        ("m1", TEN[0]),
        ("m2", ELEVEN[0]),
    ]


def test_no_card_without_a_way_to_create_events_or_after_a_failed_read() -> None:
    rows = [row("m1", "meeting_request"), row("m2", "meeting_request")]
    evidence = [offer("m1", (*TEN, True)), offer("m2", error="the calendar file is corrupt")]
    assert triage_proposals(rows, {}, calendar_catalogue(book=False), evidence) == []
    cards = triage_proposals(rows, {}, calendar_catalogue(), evidence)
    assert [(c.name, c.args["in_reply_to_id"]) for c in cards] == [("create_calendar_event", "m1")]


def test_a_scheduled_meeting_is_an_event_and_an_announcement() -> None:
    state: Any = {
        "mode": "chat",
        "executed": [
            {"call_id": "c1", "action": "create_calendar_event", "status": "ok"},
            {"call_id": "c2", "action": "create_calendar_event", "status": "error"},
        ],
    }
    assert calls(due_events(state, webhook_catalogue("meeting_scheduled"), "t1")) == [
        (
            "deliver_webhook_event",
            {"event": "meeting_scheduled", "thread_id": "t1", "call_id": "c1"},
        )
    ]
    assert due_announcements(state, catalogue(), "t1") == [], "no meetings channel set"
    slack = next(k for k in catalogue().toolkits if k.name == "slack")
    env = replace(slack.env, meetings_channel="#meetings")
    announcing = ToolRegistry.from_toolkits([configured(slack, env)])
    assert calls(due_announcements(state, announcing, "t1")) == [
        ("slack_announce_meeting", {"thread_id": "t1", "call_id": "c1"})
    ]
