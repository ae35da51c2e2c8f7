"""The calendar toolkit in the catalogue: there by default, absent with the reason on a bad
configuration; its card written from the real arguments; who may be invited without a flag."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from graph.approval import approval_request
from graph.builder import build_graph
from graph.context import Context
from graph.nodes.request_approval import review_call
from graph.services import Services, build_services
from graph.state import Evidence, State, ToolCallRequest
from tests.unit.conftest import MESSAGES, write_maildir
from tools.calendar.local_file import LocalCalendar
from tools.calendar.model import CalendarEvent
from tools.mail.message_refs import message_ref
from tools.mail.sync import sync_source
from ui.mcp_server.served_mailbox import triage_new_mail

BERLIN = ZoneInfo("Europe/Berlin")
ME = "me@acme.example"
REQUEST_ID = "planning-9@partner.example"
ANA = "ana.ruiz@partner.example"
LEO = "leo.park@partner.example"
CALENDAR_VARIABLES = (
    "SMART_INBOX_TZ TZ SMART_INBOX_WORKING_HOURS SMART_INBOX_WORKING_DAYS CALDAV_URL CALDAV_USER "
    "CALDAV_PASSWORD CALDAV_CALENDAR SMTP_URL SMTP_FROM"
).split()


def next_tuesday_at(hour: int) -> datetime:
    """A Tuesday one to two weeks ahead, in Berlin: always in the future, always a working day."""
    today = datetime.now(BERLIN).date()
    day = today + timedelta(days=7 + (1 - today.weekday()) % 7)
    return datetime.combine(day, time(hour), tzinfo=BERLIN)


MEETING = next_tuesday_at(10)


def request_mail() -> str:
    sent = format_datetime(datetime.now(BERLIN) - timedelta(hours=1))
    return f"""\
From: Ana Ruiz <{ANA}>
To: {ME}
Cc: Leo Park <{LEO}>
Subject: Meeting request: Q1 planning
Date: {sent}
Message-ID: <{REQUEST_ID}>

Hi, could we meet on {MEETING:%A %d %b} at 10:00 CET for 30 min to plan Q1?
Leo ({LEO}) may join us.
Ana
"""


@pytest.fixture
def calendar_context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Context:
    for name in CALENDAR_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SMART_INBOX_TZ", "Europe/Berlin")
    monkeypatch.setenv("SMTP_URL", "smtp://127.0.0.1:2525")  # never connected to here
    inbox = write_maildir(tmp_path / "mbox", {**MESSAGES, "1781000009.M9P1.x:2,S": request_mail()})
    return Context(
        model="rules", inbox=f"maildir:{inbox}", home=str(tmp_path / "home"), user_addresses=(ME,)
    )


@pytest.fixture
def services(calendar_context: Context) -> Services:
    built = build_services(calendar_context)
    sync_source(built.db, built.source)
    triage_new_mail(built.db, built.source, owner_addresses=(ME,))
    return built


def event_call(proposed_by: str = "rules", **args: Any) -> ToolCallRequest:
    defaults = {
        "title": "Q1 planning",
        "start": MEETING.isoformat(),
        "end": (MEETING + timedelta(minutes=30)).isoformat(),
        "attendees": f"Ana Ruiz <{ANA}>",
        "in_reply_to_id": REQUEST_ID,
    }
    return {
        "id": "call-event",
        "name": "create_calendar_event",
        "args": {**defaults, **args},
        "proposed_by": proposed_by,
    }


def state(services: Services, *typed: str) -> State:
    """The user's words, and the meeting request as the thread's evidence shows it."""
    email = services.db.get_email(REQUEST_ID)
    assert email is not None
    shown: Evidence = {
        "id": "ev-1-1",
        "tool": "search_emails",
        "args": {},
        "at": "",
        "turn": 1,
        "completeness": "PREVIEW",
        "content": "",
        "messages": [message_ref(email, full=False)],  # type: ignore[list-item]
        "error": "",
    }
    return {"messages": [HumanMessage(t) for t in typed], "evidence": [shown]}


def card(services: Services, call: ToolCallRequest, current: State) -> dict[str, Any]:
    return approval_request(review_call(services, current, call))


def test_the_local_calendar_is_there_by_default(services: Services) -> None:
    tools = services.tools
    assert {"check_availability", "propose_meeting_slots", "create_calendar_event"} <= set(
        tools.names()
    )
    assert [tools.default_level(n) for n in ("check_availability", "propose_meeting_slots")] == [
        0,
        0,
    ]
    assert tools.default_level("create_calendar_event") == 1
    assert not tools.is_read_only("create_calendar_event")
    kit = tools.toolkit("calendar")
    assert kit is not None and isinstance(kit.env.calendar, LocalCalendar)
    assert kit.env.calendar.path == Path(services.context.home).resolve() / "calendar.ics"


@pytest.mark.parametrize(
    ("variables", "why"),
    [
        ({"SMART_INBOX_TZ": "Mars/Olympus"}, "SMART_INBOX_TZ='Mars/Olympus' is not a time zone"),
        (
            {"SMART_INBOX_WORKING_HOURS": "18:00-09:00"},
            "SMART_INBOX_WORKING_HOURS must end after it starts",
        ),
        ({"CALDAV_URL": "https://dav.example.com/"}, "CALDAV_URL is set but CALDAV_USER is not"),
        (
            {"CALDAV_URL": "https://dav.example.com/", "CALDAV_USER": "dana"},
            "there is no password for dana: set CALDAV_PASSWORD (credential caldav.password)",
        ),
    ],
)
async def test_a_bad_calendar_configuration_leaves_the_calendar_out_with_why(
    calendar_context: Context,
    monkeypatch: pytest.MonkeyPatch,
    variables: dict[str, str],
    why: str,
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    tools = build_services(calendar_context).tools
    assert "check_availability" not in tools.names()
    reason = tools.unavailable["create_calendar_event"]
    assert reason.startswith("the calendar is not configured: ") and why in reason
    assert "search_emails" in tools.names(), "the rest of the catalogue is unharmed"

    graph = build_graph(checkpointer=InMemorySaver())
    result = await graph.ainvoke(
        {"messages": [HumanMessage("am I free tomorrow?")]},
        config={"configurable": {"thread_id": "t"}},
        context=calendar_context,
    )
    answer = result["messages"][-1].text
    assert "The check_availability call failed: the calendar is not configured: " in answer
    assert why in answer


def test_without_an_address_events_cannot_be_created(
    calendar_context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    calendar_context.user_addresses = ()
    tools = build_services(calendar_context).tools
    assert "check_availability" in tools.names()
    assert "create_calendar_event" not in tools.names()
    assert tools.unavailable["create_calendar_event"].endswith(
        "set SMTP_FROM or SMART_INBOX_USER_EMAILS"
    )


def test_the_card_shows_the_event_as_it_will_be_created(services: Services) -> None:
    # The start is given in UTC: the card shows it in the user's zone.
    utc = MEETING.astimezone(ZoneInfo("UTC"))
    call = event_call(start=utc.isoformat(), end=(utc + timedelta(minutes=30)).isoformat())
    shown = card(services, call, state(services, "propose times for the meeting from Ana"))
    text = shown["description"]
    assert text.startswith("### Schedule “Q1 planning” and invite 1 attendee")
    assert f"- **When:** {MEETING:%a %d %b %Y}, 10:00-10:30 (Europe/Berlin)" in text
    assert f"- **Attendees:** Ana Ruiz <{ANA}>" in text
    assert (
        f"- **In reply to:** Meeting request: Q1 planning — Ana Ruiz <{ANA}> [msg:{REQUEST_ID}]"
    ) in text
    assert f"- **Invitations:** one mail from {ME} to each attendee (1)" in text
    assert "threaded under that mail" in text
    assert f"- **Note:** The mail asked for this time (“{MEETING:%A %d %b} at 10:00 CET" in text
    assert "- **Calendar:** the calendar file " in text
    assert shown["flags"] == [] and shown["level"] == 1


def test_the_card_names_a_clash_and_a_time_the_mail_did_not_ask_for(services: Services) -> None:
    kit = services.tools.toolkit("calendar")
    assert kit is not None
    kit.env.calendar.save_event(
        CalendarEvent(
            uid="board@acme.example",
            title="Board prep",
            start=MEETING + timedelta(hours=4),
            end=MEETING + timedelta(hours=5),
        )
    )
    later = MEETING + timedelta(hours=4, minutes=30)
    call = event_call(start=later.isoformat(), end=(later + timedelta(minutes=30)).isoformat())
    text = card(services, call, state(services, "the one from Ana"))["description"]
    assert f"- **Note:** Overlaps “Board prep” ({MEETING:%a %d %b %Y}, 14:00-15:00" in text
    assert "- **Note:** The mail did not propose this time" in text


def test_without_smtp_the_card_says_the_call_will_fail(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SMTP_URL")
    fresh = build_services(services.context)
    text = card(fresh, event_call(), state(fresh, "ana"))["description"]
    assert "This call will fail: invitations cannot be sent: SMTP_URL is not set" in text


def test_the_sender_of_the_mail_the_user_pointed_to_may_be_invited(services: Services) -> None:
    pointed = state(services, "propose times for the meeting request from Ana")
    assert card(services, event_call(), pointed)["flags"] == []
    # Someone else the mail names is not the user's choice, even from the same mail.
    both = event_call(attendees=f"Ana Ruiz <{ANA}>, {LEO}")
    flags = card(services, both, pointed)["flags"]
    assert [(f["arg"], f["kind"], f["value"], f["seen_in"]) for f in flags] == [
        ("attendees", "address", LEO, f"msg:{REQUEST_ID}")
    ]
    typed = state(services, "the one from Ana", f"invite {LEO} too")
    assert card(services, both, typed)["flags"] == []


def test_an_attendee_from_a_mail_the_user_never_pointed_to_is_flagged(
    services: Services,
) -> None:
    flags = card(services, event_call(), state(services, "what is new?"))["flags"]
    assert [(f["arg"], f["value"], f["seen_in"]) for f in flags] == [
        ("attendees", ANA, f"msg:{REQUEST_ID}"),
        ("in_reply_to_id", REQUEST_ID, f"msg:{REQUEST_ID}"),  # the engine chose the mail
    ]
    # A call the user asked for themselves (a suggested action they pressed) names the mail.
    assert card(services, event_call("user"), state(services))["flags"] == []
