"""Finding free time: working-hour windows in the user's zone, minus busy time, cut into slots.

Pure functions over `Interval`s (kept in UTC), so a DST change moves the working window in
real time but keeps it at the same wall-clock hours; slot starts are aligned on the wall clock
(:00 and :30 by default), also in zones with half-hour offsets.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from tools.calendar.model import Interval, merge
from tools.calendar.settings import WorkingHours

DEFAULT_STEP = timedelta(minutes=30)


def working_window(day: date, hours: WorkingHours, zone: tzinfo) -> Interval | None:
    """The working hours of `day` in `zone`, or None on a day off."""
    if not hours.is_working_day(day):
        return None
    start = datetime.combine(day, hours.start, tzinfo=zone)
    end = datetime.combine(day, hours.end, tzinfo=zone)
    return Interval(start, end)


def subtract(window: Interval, busy: Iterable[Interval]) -> list[Interval]:
    """The parts of `window` no busy interval touches, in order."""
    free: list[Interval] = []
    cursor = window.start
    for item in merge(busy):
        if item.end <= cursor or item.start >= window.end:
            continue
        if item.start > cursor:
            free.append(Interval(cursor, min(item.start, window.end)))
        cursor = max(cursor, item.end)
        if cursor >= window.end:
            break
    if cursor < window.end:
        free.append(Interval(cursor, window.end))
    return free


def free_stretches(
    day: date, hours: WorkingHours, zone: tzinfo, busy: Iterable[Interval]
) -> list[Interval]:
    """The free parts of `day`'s working hours (none on a day off)."""
    window = working_window(day, hours, zone)
    return subtract(window, busy) if window else []


def align_up(instant: datetime, zone: tzinfo, step: timedelta = DEFAULT_STEP) -> datetime:
    """The first wall-clock multiple of `step` at or after `instant`, in UTC.

    Multiples count from local midnight.
    """
    local = instant.astimezone(zone)
    step_minutes = max(1, int(step.total_seconds() // 60))
    partial = 1 / 60 if (local.second or local.microsecond) else 0
    aligned = math.ceil((local.hour * 60 + local.minute + partial) / step_minutes) * step_minutes
    day = local.date()
    while True:
        wall = datetime.combine(day, time(0)) + timedelta(minutes=aligned)
        candidate = wall.replace(tzinfo=zone).astimezone(UTC)
        if candidate >= instant:
            return candidate
        aligned += step_minutes  # a wall time skipped or repeated by a DST change


def _day_range(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def find_slots(
    busy: Sequence[Interval],
    *,
    zone: tzinfo,
    hours: WorkingHours,
    duration: timedelta,
    first_day: date,
    last_day: date,
    count: int,
    not_before: datetime,
    within: Interval | None = None,
    step: timedelta = DEFAULT_STEP,
) -> list[Interval]:
    """Up to `count` free slots of `duration` in working hours from `first_day` to `last_day`.

    Days off are skipped; a slot never overlaps busy time, never starts before `not_before`
    and, with `within`, lies inside it. To spread the choice, the earliest slot of each free
    stretch comes first (one per gap between meetings); only when there are fewer gaps than
    `count` do later starts in the same stretches fill up. The result is in time order.
    """
    if duration <= timedelta(0) or count <= 0:
        return []
    firsts: list[Interval] = []
    rest: list[Interval] = []
    for day in _day_range(first_day, last_day):
        window = working_window(day, hours, zone)
        if window is None:
            continue
        if within is not None:
            start, end = max(window.start, within.start), min(window.end, within.end)
            if end <= start:
                continue
            window = Interval(start, end)
        for gap in subtract(window, busy):
            candidate = align_up(max(gap.start, not_before), zone, step)
            first = True
            while candidate + duration <= gap.end:
                (firsts if first else rest).append(Interval(candidate, candidate + duration))
                first = False
                candidate = align_up(candidate + step, zone, step)
    chosen = firsts[:count]
    for slot in rest:
        if len(chosen) >= count:
            break
        if not any(slot.overlaps(other) for other in chosen):
            chosen.append(slot)
    return sorted(chosen)


def slot_problem(
    slot: Interval,
    *,
    busy: Sequence[Interval],
    zone: tzinfo,
    hours: WorkingHours,
    now: datetime,
) -> str:
    """Why `slot` cannot be proposed (past, day off, outside working hours, a conflict), or ''."""
    if slot.start < now:
        return "it is already past"
    local_start, local_end = slot.start.astimezone(zone), slot.end.astimezone(zone)
    if not hours.is_working_day(local_start.date()):
        return f"{local_start:%A} is not one of your working days ({hours.describe_days()})"
    window = working_window(local_start.date(), hours, zone)
    if window is None or slot.start < window.start or slot.end > window.end:
        return (
            f"{local_start:%H:%M}-{local_end:%H:%M} is outside your working hours "
            f"({hours.describe()})"
        )
    conflicts = [b for b in busy if b.overlaps(slot)]
    if conflicts:
        first = conflicts[0]
        if first.all_day:
            when = "all day"
        else:
            when = f"{first.start.astimezone(zone):%H:%M}-{first.end.astimezone(zone):%H:%M}"
        what = f"“{first.title}”" if first.title else "another event"
        return f"it conflicts with {what} ({when})"
    return ""
