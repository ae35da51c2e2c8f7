"""When a snoozed conversation should come back: "tomorrow 9am", "monday", "in 3 hours".

The day words and clock readings are the inbox's own (`tools.language.dates`); the result is an
aware instant in the user's zone, never a guess in the machine's.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from tools.language.dates import ENGLISH_WEEKDAY, RELATIVE_DAYS, day_named, twenty_four_hour

DEFAULT_WAKE = time(9, 0)
"""A day named without a time wakes at the start of the working morning."""
PARTS_OF_DAY = {"morning": time(9, 0), "afternoon": time(14, 0), "evening": time(18, 0)}
"""What "tomorrow morning" and "monday evening" mean."""
TONIGHT = time(18, 0)

_RELATIVE = "|".join(sorted((re.escape(w) for w in RELATIVE_DAYS), key=len, reverse=True))
_DAY = re.compile(
    rf"\b(?P<day>{_RELATIVE}|(?:(?:next|this|on)\s+)?{ENGLISH_WEEKDAY}|\d{{4}}-\d{{2}}-\d{{2}})\b",
    re.IGNORECASE,
)
_CLOCK = re.compile(
    r"\b(?P<h>\d{1,2})[:.h](?P<m>\d{2})\s*(?P<ap>am|pm)?\b|\b(?P<h2>\d{1,2})\s*(?P<ap2>am|pm)\b"
    r"|\bat\s+(?P<h3>\d{1,2})\b(?![:.h]\d)|\b(?P<noon>noon|midday)\b",
    re.IGNORECASE,
)
_PART = re.compile(r"\b(?P<part>morning|afternoon|evening)\b", re.IGNORECASE)
_SPAN = re.compile(
    r"\b(?:in|for)\s+(?P<n>an?|one|two|three|\d{1,3})\s+(?P<unit>minute|hour|day|week)s?\b",
    re.IGNORECASE,
)
_NEXT_WEEK = re.compile(r"\bnext\s+week\b", re.IGNORECASE)
_WORD_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3}


def _clock(text: str) -> time | None:
    """The time of day the words name ("9am", "14:30", "at 9", "noon"), or None."""
    match = _CLOCK.search(text)
    if match is None:
        return None
    if match.group("noon"):
        return time(12, 0)
    hour = int(match.group("h") or match.group("h2") or match.group("h3"))
    minute = int(match.group("m") or 0)
    hour = twenty_four_hour(hour, match.group("ap") or match.group("ap2") or "")
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _span(text: str, now: datetime) -> datetime | None:
    """That long from now: "in 3 hours", "for two days"."""
    match = _SPAN.search(text)
    if match is None:
        return None
    word = match.group("n").lower()
    count = _WORD_NUMBERS.get(word) or int(word)
    unit = match.group("unit").lower()
    return now + timedelta(**{f"{unit}s": count})


def wake_time(text: str, now: datetime) -> datetime | None:
    """The moment the words name, in `now`'s zone, if it is still ahead; else None.

    A day without a time wakes at 09:00 (or the part of the day named); a time without a day
    is today's, or tomorrow's once it has passed; "next week" is next Monday morning.
    """
    spanned = _span(text, now)
    if spanned is not None:
        return spanned
    today = now.date()
    day_match = _DAY.search(text)
    day = day_named(day_match.group("day"), today) if day_match else None
    if day is None and _NEXT_WEEK.search(text):
        day = today + timedelta(days=7 - today.weekday())
    at = _clock(text)
    part = _PART.search(text)
    if at is None:
        if part is not None:
            at = PARTS_OF_DAY[part.group("part").lower()]
        elif day_match and day_match.group("day").lower() == "tonight":
            at = TONIGHT
    if day is None and at is None:
        return None
    if day is None:
        assert at is not None
        moment = datetime.combine(today, at, tzinfo=now.tzinfo)
        return moment if moment > now else moment + timedelta(days=1)
    moment = datetime.combine(day, at or DEFAULT_WAKE, tzinfo=now.tzinfo)
    return moment if moment > now else None
