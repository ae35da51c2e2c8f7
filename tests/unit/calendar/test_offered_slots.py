"""Offers are read from the tool's structured data; an offer saved without data is asked again."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from graph.engines.base import ToolPlanRequest
from graph.engines.intents.matcher import plan_from_intents
from graph.state import Evidence, TriageRow
from graph.triage_actions import slot_offers, triage_proposals
from tools.calendar.model import Interval
from tools.calendar.offered_slots import offered_slots, slot_label
from tools.calendar.proposal import slot_text
from tools.calendar.tools import CALENDAR_TOOLS, READ_ONLY_CALENDAR_TOOLS
from tools.mail.tools import MAIL_TOOLS
from tools.registry import ToolRegistry
from tools.toolkit import Toolkit

DATA: dict[str, Any] = {
    "time_zone": "Europe/Berlin",
    "email_id": "sofia-1@x.example",
    "title": "Q1 roadmap",
    "attendees": ["Sofia Marchetti <sofia@x.example>", "ana@x.example"],
    "slots": [
        {
            "start": "2026-12-08T10:00:00+01:00",
            "end": "2026-12-08T10:30:00+01:00",
            "asked_for": "Tue 08 Dec 10:00",
        },
        {"start": "2026-12-09T09:00:00+01:00", "end": "2026-12-09T09:30:00+01:00", "asked_for": ""},
    ],
}


def offer(data: dict[str, Any] | None) -> Evidence:
    record: Evidence = {
        "id": "ev-1",
        "tool": "propose_meeting_slots",
        "args": {"email_id": "sofia-1@x.example"},
        "at": "",
        "turn": 1,
        "completeness": "COMPLETE",
        "content": "Slots to offer …",
        "messages": [],
        "error": "",
    }
    if data is not None:
        record["data"] = data
    return record


def test_an_offer_is_read_from_its_data() -> None:
    read = offered_slots(DATA)
    assert read is not None
    assert (read.email_id, read.title) == ("sofia-1@x.example", "Q1 roadmap")
    assert read.attendees == "Sofia Marchetti <sofia@x.example>, ana@x.example"
    first, second = read.slots
    assert (first.number, first.asked_for, first.start_text) == (1, True, DATA["slots"][0]["start"])
    assert (second.number, second.asked_for) == (2, False)
    assert first.label == "Tue 08 Dec 2026 10:00-10:30"


def test_the_label_is_the_one_the_text_shows() -> None:
    zone = ZoneInfo("Europe/Berlin")
    start, end = datetime(2026, 12, 8, 10, tzinfo=zone), datetime(2026, 12, 8, 10, 30, tzinfo=zone)
    assert slot_text(Interval(start, end), zone).startswith(slot_label(start, end) + " [")


def test_without_data_there_is_no_offer() -> None:
    assert offered_slots(None) is None
    assert offered_slots({"title": "x"}) is None


def test_the_engine_proposes_again_for_an_offer_saved_without_data() -> None:
    request = ToolPlanRequest(
        mode="chat",
        user_text="schedule the first one",
        conversation=[],
        focus=[],
        turn_evidence=[],
        tools=[*MAIL_TOOLS, *CALENDAR_TOOLS],
        evidence=[offer(None)],
    )
    # No slots to book from and nothing to point at: the meeting requests are listed.
    assert plan_from_intents(request)[1][0].name == "list_inbox"
    with_data = replace(request, evidence=[offer(DATA)])
    [call] = plan_from_intents(with_data)[1]
    assert (call.name, call.args["start"]) == ("create_calendar_event", DATA["slots"][0]["start"])


def test_the_triage_books_nothing_from_an_offer_saved_without_data() -> None:
    assert slot_offers([offer(None)]) == {"sofia-1@x.example": None}
    kit = Toolkit(
        name="calendar", tools=CALENDAR_TOOLS, read_only=READ_ONLY_CALENDAR_TOOLS, env=object()
    )
    row: TriageRow = {  # type: ignore[typeddict-item]
        "id": "sofia-1@x.example",
        "category": "meeting_request",
        "priority": "normal",
    }
    registry = ToolRegistry.from_toolkits([kit])
    assert triage_proposals([row], {}, registry, [offer(None)]) == []
    [event] = triage_proposals([row], {}, registry, [offer(DATA)])
    assert event.args["start"] == DATA["slots"][0]["start"]
