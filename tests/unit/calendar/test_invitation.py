"""The invitation mail: a valid iTIP REQUEST with the organizer and attendees, readable text, threading."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import cast
from zoneinfo import ZoneInfo

import icalendar

from tools.calendar.invitation import invitation_calendar, invitation_message, when_text
from tools.calendar.model import Attendee, CalendarEvent
from tools.mail.model import Email

BERLIN = ZoneInfo("Europe/Berlin")
EVENT = CalendarEvent(
    uid="0123abcd@smart-inbox.local",
    title="Q1 roadmap",
    start=datetime(2026, 11, 24, 10, tzinfo=BERLIN),
    end=datetime(2026, 11, 24, 10, 30, tzinfo=BERLIN),
    description="Go over the Q1 roadmap draft.",
    organizer="dana@northwind.example",
    attendees=(
        Attendee("sofia.marchetti@northwind.example", "Sofia Marchetti"),
        Attendee("owen@northwind.example"),
    ),
    invited=("owen@northwind.example",),
)
STAMP = datetime(2026, 11, 16, 9, tzinfo=UTC)
REQUEST = Email(
    id="CAF9s0fia.Q1road.20261116@mail.northwind.example",
    source="maildir:x",
    folder="INBOX",
    key="k",
    from_name="Sofia Marchetti",
    from_addr="sofia.marchetti@northwind.example",
    subject="30 min on Tue 24 Nov 10:00-10:30 for the Q1 roadmap?",
    references=("earlier@mail.northwind.example",),
)


def sent_form(message: EmailMessage) -> EmailMessage:
    """The message as it travels and is read back by the receiving side."""
    return cast(EmailMessage, email.message_from_bytes(bytes(message), policy=email.policy.default))


def test_the_itip_request_is_valid_icalendar_with_method_request() -> None:
    calendar = invitation_calendar(EVENT, stamp=STAMP)
    parsed = icalendar.Calendar.from_ical(calendar.to_ical())
    assert str(parsed["METHOD"]) == "REQUEST"
    assert str(parsed["VERSION"]) == "2.0"
    assert all(not c.errors for c in parsed.walk())
    [vevent] = parsed.walk("VEVENT")
    assert str(vevent["UID"]) == EVENT.uid
    assert vevent.start == datetime(2026, 11, 24, 9, tzinfo=UTC)
    assert vevent.end == datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    assert vevent["DTSTAMP"].dt == STAMP
    assert int(vevent["SEQUENCE"]) == 0
    assert str(vevent["ORGANIZER"]) == "mailto:dana@northwind.example"
    attendees = vevent["ATTENDEE"]
    assert [str(a) for a in attendees] == [
        "mailto:sofia.marchetti@northwind.example",
        "mailto:owen@northwind.example",
    ]
    assert attendees[0].params["CN"] == "Sofia Marchetti"
    for attendee in attendees:
        assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
        assert attendee.params["RSVP"] == "TRUE"
        assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
        assert "SCHEDULE-AGENT" not in attendee.params
    assert "X-SMART-INBOX-INVITED" not in vevent


def test_the_mail_carries_text_the_calendar_part_and_an_attachment() -> None:
    message = sent_form(
        invitation_message(
            EVENT,
            attendee=EVENT.attendees[0],
            sender="dana@northwind.example",
            zone=BERLIN,
            stamp=STAMP,
        )
    )
    assert message["From"] == "dana@northwind.example"
    assert message["To"] == "Sofia Marchetti <sofia.marchetti@northwind.example>"
    assert message["Subject"] == (
        "Invitation: Q1 roadmap @ Tue 24 Nov 2026, 10:00-10:30 (Europe/Berlin)"
    )
    assert message.get_content_type() == "multipart/mixed"
    parts = {part.get_content_type(): part for part in message.walk()}
    text = parts["text/plain"].get_content()
    assert "dana@northwind.example invites you to: Q1 roadmap" in text
    assert "When: Tue 24 Nov 2026, 10:00-10:30 (Europe/Berlin)" in text
    assert "Go over the Q1 roadmap draft." in text
    calendar_part = parts["text/calendar"]
    assert calendar_part.get_param("method") == "REQUEST"
    assert calendar_part.get_content_charset() == "utf-8"
    inline = icalendar.Calendar.from_ical(calendar_part.get_content())
    attached = parts["application/ics"]
    assert attached.get_filename() == "invite.ics"
    assert icalendar.Calendar.from_ical(attached.get_content()).to_ical() == inline.to_ical()
    assert str(inline["METHOD"]) == "REQUEST"
    assert "In-Reply-To" not in message


def test_an_invitation_answering_a_meeting_request_is_threaded_under_it() -> None:
    message = sent_form(
        invitation_message(
            EVENT,
            attendee=EVENT.attendees[0],
            sender="dana@northwind.example",
            zone=BERLIN,
            stamp=STAMP,
            in_reply_to=REQUEST,
        )
    )
    assert message["In-Reply-To"] == f"<{REQUEST.id}>"
    assert message["References"] == f"<earlier@mail.northwind.example> <{REQUEST.id}>"


def test_when_text_is_in_the_users_zone() -> None:
    assert when_text(EVENT, ZoneInfo("America/New_York")) == (
        "Tue 24 Nov 2026, 04:00-04:30 (America/New_York)"
    )
