"""What the calendar says about free time: a day's free/busy, and slots to offer.

Slots for a meeting request answer the mail (`tools.calendar.proposal`); plain free slots
cover a range of days. Each result carries its facts as `data` beside the text, which is what
the engine and the triage book from.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta, tzinfo
from typing import Any

from tools.calendar.meeting_request import read_meeting_request
from tools.calendar.model import Interval, busy_intervals
from tools.calendar.proposal import (
    DEFAULT_COUNT,
    MeetingProposal,
    propose_slots,
    render_proposal,
    search_window,
    slot_text,
)
from tools.calendar.scheduling import MAX_COUNT, MAX_RANGE_DAYS, CalendarEnv, off_loop, parse_day
from tools.calendar.settings import local_day_bounds
from tools.calendar.slots import find_slots, free_stretches
from tools.toolkit import ToolFailure, ToolResult, text_result

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
    events = await off_loop(env.calendar.events_between, start, end)
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


async def _request_slots(
    env: CalendarEnv, email_id: str, duration_minutes: int, count: int
) -> ToolResult:
    """Slots answering the meeting request `email_id`: its own times first when free."""
    now, zone, hours = env.now(), env.zone, env.settings.working_hours
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
    events = await off_loop(env.calendar.events_between, window.start, window.end)
    proposal = propose_slots(
        request, busy=busy_intervals(events, zone), zone=zone, hours=hours, now=now, count=count
    )
    return text_result(render_proposal(proposal, zone), data=proposal_data(proposal, env))


async def _free_slots(
    env: CalendarEnv, duration_minutes: int, count: int, from_date: str, to_date: str
) -> ToolResult:
    """Free slots of a length in working hours between two days (two weeks by default)."""
    now, zone, hours = env.now(), env.zone, env.settings.working_hours
    today = now.astimezone(zone).date()
    first = parse_day(from_date, today) if from_date else today
    last = parse_day(to_date, today) if to_date else first + timedelta(days=13)
    if last < first:
        raise ToolFailure(f"to_date {last} is before from_date {first}")
    if (last - first).days > MAX_RANGE_DAYS:
        raise ToolFailure(f"look at most {MAX_RANGE_DAYS} days ahead at once")
    start, _ = local_day_bounds(first, zone)
    _, end = local_day_bounds(last, zone)
    events = await off_loop(env.calendar.events_between, start, end)
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
    if email_id:
        return await _request_slots(env, email_id, duration_minutes, count)
    return await _free_slots(env, duration_minutes, count, from_date, to_date)


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
