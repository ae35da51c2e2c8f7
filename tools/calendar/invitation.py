"""Invitations: the iTIP REQUEST (RFC 5546) for an event, mailed to each attendee (iMIP, RFC 6047).

The mail carries a readable text part, the `text/calendar; method=REQUEST` part calendar
programs act on (accept / decline), and the same calendar as an `invite.ics` attachment for
the ones that only look at attachments.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from email.message import EmailMessage

import icalendar

from tools.calendar.model import Attendee, CalendarEvent, new_calendar, to_vevent
from tools.calendar.settings import zone_name
from tools.mail.compose import new_message
from tools.mail.model import Email


def when_text(event: CalendarEvent, zone: tzinfo) -> str:
    """`Tue 24 Nov 2026, 10:00-10:30 (Europe/Berlin)` in the user's zone."""
    if not isinstance(event.start, datetime) or not isinstance(event.end, datetime):
        return f"{event.start:%a %d %b %Y} (all day)"
    start, end = event.start.astimezone(zone), event.end.astimezone(zone)
    if start.date() == end.date():
        return f"{start:%a %d %b %Y}, {start:%H:%M}-{end:%H:%M} ({zone_name(zone)})"
    return f"{start:%a %d %b %Y %H:%M} - {end:%a %d %b %Y %H:%M} ({zone_name(zone)})"


def invitation_calendar(event: CalendarEvent, *, stamp: datetime) -> icalendar.Calendar:
    """The iTIP REQUEST: a VCALENDAR with `METHOD:REQUEST`.

    It holds the event, its organizer and its attendees.
    """
    calendar = new_calendar()
    calendar.add("method", "REQUEST")
    calendar.add_component(to_vevent(event, stamp=stamp, for_invitation=True))
    return calendar


def invitation_text(event: CalendarEvent, zone: tzinfo) -> str:
    """The readable part of the invitation."""
    lines = [
        f"{event.organizer} invites you to: {event.title}",
        "",
        f"When: {when_text(event, zone)}",
        "Who: " + ", ".join([event.organizer, *(a.display() for a in event.attendees)]),
    ]
    if event.location:
        lines.append(f"Where: {event.location}")
    if event.description:
        lines += ["", event.description.strip()]
    lines += [
        "",
        "The invitation is attached: your calendar program can accept or decline it.",
    ]
    return "\n".join(lines) + "\n"


def invitation_message(
    event: CalendarEvent,
    *,
    attendee: Attendee,
    sender: str,
    zone: tzinfo,
    stamp: datetime,
    in_reply_to: Email | None = None,
) -> EmailMessage:
    """The invitation mail to one attendee, threaded under `in_reply_to` when given."""
    message = new_message(
        sender=sender,
        to=[attendee.display()],
        subject=f"Invitation: {event.title} @ {when_text(event, zone)}",
        body=invitation_text(event, zone),
    )
    ics = invitation_calendar(event, stamp=stamp).to_ical().decode("utf-8")
    message.add_alternative(ics, subtype="calendar", params={"method": "REQUEST"})
    message.add_attachment(
        ics.encode("utf-8"), maintype="application", subtype="ics", filename="invite.ics"
    )
    if in_reply_to is not None and (reference := in_reply_to.reply_reference):
        message["In-Reply-To"] = f"<{reference}>"
        chain = [r for r in in_reply_to.references if r != reference][-20:]
        message["References"] = " ".join(f"<{r}>" for r in (*chain, reference))
    return message
