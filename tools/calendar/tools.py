"""The calendar tools the model can call: read-only free/busy and slots; an event with invitations.

Thin typed wrappers over `tools.calendar.scheduling`: the docstring is what the model sees,
and the `CalendarEnv` is injected at call time, never visible to the model. Reading is
approval level 0; creating an event (which mails invitations) is a side effect, level 1.
"""

from __future__ import annotations

from typing import Annotated

from langchain_core.tools import InjectedToolArg, tool

from tools.calendar.free_time import day_availability, meeting_slots
from tools.calendar.scheduling import CalendarEnv, create_event
from tools.toolkit import ToolResult


@tool
async def check_availability(
    day: str,
    *,
    env: Annotated[CalendarEnv, InjectedToolArg],
) -> ToolResult:
    """Show busy times and free working hours for one day (YYYY-MM-DD, today, tomorrow or a weekday)."""  # noqa: E501 — the model reads it as one line
    return await day_availability(env, day)


@tool
async def propose_meeting_slots(
    duration_minutes: int = 0,
    count: int = 3,
    from_date: str = "",
    to_date: str = "",
    email_id: str = "",
    *,
    env: Annotated[CalendarEnv, InjectedToolArg],
) -> ToolResult:
    """Propose free meeting slots in working hours; give email_id to answer that meeting request."""
    return await meeting_slots(
        env,
        duration_minutes=duration_minutes,
        count=count,
        from_date=from_date,
        to_date=to_date,
        email_id=email_id,
    )


@tool
async def create_calendar_event(
    title: str,
    start: str,
    end: str,
    attendees: str = "",
    description: str = "",
    in_reply_to_id: str = "",
    *,
    env: Annotated[CalendarEnv, InjectedToolArg],
) -> ToolResult:
    """Create a calendar event (ISO start/end) and email an invitation to each attendee (comma-separated)."""  # noqa: E501 — the model reads it as one line
    return await create_event(
        env,
        title=title,
        start=start,
        end=end,
        attendees=attendees,
        description=description,
        in_reply_to_id=in_reply_to_id,
    )


CALENDAR_TOOLS = [check_availability, propose_meeting_slots, create_calendar_event]
READ_ONLY_CALENDAR_TOOLS = frozenset({"check_availability", "propose_meeting_slots"})
INVITING_TOOLS = frozenset({"create_calendar_event"})
"""Calendar tools with a side effect (an event stored, invitations mailed): approval level 1."""
