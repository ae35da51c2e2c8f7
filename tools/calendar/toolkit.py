"""The calendar as a toolkit: its tools, its environment from the configuration, its cards.

The local calendar file is always there by default; a configuration that cannot be used (a
time zone that does not exist, working hours that end before they start, `CALDAV_URL`
without `CALDAV_USER`) leaves the toolkit absent with the reason, never a crashed run.
Reading is level 0; creating an event mails invitations, so it waits on a card written here
from the real arguments.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from memory.credential_cipher import VaultError
from memory.keys import KeySourceError
from memory.secrets import SecretLookup
from tools.calendar.backend import CalendarError
from tools.calendar.google import sends_invitations
from tools.calendar.invitation import when_text
from tools.calendar.meeting_request import read_meeting_request, requested_time_of
from tools.calendar.model import CalendarEvent, Interval, busy_intervals
from tools.calendar.outlook import OutlookCalendar
from tools.calendar.scheduling import CalendarEnv, calendar_env, invitation_problem, plan_event
from tools.calendar.settings import CALDAV_PASSWORD_SECRET, CalendarConfigError
from tools.calendar.slots import slot_problem
from tools.calendar.tools import CALENDAR_TOOLS, READ_ONLY_CALENDAR_TOOLS
from tools.http import HttpSettings
from tools.mail.mailbox import NO_SMTP_URL, MailboxEnv, missing_for_sending, outbox_note
from tools.mail.model import Email
from tools.toolkit import ActionPreview, Toolkit

logger = logging.getLogger(__name__)

CREATE_TOOL = "create_calendar_event"
NO_ORGANIZER = (
    "creating calendar events needs your address as their organizer: set SMTP_FROM or "
    "SMART_INBOX_USER_EMAILS"
)
NO_EVENT = "no event will be created (an event without attendees needs no mail)"
EVENT_ARGS = ("title", "start", "end", "attendees", "description", "in_reply_to_id")


def calendar_toolkit(
    mail: MailboxEnv,
    home: Path,
    environ: Mapping[str, str],
    secrets: SecretLookup,
    http: HttpSettings | None = None,
) -> Toolkit:
    """The calendar tools on the configured calendar, or the toolkit absent with why.

    `create_calendar_event` waits on a card (level 1) and says which mail it answers, so the
    sender of a message the user pointed to is theirs to invite (see `graph/provenance.py`).
    The toolkit bounds its own time (CalDAV and SMTP timeouts per request): cutting a call
    short could not stop its worker thread, and an invitation could go out after the call was
    reported as timed out.
    """
    base = Toolkit(
        name="calendar",
        tools=CALENDAR_TOOLS,
        read_only=READ_ONLY_CALENDAR_TOOLS,
        answers={CREATE_TOOL: "in_reply_to_id"},
        timeout=None,
    )
    try:
        env = calendar_env(mail, home, environ, secrets=_calendar_secrets(secrets), retry=http)
        caldav = env.settings.caldav
        if caldav is not None and not secrets(CALDAV_PASSWORD_SECRET):
            raise CalendarConfigError(
                f"CALDAV_URL is set but there is no password for {caldav.username}: set "
                f"CALDAV_PASSWORD (credential {CALDAV_PASSWORD_SECRET})"
            )
    except CalendarConfigError as err:
        logger.warning("the calendar is left out: %s", err)
        return replace(base, missing=f"the calendar is not configured: {err}")
    unavailable = {} if env.organizer else {CREATE_TOOL: no_organizer(env.mail)}
    return replace(
        base,
        env=env,
        unavailable=unavailable,
        preview=lambda name, args: preview(env, name, args),
    )


def no_organizer(mail: MailboxEnv) -> str:
    """Why events cannot be created without your address, with all that invitations lack too."""
    if NO_SMTP_URL in missing_for_sending(mail):
        return f"{NO_ORGANIZER}; invitations to attendees also need SMTP_URL: {NO_SMTP_URL.how}"
    return NO_ORGANIZER


def _calendar_secrets(secrets: SecretLookup) -> SecretLookup:
    """The lookup, with a stored credential that cannot be read as a calendar error.

    The CalDAV password is looked up at each request; a vault whose key is wrong must end
    that call with one sentence, like any other calendar failure.
    """

    def lookup(name: str) -> str | None:
        try:
            return secrets(name)
        except (VaultError, KeySourceError) as err:
            raise CalendarError(f"the credential {name} cannot be read: {err}") from err

    return lookup


def preview(env: CalendarEnv, name: str, args: dict[str, Any]) -> ActionPreview | None:
    """The card of `create_calendar_event`: what, when (in the user's zone), who, which mail.

    Blocking (reads the mailbox and the calendar); a call that would fail says why instead.
    """
    if name != CREATE_TOOL:
        return None
    event, original = plan_event(env, **{k: str(args.get(k) or "") for k in EVENT_ARGS})
    attendees = ", ".join(a.display() for a in event.attendees)
    fields = [
        ("Title", event.title),
        ("When", when_text(event, env.zone)),
        ("Calendar", env.calendar.description),
        ("Attendees", attendees or "none: only you"),
    ]
    if original is not None:
        fields.append(
            (
                "In reply to",
                f"{original.subject or '(no subject)'} — {original.sender} [msg:{original.id}]",
            )
        )
    if event.attendees:
        threaded = ", threaded under that mail" if original is not None else ""
        fields.append(
            (
                "Invitations",
                f"one mail from {env.mail.sender} to each attendee ({len(event.attendees)}), "
                f"with the event to accept or decline{threaded}",
            )
        )
    else:
        fields.append(("Invitations", "none: no attendees, nothing is mailed"))
    notes = [
        *_delivery_notes(env, event),
        *_time_notes(env, event),
        *_request_notes(env, event, original),
    ]
    count = len(event.attendees)
    invite = f" and invite {count} attendee{'s' if count > 1 else ''}" if count else ""
    return ActionPreview(
        title=f"Schedule “{event.title}”{invite}",
        fields=tuple(fields),
        content=event.description,
        notes=tuple(notes),
    )


def _delivery_notes(env: CalendarEnv, event: CalendarEvent) -> list[str]:
    """A setting the invitations still lack (said now, not after Approve), or the demo outbox."""
    if not event.attendees:
        return []
    if sends_invitations(env.calendar):
        return [f"The invitations are mailed by {env.calendar.description}, not from here"]
    if isinstance(env.calendar, OutlookCalendar):
        return [f"Exchange mails the invitations from {env.calendar.description}"]
    problem = invitation_problem(env.mail, so=NO_EVENT)
    if problem:
        return [f"This call will fail: {problem}"]
    if env.mail.smtp is None:
        return [outbox_note(env.mail)] if env.mail.outbox is not None else []
    if env.mail.smtp.password_problem:
        return [f"The invitations will fail until it is fixed: {env.mail.smtp.password_problem}"]
    return []


def _time_notes(env: CalendarEnv, event: CalendarEvent) -> list[str]:
    """Conflicts with the calendar, and a time outside working hours."""
    if not isinstance(event.start, datetime) or not isinstance(event.end, datetime):
        return []
    span = Interval(event.start, event.end)
    try:
        others = env.calendar.events_between(event.start, event.end)
    except CalendarError as err:
        return [f"Could not check the calendar for conflicts: {err}"]
    notes = [
        f"Overlaps “{other.title or '(no title)'}” ({when_text(other, env.zone)}) in your calendar"
        for other in others
        if other.uid != event.uid
        and any(b.overlaps(span) for b in busy_intervals([other], env.zone))
    ]
    # `now` at the start: the past is `plan_event`'s to refuse, not a note's.
    problem = slot_problem(
        span, busy=[], zone=env.zone, hours=env.settings.working_hours, now=event.start
    )
    if problem:
        notes.append(f"Outside your working time: {problem}")
    return notes


def _request_notes(env: CalendarEnv, event: CalendarEvent, original: Email | None) -> list[str]:
    """Whether the mail answered asked for this time (the invitation is then its answer)."""
    if original is None or not isinstance(event.start, datetime):
        return []
    if not isinstance(event.end, datetime):
        return []
    request = read_meeting_request(
        original, zone=env.zone, own_addresses=env.mail.user_addresses, now=env.now()
    )
    asked = requested_time_of(request, event.start, event.end)
    if asked is not None:
        return [f"The mail asked for this time (“{asked.text}”)"]
    if request.requested:
        return ["The mail did not propose this time: the invitation suggests a new one"]
    return []
