"""What the calendar tools do: free/busy for a day, slots to propose, an event with invitations.

Plain async functions over a `CalendarEnv`, returning the `ToolResult` every native tool returns
(so the answer step sees them as evidence), with the same facts as plain `data` beside the text
(our MCP server returns it as structured content). Calendar and SMTP I/O blocks, so it runs in
`asyncio.to_thread`. A failure raises `ToolFailure` with a sentence the user can act on.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from tools.calendar.backend import Calendar, CalendarError
from tools.calendar.caldav import CalDavCalendar
from tools.calendar.invitation import invitation_message, when_text
from tools.calendar.local_file import LocalCalendar
from tools.calendar.meeting_request import (
    DEFAULT_COUNT,
    MeetingProposal,
    propose_slots,
    read_meeting_request,
    render_proposal,
    search_window,
    slot_text,
)
from tools.calendar.model import Attendee, CalendarEvent, Interval, busy_intervals, event_uid
from tools.calendar.settings import (
    CalendarSettings,
    SecretLookup,
    calendar_settings_from_env,
    local_day_bounds,
)
from tools.calendar.slots import find_slots, free_stretches
from tools.http import HttpSettings
from tools.mail.delivery import deliver
from tools.mail.mailbox import MailboxEnv, how_to, missing_for_sending, what_is_missing
from tools.mail.model import Email
from tools.toolkit import ToolFailure, ToolResult, text_result

logger = logging.getLogger(__name__)

MAX_COUNT = 10
MAX_RANGE_DAYS = 62
MAX_EVENT_LENGTH = timedelta(days=14)
PAST_GRACE = timedelta(minutes=5)
"""An event may start this much in the past (the card took a moment to approve)."""

P = ParamSpec("P")
R = TypeVar("R")


def open_calendar(settings: CalendarSettings, retry: HttpSettings | None = None) -> Calendar:
    """The calendar the settings name: CalDAV when `CALDAV_URL` is set, else the local file.

    `retry` bounds CalDAV's retries (the integrations' `INTEGRATION_*` settings).
    """
    if settings.caldav is not None:
        return CalDavCalendar(settings.caldav, zone=settings.time_zone, retry=retry)
    return LocalCalendar(settings.calendar_file, zone=settings.time_zone)


@dataclass(frozen=True)
class CalendarEnv:
    """What the calendar tools need at run time, injected by `act` and never seen by the model."""

    calendar: Calendar
    settings: CalendarSettings
    mail: MailboxEnv
    """For invitations (SMTP, the user's address, the Sent copy) and reading meeting requests."""
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    @property
    def zone(self) -> tzinfo:
        """The user's time zone."""
        return self.settings.time_zone

    @property
    def organizer(self) -> str:
        """The user's address (from `SMTP_FROM`, which may carry a name): the events' organizer."""
        return parseaddr(self.mail.sender)[1].strip().lower()

    def now(self) -> datetime:
        """The current time, aware."""
        return self.clock().astimezone(UTC)


def calendar_env(
    mail: MailboxEnv,
    home: Path,
    environ: Mapping[str, str] | None = None,
    *,
    secrets: SecretLookup | None = None,
    retry: HttpSettings | None = None,
) -> CalendarEnv:
    """The calendar environment from the configuration (`CalendarConfigError` when unusable)."""
    settings = calendar_settings_from_env(
        home, os.environ if environ is None else environ, secrets=secrets
    )
    return CalendarEnv(calendar=open_calendar(settings, retry), settings=settings, mail=mail)


async def _off_loop(function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run blocking calendar I/O in a thread; a `CalendarError` becomes a `ToolFailure`."""
    try:
        return await asyncio.to_thread(function, *args, **kwargs)
    except CalendarError as err:
        raise ToolFailure(str(err)) from err


# ---------------------------------------------------------------------------------------
# Reading arguments
# ---------------------------------------------------------------------------------------

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_day(text: str, today: date) -> date:
    """`2026-11-26`, `today`, `tomorrow`, or a weekday (`thursday`: the next one, today included)."""
    value = " ".join(text.strip().lower().split())
    if value in ("", "today"):
        return today
    if value == "tomorrow":
        return today + timedelta(days=1)
    match = re.fullmatch(r"(?:(next|this|on) )?([a-z]+)", value)
    if match and match.group(2)[:3] in [w[:3] for w in _WEEKDAYS]:
        weekday = [w[:3] for w in _WEEKDAYS].index(match.group(2)[:3])
        ahead = (weekday - today.weekday()) % 7
        if match.group(1) == "next" and ahead == 0:
            ahead = 7
        return today + timedelta(days=ahead)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ToolFailure(
            f"{text!r} is not a day: give a date as YYYY-MM-DD, today, tomorrow or a weekday"
        ) from None


def parse_instant(text: str, zone: tzinfo, what: str) -> datetime:
    """An ISO 8601 date and time; without an offset it is in the user's zone."""
    try:
        value = datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError:
        raise ToolFailure(
            f"{what} {text!r} is not a date and time: use YYYY-MM-DDTHH:MM, e.g. 2026-11-24T10:00"
        ) from None
    if len(text.strip()) <= 10:
        raise ToolFailure(f"{what} {text!r} has no time of day: use YYYY-MM-DDTHH:MM")
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


def parse_attendees(text: str, *, own: tuple[str, ...]) -> tuple[Attendee, ...]:
    """Comma-separated `Name <address>` or addresses, each once, without the user's own."""
    mine = {a.lower() for a in own if a}
    found: dict[str, Attendee] = {}
    named = 0
    for name, address in getaddresses([text.replace(";", ",")]):
        address = address.strip().lower()
        if not address:
            continue
        named += 1
        if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", address):
            raise ToolFailure(f"{address!r} is not an e-mail address")
        if address not in mine:
            found.setdefault(address, Attendee(address, name.strip()))
    if text.strip() and not named:
        raise ToolFailure(f"no e-mail address in attendees {text!r}")
    return tuple(found.values())


# ---------------------------------------------------------------------------------------
# Free/busy for a day
# ---------------------------------------------------------------------------------------


def _instants(interval: Interval, zone: tzinfo) -> dict[str, str]:
    """`{"start", "end"}` as ISO 8601 in the user's zone, as the text writes them."""
    return {
        "start": interval.start.astimezone(zone).isoformat(),
        "end": interval.end.astimezone(zone).isoformat(),
    }


def _span(interval: Interval, zone: tzinfo) -> str:
    start, end = interval.start.astimezone(zone), interval.end.astimezone(zone)
    return f"{start:%H:%M}-{end:%H:%M} [{start.isoformat()}/{end.isoformat()}]"


async def day_availability(env: CalendarEnv, day: str) -> ToolResult:
    """Busy times of one day (in the user's zone) and the free stretches of its working hours."""
    zone, hours = env.zone, env.settings.working_hours
    wanted = parse_day(day, env.now().astimezone(zone).date())
    start, end = local_day_bounds(wanted, zone)
    events = await _off_loop(env.calendar.events_between, start, end)
    day_span = Interval(start, end)
    busy = [b for b in busy_intervals(events, zone) if b.overlaps(day_span)]
    lines = [
        f"Availability on {wanted:%a %d %b %Y} ({env.settings.zone_name}; working hours "
        f"{hours.describe()}, {hours.describe_days()}):"
    ]
    lines.append("Busy:" if busy else "Busy: nothing in the calendar.")
    for item in busy:
        title = f"“{item.title}”" if item.title else "(no title)"
        if item.all_day:
            lines.append(f"- all day {title}")
        else:
            lines.append(f"- {_span(item, zone)} {title}")
    working_day = hours.is_working_day(wanted)
    free = free_stretches(wanted, hours, zone, busy) if working_day else []
    if not working_day:
        lines.append(f"{wanted:%A} is not one of your working days.")
    else:
        lines.append("Free in working hours:" if free else "Free in working hours: none.")
        lines.extend(f"- {_span(item, zone)}" for item in free)
    data = {
        "day": wanted.isoformat(),
        "time_zone": env.settings.zone_name,
        "working_hours": hours.describe(),
        "working_days": hours.describe_days(),
        "working_day": working_day,
        "busy": [
            {**_instants(item, zone), "title": item.title, "all_day": item.all_day} for item in busy
        ],
        "free": [_instants(item, zone) for item in free],
    }
    return text_result("\n".join(lines), data=data)


# ---------------------------------------------------------------------------------------
# Slots to propose
# ---------------------------------------------------------------------------------------


async def meeting_slots(
    env: CalendarEnv,
    *,
    duration_minutes: int = 0,
    count: int = DEFAULT_COUNT,
    from_date: str = "",
    to_date: str = "",
    email_id: str = "",
) -> ToolResult:
    """Free slots in working hours; with `email_id`, an answer to that meeting request.

    For a meeting request, the mail's own times come first when they are free, then other
    free slots; its duration is used unless `duration_minutes` is given.
    """
    count = max(1, min(count, MAX_COUNT))
    if duration_minutes and not 5 <= duration_minutes <= 8 * 60:
        raise ToolFailure("duration_minutes must be between 5 and 480")
    now, zone, hours = env.now(), env.zone, env.settings.working_hours
    if email_id:
        email = await asyncio.to_thread(env.mail.db.get_email, email_id)
        if email is None:
            raise ToolFailure(f"no message with id {email_id!r} in the mailbox")
        # Off the loop too: reading a zone named in the mail loads it from disk the first time.
        request = await asyncio.to_thread(
            read_meeting_request, email, zone=zone, own_addresses=env.mail.user_addresses, now=now
        )
        if duration_minutes:
            request = replace(
                request,
                duration=timedelta(minutes=duration_minutes),
                duration_source="as asked",
            )
        window = search_window(request, now=now)
        events = await _off_loop(env.calendar.events_between, window.start, window.end)
        proposal = propose_slots(
            request, busy=busy_intervals(events, zone), zone=zone, hours=hours, now=now, count=count
        )
        return text_result(render_proposal(proposal, zone), data=proposal_data(proposal, env))
    today = now.astimezone(zone).date()
    first = parse_day(from_date, today) if from_date else today
    last = parse_day(to_date, today) if to_date else first + timedelta(days=13)
    if last < first:
        raise ToolFailure(f"to_date {last} is before from_date {first}")
    if (last - first).days > MAX_RANGE_DAYS:
        raise ToolFailure(f"look at most {MAX_RANGE_DAYS} days ahead at once")
    start, _ = local_day_bounds(first, zone)
    _, end = local_day_bounds(last, zone)
    events = await _off_loop(env.calendar.events_between, start, end)
    duration = timedelta(minutes=duration_minutes or 30)
    slots = find_slots(
        busy_intervals(events, zone),
        zone=zone,
        hours=hours,
        duration=duration,
        first_day=first,
        last_day=last,
        count=count,
        not_before=now,
    )
    minutes = int(duration.total_seconds() // 60)
    lines = [
        f"Free {minutes}-minute slots from {first:%a %d %b %Y} to {last:%a %d %b %Y} "
        f"({env.settings.zone_name}; working hours {hours.describe()}, {hours.describe_days()}):"
    ]
    if not slots:
        lines.append("- none: no free time of that length in your working hours")
    lines.extend(f"{n}. {slot_text(slot, zone)}" for n, slot in enumerate(slots, 1))
    data = {
        "time_zone": env.settings.zone_name,
        "duration_minutes": minutes,
        "from_date": first.isoformat(),
        "to_date": last.isoformat(),
        "email_id": "",
        "title": "",
        "attendees": [],
        "requested": [],
        "slots": [{**_instants(slot, zone), "asked_for": ""} for slot in slots],
        "notes": [],
    }
    return text_result("\n".join(lines), data=data)


def proposal_data(proposal: MeetingProposal, env: CalendarEnv) -> dict[str, Any]:
    """A meeting request's proposal as plain data: the same slots and checks as its text."""
    request, zone = proposal.request, env.zone
    return {
        "time_zone": env.settings.zone_name,
        "duration_minutes": int(request.duration.total_seconds() // 60),
        "email_id": request.email_id,
        "title": request.title,
        "attendees": [a.display() for a in request.attendees],
        "requested": [
            {"text": check.requested.text, "problem": check.problem} for check in proposal.checks
        ],
        "slots": [
            {**_instants(item.slot, zone), "asked_for": item.requested} for item in proposal.slots
        ],
        "notes": list(proposal.notes),
    }


# ---------------------------------------------------------------------------------------
# Creating an event and inviting
# ---------------------------------------------------------------------------------------


def plan_event(
    env: CalendarEnv,
    *,
    title: str,
    start: str,
    end: str,
    attendees: str = "",
    description: str = "",
    in_reply_to_id: str = "",
) -> tuple[CalendarEvent, Email | None]:
    """The event a `create_calendar_event` call would create, checked; and the mail it answers.

    Synchronous (it may read the mail database). Its UID comes from the arguments, so a retry
    of the same call finds the same event.
    """
    if not title.strip():
        raise ToolFailure("an event needs a title")
    zone = env.zone
    begins, ends = parse_instant(start, zone, "start"), parse_instant(end, zone, "end")
    if ends <= begins:
        raise ToolFailure(f"the end ({end}) must be after the start ({start})")
    if ends - begins > MAX_EVENT_LENGTH:
        raise ToolFailure("an event may last at most 14 days")
    if begins < env.now() - PAST_GRACE:
        raise ToolFailure(f"the start ({start}) is in the past")
    own = tuple(a for a in (env.organizer, *env.mail.user_addresses) if a)
    invitees = parse_attendees(attendees, own=own)
    original = None
    if in_reply_to_id:
        original = env.mail.db.get_email(in_reply_to_id)
        if original is None:
            raise ToolFailure(f"no message with id {in_reply_to_id!r} to answer with this event")
    uid = event_uid(
        organizer=env.organizer,
        title=title,
        start=begins,
        end=ends,
        attendees=[a.address for a in invitees],
    )
    event = CalendarEvent(
        uid=uid,
        title=" ".join(title.split()),
        start=begins.astimezone(zone),
        end=ends.astimezone(zone),
        description=description.strip(),
        organizer=env.organizer,
        attendees=invitees,
    )
    return event, original


def invitation_problem(mail: MailboxEnv, *, so: str) -> str:
    """Why invitations cannot be mailed here, what follows (`so`) and how to fix it; or ''."""
    missing = missing_for_sending(mail)
    if not missing:
        return ""
    return (
        f"invitations cannot be sent: {what_is_missing(missing)}, so {so}; "
        f"to invite, {how_to(missing)}"
    )


def describe_event(env: CalendarEnv, event: CalendarEvent) -> str:
    """What creating `event` does, in words, for an approval card."""
    lines = [
        f"Create “{event.title}” on {when_text(event, env.zone)} in {env.calendar.description}."
    ]
    if event.attendees:
        lines.append(
            f"An invitation mail from {env.organizer} goes to each attendee: "
            + ", ".join(a.display() for a in event.attendees)
            + "."
        )
    if event.description:
        lines.append(f"Description: {event.description}")
    return "\n".join(lines)


async def create_event(
    env: CalendarEnv,
    *,
    title: str,
    start: str,
    end: str,
    attendees: str = "",
    description: str = "",
    in_reply_to_id: str = "",
) -> ToolResult:
    """Store the event and mail each attendee an iTIP invitation; a retry repeats neither.

    The event is stored first (nobody is invited to an event that is not in the calendar);
    the attendees already invited are recorded on it, so a retry after a failed invitation
    sends only the missing ones. An event that is stored but whose invitations failed is a
    `ToolFailure` that says the event exists.
    """
    if not env.organizer:
        raise ToolFailure(
            "events need your address as organizer: set SMTP_FROM or SMART_INBOX_USER_EMAILS; "
            "no event was created"
        )
    event, original = await asyncio.to_thread(
        plan_event,
        env,
        title=title,
        start=start,
        end=end,
        attendees=attendees,
        description=description,
        in_reply_to_id=in_reply_to_id,
    )
    problem = invitation_problem(env.mail, so="no event was created")
    if event.attendees and problem:
        raise ToolFailure(problem)
    where = env.calendar.description
    existing = await _off_loop(env.calendar.get_event, event.uid)
    if existing is None:
        await _off_loop(env.calendar.save_event, event)
        text = (
            f"Created “{event.title}” on {when_text(event, env.zone)} in {where} (UID {event.uid})."
        )
    else:
        event = replace(event, invited=existing.invited)
        text = (
            f"“{event.title}” on {when_text(event, env.zone)} was already in {where} "
            f"(UID {event.uid}); it was not created again."
        )
    already = [a.address for a in event.attendees if a.address in event.invited]
    if already:
        text += f" Already invited earlier (not sent again): {', '.join(already)}."
    sent, failed = await _invite(env, event, original)
    if sent:
        text += _invited_text(env.mail, sent)
        event = replace(event, invited=(*event.invited, *sent))
        try:
            await asyncio.to_thread(env.calendar.save_event, event)
        except CalendarError as err:
            logger.warning("invitations sent, but not recorded on %s: %s", event.uid, err)
            text += f" (Could not record on the event that they were sent: {err}.)"
    if failed:
        reasons = "; ".join(f"{address}: {why}" for address, why in failed.items())
        raise ToolFailure(
            f"{text} Not invited: {reasons}. The event exists; running the same call again "
            "sends only the missing invitations."
        )
    return text_result(
        text, data=event_data(env, event, created=existing is None, in_reply_to=in_reply_to_id)
    )


def _invited_text(mail: MailboxEnv, sent: list[str]) -> str:
    """Who was invited, and where the invitations went when that is not a mail server."""
    if mail.smtp is None:
        return (
            f" Invitation delivered to the local demo outbox ({mail.outbox}) for "
            f"{', '.join(sent)}; nothing left this machine: set SMTP_URL to send for real."
        )
    return f" Invitation sent to {', '.join(sent)}."


def event_data(
    env: CalendarEnv, event: CalendarEvent, *, created: bool, in_reply_to: str = ""
) -> dict[str, Any]:
    """The event as plain data, kept with the call's result in the side-effect ledger.

    The `meeting_scheduled` webhook event and the Slack announcement are built from this,
    never from anyone's words. Times are ISO 8601 in the user's zone.
    """
    start, end = event.start, event.end
    return {
        "uid": event.uid,
        "title": event.title,
        "start": start.astimezone(env.zone).isoformat() if isinstance(start, datetime) else "",
        "end": end.astimezone(env.zone).isoformat() if isinstance(end, datetime) else "",
        "time_zone": env.settings.zone_name,
        "when": when_text(event, env.zone),
        "organizer": event.organizer,
        "attendees": [a.address for a in event.attendees],
        "invited": list(event.invited),
        "in_reply_to": in_reply_to,
        "calendar": "caldav" if env.settings.caldav is not None else "file",
        "created": created,
    }


async def _invite(
    env: CalendarEnv, event: CalendarEvent, original: Email | None
) -> tuple[list[str], dict[str, str]]:
    """Mail the invitation to each attendee not invited yet: (sent to, failed with why)."""
    sent: list[str] = []
    failed: dict[str, str] = {}
    stamp = env.now()
    for attendee in event.attendees:
        if attendee.address in event.invited:
            continue
        message = invitation_message(
            event,
            attendee=attendee,
            sender=env.mail.sender,
            zone=env.zone,
            stamp=stamp,
            in_reply_to=original,
        )
        try:
            # One part per attendee: a retry sends each the same invitation (same Message-ID).
            await asyncio.to_thread(
                deliver, env.mail, message, part=f"invitation:{attendee.address}"
            )
        except ToolFailure as err:
            failed[attendee.address] = str(err)
            continue
        sent.append(attendee.address)
    return sent, failed
