"""Free time and slots: working hours in the user's zone, DST, weekends, overlaps, all-day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tools.calendar.model import CalendarEvent, Interval, busy_intervals, merge
from tools.calendar.settings import WorkingHours
from tools.calendar.slots import (
    align_up,
    find_slots,
    free_stretches,
    slot_problem,
    subtract,
    working_window,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
HOURS = WorkingHours(time(9), time(17, 30))
MONDAY = date(2026, 11, 23)
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def at(day: date, hour: int, minute: int = 0, zone: ZoneInfo = BERLIN) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def busy(day: date, start: tuple[int, int], end: tuple[int, int], title: str = "") -> Interval:
    return Interval(at(day, *start), at(day, *end), title)


def slots_in(busy_times: list[Interval], **given: Any) -> list[Interval]:
    """`find_slots` in Berlin, in `HOURS`, 30 minutes, no earliest start, unless given otherwise."""
    settings: dict[str, Any] = {
        "zone": BERLIN,
        "hours": HOURS,
        "duration": timedelta(minutes=30),
        "not_before": LONG_AGO,
    }
    return find_slots(busy_times, **(settings | given))


def local(slots: list[Interval], zone: ZoneInfo = BERLIN) -> list[str]:
    return [f"{s.start.astimezone(zone):%a %H:%M}-{s.end.astimezone(zone):%H:%M}" for s in slots]


def test_a_free_day_offers_one_slot_per_working_day_skipping_the_weekend() -> None:
    friday = date(2026, 11, 27)
    slots = slots_in(
        [],
        first_day=friday,
        last_day=friday + timedelta(days=4),
        count=3,
    )
    assert local(slots) == ["Fri 09:00-09:30", "Mon 09:00-09:30", "Tue 09:00-09:30"]


def test_working_days_are_configurable() -> None:
    sunday_to_thursday = WorkingHours(time(8), time(16), frozenset({6, 0, 1, 2, 3}))
    friday = date(2026, 11, 27)
    slots = slots_in(
        [],
        hours=sunday_to_thursday,
        duration=timedelta(hours=1),
        first_day=friday,
        last_day=friday + timedelta(days=2),
        count=3,
    )
    assert local(slots) == ["Sun 08:00-09:00", "Sun 09:00-10:00", "Sun 10:00-11:00"]


def test_overlapping_busy_events_are_merged_and_avoided() -> None:
    events = [
        busy(MONDAY, (9, 0), (10, 0), "standup"),
        busy(MONDAY, (9, 30), (11, 15), "review"),  # overlaps the first
        busy(MONDAY, (11, 15), (12, 0), "lunch prep"),  # touches the second
        busy(MONDAY, (13, 0), (17, 0), "workshop"),
    ]
    assert [(m.start, m.end) for m in merge(events)] == [
        (at(MONDAY, 9).astimezone(UTC), at(MONDAY, 12).astimezone(UTC)),
        (at(MONDAY, 13).astimezone(UTC), at(MONDAY, 17).astimezone(UTC)),
    ]
    free = free_stretches(MONDAY, HOURS, BERLIN, events)
    assert local(free) == ["Mon 12:00-13:00", "Mon 17:00-17:30"]
    slots = slots_in(
        events,
        duration=timedelta(minutes=45),
        first_day=MONDAY,
        last_day=MONDAY,
        count=3,
    )
    # Only the lunch gap holds 45 minutes; starts are on the half hour.
    assert local(slots) == ["Mon 12:00-12:45"]


def test_slots_spread_over_gaps_before_filling_one_stretch() -> None:
    events = [busy(MONDAY, (10, 0), (11, 0)), busy(MONDAY, (14, 0), (15, 0))]
    slots = slots_in(
        events,
        first_day=MONDAY,
        last_day=MONDAY,
        count=4,
    )
    assert local(slots) == [
        "Mon 09:00-09:30",
        "Mon 09:30-10:00",
        "Mon 11:00-11:30",
        "Mon 15:00-15:30",
    ]


def test_all_day_events_block_the_day_and_free_ones_do_not() -> None:
    offsite = CalendarEvent(
        uid="offsite", title="Offsite", start=MONDAY, end=MONDAY + timedelta(days=1)
    )
    holiday_marker = CalendarEvent(
        uid="marker",
        title="Name day",
        start=MONDAY + timedelta(days=1),
        end=MONDAY + timedelta(days=2),
        busy=False,
    )
    intervals = busy_intervals([offsite, holiday_marker], BERLIN)
    assert [(i.title, i.all_day) for i in intervals] == [("Offsite", True)]
    assert intervals[0].start == at(MONDAY, 0).astimezone(UTC)
    assert free_stretches(MONDAY, HOURS, BERLIN, intervals) == []
    slots = slots_in(
        intervals,
        first_day=MONDAY,
        last_day=MONDAY + timedelta(days=1),
        count=1,
    )
    assert local(slots) == ["Tue 09:00-09:30"]


def test_working_hours_follow_the_wall_clock_across_the_dst_change() -> None:
    saturday, sunday, monday = date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30)
    friday = date(2026, 3, 27)
    before = working_window(friday, HOURS, BERLIN)
    after = working_window(monday, HOURS, BERLIN)
    assert before is not None and after is not None
    # 09:00 CET is 08:00 UTC; 09:00 CEST (after the change on Sunday) is 07:00 UTC.
    assert before.start == datetime(2026, 3, 27, 8, 0, tzinfo=UTC)
    assert after.start == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    assert working_window(saturday, HOURS, BERLIN) is None
    assert working_window(sunday, HOURS, BERLIN) is None
    slots = slots_in(
        [],
        first_day=friday,
        last_day=monday,
        count=2,
    )
    assert [s.start.astimezone(BERLIN).strftime("%a %H:%M %Z") for s in slots] == [
        "Fri 09:00 CET",
        "Mon 09:00 CEST",
    ]


def test_a_slot_across_the_night_of_the_change_is_measured_in_real_time() -> None:
    # Working hours 00:00-06:00 on the night the clocks go forward: 02:00-03:00 does not
    # exist, so the window is five real hours long and a six-hour meeting does not fit.
    night = WorkingHours(time(0), time(6), frozenset(range(7)))
    sunday = date(2026, 3, 29)
    window = working_window(sunday, night, BERLIN)
    assert window is not None and window.duration == timedelta(hours=5)
    too_long = slots_in(
        [],
        hours=night,
        duration=timedelta(hours=6),
        first_day=sunday,
        last_day=sunday,
        count=1,
    )
    assert too_long == []
    fits = slots_in(
        [],
        hours=night,
        duration=timedelta(hours=5),
        first_day=sunday,
        last_day=sunday,
        count=1,
    )
    assert [s.duration for s in fits] == [timedelta(hours=5)]


def test_busy_time_in_another_zone_is_compared_in_real_time() -> None:
    # 04:00-05:00 in New York is 10:00-11:00 in Berlin.
    call = Interval(at(MONDAY, 4, zone=NEW_YORK), at(MONDAY, 5, zone=NEW_YORK), "NY call")
    free = free_stretches(MONDAY, HOURS, BERLIN, [call])
    assert local(free) == ["Mon 09:00-10:00", "Mon 11:00-17:30"]


def test_slot_starts_align_on_the_local_wall_clock_in_a_half_hour_zone() -> None:
    # 09:10 in Kolkata (UTC+05:30) is 03:40 UTC: the next start is 09:30 local, not 04:00 UTC.
    instant = at(MONDAY, 9, 10, zone=KOLKATA)
    aligned = align_up(instant, KOLKATA)
    assert aligned.astimezone(KOLKATA).strftime("%H:%M") == "09:30"
    assert aligned.tzinfo == UTC
    assert align_up(at(MONDAY, 9, 30, zone=KOLKATA), KOLKATA) == at(MONDAY, 9, 30, zone=KOLKATA)


def test_nothing_starts_before_now() -> None:
    now = at(MONDAY, 11, 5)
    slots = slots_in(
        [],
        first_day=MONDAY,
        last_day=MONDAY,
        count=1,
        not_before=now,
    )
    assert local(slots) == ["Mon 11:30-12:00"]


def test_a_window_limits_the_search() -> None:
    window = Interval(at(MONDAY, 14), at(MONDAY + timedelta(days=1), 0))
    slots = slots_in(
        [busy(MONDAY, (14, 0), (15, 0))],
        first_day=MONDAY,
        last_day=MONDAY,
        count=1,
        within=window,
    )
    assert local(slots) == ["Mon 15:00-15:30"]


def test_subtract_keeps_the_parts_no_busy_time_touches() -> None:
    window = Interval(at(MONDAY, 9), at(MONDAY, 12))
    pieces = subtract(window, [busy(MONDAY, (8, 0), (9, 30)), busy(MONDAY, (11, 0), (13, 0))])
    assert local(pieces) == ["Mon 09:30-11:00"]


@pytest.mark.parametrize(
    ("start", "end", "why"),
    [
        ((8, 30), (9, 0), "outside your working hours (09:00-17:30)"),
        ((17, 0), (18, 0), "outside your working hours"),
        ((10, 0), (10, 30), "conflicts with “standup” (10:00-10:30)"),
        ((10, 15), (10, 45), "conflicts with “standup”"),
    ],
)
def test_slot_problem_names_what_is_wrong(
    start: tuple[int, int], end: tuple[int, int], why: str
) -> None:
    slot = busy(MONDAY, start, end)
    problem = slot_problem(
        slot,
        busy=[busy(MONDAY, (10, 0), (10, 30), "standup")],
        zone=BERLIN,
        hours=HOURS,
        now=LONG_AGO,
    )
    assert why in problem


def test_slot_problem_for_weekends_and_the_past() -> None:
    saturday = date(2026, 11, 28)
    weekend = slot_problem(
        busy(saturday, (10, 0), (10, 30)), busy=[], zone=BERLIN, hours=HOURS, now=LONG_AGO
    )
    assert weekend == "Saturday is not one of your working days (Mon-Fri)"
    past = slot_problem(
        busy(MONDAY, (10, 0), (10, 30)), busy=[], zone=BERLIN, hours=HOURS, now=at(MONDAY, 12)
    )
    assert past == "it is already past"
    fine = slot_problem(
        busy(MONDAY, (10, 0), (10, 30)), busy=[], zone=BERLIN, hours=HOURS, now=LONG_AGO
    )
    assert fine == ""
