"""Dates in mail as the triage reads them: when a proposed meeting is, when a bill is due.

A meeting proposed within a few days is high priority, and a bill's reason names its due date,
so both need the days, weekdays, months and clock times a message names. The weekday and month
words are the inbox's shared ones (`tools.language.dates`).
"""

from __future__ import annotations

import re
from datetime import date, datetime

from graph.engines.triage.phrases import Phrase, compile_phrase
from tools.language.dates import MONTH_NAMES, MONTHS, WEEKDAYS

_MONTH_ALT = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY_ALT = "|".join(sorted(WEEKDAYS, key=len, reverse=True))

RELATIVE_DAYS: tuple[tuple[Phrase, int], ...] = tuple(
    (compile_phrase(rf"\b({'|'.join(words)})\b"), days)
    for words, days in (
        (
            [
                "today",
                "tonight",
                "this (morning|afternoon|evening)",
                "heute",
                "aujourd'hui",
                "hoy",
                "later today",
            ],
            0,
        ),
        (["tomorrow", "tmrw", "demain", "mañana", "übermorgen"], 1),
        (
            [
                "this week",
                "later this week",
                "end of (the|this) week",
                "before the weekend",
                "diese woche",
                "cette semaine",
                "esta semana",
            ],
            3,
        ),
        (
            [
                "next week",
                "nächste woche",
                "semaine prochaine",
                "la semaine prochaine",
                "próxima semana",
                "la semana que viene",
            ],
            7,
        ),
        (
            [
                "in (two|2) weeks",
                "in a couple of weeks",
                "in (three|3|four|4) weeks",
                "in a fortnight",
            ],
            14,
        ),
        (
            [
                "next month",
                "later this month",
                "in a month",
                "nächsten monat",
                "le mois prochain",
                "el próximo mes",
            ],
            30,
        ),
    )
)
"""Relative day expressions and how many days ahead they point."""

WEEKDAY = compile_phrase(rf"\b(next |this |coming |on )?({_WEEKDAY_ALT})\b\.?")
ISO_DATE = compile_phrase(r"\b(20\d\d)-(\d{1,2})-(\d{1,2})\b")
MONTH_DAY = compile_phrase(rf"\b({_MONTH_ALT})\.?\s+(\d{{1,2}})(st|nd|rd|th)?\b(,?\s+(20\d\d))?")
MONTH_NAME = compile_phrase(rf"\b({_MONTH_ALT})\b")
CLOCK = compile_phrase(
    r"\b([01]?\d|2[0-3])[:.h]([0-5]\d)\b|\b(1[0-2]|0?[1-9])\s?(am|pm|a\.m\.|p\.m\.)"
    r"|\b(noon|midday)\b"
)
# Digit-led, so slow to search: only run once a month name or a meeting has been seen.
_DAY_MONTH_RE = re.compile(
    rf"\b(\d{{1,2}})(st|nd|rd|th|\.)?\s+(of\s+)?({_MONTH_ALT})\b\.?(\s+(20\d\d))?"
)
_NUMERIC_DATE_RE = re.compile(r"\b(\d{1,2})[./](\d{1,2})(?:[./](20\d\d|\d\d))?\b(?!\.\d)")
# "Due date: 16 Dec 2026", "due on December 18", "due by 2026-12-18" (billing reasons only).
_DUE_RE = re.compile(
    rf"\bdue(?:\s+date)?\s*(?:on|by|:)?\s*(?:(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH_ALT})\b"
    rf"|({_MONTH_ALT})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b|(20\d\d)-(\d{{1,2}})-(\d{{1,2}})\b)"
)

TIME_PHRASES: frozenset[Phrase] = frozenset(
    {WEEKDAY, ISO_DATE, MONTH_DAY, CLOCK, *(phrase for phrase, _ in RELATIVE_DAYS)}
)
"""Phrases that name a time on their own."""
DATE_PHRASES: tuple[Phrase, ...] = (*TIME_PHRASES, MONTH_NAME)
"""Every phrase this module needs found in a text (the scorer's index looks for them)."""


def parse_date(value: str) -> date | None:
    """The day of an ISO date-time (a message's `date`), else None."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00")).date()
    except ValueError:
        return None


def make_date(year: int, month: int, day: int) -> date | None:
    """The date, or None when there is no such day (31 February)."""
    try:
        return date(year, month, day)
    except ValueError:
        return None


def has_time_expression(text: str, hits: set[Phrase]) -> bool:
    """Whether `text` (whose phrases `hits` were found) names a day or a time."""
    if not TIME_PHRASES.isdisjoint(hits):
        return True
    return MONTH_NAME in hits and _DAY_MONTH_RE.search(text) is not None


def _named_dates(text: str, hits: set[Phrase], reference: date) -> list[date | None]:
    """The calendar dates `text` names (None for an impossible one), years from `reference`."""
    dated: list[date | None] = []
    if ISO_DATE in hits:
        for m in ISO_DATE.regex.finditer(text):
            dated.append(make_date(int(m[1]), int(m[2]), int(m[3])))
    if MONTH_NAME in hits:
        for m in _DAY_MONTH_RE.finditer(text):
            year = int(m[6]) if m[6] else reference.year
            dated.append(make_date(year, MONTHS[m[4]], int(m[1])))
        for m in MONTH_DAY.regex.finditer(text):
            year = int(m[5]) if m[5] else reference.year
            dated.append(make_date(year, MONTHS[m[1]], int(m[2])))
    for m in _NUMERIC_DATE_RE.finditer(text):
        first, second = int(m[1]), int(m[2])
        year = int(m[3]) if m[3] else reference.year
        year = year + 2000 if year < 100 else year
        # Day first unless that is impossible (14/05 and 05/14 both read as 14 May).
        day_of_month, month = (second, first) if second > 12 else (first, second)
        dated.append(make_date(year, month, day_of_month))
    return dated


def _days_ahead(dated: list[date | None], reference: date) -> list[int]:
    """How many days after `reference` each date is; past dates are left out."""
    ahead: list[int] = []
    for when in dated:
        if when is None:
            continue
        delta = (when - reference).days
        if delta < -60:  # "3 January" written in December means next year
            next_year = make_date(when.year + 1, when.month, when.day)
            delta = (next_year - reference).days if next_year else delta
        if delta >= 0:
            ahead.append(delta)
    return ahead


def _weekdays_ahead(text: str, reference: date) -> list[int]:
    """How many days after `reference` each weekday `text` names is ("next" skips a week)."""
    ahead: list[int] = []
    for m in WEEKDAY.regex.finditer(text):
        days = (WEEKDAYS[m[2]] - reference.weekday()) % 7 or 7
        if (m[1] or "").strip() == "next" and days < 3:
            days += 7
        ahead.append(days)
    return ahead


def days_until_proposed(text: str, hits: set[Phrase], reference: date | None) -> int | None:
    """Days from `reference` to the earliest future day named in `text`, or None if none is."""
    candidates = [days for phrase, days in RELATIVE_DAYS if phrase in hits]
    if reference is not None:
        dated = _named_dates(text, hits, reference)
        if WEEKDAY in hits and not any(dated):
            # With an explicit date around ("Thu 26 Nov ... if Thursday doesn't work"),
            # weekday names refer back to it, so they only count on their own.
            candidates += _weekdays_ahead(text, reference)
        candidates += _days_ahead(dated, reference)
    elif WEEKDAY in hits:
        candidates.append(7)  # a weekday with no reference date: assume "not in the next days"
    if not candidates and CLOCK in hits:
        candidates.append(1)  # a clock time with no day: today or tomorrow
    return min(candidates) if candidates else None


def due_date(text: str) -> str:
    """The first due date the text names ("due date: 16 Dec 2026"), as "Dec 16"; '' if none.

    Month first, so a reason never ends on a month name: a list that puts the next line's
    number after it ("... Dec" + "3. ...") would read as another date.
    """
    for m in _DUE_RE.finditer(text):
        if m[1]:
            day, month = int(m[1]), MONTHS[m[2]]
        elif m[3]:
            day, month = int(m[4]), MONTHS[m[3]]
        else:
            day, month = int(m[7]), int(m[6])
        if make_date(2000, month, day) is not None:  # a leap year: 29 Feb is a real day
            return f"{MONTH_NAMES[month - 1][:3].title()} {day}"
    return ""
