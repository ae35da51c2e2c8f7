"""The calendar on our MCP server: free/busy, meeting slots and events for any MCP client.

The tools are the chat's own (`tools.calendar.scheduling`), built by the calendar toolkit from
the same settings and secrets, so an MCP client sees the same calendar, working hours and
invitation rules as the chat. A calendar that cannot be used is left out, saying why, and the
mail tools go on.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, cast

from mcp.server.fastmcp import FastMCP
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from typing_extensions import TypedDict

from memory.credential_cipher import VaultError
from memory.keys import KeySourceError
from memory.secrets import secret_lookup
from tools.calendar.free_time import day_availability, meeting_slots
from tools.calendar.scheduling import CalendarEnv, create_event
from tools.calendar.toolkit import NO_ORGANIZER, calendar_toolkit
from tools.http import HttpSettings, HttpSettingsError
from tools.mail.mailbox import NO_SMTP_URL, MailboxEnv, missing_for_sending
from tools.toolkit import ToolResult
from ui.mcp_server.served_mailbox import ServedMailbox

logger = logging.getLogger(__name__)

CALENDAR_TOOL_NAMES = ("check_availability", "propose_meeting_slots", "create_calendar_event")

READING = ToolAnnotations(
    readOnlyHint=True, destructiveHint=False, idempotentHint=True, openWorldHint=False
)
SCHEDULING = ToolAnnotations(
    readOnlyHint=False, destructiveHint=False, idempotentHint=True, openWorldHint=True
)
"""Creating an event adds to the calendar and never overwrites or deletes anything; its UID
comes from its organizer, title, times and attendees (`tools.calendar.model.event_uid`), so the
same call again finds the event and sends no invitation twice. It mails other people: open world."""


class TimeSpan(TypedDict):
    """A stretch of time, ISO 8601 in the user's zone."""

    start: str
    end: str


class BusyTime(TypedDict):
    """Busy time of the calendar: an event (or an occurrence of one)."""

    start: str
    end: str
    title: str
    all_day: bool


class Availability(TypedDict):
    """One day of the calendar: what is busy, what is free in working hours."""

    day: str
    time_zone: str
    working_hours: str
    working_days: str
    working_day: bool
    busy: list[BusyTime]
    free: list[TimeSpan]
    """Free stretches inside working hours (none on a day off)."""


class OfferedSlot(TypedDict):
    """A slot to offer."""

    start: str
    end: str
    asked_for: str
    """The meeting request's own words when it asked for this time; empty otherwise."""


class RequestedTime(TypedDict):
    """A time the meeting request proposed, and why it is not offered (empty when free)."""

    text: str
    problem: str


class SearchedDays(TypedDict, total=False):
    """The days a plain search covered (a meeting request's answer has none)."""

    from_date: str
    to_date: str


class SlotProposal(SearchedDays):
    """Slots to propose: free ones, or an answer to a meeting request."""

    time_zone: str
    duration_minutes: int
    email_id: str
    """The meeting request answered; empty for a plain search."""
    title: str
    attendees: list[str]
    requested: list[RequestedTime]
    slots: list[OfferedSlot]
    notes: list[str]


class EventScheduled(TypedDict):
    """The event in the calendar, and who has been sent an invitation."""

    uid: str
    title: str
    start: str
    end: str
    time_zone: str
    when: str
    organizer: str
    attendees: list[str]
    invited: list[str]
    """Every attendee an invitation was sent to, by this call or an earlier one."""
    in_reply_to: str
    calendar: str
    """`file` or `caldav`."""
    created: bool
    """False when the same call had created it before (nothing was stored again)."""


@dataclass
class ServedCalendar:
    """The calendar a server serves, or why it is left out."""

    env: CalendarEnv | None
    missing: str = ""
    """Why the calendar is left out (a bad time zone, CalDAV without a login); empty when served."""
    creating: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    """One event at a time: a client that retries while its first call still runs must find
    the event made, not make and invite it a second time."""

    def notes(self) -> list[str]:
        """What a client should know before creating events here (a missing address or SMTP)."""
        if self.env is None:
            return []
        found = []
        if not self.env.organizer:
            found.append(f"create_calendar_event cannot run yet: {NO_ORGANIZER}")
        if NO_SMTP_URL in missing_for_sending(self.env.mail):
            found.append(
                "events with attendees cannot be created: SMTP_URL is not set, so no "
                "invitation can be sent (events without attendees can)"
            )
        return found


def open_served_calendar(
    mail: MailboxEnv, home: Path, environ: Mapping[str, str] | None = None
) -> ServedCalendar:
    """The configured calendar (the local file in `home` or CalDAV), or left out with why.

    The same rules as the chat's calendar toolkit, which builds it: the settings from the
    environment, the CalDAV password from the vault, else `CALDAV_PASSWORD`.
    """
    env = os.environ if environ is None else environ
    try:
        http = HttpSettings.from_env(env)
    except HttpSettingsError as err:
        logger.warning("%s; the calendar uses its default timeouts and retries", err)
        http = HttpSettings()
    secrets = mail.secrets or secret_lookup(mail.db, home, env)
    try:
        kit = calendar_toolkit(mail, home, env, secrets, http)
    except (VaultError, KeySourceError) as err:
        reason = f"the calendar's credential cannot be read: {err}"
        logger.warning("the calendar is left out: %s", reason)
        return ServedCalendar(None, reason)
    if kit.missing or kit.env is None:
        return ServedCalendar(None, kit.missing or "the calendar is not configured")
    served = ServedCalendar(kit.env)
    for note in served.notes():
        logger.warning("%s", note)
    return served


def calendar_instructions(calendar: ServedCalendar) -> str:
    """What the server's instructions say about the calendar."""
    if calendar.env is None:
        return f"The calendar tools are not available: {calendar.missing}."
    text = (
        "Check the user's calendar (busy and free times, meeting slots, in the "
        f"{calendar.env.settings.zone_name} time zone) and create events. Creating an event "
        "stores it in the user's calendar and mails an invitation to each attendee: confirm "
        "it with the user before calling create_calendar_event."
    )
    notes = calendar.notes()
    if notes:
        text += " Note: " + "; ".join(notes) + "."
    return text


def _result(result: ToolResult) -> CallToolResult:
    """The tool's text, and its `data` as the structured content."""
    data: dict[str, Any] = dict(cast(Mapping[str, Any], result).get("data") or {})
    return CallToolResult(
        content=[TextContent(type="text", text=result["content"])], structuredContent=data
    )


async def _known_id(mailbox: ServedMailbox, email_id: str) -> str:
    """The id of a message of this mailbox (fetched first); `ToolFailure` when there is none."""
    if not email_id.strip():
        return ""
    await asyncio.to_thread(mailbox.refresh)
    email = await asyncio.to_thread(mailbox.find, email_id)
    return email.id


def add_calendar_tools(server: FastMCP, calendar: ServedCalendar, mailbox: ServedMailbox) -> None:
    """Register the calendar tools on `server`; none when the calendar is left out."""
    env = calendar.env
    if env is None:
        return

    @server.tool(title="Check availability", annotations=READING)
    async def check_availability(day: str) -> Annotated[CallToolResult, Availability]:
        """Show busy times and free working hours for one day (YYYY-MM-DD, today, tomorrow or a weekday)."""  # noqa: E501 (what clients see)
        return _result(await day_availability(env, day))

    @server.tool(title="Propose meeting slots", annotations=READING)
    async def propose_meeting_slots(
        duration_minutes: int = 0,
        count: int = 3,
        from_date: str = "",
        to_date: str = "",
        email_id: str = "",
    ) -> Annotated[CallToolResult, SlotProposal]:
        """Propose free meeting slots in working hours; give email_id to answer that meeting request."""  # noqa: E501 (what clients see)
        return _result(
            await meeting_slots(
                env,
                duration_minutes=duration_minutes,
                count=count,
                from_date=from_date,
                to_date=to_date,
                email_id=await _known_id(mailbox, email_id),
            )
        )

    @server.tool(title="Create calendar event", annotations=SCHEDULING)
    async def create_calendar_event(
        title: str,
        start: str,
        end: str,
        attendees: str = "",
        description: str = "",
        in_reply_to_id: str = "",
    ) -> Annotated[CallToolResult, EventScheduled]:
        """Create a calendar event (ISO start/end) and email an invitation to each attendee (comma-separated); the same call again changes nothing."""  # noqa: E501 (what clients see)
        async with calendar.creating:
            result = await create_event(
                env,
                title=title,
                start=start,
                end=end,
                attendees=attendees,
                description=description,
                in_reply_to_id=await _known_id(mailbox, in_reply_to_id),
            )
        return _result(result)
