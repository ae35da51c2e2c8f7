"""Reference resolution: which message "the second one", "that invoice" or "it" means."""

from __future__ import annotations

from typing import Any

import pytest

from graph.followup import has_full_copy, resolve_reference


def ref(message_id: str, sender: str, subject: str, category: str = "other") -> Any:
    return {
        "id": message_id,
        "sender": sender,
        "subject": subject,
        "date": "2026-11-17T09:00:00+00:00",
        "text": "preview",
        "category": category,
    }


OUTAGE = ref("outage@x", "Ops Alerts <alerts@ops.example>", "Checkout down", "urgent_incident")
INVOICE = ref("invoice@x", "Vendor Billing <billing@vendor.example>", "Overdue", "billing")
MEETING = ref("meeting@x", "Bob Stone <bob@acme.example>", "Roadmap review", "meeting_request")
DIGEST = ref("digest@x", "Weekly Digest <digest@news.example>", "Your digest", "newsletter")


def record(messages: list[Any], completeness: str = "PREVIEW", error: str = "") -> Any:
    return {
        "id": "ev-1-1",
        "tool": "search_emails",
        "args": {},
        "at": "2026-11-20T10:00:00+00:00",
        "turn": 1,
        "completeness": completeness,
        "content": "",
        "messages": messages,
        "error": error,
    }


LISTING = [record([OUTAGE, INVOICE, MEETING, DIGEST])]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("what does the first one say?", "outage@x"),
        ("and the second one?", "invoice@x"),
        ("open the 2nd email", "invoice@x"),
        ("what about the last one?", "digest@x"),
        ("show me number 3", "meeting@x"),
        ("#4 please", "digest@x"),
        ("what did the one from Bob want?", "meeting@x"),
        ("the message from billing@vendor.example", "invoice@x"),
        ("is that invoice paid?", "invoice@x"),
        ("when is this meeting?", "meeting@x"),
        ("tell me about the outage", "outage@x"),
    ],
)
def test_references_resolve_to_the_right_message(text: str, expected: str) -> None:
    resolution = resolve_reference(text, LISTING)
    assert resolution is not None
    assert resolution.ids == (expected,)
    assert resolution.wants_action is False


def test_the_newest_listing_decides_ordinals() -> None:
    evidence = [*LISTING, record([MEETING, OUTAGE])]
    resolution = resolve_reference("the first one", evidence)
    assert resolution is not None
    assert resolution.ids == ("meeting@x",)


def test_an_ordinal_past_the_end_of_the_listing_is_not_a_reference() -> None:
    assert resolve_reference("what does the fifth one say?", LISTING) is None
    assert resolve_reference("number 9", LISTING) is None


def test_a_failed_listing_is_not_used() -> None:
    evidence = [*LISTING, record([MEETING, OUTAGE], error="TimeoutError")]
    resolution = resolve_reference("the first one", evidence)
    assert resolution is not None
    assert resolution.ids == ("outage@x",)


def test_it_means_the_single_message_cited_last() -> None:
    resolution = resolve_reference("what does it say?", LISTING, ["meeting@x"])
    assert resolution is not None
    assert resolution.ids == ("meeting@x",)
    assert resolution.how.startswith("pronoun")


def test_it_means_the_only_message_listed() -> None:
    resolution = resolve_reference("what does it say?", [record([INVOICE])])
    assert resolution is not None
    assert resolution.ids == ("invoice@x",)


def test_it_is_not_resolved_against_a_long_listing_without_citations() -> None:
    assert resolve_reference("what does it say?", LISTING) is None


@pytest.mark.parametrize(
    "text",
    [
        "what needs my attention today?",
        "anything from last week?",
        "summarise my inbox",
        "is there anything from Carol?",
    ],
)
def test_new_questions_are_not_follow_ups(text: str) -> None:
    assert resolve_reference(text, LISTING, ["meeting@x"]) is None


def test_nothing_resolves_without_evidence() -> None:
    assert resolve_reference("what does the first one say?", []) is None


def test_an_action_on_a_reference_wants_action() -> None:
    resolution = resolve_reference("draft a reply to the second one saying ok", LISTING)
    assert resolution is not None
    assert resolution.ids == ("invoice@x",)
    assert resolution.wants_action is True


def test_has_full_copy_needs_a_complete_successful_record() -> None:
    assert not has_full_copy("invoice@x", LISTING)
    assert has_full_copy("invoice@x", [record([INVOICE], completeness="COMPLETE")])
    failed = record([INVOICE], completeness="COMPLETE", error="boom")
    assert not has_full_copy("invoice@x", [failed])


def test_a_noun_and_a_sender_together_pick_that_senders_message_of_that_kind() -> None:
    bob_digest = ref("bob-digest@x", "Bob Stone <bob@acme.example>", "Reading list", "newsletter")
    evidence = [record([bob_digest, OUTAGE, MEETING, INVOICE])]
    found = resolve_reference("reply to the meeting request from Bob and say yes", evidence)
    assert found is not None and found.ids == ("meeting@x",)
    assert found.wants_action


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("archive that one from Ann", "ann-note@x"),
        ("archive that one from Joanna", "joanna-note@x"),
        ("archive that one from acme", "ann-note@x"),
        ("archive that one from ann.lee@acme.example", "ann-note@x"),
    ],
)
def test_a_named_sender_is_a_whole_word_of_the_sender(text: str, expected: str) -> None:
    """ "Ann" names Ann Lee, never Joanna (whose name contains "ann")."""
    joanna = ref("joanna-note@x", "Joanna Berg <joanna@berg.example>", "Lunch")
    ann = ref("ann-note@x", "Ann Lee <ann.lee@acme.example>", "Budget")
    found = resolve_reference(text, [record([joanna, ann])])
    assert found is not None and found.ids == (expected,)


def test_a_name_inside_another_name_is_not_that_sender() -> None:
    joanna = ref("joanna-note@x", "Joanna Berg <joanna@berg.example>", "Lunch")
    assert resolve_reference("archive that one from Ann", [record([joanna])]) is None


def test_a_named_sender_the_thread_has_not_shown_is_not_a_follow_up() -> None:
    # Not "the newest meeting request": the engine must search for Sofia's message instead.
    assert resolve_reference("reply to the meeting request from Sofia and say yes", LISTING) is None


def test_a_thread_fetched_for_a_summary_is_not_the_list_ordinals_count_in() -> None:
    thread = {
        **record([INVOICE, MEETING], completeness="COMPLETE"),
        "id": "ev-2-1",
        "tool": "get_conversation",
        "turn": 2,
    }
    resolved = resolve_reference("what does the third one say?", [*LISTING, thread])
    assert resolved is not None and resolved.ids == ("meeting@x",)
    resolved = resolve_reference("and the fourth one?", [*LISTING, thread])
    assert resolved is not None and resolved.ids == ("digest@x",)
