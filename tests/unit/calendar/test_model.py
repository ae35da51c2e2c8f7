"""Events and their iCalendar form: reading VEVENTs, recurrences, busy time, stable UIDs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar

from tools.calendar.model import (
    Attendee,
    CalendarEvent,
    busy_intervals,
    event_uid,
    from_vevent,
    occurrences,
    to_vevent,
)

BERLIN = ZoneInfo("Europe/Berlin")

CALENDAR = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Another client//EN\r
BEGIN:VEVENT\r
UID:standup@example.com\r
DTSTAMP:20261101T000000Z\r
DTSTART;TZID=Europe/Berlin:20261123T093000\r
DTEND;TZID=Europe/Berlin:20261123T094500\r
RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR\r
SUMMARY:Standup\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:standup@example.com\r
DTSTAMP:20261101T000000Z\r
RECURRENCE-ID;TZID=Europe/Berlin:20261124T093000\r
DTSTART;TZID=Europe/Berlin:20261124T110000\r
DTEND;TZID=Europe/Berlin:20261124T111500\r
SUMMARY:Standup (moved)\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:floating@example.com\r
DTSTAMP:20261101T000000Z\r
DTSTART:20261124T140000\r
DTEND:20261124T150000\r
SUMMARY:Floating time\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:free@example.com\r
DTSTAMP:20261101T000000Z\r
DTSTART:20261124T160000Z\r
DTEND:20261124T170000Z\r
TRANSP:TRANSPARENT\r
SUMMARY:Focus (shown as free)\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:cancelled@example.com\r
DTSTAMP:20261101T000000Z\r
DTSTART:20261124T080000Z\r
DTEND:20261124T083000Z\r
STATUS:CANCELLED\r
SUMMARY:Cancelled\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_recurrences_and_their_exceptions_are_expanded() -> None:
    calendar = icalendar.Calendar.from_ical(CALENDAR)
    start = datetime(2026, 11, 23, tzinfo=BERLIN)
    events = occurrences([calendar], start, start + timedelta(days=2), BERLIN)
    summary = [(e.title, e.start.astimezone(BERLIN).strftime("%a %H:%M")) for e in events]  # type: ignore[union-attr]
    assert ("Standup", "Mon 09:30") in summary
    assert ("Standup (moved)", "Tue 11:00") in summary
    assert ("Standup", "Tue 09:30") not in summary


def test_floating_times_are_read_in_the_users_zone_and_free_events_are_not_busy() -> None:
    calendar = icalendar.Calendar.from_ical(CALENDAR)
    day = datetime(2026, 11, 24, tzinfo=BERLIN)
    events = occurrences([calendar], day, day + timedelta(days=1), BERLIN)
    floating = next(e for e in events if e.uid == "floating@example.com")
    assert floating.start == datetime(2026, 11, 24, 14, tzinfo=BERLIN)
    titles = [i.title for i in busy_intervals(events, BERLIN)]
    assert "Floating time" in titles
    assert "Focus (shown as free)" not in titles
    assert "Cancelled" not in titles


def test_a_created_event_survives_the_round_trip() -> None:
    event = CalendarEvent(
        uid="abc@smart-inbox.local",
        title="Q1 roadmap",
        start=datetime(2026, 11, 24, 10, tzinfo=BERLIN),
        end=datetime(2026, 11, 24, 10, 30, tzinfo=BERLIN),
        description="Go over the draft",
        organizer="dana@northwind.example",
        attendees=(Attendee("sofia@northwind.example", "Sofia Marchetti"),),
        invited=("sofia@northwind.example",),
    )
    stored = to_vevent(event, stamp=datetime(2026, 11, 16, tzinfo=UTC), for_invitation=False)
    back = from_vevent(icalendar.Event.from_ical(stored.to_ical()), BERLIN)
    assert back.start == event.start and back.end == event.end
    assert (back.title, back.description, back.organizer) == (
        "Q1 roadmap",
        "Go over the draft",
        "dana@northwind.example",
    )
    assert back.attendees == event.attendees
    assert back.invited == ("sofia@northwind.example",)
    attendee = stored["ATTENDEE"]
    assert attendee.params["SCHEDULE-AGENT"] == "CLIENT"
    invitation = to_vevent(event, stamp=datetime(2026, 11, 16, tzinfo=UTC), for_invitation=True)
    assert "SCHEDULE-AGENT" not in invitation["ATTENDEE"].params
    assert "X-SMART-INBOX-INVITED" not in invitation


def test_all_day_events_are_busy_for_the_whole_local_day() -> None:
    event = CalendarEvent(
        uid="x", title="Offsite", start=date(2026, 11, 25), end=date(2026, 11, 27)
    )
    [interval] = busy_intervals([event], BERLIN)
    assert interval.all_day
    assert interval.start == datetime(2026, 11, 25, tzinfo=BERLIN)
    assert interval.end == datetime(2026, 11, 27, tzinfo=BERLIN)


def test_the_uid_depends_on_what_makes_the_meeting_and_nothing_else() -> None:
    start = datetime(2026, 11, 24, 10, tzinfo=BERLIN)
    base = {
        "organizer": "Dana@Northwind.example",
        "title": "Q1  roadmap",
        "start": start,
        "end": start + timedelta(minutes=30),
        "attendees": ["sofia@northwind.example", "owen@northwind.example"],
    }
    uid = event_uid(**base)  # type: ignore[arg-type]
    assert uid.endswith("@smart-inbox.local")
    same = {
        **base,
        "organizer": "dana@northwind.example",
        "title": "q1 roadmap",
        "start": start.astimezone(UTC),
        "attendees": ["OWEN@northwind.example", "sofia@northwind.example"],
    }
    assert event_uid(**same) == uid  # type: ignore[arg-type]
    later = {**base, "start": start + timedelta(hours=1), "end": start + timedelta(hours=2)}
    assert event_uid(**later) != uid  # type: ignore[arg-type]
    others = {**base, "attendees": ["sofia@northwind.example"]}
    assert event_uid(**others) != uid  # type: ignore[arg-type]
