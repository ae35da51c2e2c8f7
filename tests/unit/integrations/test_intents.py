"""Chat phrasing reaches the work tools on the offline engine."""

from __future__ import annotations

from typing import Any

import pytest

from graph.engines.base import ToolPlanRequest
from graph.engines.intents.matcher import plan_from_intents
from graph.followup import resolve_reference
from graph.state import Evidence, MessageRef
from tools.integrations.hubspot import HUBSPOT_TOOLS
from tools.integrations.jira import JIRA_TOOLS
from tools.integrations.slack import SLACK_TOOLS
from tools.integrations.teams import TEAMS_TOOLS
from tools.mail.tools import MAIL_TOOLS

ALL = [*MAIL_TOOLS, *JIRA_TOOLS, *SLACK_TOOLS, *TEAMS_TOOLS, *HUBSPOT_TOOLS]
BUG: MessageRef = {
    "id": "bug-1@x.example",
    "sender": "Aisha Bello <aisha@x.example>",
    "subject": "Bug: app crashes",
    "date": "2026-11-18",
    "text": "It crashes.",
    "category": "bug_report",
    "priority": "high",
}


def plan(text: str, focus: list[MessageRef] | None = None, **extra: Any) -> tuple[str, list[Any]]:
    request = ToolPlanRequest(
        mode="chat",
        user_text=text,
        conversation=[],
        focus=focus or [],
        turn_evidence=[],
        tools=extra.pop("tools", ALL),
        **extra,
    )
    intent, calls = plan_from_intents(request)
    return intent, [(c.name, c.args) for c in calls]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "open a Jira ticket for the second one",
            [
                (
                    "jira_create_issue",
                    {"email_id": BUG["id"], "issue_type": "Bug", "priority": "High"},
                )
            ],
        ),
        (
            "post the first one to #ops on Slack",
            [("slack_post_message", {"channel": "#ops", "email_id": BUG["id"]})],
        ),
        (
            "add the sender of that one to HubSpot",
            [("hubspot_create_contact", {"email_id": BUG["id"]})],
        ),
        ("send it to Teams", [("teams_post_message", {"email_id": BUG["id"]})]),
        (
            "comment on NW-1432 that the fix is out",
            [
                (
                    "jira_add_comment",
                    {"issue_key": "NW-1432", "text": "the fix is out", "email_id": BUG["id"]},
                )
            ],
        ),
    ],
)
def test_actions_on_the_message_the_user_points_to(text: str, expected: list[Any]) -> None:
    assert plan(text, [BUG])[1] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("search Jira for checkout", [("jira_search", {"query": "checkout", "limit": 10})]),
        (
            "find jira tickets about coupon totals",
            [("jira_search", {"query": "coupon totals", "limit": 10})],
        ),
        ("what's the status of NW-1432?", [("jira_get_issue", {"issue_key": "NW-1432"})]),
        (
            "tell #ops on slack that the deploy is done",
            [("slack_post_message", {"channel": "#ops", "text": "the deploy is done"})],
        ),
        ('post "deploy done" to slack', [("slack_post_message", {"text": "deploy done"})]),
        (
            "is jorge@meridianhealth.example in HubSpot?",
            [("hubspot_find_contact", {"email": "jorge@meridianhealth.example"})],
        ),
        (
            "open a jira issue saying Checkout is slow",
            [("jira_create_issue", {"summary": "Checkout is slow"})],
        ),
        (
            "open a jira ticket for the bug from Aisha",
            [("search_emails", {"sender": "Aisha", "limit": 5})],
        ),
    ],
)
def test_requests_that_name_what_to_do(text: str, expected: list[Any]) -> None:
    assert plan(text)[1] == expected


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("reply to the second one saying thanks", "reply"),
        ("send the first one to the teams meeting organiser saying hi", "category"),
        ("what needs my attention today?", "attention"),
        ("any sales leads?", "category"),
        ("show me the jira notifications", "category"),
    ],
)
def test_mail_phrasing_is_not_taken_for_the_work_tools(text: str, intent: str) -> None:
    assert plan(text, [BUG])[0] == intent


def test_an_unconfigured_tool_is_still_proposed_so_the_answer_can_say_why() -> None:
    mail_only = list(MAIL_TOOLS)
    assert plan("search Jira for checkout", tools=mail_only)[1] == []
    why = {"jira_search": "Jira is not configured: set JIRA_BASE_URL"}
    assert plan("search Jira for checkout", tools=mail_only, unavailable=why)[1] == [
        ("jira_search", {"query": "checkout", "limit": 10})
    ]


def test_references_with_a_work_action_want_an_action() -> None:
    listing: Evidence = {
        "id": "ev-1-1",
        "tool": "list_inbox",
        "args": {},
        "at": "",
        "turn": 1,
        "completeness": "PREVIEW",
        "content": "",
        "messages": [BUG, {**BUG, "id": "other@x.example"}],
        "error": "",
    }
    for text in (
        "open a Jira ticket for the first one",
        "add the sender of the first one to HubSpot",
        "post the first one to #ops on Slack",
        "comment on NW-1 with the second one",
    ):
        found = resolve_reference(text, [listing])
        assert found is not None and found.wants_action, text
    that = resolve_reference("add the sender of that one to HubSpot", [listing], [BUG["id"]])
    assert that is not None and that.ids == (BUG["id"],) and that.wants_action


def test_a_ticket_named_in_the_mail_pointed_to_is_looked_up() -> None:
    notification: MessageRef = {
        **BUG,
        "subject": "[JIRA] (NW-1432) assigned to you",
        "text": "Encoding: UTF-8. Invoice INV-2026 is unrelated.",
    }
    assert plan("what's the status of the jira ticket in that one?", [notification])[1] == [
        ("jira_get_issue", {"issue_key": "NW-1432"})
    ]
    assert plan("check the jira notifications", [notification])[0] == "category"


@pytest.mark.parametrize(
    ("text", "query"),
    [("find my draft to Sofia", "draft Sofia"), ("where is the draft for Helena?", "draft Helena")],
)
def test_asking_for_a_written_draft_searches_the_drafts(text: str, query: str) -> None:
    intent, calls = plan(text)
    assert intent != "draft_reply"
    assert calls == [("search_emails", {"query": query, "limit": 10})]


def test_writing_a_draft_is_still_a_draft() -> None:
    assert plan("show me a draft reply to the second one saying thanks")[0] == "draft_reply"
