"""Creating an event sends real iTIP invitations through a real SMTP server, once per attendee, once."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest

from memory.db import open_database
from memory.paths import app_database_url
from tests.fakes.smtp_server import ReceivedMessage, SmtpSink
from tests.unit.conftest import write_maildir
from tools.calendar.local_file import LocalCalendar
from tools.calendar.scheduling import CalendarEnv
from tools.calendar.settings import CalendarSettings, WorkingHours
from tools.calendar.tools import create_calendar_event
from tools.mail.mailbox import MailboxEnv
from tools.mail.mime import parse_email
from tools.mail.smtp_settings import SmtpSettings
from tools.toolkit import ToolFailure

pytestmark = pytest.mark.integration

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 16, 10, 0, tzinfo=BERLIN)
DEMO = Path(__file__).resolve().parents[2] / "data" / "demo-inbox"
SOFIA_FILE = DEMO / "cur" / "1794817822.M4P4104.demo:2,S"
SOFIA_ID = "CAF9s0fia.Q1road.20261116@mail.northwind.example"
CALL = {
    "title": "Q1 roadmap",
    "start": "2026-11-24T10:00",
    "end": "2026-11-24T10:30",
    "attendees": "Sofia Marchetti <sofia.marchetti@northwind.example>, owen@northwind.example",
    "description": "Go over the Q1 roadmap draft before it goes to Rafael.",
    "in_reply_to_id": SOFIA_ID,
}


def make_env(tmp_path: Path, sink: SmtpSink) -> CalendarEnv:
    db = open_database(app_database_url(tmp_path))
    db.add_emails(
        [parse_email(SOFIA_FILE.read_bytes(), source="maildir:demo", folder="INBOX", key="s")]
    )
    maildir = write_maildir(tmp_path / "mail", {})
    path = tmp_path / "calendar.ics"
    settings = CalendarSettings(
        time_zone=BERLIN, working_hours=WorkingHours(time(9), time(17, 30)), calendar_file=path
    )
    mail = MailboxEnv(
        db=db,
        source=f"maildir:{maildir}",
        smtp=SmtpSettings.from_url(sink.url, timeout=10),
        sender="dana@northwind.example",
        user_addresses=("dana@northwind.example",),
    )
    return CalendarEnv(
        calendar=LocalCalendar(path, zone=BERLIN), settings=settings, mail=mail, clock=lambda: NOW
    )


def itip(received: ReceivedMessage) -> icalendar.Calendar:
    [part] = [p for p in received.message.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") == "REQUEST"
    return icalendar.Calendar.from_ical(part.get_content())


def stored_events(env: CalendarEnv) -> list[icalendar.Event]:
    return list(
        icalendar.Calendar.from_ical(env.settings.calendar_file.read_bytes()).walk("VEVENT")
    )


async def test_each_attendee_gets_one_invitation_and_a_retry_repeats_nothing(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    env = make_env(tmp_path, smtp_sink)
    result = await create_calendar_event.ainvoke({**CALL, "env": env})
    text = result["content"]
    assert text.startswith("Created “Q1 roadmap” on Tue 24 Nov 2026, 10:00-10:30 (Europe/Berlin)")
    assert "Invitation sent to sofia.marchetti@northwind.example, owen@northwind.example." in text

    received = smtp_sink.wait_for(2)
    assert sorted(r.rcpt_tos[0] for r in received) == [
        "owen@northwind.example",
        "sofia.marchetti@northwind.example",
    ]
    for message in received:
        assert message.mail_from == "dana@northwind.example"
        assert len(message.rcpt_tos) == 1
        assert message.message["In-Reply-To"] == f"<{SOFIA_ID}>"
        calendar = itip(message)
        [vevent] = calendar.walk("VEVENT")
        assert str(vevent["ORGANIZER"]) == "mailto:dana@northwind.example"
        assert sorted(str(a) for a in vevent["ATTENDEE"]) == [
            "mailto:owen@northwind.example",
            "mailto:sofia.marchetti@northwind.example",
        ]
        assert vevent.start == datetime(2026, 11, 24, 10, tzinfo=BERLIN)
    uids = {str(itip(m).walk("VEVENT")[0]["UID"]) for m in received}

    [stored] = stored_events(env)
    assert {str(stored["UID"])} == uids
    assert str(stored["X-SMART-INBOX-INVITED"]) == (
        "sofia.marchetti@northwind.example,owen@northwind.example"
    )
    sent_copies = list((tmp_path / "mail" / ".Sent" / "cur").iterdir())
    assert len(sent_copies) == 2

    again = await create_calendar_event.ainvoke({**CALL, "env": env})
    assert "was already in the calendar file" in again["content"]
    assert "not created again" in again["content"]
    assert "Already invited earlier (not sent again)" in again["content"]
    assert "Invitation sent" not in again["content"]
    assert len(smtp_sink.messages) == 2
    assert len(stored_events(env)) == 1


async def test_a_refused_attendee_is_reported_and_invited_on_the_retry(tmp_path: Path) -> None:
    with SmtpSink(refuse_recipients=["owen@northwind.example"]) as sink:
        env = make_env(tmp_path, sink)
        with pytest.raises(ToolFailure) as failure:
            await create_calendar_event.ainvoke({**CALL, "env": env})
        message = str(failure.value)
        assert message.startswith("Created “Q1 roadmap”")
        assert "Invitation sent to sofia.marchetti@northwind.example." in message
        assert "Not invited: owen@northwind.example: not sent:" in message
        assert "The event exists" in message
        assert [m.rcpt_tos for m in sink.wait_for(1)] == [["sofia.marchetti@northwind.example"]]

        sink.refuse_recipients.clear()  # the address works again
        retry = await create_calendar_event.ainvoke({**CALL, "env": env})
        assert (
            "Already invited earlier (not sent again): sofia.marchetti@northwind.example."
            in (retry["content"])
        )
        assert "Invitation sent to owen@northwind.example." in retry["content"]
        assert [m.rcpt_tos for m in sink.wait_for(2)] == [
            ["sofia.marchetti@northwind.example"],
            ["owen@northwind.example"],
        ]
        [stored] = stored_events(env)
        assert str(stored["X-SMART-INBOX-INVITED"]) == (
            "sofia.marchetti@northwind.example,owen@northwind.example"
        )


async def test_a_dead_smtp_server_leaves_the_event_and_says_so(tmp_path: Path) -> None:
    sink = SmtpSink()  # never started: nothing listens on its port
    env = make_env(tmp_path, sink)
    with pytest.raises(ToolFailure, match="connection refused") as failure:
        await create_calendar_event.ainvoke({**CALL, "env": env})
    assert "The event exists" in str(failure.value)
    [stored] = stored_events(env)
    assert "X-SMART-INBOX-INVITED" not in stored
