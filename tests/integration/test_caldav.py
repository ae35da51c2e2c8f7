"""The CalDAV calendar against a real Radicale server, with invitations through a real SMTP server."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest

from memory.db import open_database
from memory.paths import app_database_url
from tests.fakes.radicale_server import RadicaleServer
from tests.fakes.smtp_server import SmtpSink, free_port
from tests.unit.conftest import write_maildir
from tools.calendar.backend import CalendarError
from tools.calendar.caldav import CalDavCalendar
from tools.calendar.scheduling import CalendarEnv, calendar_env
from tools.calendar.settings import CalDavSettings, CalendarSettings, WorkingHours
from tools.calendar.tools import check_availability, create_calendar_event, propose_meeting_slots
from tools.http import HttpSettings
from tools.mail.mailbox import MailboxEnv
from tools.mail.smtp_settings import SmtpSettings
from tools.toolkit import ToolFailure

pytestmark = pytest.mark.integration

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 16, 10, 0, tzinfo=BERLIN)
USER, PASSWORD = "dana", "correct horse battery staple"
_names = itertools.count(1)

STANDUP = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Another client//EN\r
BEGIN:VEVENT\r
UID:standup@example.com\r
DTSTAMP:20261101T000000Z\r
DTSTART;TZID=Europe/Berlin:20261116T093000\r
DTEND;TZID=Europe/Berlin:20261116T100000\r
RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR\r
SUMMARY:Standup\r
END:VEVENT\r
BEGIN:VTIMEZONE\r
TZID:Europe/Berlin\r
BEGIN:STANDARD\r
DTSTART:19701025T030000\r
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r
TZOFFSETFROM:+0200\r
TZOFFSETTO:+0100\r
END:STANDARD\r
BEGIN:DAYLIGHT\r
DTSTART:19700329T020000\r
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r
TZOFFSETFROM:+0100\r
TZOFFSETTO:+0200\r
END:DAYLIGHT\r
END:VTIMEZONE\r
END:VCALENDAR\r
"""

OFFSITE = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Another client//EN\r
BEGIN:VEVENT\r
UID:offsite@example.com\r
DTSTAMP:20261101T000000Z\r
DTSTART;VALUE=DATE:20261126\r
DTEND;VALUE=DATE:20261127\r
SUMMARY:Team offsite\r
END:VEVENT\r
END:VCALENDAR\r
"""


@pytest.fixture(scope="module")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RadicaleServer]:
    with RadicaleServer(tmp_path_factory.mktemp("radicale"), USER, PASSWORD) as server:
        yield server


@pytest.fixture
def calendar_name(radicale: RadicaleServer) -> str:
    """A fresh calendar for each test, named `Work N`, holding a weekday standup and an offsite."""
    name = f"work{next(_names)}"
    radicale.make_calendar(name, display_name=f"Work {name[4:]}")
    radicale.put_event(name, "standup.ics", STANDUP)
    radicale.put_event(name, "offsite.ics", OFFSITE)
    return name


def settings_for(
    url: str, *, calendar: str = "", password: str | None = PASSWORD
) -> CalDavSettings:
    return CalDavSettings(
        url=url, username=USER, calendar=calendar, timeout=10, secrets=lambda name: password
    )


def make_env(tmp_path: Path, calendar: CalDavCalendar, sink: SmtpSink | None) -> CalendarEnv:
    db = open_database(app_database_url(tmp_path))
    maildir = write_maildir(tmp_path / "mail", {})
    mail = MailboxEnv(
        db=db,
        source=f"maildir:{maildir}",
        smtp=SmtpSettings.from_url(sink.url, timeout=10) if sink else None,
        sender="dana@northwind.example",
        user_addresses=("dana@northwind.example",),
    )
    settings = CalendarSettings(
        time_zone=BERLIN,
        working_hours=WorkingHours(time(9), time(17, 30)),
        calendar_file=tmp_path / "unused.ics",
        caldav=calendar.settings,
    )
    return CalendarEnv(calendar=calendar, settings=settings, mail=mail, clock=lambda: NOW)


def test_discovery_from_the_server_root_finds_the_named_calendar(
    radicale: RadicaleServer, calendar_name: str
) -> None:
    display = f"Work {calendar_name[4:]}"
    calendar = CalDavCalendar(settings_for(radicale.url, calendar=display), zone=BERLIN)
    day = datetime(2026, 11, 16, tzinfo=BERLIN)
    events = calendar.events_between(day, day + timedelta(days=1))
    assert [e.title for e in events] == ["Standup"]
    assert calendar.description == f"the CalDAV calendar {radicale.calendar_url(calendar_name)}"
    by_path = CalDavCalendar(settings_for(radicale.url, calendar=calendar_name), zone=BERLIN)
    assert by_path.get_event("offsite@example.com") is not None


def test_a_calendar_url_is_used_as_it_is(radicale: RadicaleServer, calendar_name: str) -> None:
    calendar = CalDavCalendar(settings_for(radicale.calendar_url(calendar_name)), zone=BERLIN)
    event = calendar.get_event("standup@example.com")
    assert event is not None and event.title == "Standup"
    assert calendar.get_event("nobody@example.com") is None


def test_an_unknown_calendar_name_lists_the_ones_there_are(
    radicale: RadicaleServer, calendar_name: str
) -> None:
    calendar = CalDavCalendar(settings_for(radicale.url, calendar="Holidays"), zone=BERLIN)
    with pytest.raises(CalendarError, match="no calendar named 'Holidays'") as err:
        calendar.get_event("x")
    assert f"Work {calendar_name[4:]}" in str(err.value)


async def test_free_busy_reads_recurring_and_all_day_events_from_the_server(
    tmp_path: Path, radicale: RadicaleServer, calendar_name: str
) -> None:
    calendar = CalDavCalendar(settings_for(radicale.calendar_url(calendar_name)), zone=BERLIN)
    env = make_env(tmp_path, calendar, None)
    tuesday = (await check_availability.ainvoke({"day": "2026-11-24", "env": env}))["content"]
    assert (
        "- 09:30-10:00 [2026-11-24T09:30:00+01:00/2026-11-24T10:00:00+01:00] “Standup”" in tuesday
    )
    assert "- 09:00-09:30 [2026-11-24T09:00:00+01:00/2026-11-24T09:30:00+01:00]" in tuesday
    assert "- 10:00-17:30 [2026-11-24T10:00:00+01:00/2026-11-24T17:30:00+01:00]" in tuesday
    thursday = (await check_availability.ainvoke({"day": "2026-11-26", "env": env}))["content"]
    assert "- all day “Team offsite”" in thursday
    assert "Free in working hours: none." in thursday
    slots = await propose_meeting_slots.ainvoke(
        {"duration_minutes": 60, "count": 2, "from_date": "2026-11-26", "env": env}
    )
    assert slots["content"].splitlines()[1:] == [
        "1. Fri 27 Nov 2026 10:00-11:00 [2026-11-27T10:00:00+01:00/2026-11-27T11:00:00+01:00]",
        "2. Mon 30 Nov 2026 10:00-11:00 [2026-11-30T10:00:00+01:00/2026-11-30T11:00:00+01:00]",
    ]


async def test_creating_an_event_stores_it_on_the_server_and_invites_once(
    tmp_path: Path, radicale: RadicaleServer, calendar_name: str, smtp_sink: SmtpSink
) -> None:
    calendar = CalDavCalendar(settings_for(radicale.url, calendar=calendar_name), zone=BERLIN)
    env = make_env(tmp_path, calendar, smtp_sink)
    call = {
        "title": "Q1 roadmap",
        "start": "2026-11-25T14:00",
        "end": "2026-11-25T14:30",
        "attendees": "Sofia Marchetti <sofia.marchetti@northwind.example>",
        "env": env,
    }
    result = await create_calendar_event.ainvoke(call)
    assert result["content"].startswith("Created “Q1 roadmap” on Wed 25 Nov 2026, 14:00-14:30")
    assert "Invitation sent to sofia.marchetti@northwind.example." in result["content"]

    # (a) the event is on the server, marked as scheduled by us and with the invitation recorded
    objects = radicale.events(calendar_name)
    ours = {href: data for href, data in objects.items() if "Q1 roadmap" in data}
    assert len(objects) == 3 and len(ours) == 1
    [vevent] = icalendar.Calendar.from_ical(next(iter(ours.values()))).walk("VEVENT")
    assert vevent.start == datetime(2026, 11, 25, 14, tzinfo=BERLIN)
    assert str(vevent["ORGANIZER"]) == "mailto:dana@northwind.example"
    assert vevent["ATTENDEE"].params["SCHEDULE-AGENT"] == "CLIENT"
    assert str(vevent["X-SMART-INBOX-INVITED"]) == "sofia.marchetti@northwind.example"

    # (b) the invitation reached the SMTP server, for the same event
    [received] = smtp_sink.wait_for(1)
    assert received.rcpt_tos == ["sofia.marchetti@northwind.example"]
    [part] = [p for p in received.message.walk() if p.get_content_type() == "text/calendar"]
    invitation = icalendar.Calendar.from_ical(part.get_content())
    assert str(invitation["METHOD"]) == "REQUEST"
    assert str(invitation.walk("VEVENT")[0]["UID"]) == str(vevent["UID"])

    # the new event now counts as busy
    wednesday = (await check_availability.ainvoke({"day": "2026-11-25", "env": env}))["content"]
    assert "“Q1 roadmap”" in wednesday

    # (c) the same call again creates and sends nothing
    again = await create_calendar_event.ainvoke(call)
    assert "was already in the CalDAV calendar" in again["content"]
    assert len(radicale.events(calendar_name)) == 3
    assert len(smtp_sink.messages) == 1


async def test_a_wrong_password_is_a_clear_error_without_the_password(
    tmp_path: Path, radicale: RadicaleServer, calendar_name: str
) -> None:
    wrong = "not-the-password-42"
    calendar = CalDavCalendar(
        settings_for(radicale.calendar_url(calendar_name), password=wrong), zone=BERLIN
    )
    env = make_env(tmp_path, calendar, None)
    with pytest.raises(ToolFailure) as failure:
        await check_availability.ainvoke({"day": "2026-11-24", "env": env})
    message = str(failure.value)
    assert message == (
        f"CalDAV server 127.0.0.1:{radicale.port} refused the login of user 'dana': "
        "wrong user name or password"
    )
    assert wrong not in message and PASSWORD not in message


async def test_no_password_at_all_names_the_credential(
    tmp_path: Path, radicale: RadicaleServer, calendar_name: str
) -> None:
    calendar = CalDavCalendar(
        settings_for(radicale.calendar_url(calendar_name), password=None), zone=BERLIN
    )
    env = make_env(tmp_path, calendar, None)
    with pytest.raises(ToolFailure, match=r"set CALDAV_PASSWORD \(credential caldav.password\)"):
        await check_availability.ainvoke({"day": "2026-11-24", "env": env})


async def test_a_dead_server_is_a_clear_error(tmp_path: Path) -> None:
    port = free_port()
    calendar = CalDavCalendar(
        settings_for(f"http://127.0.0.1:{port}/dana/work/"),
        zone=BERLIN,
        retry=HttpSettings(retries=2, backoff=0.01),
    )
    env = make_env(tmp_path, calendar, None)
    with pytest.raises(ToolFailure) as failure:
        await check_availability.ainvoke({"day": "2026-11-24", "env": env})
    assert str(failure.value) == (
        f"cannot reach the CalDAV server 127.0.0.1:{port}: connection refused (after 3 attempts)"
    )


def test_the_environment_selects_caldav(
    tmp_path: Path, radicale: RadicaleServer, calendar_name: str
) -> None:
    db = open_database(app_database_url(tmp_path))
    mail = MailboxEnv(db=db, source="maildir:x", sender="dana@northwind.example")
    env = calendar_env(
        mail,
        tmp_path,
        {
            "SMART_INBOX_TZ": "Europe/Berlin",
            "CALDAV_URL": radicale.url,
            "CALDAV_USER": USER,
            "CALDAV_PASSWORD": PASSWORD,
            "CALDAV_CALENDAR": calendar_name,
        },
    )
    assert isinstance(env.calendar, CalDavCalendar)
    event = env.calendar.get_event("offsite@example.com")
    assert event is not None and event.all_day
