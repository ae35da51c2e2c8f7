"""Slots to offer for a meeting request: the mail's own times first when free, then others.

`propose_slots` checks the times `read_meeting_request` found against the user's free/busy
and fills up with other free slots; `render_proposal` writes the result as the tool's text,
while the same facts travel as structured data (`tools.calendar.free_time.proposal_data`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from tools.calendar.meeting_request import (
    MeetingRequest,
    RequestedTime,
    read_meeting_request,
)
from tools.calendar.model import Interval
from tools.calendar.offered_slots import slot_label
from tools.calendar.settings import WorkingHours, zone_name
from tools.calendar.slots import find_slots, slot_problem
from tools.mail.model import Email

DEFAULT_COUNT = 3
DEFAULT_HORIZON = timedelta(days=14)
"""How far past the first possible day other free slots are looked for."""


@dataclass(frozen=True)
class ProposedSlot:
    """A slot offered to the user, and why."""

    slot: Interval
    requested: str
    """The mail's words when the mail asked for this time; empty for another free slot."""


@dataclass(frozen=True)
class RequestCheck:
    """How one of the mail's proposed times fares against the calendar."""

    requested: RequestedTime
    problem: str
    """Why it cannot be offered; empty when it (or a slot in its window) is free."""
    slot: Interval | None = None
    """The slot offered for it, when it is free."""


@dataclass(frozen=True)
class MeetingProposal:
    """Slots to offer for a meeting request: the mail's own times first when free, then others."""

    request: MeetingRequest
    slots: tuple[ProposedSlot, ...]
    checks: tuple[RequestCheck, ...]
    notes: tuple[str, ...]


# ---------------------------------------------------------------------------------------


def search_window(
    request: MeetingRequest, *, now: datetime, horizon: timedelta = DEFAULT_HORIZON
) -> Interval:
    """The stretch of time whose busy intervals `propose_slots` needs.

    It covers every requested time and, for the other free slots, `horizon` from the first
    requested day that is still ahead (the sender's "around then"), else from `now`.
    """
    start = now
    ahead = [r.start for r in request.requested if r.end > now]
    fill_from = max(now, min(ahead)) if ahead else now
    end = fill_from + horizon
    for item in request.requested:
        start, end = min(start, item.start), max(end, item.end)
    return Interval(start, end)


def _check(
    item: RequestedTime,
    request: MeetingRequest,
    taken: list[Interval],
    *,
    zone: tzinfo,
    hours: WorkingHours,
    now: datetime,
) -> RequestCheck:
    """Whether a time the mail asked for is free: the time itself, or a slot in its window."""
    slot: Interval | None
    if item.exact:
        slot = Interval(item.start, item.end)
        problem = slot_problem(slot, busy=taken, zone=zone, hours=hours, now=now)
    else:
        window = Interval(item.start, item.end)
        found = find_slots(
            taken,
            zone=zone,
            hours=hours,
            duration=request.duration,
            first_day=window.start.astimezone(zone).date(),
            last_day=window.end.astimezone(zone).date(),
            count=1,
            not_before=now,
            within=window,
        )
        slot = found[0] if found else None
        problem = "" if slot else _window_problem(window, request.duration, zone, hours, now)
    if problem or slot is None:
        return RequestCheck(item, problem or "no free time")
    return RequestCheck(item, "", slot)


def propose_slots(
    request: MeetingRequest,
    *,
    busy: list[Interval],
    zone: tzinfo,
    hours: WorkingHours,
    now: datetime,
    count: int = DEFAULT_COUNT,
    horizon: timedelta = DEFAULT_HORIZON,
) -> MeetingProposal:
    """Slots for `request`: its own times first when free, then other free slots.

    Each exact time of the mail that is free, and the first free slot in each of its windows,
    in the mail's order; then other free slots up to `count` in all. `busy` must cover
    `search_window(request, now=now, horizon=horizon)`.
    """
    chosen: list[ProposedSlot] = []
    checks: list[RequestCheck] = []
    taken = list(busy)
    for item in request.requested:
        check = _check(item, request, taken, zone=zone, hours=hours, now=now)
        checks.append(check)
        if check.slot is not None:
            chosen.append(ProposedSlot(check.slot, item.text))
            taken.append(check.slot)
    missing = count - len(chosen)
    if missing > 0:
        window = search_window(request, now=now, horizon=horizon)
        ahead = [r.start for r in request.requested if r.end > now]
        fill_from = max(now, min(ahead)) if ahead else now
        others = find_slots(
            taken,
            zone=zone,
            hours=hours,
            duration=request.duration,
            first_day=fill_from.astimezone(zone).date(),
            last_day=window.end.astimezone(zone).date(),
            count=missing,
            not_before=now,
        )
        chosen.extend(ProposedSlot(slot, "") for slot in others)
    notes = list(request.notes)
    if not request.requested:
        notes.append("the slots offered are free times from your calendar")
    elif not any(c.slot for c in checks):
        notes.append(
            "none of the times in the mail is free; the slots offered are other free times"
        )
    return MeetingProposal(request, tuple(chosen), tuple(checks), tuple(notes))


def _window_problem(
    window: Interval, duration: timedelta, zone: tzinfo, hours: WorkingHours, now: datetime
) -> str:
    if window.end <= now:
        return "it is already past"
    local = window.start.astimezone(zone)
    if not hours.is_working_day(local.date()) and window.duration <= timedelta(days=1):
        return f"{local:%A} is not one of your working days ({hours.describe_days()})"
    minutes = int(duration.total_seconds() // 60)
    return f"there is no free {minutes} minutes in your working hours ({hours.describe()}) then"


def meeting_proposal(
    email: Email,
    *,
    busy: list[Interval],
    zone: tzinfo,
    hours: WorkingHours,
    now: datetime,
    count: int = DEFAULT_COUNT,
    own_addresses: tuple[str, ...] = (),
) -> MeetingProposal:
    """Read `email` as a meeting request and propose slots against `busy` (see `propose_slots`)."""
    request = read_meeting_request(email, zone=zone, own_addresses=own_addresses, now=now)
    return propose_slots(request, busy=busy, zone=zone, hours=hours, now=now, count=count)


def slot_text(slot: Interval, zone: tzinfo) -> str:
    """`Tue 24 Nov 2026 10:00-10:30 [2026-11-24T10:00:00+01:00/2026-11-24T10:30:00+01:00]`."""
    start, end = slot.start.astimezone(zone), slot.end.astimezone(zone)
    return f"{slot_label(start, end)} [{start.isoformat()}/{end.isoformat()}]"


def render_proposal(proposal: MeetingProposal, zone: tzinfo) -> str:
    """The proposal as the text a tool returns (and the answer quotes)."""
    request = proposal.request
    minutes = int(request.duration.total_seconds() // 60)
    lines = [
        f"Meeting request: message id {request.email_id}",
        f"Title: {request.title}",
        "Attendees: " + (", ".join(a.display() for a in request.attendees) or "none found"),
        f"Duration: {minutes} minutes ({request.duration_source})",
    ]
    if proposal.checks:
        lines.append("Times proposed in the mail:")
        for check in proposal.checks:
            verdict = "free" if not check.problem else f"not offered: {check.problem}"
            lines.append(f"- “{check.requested.text}”: {verdict}")
    lines.append(f"Slots to offer ({zone_name(zone)}):")
    if not proposal.slots:
        lines.append("- none: no free time was found in your working hours")
    for n, item in enumerate(proposal.slots, 1):
        origin = f"asked for in the mail (“{item.requested}”)" if item.requested else "free"
        lines.append(f"{n}. {slot_text(item.slot, zone)} — {origin}")
    if proposal.notes:
        lines.append("Notes:")
        lines.extend(f"- {note}" for note in proposal.notes)
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
