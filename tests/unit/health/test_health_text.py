"""How health is shown: the table, the chat's welcome and card lines, the Prometheus text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tools.health.model import PartHealth
from ui.health.chat import HEALTH_WORDS, health_markdown, health_note, welcome_note
from ui.health.metrics import metrics_text
from ui.health.table import health_table

NOW = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
PARTS = [
    PartHealth("smtp", "mail", "down", "connection refused", 2.0, NOW, tools=("reply_to_email",)),
    PartHealth("calendar", "calendar", "ok", "the calendar file", 3.0, NOW, since=NOW),
    PartHealth("jira", "integration", "not configured", "set JIRA_BASE_URL"),
]


@pytest.mark.parametrize(
    "text",
    ["how are my integrations?", "How is the connection", "is everything working?", "health"],
)
def test_health_questions_are_recognised(text: str) -> None:
    assert HEALTH_WORDS.match(text)


@pytest.mark.parametrize("text", ["how are my invoices?", "health insurance mail from Bob"])
def test_other_questions_are_not(text: str) -> None:
    assert not HEALTH_WORDS.match(text)


def test_the_welcome_names_what_is_down_and_nothing_when_all_is_well() -> None:
    assert welcome_note(PARTS) == "Not working now: smtp is down (connection refused)."
    assert welcome_note(PARTS[1:]) == ""


def test_a_card_whose_action_needs_a_part_that_is_down_says_so() -> None:
    reply = {"action_request": {"action": "reply_to_email", "args": {}}}
    note = health_note(reply, PARTS)
    assert note == (
        "\n\n⚠ This action depends on a part that is not working now "
        "(smtp is down: connection refused)."
    )
    other = {"action_request": {"action": "jira_create_issue", "args": {}}}
    assert health_note(other, PARTS) == ""


def test_the_table_lines_up_and_leaves_since_out_for_parts_not_set_up() -> None:
    lines = health_table(PARTS).splitlines()
    assert lines[0].split() == ["part", "state", "latency", "since", "reason"]
    assert lines[2].startswith("calendar  ok ")
    assert "2026-12-03 08:00" in lines[2]
    assert lines[3].split("  ")[0] == "jira" and "2026" not in lines[3]
    assert health_markdown(PARTS).startswith("Not working now: smtp is down")
    assert "| jira | not configured |  |  | set JIRA_BASE_URL |" in health_markdown(PARTS)


def test_metrics_are_prometheus_text() -> None:
    text = metrics_text(PARTS, [("reply_to_email", "error", 2), ("reply_to_email", "ok", 5)], 1)
    lines = text.splitlines()
    assert 'smart_inbox_health_state{part="smtp",kind="mail",state="down"} 1' in lines
    assert 'smart_inbox_health_state{part="smtp",kind="mail",state="ok"} 0' in lines
    assert 'smart_inbox_health_check_seconds{part="smtp"} 0.002000' in lines
    assert 'smart_inbox_tool_calls_total{tool="reply_to_email",outcome="ok"} 5' in lines
    assert 'smart_inbox_tool_failures_total{tool="reply_to_email"} 2' in lines
    assert "smart_inbox_approvals_pending 1" in lines
    assert lines.count("# TYPE smart_inbox_health_state gauge") == 1
    assert text.endswith("\n")
