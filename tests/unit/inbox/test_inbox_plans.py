"""The chat's words for clearing the inbox become the inbox tools' calls on the offline engine."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from graph.engines.base import ToolPlanRequest
from graph.engines.intents.matcher import plan_from_intents
from graph.followup import resolve_reference
from graph.state import Evidence, MessageRef
from tools.mail.conversation_tools import CONVERSATION_TOOLS
from tools.mail.tools import MAIL_TOOLS

INBOX_TOOLS = (
    "archive_conversations",
    "mark_done",
    "move_to_folder",
    "trash_conversations",
    "mark_read",
    "flag_messages",
    "snooze_conversations",
    "unsubscribe",
    "block_sender",
    "undo_inbox_action",
    "list_snoozed",
)
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 3, 15, 0, tzinfo=BERLIN)


def ref(n: int, category: str, sender: str, subject: str, **extra: Any) -> MessageRef:
    message: MessageRef = {
        "id": f"m{n}@x.example",
        "sender": sender,
        "subject": subject,
        "date": f"2026-11-{10 + n:02d}",
        "text": "…",
        "category": category,
        "priority": "low",
    }
    message.update(extra)  # type: ignore[typeddict-item]
    return message


NEWS = [
    ref(1, "newsletter", "CloudHost <news@cloudhost.example>", "What's new", conversation="c1"),
    ref(2, "newsletter", "DE Digest <d@dedigest.example>", "Digest #87", conversation="c2"),
    ref(3, "newsletter", "Backend <b@backend.example>", "Issue #212", conversation="c3"),
]
GITHUB = [
    ref(4, "notification", "GitHub <notifications@github.example>", "PR #12 merged"),
    ref(5, "notification", "GitHub <notifications@github.example>", "Re: PR #12 merged"),
    ref(6, "notification", "GitHub <notifications@github.example>", "Issue #9 opened"),
    ref(7, "other", "GitHub <billing@github.example>", "Your receipt"),
]
INVOICE = ref(8, "billing", "Vireo Billing <billing@vireo.example>", "Invoice 1042")


def record(tool: str, args: dict[str, Any], messages: list[MessageRef]) -> Evidence:
    return {
        "id": f"ev-1-{tool}",
        "tool": tool,
        "args": args,
        "at": "2026-12-03T14:00:00+00:00",
        "turn": 1,
        "completeness": "PREVIEW",
        "content": "",
        "messages": messages,
        "error": "",
    }


def plan(
    text: str,
    *,
    focus: list[MessageRef] | None = None,
    turn: list[Evidence] | None = None,
    before: list[Evidence] | None = None,
) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
    request = ToolPlanRequest(
        mode="chat",
        user_text=text,
        conversation=[],
        focus=focus or [],
        turn_evidence=turn or [],
        tools=[*MAIL_TOOLS, *CONVERSATION_TOOLS],
        unavailable=dict.fromkeys(INBOX_TOOLS, "not in this test"),
        evidence=before or [],
        now=NOW,
    )
    intent, calls = plan_from_intents(request)
    return intent, [(c.name, c.args) for c in calls]


def test_archive_the_newsletters_searches_then_proposes_one_call_with_every_conversation() -> None:
    intent, first = plan("archive the newsletters")
    assert intent == "archive"
    assert first == [("list_inbox", {"category": "newsletter", "limit": 50})]
    found = record("list_inbox", first[0][1], NEWS)
    _, calls = plan("archive the newsletters", turn=[found])
    assert calls == [("archive_conversations", {"message_ids": [m["id"] for m in NEWS]})]


def test_the_github_notifications_are_the_senders_mail_of_that_kind_one_per_conversation() -> None:
    intent, first = plan("mark the GitHub notifications read")
    assert (intent, first) == ("mark_read", [("search_emails", {"sender": "GitHub", "limit": 50})])
    found = record("search_emails", first[0][1], GITHUB)
    _, calls = plan("mark the GitHub notifications read", turn=[found])
    # m5 answers m4 (one conversation); the receipt is not a notification.
    assert calls == [("mark_read", {"message_ids": ["m4@x.example", "m6@x.example"]})]


@pytest.mark.parametrize(
    ("text", "intent", "search"),
    [
        (
            "archive all the receipts",
            "archive",
            ("search_emails", {"query": "receipt", "limit": 50}),
        ),
        (
            "archive everything from Vireo",
            "archive",
            ("search_emails", {"sender": "Vireo", "limit": 50}),
        ),
        (
            "trash the cold pitches",
            "trash",
            ("list_inbox", {"category": "spam_or_cold", "limit": 50}),
        ),
    ],
)
def test_bulk_words_search_first(text: str, intent: str, search: Any) -> None:
    assert plan(text) == (intent, [search])


def test_nothing_found_proposes_nothing() -> None:
    found = record("list_inbox", {"category": "newsletter"}, [])
    assert plan("archive the newsletters", turn=[found])[1] == []


def test_mail_already_out_of_the_inbox_is_left_out() -> None:
    archived = ref(11, "newsletter", "Old <o@old.example>", "Old news", folder="Archive")
    found = record("search_emails", {"sender": "GitHub", "limit": 50}, [*GITHUB, archived])
    _, calls = plan("archive everything from GitHub", turn=[found])
    assert calls == [
        ("archive_conversations", {"message_ids": ["m4@x.example", "m6@x.example", "m7@x.example"]})
    ]


def test_archive_them_means_the_last_listing() -> None:
    listed = record("list_inbox", {"category": "newsletter"}, NEWS)
    assert plan("archive them", before=[listed])[1] == [
        ("archive_conversations", {"message_ids": [m["id"] for m in NEWS]})
    ]


@pytest.mark.parametrize(
    ("text", "call"),
    [
        ("archive that thread", ("archive_conversations", {"message_ids": [INVOICE["id"]]})),
        ("flag that", ("flag_messages", {"message_ids": [INVOICE["id"]]})),
        ("unflag it", ("flag_messages", {"message_ids": [INVOICE["id"]], "flagged": False})),
        ("mark it done", ("mark_done", {"message_ids": [INVOICE["id"]]})),
        ("mark it unread", ("mark_read", {"message_ids": [INVOICE["id"]], "read": False})),
        (
            "move that to Receipts",
            ("move_to_folder", {"message_ids": [INVOICE["id"]], "folder": "Receipts"}),
        ),
        ("trash the first one", ("trash_conversations", {"message_ids": [INVOICE["id"]]})),
        ("block that sender", ("block_sender", {"address": "billing@vireo.example"})),
    ],
)
def test_one_conversation_in_focus(text: str, call: Any) -> None:
    assert plan(text, focus=[INVOICE])[1] == [call]


def test_snooze_the_invoice_from_vireo_until_tomorrow_9am_in_the_users_zone() -> None:
    text = "snooze the invoice from Vireo until tomorrow 9am"
    intent, first = plan(text)
    assert (intent, first) == ("snooze", [("search_emails", {"sender": "Vireo", "limit": 5})])
    other = ref(9, "newsletter", "Vireo News <news@vireo.example>", "Vireo news")
    found = record("search_emails", first[0][1], [other, INVOICE])
    _, calls = plan(text, turn=[found])
    assert calls == [
        (
            "snooze_conversations",
            {"message_ids": [INVOICE["id"]], "until": "2026-12-04T09:00:00+01:00"},
        )
    ]


def test_snooze_without_a_time_is_until_tomorrow_morning_and_a_past_time_is_nothing() -> None:
    assert plan("snooze that", focus=[INVOICE])[1] == [
        (
            "snooze_conversations",
            {"message_ids": [INVOICE["id"]], "until": "2026-12-04T09:00:00+01:00"},
        )
    ]
    assert plan("snooze that until 2026-11-01", focus=[INVOICE])[1] == []


def test_a_time_said_back_on_the_card_wins() -> None:
    request = ToolPlanRequest(
        mode="chat",
        user_text="snooze that until tomorrow",
        conversation=[],
        focus=[INVOICE],
        turn_evidence=[],
        tools=[*MAIL_TOOLS, *CONVERSATION_TOOLS],
        unavailable=dict.fromkeys(INBOX_TOOLS, "not in this test"),
        feedback=["make it monday afternoon"],
        now=NOW,
    )
    _, [call] = plan_from_intents(request)
    assert call.args["until"] == "2026-12-07T14:00:00+01:00"


def test_undo_proposes_the_undo_tool() -> None:
    assert plan("undo") == ("undo_inbox_action", [("undo_inbox_action", {})])
    assert plan("please undo that")[0] == "undo_inbox_action"


def test_unsubscribe_from_a_newsletter() -> None:
    news = NEWS[0]
    assert plan("unsubscribe from that", focus=[news])[1] == [
        ("unsubscribe", {"message_id": news["id"]})
    ]


def test_a_suspicious_mail_is_never_offered_unsubscribe() -> None:
    lure = ref(10, "newsletter", "Payroll <hr@payro11.example>", "Confirm", suspicious="lookalike")
    assert plan("unsubscribe from that", focus=[lure])[1] == []
    found = record("search_emails", {"sender": "Payroll", "limit": 5}, [lure])
    assert plan("unsubscribe from Payroll", turn=[found])[1] == []


def test_block_a_typed_address_or_a_named_sender() -> None:
    assert plan("block Spam@Example.com")[1] == [("block_sender", {"address": "spam@example.com"})]
    assert plan("block Vireo")[1] == [("search_emails", {"sender": "Vireo", "limit": 5})]
    found = record("search_emails", {"sender": "Vireo", "limit": 5}, [INVOICE])
    assert plan("block Vireo", turn=[found])[1] == [
        ("block_sender", {"address": "billing@vireo.example"})
    ]


def test_mark_it_as_spam_is_still_a_correction() -> None:
    assert plan("mark it as spam", focus=[INVOICE])[0] == "correct_triage"


@pytest.mark.parametrize(
    ("text", "how"),
    [
        ("archive that thread", "pronoun"),
        ("flag that", "pronoun"),
        ("trash the second one", "ordinal"),
    ],
)
def test_references_to_earlier_answers_resolve_for_inbox_actions(text: str, how: str) -> None:
    listed = record("list_inbox", {}, [NEWS[0], INVOICE])
    resolved = resolve_reference(text, [listed], [INVOICE["id"]])
    assert resolved is not None and resolved.wants_action
    assert resolved.ids == (INVOICE["id"],) and resolved.how.startswith(how)


def test_a_bulk_request_is_not_a_reference_to_one_message() -> None:
    listed = record("list_inbox", {}, [NEWS[0], INVOICE])
    resolved = resolve_reference("archive the newsletters", [listed], [INVOICE["id"]])
    assert resolved is None or resolved.wants_action
