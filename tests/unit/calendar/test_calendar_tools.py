"""The calendar tools on the local calendar file: what the model sees, what each call returns."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest

from memory.db import open_database
from memory.paths import app_database_url
from tools.calendar.local_file import LocalCalendar
from tools.calendar.model import CalendarEvent
from tools.calendar.scheduling import CalendarEnv, calendar_env, parse_day, plan_event
from tools.calendar.settings import CalendarSettings, WorkingHours
from tools.calendar.tools import (
    CALENDAR_TOOLS,
    INVITING_TOOLS,
    READ_ONLY_CALENDAR_TOOLS,
    check_availability,
    create_calendar_event,
    propose_meeting_slots,
)
from tools.mail.mailbox import MailboxEnv
from tools.mail.mime import parse_email
from tools.toolkit import ToolFailure

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 16, 8, 0, tzinfo=BERLIN)  # a Monday morning
SOFIA = Path(__file__).resolve().parents[3] / "data/demo-inbox/cur/1794817822.M4P4104.demo:2,S"

EXISTING = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Another client//EN\r
BEGIN:VEVENT\r
UID:board@example.com\r
DTSTAMP:20261101T000000Z\r
DTSTART;TZID=Europe/Berlin:20261124T093000\r
DTEND;TZID=Europe/Berlin:20261124T110000\r
SUMMARY:Board prep\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:offsite@example.com\r
DTSTAMP:20261101T000000Z\r
DTSTART;VALUE=DATE:20261126\r
DTEND;VALUE=DATE:20261127\r
SUMMARY:Team offsite\r
END:VEVENT\r
END:VCALENDAR\r
"""


@pytest.fixture
def env(tmp_path: Path) -> CalendarEnv:
    db = open_database(app_database_url(tmp_path))
    email = parse_email(SOFIA.read_bytes(), source="maildir:demo", folder="INBOX", key="sofia")
    db.add_emails([email])
    path = tmp_path / "calendar.ics"
    path.write_bytes(EXISTING)
    settings = CalendarSettings(
        time_zone=BERLIN, working_hours=WorkingHours(time(9), time(17, 30)), calendar_file=path
    )
    mail = MailboxEnv(
        db=db,
        source="maildir:demo",
        smtp=None,
        sender="dana@northwind.example",
        user_addresses=("dana@northwind.example",),
    )
    return CalendarEnv(
        calendar=LocalCalendar(path, zone=BERLIN), settings=settings, mail=mail, clock=lambda: NOW
    )


def test_the_model_never_sees_the_environment_and_the_sets_are_right() -> None:
    names = {t.name for t in CALENDAR_TOOLS}
    assert names == {"check_availability", "propose_meeting_slots", "create_calendar_event"}
    assert READ_ONLY_CALENDAR_TOOLS | INVITING_TOOLS == names
    assert not READ_ONLY_CALENDAR_TOOLS & INVITING_TOOLS
    for item in CALENDAR_TOOLS:
        schema = item.tool_call_schema.model_json_schema()
        assert "env" not in schema["properties"], item.name
        description = item.description or ""
        assert description and "\n" not in description.strip()
    assert set(create_calendar_event.tool_call_schema.model_json_schema()["required"]) == {
        "title",
        "start",
        "end",
    }


async def test_check_availability_lists_busy_and_free_time(env: CalendarEnv) -> None:
    result = await check_availability.ainvoke({"day": "2026-11-24", "env": env})
    assert result["completeness"] == "COMPLETE"
    content = result["content"]
    assert content.splitlines()[0] == (
        "Availability on Tue 24 Nov 2026 (Europe/Berlin; working hours 09:00-17:30, Mon-Fri):"
    )
    assert (
        "- 09:30-11:00 [2026-11-24T09:30:00+01:00/2026-11-24T11:00:00+01:00] “Board prep”"
        in content
    )
    assert "- 09:00-09:30 [2026-11-24T09:00:00+01:00/2026-11-24T09:30:00+01:00]" in content
    assert "- 11:00-17:30 [2026-11-24T11:00:00+01:00/2026-11-24T17:30:00+01:00]" in content


async def test_check_availability_understands_weekdays_and_all_day_events(env: CalendarEnv) -> None:
    this_thursday = (await check_availability.ainvoke({"day": "thursday", "env": env}))["content"]
    assert this_thursday.startswith("Availability on Thu 19 Nov 2026")
    thursday = (await check_availability.ainvoke({"day": "2026-11-26", "env": env}))["content"]
    assert "- all day “Team offsite”" in thursday
    assert "Free in working hours: none." in thursday
    saturday = (await check_availability.ainvoke({"day": "2026-11-28", "env": env}))["content"]
    assert "Saturday is not one of your working days." in saturday
    with pytest.raises(ToolFailure, match="is not a day"):
        await check_availability.ainvoke({"day": "someday", "env": env})


def test_parse_day_reads_the_words_people_use() -> None:
    monday = datetime(2026, 11, 16).date()
    assert parse_day("today", monday) == monday
    assert parse_day("Tomorrow", monday).isoformat() == "2026-11-17"
    assert parse_day("thursday", monday).isoformat() == "2026-11-19"
    assert parse_day("monday", monday) == monday
    assert parse_day("next monday", monday).isoformat() == "2026-11-23"
    assert parse_day("2026-12-01", monday).isoformat() == "2026-12-01"


async def test_propose_meeting_slots_answers_a_meeting_request_by_id(env: CalendarEnv) -> None:
    result = await propose_meeting_slots.ainvoke(
        {"email_id": "CAF9s0fia.Q1road.20261116@mail.northwind.example", "env": env}
    )
    content = result["content"]
    assert "Attendees: Sofia Marchetti <sofia.marchetti@northwind.example>" in content
    assert (
        "“Tue 24 Nov 10:00-10:30”: not offered: it conflicts with “Board prep” (09:30-11:00)"
        in content
    )
    assert (
        "1. Wed 25 Nov 2026 14:00-14:30 [2026-11-25T14:00:00+01:00/2026-11-25T14:30:00+01:00]"
        " — asked for in the mail (“Wed 25 Nov after 14:00”)"
    ) in content
    with pytest.raises(ToolFailure, match="no message with id 'nope'"):
        await propose_meeting_slots.ainvoke({"email_id": "nope", "env": env})


async def test_propose_meeting_slots_without_a_mail(env: CalendarEnv) -> None:
    result = await propose_meeting_slots.ainvoke(
        {"duration_minutes": 90, "count": 2, "from_date": "2026-11-24", "env": env}
    )
    content = result["content"]
    assert content.splitlines()[0].startswith("Free 90-minute slots from Tue 24 Nov 2026")
    assert content.splitlines()[1:] == [
        "1. Tue 24 Nov 2026 11:00-12:30 [2026-11-24T11:00:00+01:00/2026-11-24T12:30:00+01:00]",
        "2. Wed 25 Nov 2026 09:00-10:30 [2026-11-25T09:00:00+01:00/2026-11-25T10:30:00+01:00]",
    ]
    with pytest.raises(ToolFailure, match="between 5 and 480"):
        await propose_meeting_slots.ainvoke({"duration_minutes": 1000, "env": env})


async def test_an_event_without_attendees_needs_no_smtp(env: CalendarEnv) -> None:
    args = {"title": "Focus time", "start": "2026-11-25T09:00", "end": "2026-11-25T11:00"}
    result = await create_calendar_event.ainvoke({**args, "env": env})
    assert result["content"].startswith(
        "Created “Focus time” on Wed 25 Nov 2026, 09:00-11:00 (Europe/Berlin) in the calendar file"
    )
    again = await create_calendar_event.ainvoke({**args, "env": env})
    assert "was already in the calendar file" in again["content"]
    calendar = icalendar.Calendar.from_ical(env.settings.calendar_file.read_bytes())
    titles = sorted(str(c["SUMMARY"]) for c in calendar.walk("VEVENT"))
    assert titles == ["Board prep", "Focus time", "Team offsite"]


async def test_invitations_without_smtp_create_nothing(env: CalendarEnv) -> None:
    before = env.settings.calendar_file.read_bytes()
    with pytest.raises(ToolFailure, match="SMTP_URL is not set, so no event was created"):
        await create_calendar_event.ainvoke(
            {
                "title": "Q1 roadmap",
                "start": "2026-11-25T14:00",
                "end": "2026-11-25T14:30",
                "attendees": "sofia.marchetti@northwind.example",
                "env": env,
            }
        )
    assert env.settings.calendar_file.read_bytes() == before


@pytest.mark.parametrize(
    ("args", "why"),
    [
        ({"title": " ", "start": "2026-11-25T14:00", "end": "2026-11-25T14:30"}, "needs a title"),
        ({"title": "x", "start": "2026-11-25", "end": "2026-11-25T14:30"}, "no time of day"),
        ({"title": "x", "start": "soon", "end": "2026-11-25T14:30"}, "not a date and time"),
        ({"title": "x", "start": "2026-11-25T15:00", "end": "2026-11-25T14:30"}, "must be after"),
        ({"title": "x", "start": "2026-11-02T15:00", "end": "2026-11-02T16:00"}, "in the past"),
        (
            {
                "title": "x",
                "start": "2026-11-25T14:00",
                "end": "2026-11-25T15:00",
                "attendees": "bob@localhost",
            },
            "'bob@localhost' is not an e-mail address",
        ),
        (
            {
                "title": "x",
                "start": "2026-11-25T14:00",
                "end": "2026-11-25T15:00",
                "attendees": ";",
            },
            "no e-mail address in attendees",
        ),
        (
            {
                "title": "x",
                "start": "2026-11-25T14:00",
                "end": "2026-11-25T15:00",
                "in_reply_to_id": "zz",
            },
            "no message with id 'zz'",
        ),
    ],
)
def test_bad_arguments_are_refused_before_anything_happens(
    env: CalendarEnv, args: dict[str, str], why: str
) -> None:
    with pytest.raises(ToolFailure, match=why):
        plan_event(env, **args)


def test_the_plan_shows_the_real_event_and_leaves_the_user_out_of_the_attendees(
    env: CalendarEnv,
) -> None:
    event, original = plan_event(
        env,
        title="Q1 roadmap",
        start="2026-11-25T14:00",
        end="2026-11-25T14:30+01:00",
        attendees="Sofia Marchetti <sofia.marchetti@northwind.example>, dana@northwind.example",
        in_reply_to_id="CAF9s0fia.Q1road.20261116@mail.northwind.example",
    )
    assert original is not None and original.from_addr == "sofia.marchetti@northwind.example"
    assert [a.display() for a in event.attendees] == [
        "Sofia Marchetti <sofia.marchetti@northwind.example>"
    ]
    assert event.organizer == "dana@northwind.example"
    assert event.start == datetime(2026, 11, 25, 13, tzinfo=UTC)
    again, _ = plan_event(
        env,
        title="Q1 roadmap",
        start="2026-11-25T13:00:00Z",
        end="2026-11-25T13:30:00Z",
        attendees="sofia.marchetti@northwind.example",
        description="a different description is still the same meeting",
    )
    assert again.uid == event.uid


def test_calendar_env_builds_the_local_calendar_from_the_environment(tmp_path: Path) -> None:
    db = open_database(app_database_url(tmp_path))
    mail = MailboxEnv(db=db, source="maildir:demo", sender="dana@northwind.example")
    env = calendar_env(mail, tmp_path, {"SMART_INBOX_TZ": "Europe/Berlin"})
    assert isinstance(env.calendar, LocalCalendar)
    assert env.calendar.path == tmp_path / "calendar.ics"
    assert env.organizer == "dana@northwind.example"


def test_a_sender_with_a_name_still_gives_a_bare_organizer_address(tmp_path: Path) -> None:
    db = open_database(app_database_url(tmp_path))
    mail = MailboxEnv(
        db=db, source="maildir:demo", sender="Dana Whitfield <Dana@Northwind.example>"
    )
    env = calendar_env(mail, tmp_path, {"SMART_INBOX_TZ": "UTC"})
    assert env.organizer == "dana@northwind.example"


class ThreadRecordingCalendar(LocalCalendar):
    """The local calendar, noting whether each call ran on the event loop's thread."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, zone=BERLIN)
        self.on_loop: list[bool] = []

    def _note(self) -> None:
        try:
            asyncio.get_running_loop()
            self.on_loop.append(True)
        except RuntimeError:
            self.on_loop.append(False)

    def events_between(self, start: datetime, end: datetime) -> list[CalendarEvent]:
        self._note()
        return super().events_between(start, end)

    def get_event(self, uid: str) -> CalendarEvent | None:
        self._note()
        return super().get_event(uid)

    def save_event(self, event: CalendarEvent) -> None:
        self._note()
        super().save_event(event)


async def test_calendar_io_never_runs_on_the_event_loop(env: CalendarEnv) -> None:
    recording = ThreadRecordingCalendar(env.settings.calendar_file)
    env = replace(env, calendar=recording)
    await check_availability.ainvoke({"day": "2026-11-24", "env": env})
    await propose_meeting_slots.ainvoke({"env": env})
    await propose_meeting_slots.ainvoke(
        {"email_id": "CAF9s0fia.Q1road.20261116@mail.northwind.example", "env": env}
    )
    await create_calendar_event.ainvoke(
        {"title": "Focus", "start": "2026-11-25T09:00", "end": "2026-11-25T10:00", "env": env}
    )
    assert len(recording.on_loop) == 5
    assert not any(recording.on_loop)


async def test_inviting_only_yourself_needs_no_smtp(env: CalendarEnv) -> None:
    result = await create_calendar_event.ainvoke(
        {
            "title": "Dentist",
            "start": "2026-11-27T15:00",
            "end": "2026-11-27T16:00",
            "attendees": "Dana <dana@northwind.example>",
            "env": env,
        }
    )
    assert result["content"].startswith("Created “Dentist”")
    assert "Invitation" not in result["content"]
