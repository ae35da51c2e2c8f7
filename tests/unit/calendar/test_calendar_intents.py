"""The offline engine's calendar phrasings, and which slot "the first one" means."""

from __future__ import annotations

from typing import Any

import pytest

from graph.engines.base import ToolPlanRequest
from graph.engines.intents.matcher import plan_from_intents
from graph.followup import offer_for, resolve_reference
from graph.state import Evidence, MessageRef
from tests.offer_text import offer_data
from tools.calendar.tools import CALENDAR_TOOLS
from tools.mail.tools import MAIL_TOOLS

TOOLS = [*MAIL_TOOLS, *CALENDAR_TOOLS]
SOFIA: MessageRef = {
    "id": "sofia-1@x.example",
    "sender": "Sofia Marchetti <sofia@x.example>",
    "subject": "Q1 roadmap?",
    "date": "2026-12-01T09:00:00+01:00",
    "text": "Could we meet on Tue 08 Dec 10:00-10:30?",
    "category": "meeting_request",
}
LUKAS: MessageRef = {
    "id": "lukas-1@x.example",
    "sender": "Lukas Brenner <lukas@x.example>",
    "subject": "API workshop",
    "date": "2026-12-01T10:00:00+01:00",
    "text": "One hour next week?",
    "category": "meeting_request",
}
OFFER_TEXT = """\
Meeting request: message id sofia-1@x.example
Title: Q1 roadmap
Attendees: Sofia Marchetti <sofia@x.example>
Duration: 30 minutes (the mail says “30 min”)
Times proposed in the mail:
- “Tue 08 Dec 10:00-10:30”: free
Slots to offer (Europe/Berlin):
1. Tue 08 Dec 2026 10:00-10:30 [2026-12-08T10:00:00+01:00/2026-12-08T10:30:00+01:00] \
— asked for in the mail (“Tue 08 Dec 10:00-10:30”)
2. Wed 09 Dec 2026 09:00-09:30 [2026-12-09T09:00:00+01:00/2026-12-09T09:30:00+01:00] — free
3. Thu 10 Dec 2026 14:00-14:30 [2026-12-10T14:00:00+01:00/2026-12-10T14:30:00+01:00] — free"""
EVENT = {"title": "Q1 roadmap", "attendees": "Sofia Marchetti <sofia@x.example>"}


def record(tool: str, args: dict[str, Any], content: str = "", messages: Any = ()) -> Evidence:
    return {
        "id": f"ev-1-{tool}",
        "tool": tool,
        "args": args,
        "at": "",
        "turn": 1,
        "completeness": "PREVIEW" if messages else "COMPLETE",
        "content": content,
        "messages": list(messages),
        "error": "",
        # An offer carries the tool's structured data beside its text, as `act` records it.
        **({"data": offer_data(content)} if tool == "propose_meeting_slots" else {}),
    }


OFFER = record("propose_meeting_slots", {"email_id": SOFIA["id"]}, OFFER_TEXT)
LISTING = record("search_emails", {"sender": "x"}, "", [SOFIA, LUKAS])


def plan(
    text: str,
    *,
    focus: list[MessageRef] | None = None,
    earlier: list[Evidence] | None = None,
    turn: list[Evidence] | None = None,
) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
    request = ToolPlanRequest(
        mode="chat",
        user_text=text,
        conversation=[],
        focus=focus or [],
        turn_evidence=turn or [],
        tools=TOOLS,
        evidence=earlier or [],
    )
    intent, calls = plan_from_intents(request)
    return intent, [(c.name, c.args) for c in calls]


def event(start: str, end: str) -> tuple[str, dict[str, Any]]:
    args = {**EVENT, "start": start, "end": end, "in_reply_to_id": SOFIA["id"]}
    return ("create_calendar_event", args)


FIRST = event("2026-12-08T10:00:00+01:00", "2026-12-08T10:30:00+01:00")
SECOND = event("2026-12-09T09:00:00+01:00", "2026-12-09T09:30:00+01:00")
THIRD = event("2026-12-10T14:00:00+01:00", "2026-12-10T14:30:00+01:00")


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("when am I free on Thursday?", "thursday"),
        ("am I free tomorrow", "tomorrow"),
        ("what's on my calendar for next Friday?", "next friday"),
        ("my availability on 2026-12-03", "2026-12-03"),
        ("am I busy?", "today"),
    ],
)
def test_free_busy_of_a_day(text: str, day: str) -> None:
    assert plan(text) == ("availability", [("check_availability", {"day": day})])


def test_when_am_i_free_without_a_day_offers_free_slots() -> None:
    assert plan("when am I free?") == ("availability", [("propose_meeting_slots", {})])


def test_slots_for_a_meeting_request_find_it_first_then_propose() -> None:
    text = "propose times for the meeting request from Sofia"
    assert plan(text) == (
        "propose_slots",
        [("search_emails", {"sender": "Sofia", "limit": 5})],
    )
    found = record("search_emails", {"sender": "Sofia"}, "", [SOFIA])
    assert plan(text, turn=[found])[1] == [("propose_meeting_slots", {"email_id": SOFIA["id"]})]
    assert plan(text, turn=[found, OFFER])[1] == [], "proposed once per turn"


@pytest.mark.parametrize(
    ("text", "args"),
    [
        ("suggest slots for that one", {"email_id": SOFIA["id"]}),
        ("propose three 45 minute times for it", {"email_id": SOFIA["id"], "duration_minutes": 45}),
    ],
)
def test_slots_for_the_message_the_user_points_to(text: str, args: dict[str, Any]) -> None:
    assert plan(text, focus=[SOFIA]) == ("propose_slots", [("propose_meeting_slots", args)])


def test_free_slots_in_general() -> None:
    assert plan("find a time on Friday for an hour") == (
        "propose_slots",
        [("propose_meeting_slots", {"duration_minutes": 60, "from_date": "friday"})],
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("schedule it", FIRST),
        ("schedule the first one", FIRST),
        ("book the second slot", SECOND),
        ("book the last one", THIRD),
        ("book Wednesday 09:00", SECOND),
        ("book Thursday at 2pm", THIRD),
        ("book option 3", THIRD),
        ("go with the 2nd", SECOND),
        ("send the invite for 2026-12-10", THIRD),
        # A time that was not offered, on an offered day: that day, that time, same length.
        ("book Thursday 16:00", event("2026-12-10T16:00:00+01:00", "2026-12-10T16:30:00+01:00")),
    ],
)
def test_booking_an_offered_slot_uses_its_exact_times(
    text: str, expected: tuple[str, dict[str, Any]]
) -> None:
    assert plan(text, earlier=[LISTING, OFFER]) == ("schedule", [expected])
    assert plan(text, focus=[SOFIA], earlier=[LISTING, OFFER]) == ("schedule", [expected])


def test_a_day_without_an_offered_slot_shows_that_day_instead() -> None:
    assert plan("book Friday 10:00", earlier=[OFFER]) == (
        "schedule",
        [("check_availability", {"day": "friday"})],
    )
    assert plan("book the fifth slot", earlier=[OFFER]) == ("schedule", [])


def test_scheduling_a_request_without_slots_proposes_them_first() -> None:
    assert plan("schedule it", focus=[LUKAS], earlier=[OFFER]) == (
        "schedule",
        [("propose_meeting_slots", {"email_id": LUKAS["id"]})],
    )
    assert plan("schedule the meeting request from Lukas") == (
        "schedule",
        [("search_emails", {"sender": "Lukas", "limit": 5})],
    )
    lukas_offer = record(
        "propose_meeting_slots",
        {"email_id": LUKAS["id"]},
        OFFER_TEXT.replace(SOFIA["id"], LUKAS["id"]).replace("Q1 roadmap", "API workshop"),
    )
    [(name, args)] = plan("schedule it", focus=[LUKAS], turn=[lukas_offer])[1]
    assert (name, args["title"], args["in_reply_to_id"]) == (
        "create_calendar_event",
        "API workshop",
        LUKAS["id"],
    )
    created = record("create_calendar_event", args, "Created")
    assert plan("schedule it", focus=[LUKAS], turn=[lukas_offer, created])[1] == []


def test_nothing_to_schedule_lists_the_meeting_requests() -> None:
    assert plan("which meetings should I schedule?") == (
        "schedule",
        [("list_inbox", {"category": "meeting_request", "limit": 10})],
    )


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("reply to the meeting request from Sofia saying Tuesday works", "reply"),
        ("draft a reply to it saying let's book Tuesday", "draft_reply"),
        ("any meeting requests?", "category"),
    ],
)
def test_mail_phrasings_about_meetings_stay_mail(text: str, intent: str) -> None:
    assert plan(text)[0] == intent


def test_after_slots_are_offered_the_first_one_is_a_slot_of_that_request() -> None:
    resolved = resolve_reference("schedule the first one", [LISTING, OFFER])
    assert resolved is not None
    assert (resolved.ids, resolved.wants_action) == ((SOFIA["id"],), True)
    # Messages listed after the offer: "the first one" is a message again.
    later = resolve_reference("schedule the first one", [OFFER, LISTING])
    assert later is not None and later.ids == (SOFIA["id"],) and later.how == "ordinal 1"
    second = resolve_reference("schedule the second one", [OFFER, LISTING])
    assert second is not None and second.ids == (LUKAS["id"],)
    # Free slots in general belong to no message: the engine reads the offer itself.
    general = record("propose_meeting_slots", {}, OFFER_TEXT)
    assert resolve_reference("book the first one", [LISTING, general]) is None


def test_asking_for_slots_about_a_message_is_an_action_not_a_question() -> None:
    resolved = resolve_reference("suggest slots for that one", [LISTING], [SOFIA["id"]])
    assert resolved is not None and resolved.wants_action


def test_after_several_offers_the_named_request_is_meant() -> None:
    """A triage run offers slots for each meeting request, most important first."""
    lukas_text = OFFER_TEXT.replace(SOFIA["id"], LUKAS["id"]).replace("Q1 roadmap", "API workshop")
    lukas_text = lukas_text.replace(
        "Sofia Marchetti <sofia@x.example>", "Lukas Brenner <lukas@x.example>"
    )
    triage = record("triage", {}, "", [SOFIA, LUKAS])
    batch = [
        triage,
        {**record("propose_meeting_slots", {"email_id": LUKAS["id"]}, lukas_text), "turn": 2},
        {**OFFER, "turn": 2},
    ]
    assert offer_for("book the first slot for Sofia", batch) == batch[2]
    assert offer_for("schedule the workshop", batch) == batch[1]
    assert offer_for("schedule it", batch) == batch[1], "the most important one"
    # A day is when, not who: Sofia's offer is not meant because a title says "Thursday".
    thursday = {
        **batch[2],
        "content": OFFER_TEXT.replace("Title: Q1 roadmap", "Title: Thursday sync"),
        "data": {**offer_data(OFFER_TEXT), "title": "Thursday sync"},
    }
    assert offer_for("book Thursday 14:00", [*batch[:2], thursday]) == batch[1]
    assert offer_for("schedule the meeting request from Rafael", batch) is None
    resolved = resolve_reference("book the second slot for Sofia", batch)
    assert resolved is not None and resolved.ids == (SOFIA["id"],)
    _, calls = plan("book Wednesday 09:00 for Lukas", earlier=batch)
    [(name, args)] = calls
    assert (name, args["in_reply_to_id"], args["start"]) == (
        "create_calendar_event",
        LUKAS["id"],
        "2026-12-09T09:00:00+01:00",
    )
