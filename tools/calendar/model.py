"""Calendar events as the product sees them, and their iCalendar (RFC 5545) form.

Both calendars (the local file and CalDAV) hold iCalendar data; this module is the one place
that turns it into `CalendarEvent`s (recurrences expanded) and busy `Interval`s, and turns a
new event back into a VEVENT.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

import icalendar
import recurring_ical_events

PRODID = "-//Smart Inbox Agent//Calendar//EN"
UID_DOMAIN = "smart-inbox.local"
INVITED_PROPERTY = "X-SMART-INBOX-INVITED"
"""On a stored event: the attendees an invitation mail was sent to, so a retry sends only
the missing ones."""


@dataclass(frozen=True)
class Attendee:
    """Someone invited to an event."""

    address: str
    """Lower-cased e-mail address."""
    name: str = ""

    def display(self) -> str:
        """`Name <address>`, or the address alone."""
        return f"{self.name} <{self.address}>" if self.name else self.address


@dataclass(frozen=True)
class CalendarEvent:
    """One event, or one occurrence of a recurring event."""

    uid: str
    title: str
    start: datetime | date
    """Aware datetime, or a date for an all-day event."""
    end: datetime | date
    """Exclusive end: aware datetime, or the day after the last day of an all-day event."""
    description: str = ""
    location: str = ""
    organizer: str = ""
    """The organizer's address, empty when there is none."""
    attendees: tuple[Attendee, ...] = ()
    busy: bool = True
    """False for events marked free (TRANSP:TRANSPARENT) or cancelled."""
    invited: tuple[str, ...] = ()
    """Attendee addresses an invitation was sent to (events this product created)."""

    @property
    def all_day(self) -> bool:
        """True when the event spans whole days rather than times."""
        return not isinstance(self.start, datetime)


@dataclass(frozen=True, order=True)
class Interval:
    """A stretch of time between two aware instants, e.g. one busy event or one free slot.

    Kept in UTC, so comparisons and arithmetic are in real time even across a DST change
    (Python compares two times of the same zone by their wall clock); show it with
    `astimezone(zone)`.
    """

    start: datetime
    end: datetime
    title: str = field(default="", compare=False)
    """What the stretch is (the event's title for busy time)."""
    all_day: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("an interval needs aware datetimes")
        object.__setattr__(self, "start", self.start.astimezone(UTC))
        object.__setattr__(self, "end", self.end.astimezone(UTC))

    @property
    def duration(self) -> timedelta:
        """How long it lasts."""
        return self.end - self.start

    def overlaps(self, other: Interval) -> bool:
        """True when the two share any time (touching ends do not overlap)."""
        return self.start < other.end and other.start < self.end


def event_uid(
    *, organizer: str, title: str, start: datetime, end: datetime, attendees: Iterable[str]
) -> str:
    """The UID of an event created from these arguments: the same arguments, the same UID.

    A retried call (after a timeout, a crash, a resume) therefore finds the event it already
    created instead of adding a second one. The description is left out on purpose: a
    re-proposed call may word it differently and is still the same meeting.
    """
    key = {
        "organizer": organizer.strip().lower(),
        "title": " ".join(title.split()).casefold(),
        "start": start.astimezone(UTC).isoformat(),
        "end": end.astimezone(UTC).isoformat(),
        "attendees": sorted({a.strip().lower() for a in attendees}),
    }
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
    return f"{digest[:32]}@{UID_DOMAIN}"


def new_calendar() -> icalendar.Calendar:
    """An empty VCALENDAR with our PRODID."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    return calendar


def _address(value: object) -> str:
    text = str(value).strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :]
    return text.strip().lower()


def _as_instant(value: datetime | date, zone: tzinfo) -> datetime:
    """An aware instant; floating times and dates are read in the user's zone."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=zone)
    return datetime.combine(value, time(0), tzinfo=zone)


def from_vevent(component: icalendar.cal.Component, zone: tzinfo) -> CalendarEvent:
    """A VEVENT (or one expanded occurrence) as a `CalendarEvent`; floating times in `zone`.

    Raises:
        ValueError: the component is no VEVENT or has no usable start.

    """
    if not isinstance(component, icalendar.Event):
        raise ValueError(f"a {component.name} is not an event")
    start = component.start
    try:
        end = component.end
    except icalendar.error.InvalidCalendar:
        end = start
    if isinstance(start, datetime) and start.tzinfo is None:
        start = start.replace(tzinfo=zone)
    if isinstance(end, datetime) and end.tzinfo is None:
        end = end.replace(tzinfo=zone)
    if isinstance(start, datetime) != isinstance(end, datetime):
        end = _as_instant(end, zone) if isinstance(start, datetime) else end
    attendees = tuple(
        Attendee(address=_address(a), name=str(a.params.get("CN", "")))
        for a in _as_list(component.get("ATTENDEE"))
    )
    invited = tuple(
        _address(part)
        for value in _as_list(component.get(INVITED_PROPERTY))
        for part in str(value).split(",")
        if part.strip()
    )
    transparent = str(component.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT"
    cancelled = str(component.get("STATUS", "")).upper() == "CANCELLED"
    organizer = component.get("ORGANIZER")
    return CalendarEvent(
        uid=str(component.get("UID", "")),
        title=str(component.get("SUMMARY", "")),
        start=start,
        end=end,
        description=str(component.get("DESCRIPTION", "")),
        location=str(component.get("LOCATION", "")),
        organizer=_address(organizer) if organizer else "",
        attendees=attendees,
        busy=not (transparent or cancelled),
        invited=invited,
    )


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def to_vevent(event: CalendarEvent, *, stamp: datetime, for_invitation: bool) -> icalendar.Event:
    """The VEVENT of an event this product creates.

    Times are written in UTC (`...Z`), which every client reads without a VTIMEZONE. The
    stored copy marks each attendee `SCHEDULE-AGENT=CLIENT` (RFC 6638): this product sends
    the invitations itself, so a CalDAV server must not mail them a second time. The
    invitation copy leaves that and the record of sent invitations out.
    """
    vevent = icalendar.Event()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", stamp.astimezone(UTC))
    for name, value in (("dtstart", event.start), ("dtend", event.end)):
        vevent.add(name, value.astimezone(UTC) if isinstance(value, datetime) else value)
    vevent.add("summary", event.title)
    if event.description:
        vevent.add("description", event.description)
    if event.location:
        vevent.add("location", event.location)
    vevent.add("sequence", 0)
    vevent.add("status", "CONFIRMED")
    vevent.add("transp", "OPAQUE" if event.busy else "TRANSPARENT")
    if event.organizer:
        organizer = icalendar.vCalAddress(f"mailto:{event.organizer}")
        vevent.add("organizer", organizer)
    for attendee in event.attendees:
        address = icalendar.vCalAddress(f"mailto:{attendee.address}")
        if attendee.name:
            address.params["CN"] = attendee.name
        address.params["CUTYPE"] = "INDIVIDUAL"
        address.params["ROLE"] = "REQ-PARTICIPANT"
        address.params["PARTSTAT"] = "NEEDS-ACTION"
        address.params["RSVP"] = "TRUE"
        if not for_invitation:
            address.params["SCHEDULE-AGENT"] = "CLIENT"
        vevent.add("attendee", address)
    if event.invited and not for_invitation:
        vevent.add(INVITED_PROPERTY, ",".join(event.invited))
    return vevent


def occurrences(
    calendars: Iterable[icalendar.Calendar], start: datetime, end: datetime, zone: tzinfo
) -> list[CalendarEvent]:
    """Every event occurrence between `start` and `end`, recurrences expanded, sorted by start.

    Raises:
        ValueError: the data cannot be expanded (a broken recurrence rule, say).

    """
    found: list[CalendarEvent] = []
    for calendar in calendars:
        try:
            expanded = recurring_ical_events.of(calendar).between(start, end)
        except (recurring_ical_events.InvalidCalendar, ValueError, TypeError) as err:
            raise ValueError(f"cannot expand the events: {err}") from err
        for component in expanded:
            if component.name == "VEVENT":
                found.append(from_vevent(component, zone))
    found.sort(key=lambda e: (_as_instant(e.start, zone), e.uid))
    return found


def busy_intervals(events: Iterable[CalendarEvent], zone: tzinfo) -> list[Interval]:
    """The busy time of `events` (free and cancelled ones left out), all-day ones as whole days."""
    intervals = []
    for event in events:
        if not event.busy:
            continue
        start, end = _as_instant(event.start, zone), _as_instant(event.end, zone)
        if end <= start:
            end = start + (timedelta(days=1) if event.all_day else timedelta(0))
        if end > start:
            intervals.append(Interval(start, end, event.title, event.all_day))
    return sorted(intervals)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Overlapping or touching intervals joined, in order (titles joined with `; `)."""
    merged: list[Interval] = []
    for item in sorted(intervals):
        if merged and item.start <= merged[-1].end:
            last = merged[-1]
            titles = "; ".join(t for t in (last.title, item.title) if t)
            merged[-1] = Interval(last.start, max(last.end, item.end), titles, last.all_day)
        else:
            merged.append(item)
    return merged
