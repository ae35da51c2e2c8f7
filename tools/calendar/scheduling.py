"""The calendar behind the tools, their arguments read strictly, and events with invitations.

Plain async functions over a `CalendarEnv`, returning the `ToolResult` every native tool returns
(so the answer step sees them as evidence), with the same facts as plain `data` beside the text
(our MCP server returns it as structured content). Calendar and SMTP I/O blocks, so it runs in
`asyncio.to_thread`. A failure raises `ToolFailure` with a sentence the user can act on. Free
time (a day's free/busy, slots to offer) is `tools.calendar.free_time`.
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

from memory.secrets import SecretLookup
from tools.calendar.backend import Calendar, CalendarError
from tools.calendar.caldav import CalDavCalendar
from tools.calendar.google import GoogleCalendar, sends_invitations
from tools.calendar.invitation import invitation_message, when_text
from tools.calendar.local_file import LocalCalendar
from tools.calendar.model import Attendee, CalendarEvent, event_uid
from tools.calendar.outlook import OutlookCalendar, open_outlook_calendar
from tools.calendar.settings import CalendarSettings, calendar_settings_from_env
from tools.http import HttpSettings
from tools.language.dates import day_named
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
    """The calendar the settings name: Google, Outlook, CalDAV, else the local file.

    Google or Outlook when `SMART_INBOX_CALENDAR` names one, CalDAV when `CALDAV_URL` is set.
    `retry` bounds their retries (the integrations' `INTEGRATION_*` settings).
    """
    if settings.google is not None:
        return GoogleCalendar(settings.google, zone=settings.time_zone, retry=retry)
    if settings.outlook is not None:
        return open_outlook_calendar(settings.outlook, settings.time_zone, retry)
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


async def off_loop(function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run blocking calendar I/O in a thread; a `CalendarError` becomes a `ToolFailure`."""
    try:
        return await asyncio.to_thread(function, *args, **kwargs)
    except CalendarError as err:
        raise ToolFailure(str(err)) from err


# ---------------------------------------------------------------------------------------
# Reading arguments
# ---------------------------------------------------------------------------------------


def parse_day(text: str, today: date) -> date:
    """`2026-11-26`, `today`, `tomorrow` or a weekday (`thursday`: the next one, today included)."""
    day = day_named(text, today)
    if day is None:
        raise ToolFailure(
            f"{text!r} is not a day: give a date as YYYY-MM-DD, today, tomorrow or a weekday"
        )
    return day


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
    invites_itself = sends_invitations(env.calendar) or isinstance(env.calendar, OutlookCalendar)
    if event.attendees and problem and not invites_itself:
        raise ToolFailure(problem)
    event, text, created = await _store(env, event)
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
        text, data=event_data(env, event, created=created, in_reply_to=in_reply_to_id)
    )


async def _store(env: CalendarEnv, event: CalendarEvent) -> tuple[CalendarEvent, str, bool]:
    """Save the event unless it is there already (a retry); the text says which."""
    where = env.calendar.description
    existing = await off_loop(env.calendar.get_event, event.uid)
    if existing is None:
        if sends_invitations(env.calendar):  # the calendar mails them: none of ours
            event = replace(event, invited=tuple(a.address for a in event.attendees))
        await off_loop(env.calendar.save_event, event)
        text = (
            f"Created “{event.title}” on {when_text(event, env.zone)} in {where} (UID {event.uid})."
        )
        if sends_invitations(env.calendar) and event.attendees:
            text += f" The calendar mailed the invitations to {', '.join(event.invited)}."
        if isinstance(env.calendar, OutlookCalendar) and event.attendees:
            event = replace(event, invited=tuple(a.address for a in event.attendees))
            text += f" Outlook sent the invitations to {', '.join(event.invited)}."
    else:
        event = replace(event, invited=existing.invited)
        text = (
            f"“{event.title}” on {when_text(event, env.zone)} was already in {where} "
            f"(UID {event.uid}); it was not created again."
        )
    return event, text, existing is None


def _invited_text(mail: MailboxEnv, sent: list[str]) -> str:
    """Who was invited, and where the invitations went when that is not a mail server."""
    if mail.smtp is None and mail.outbox is not None:
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
        "calendar": calendar_kind(env.settings),
        "created": created,
    }


def calendar_kind(settings: CalendarSettings) -> str:
    """`google`, `outlook`, `caldav` or `file`: which calendar the settings name."""
    if settings.google is not None:
        return "google"
    return "outlook" if settings.outlook else "caldav" if settings.caldav else "file"


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
