"""Weekday and month names, ordinals, days relative to today and times of day (`words.toml`).

The calendar words the offline engine reads in questions, mail and tool arguments, with the
English patterns built from them, so every reader of a date understands the same words.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

_WORDS: dict[str, Any] = tomllib.loads(
    (Path(__file__).with_name("words.toml")).read_text(encoding="utf-8")
)

WEEKDAY_NAMES: tuple[str, ...] = tuple(day["en"][0] for day in _WORDS["weekdays"])
"""English weekday names, lower case, Monday first (index = `date.weekday()`)."""
WEEKDAY_ABBREVIATIONS: tuple[str, ...] = tuple(name[:3].title() for name in WEEKDAY_NAMES)
"""`Mon` … `Sun`, as the product writes them."""
MONTH_NAMES: tuple[str, ...] = tuple(month["en"][0] for month in _WORDS["months"])
"""English month names, lower case, January first (index + 1 = month number)."""

WEEKDAYS: dict[str, int] = {
    name: index
    for index, day in enumerate(_WORDS["weekdays"])
    for name in (*day["en"], *day["other"])
}
"""Every known weekday word (any language, abbreviations) → `date.weekday()` (0 = Monday)."""
MONTHS: dict[str, int] = {
    name: index
    for index, month in enumerate(_WORDS["months"], start=1)
    for name in (*month["en"], *month["other"])
}
"""Every known month word (any language, abbreviations) → month number (1 = January)."""

ORDINALS: dict[str, int] = dict(_WORDS["ordinals"])
"""`first`/`1st` … `tenth`/`10th` → position from 1; `last` → -1."""


def _english(table: list[dict[str, list[str]]]) -> list[str]:
    """The English names and abbreviations of a table."""
    return [name for entry in table for name in entry["en"]]


ENGLISH_WEEKDAY = (
    "(?:" + "|".join(sorted(_english(_WORDS["weekdays"]), key=len, reverse=True)) + ")"
)
"""A regex alternation of English weekday names and abbreviations (longest first)."""
ENGLISH_MONTH = "(?:" + "|".join(sorted(_english(_WORDS["months"]), key=len, reverse=True)) + ")"
"""A regex alternation of English month names and abbreviations (longest first)."""
ORDINAL = "(?:" + "|".join(sorted(ORDINALS, key=len, reverse=True)) + ")"
"""A regex alternation of the ordinal words."""

ENGLISH_WEEKDAY_RE = re.compile(rf"\b{ENGLISH_WEEKDAY}\b", re.IGNORECASE)
ENGLISH_MONTH_RE = re.compile(rf"\b{ENGLISH_MONTH}\b", re.IGNORECASE)


def weekday_index(word: str) -> int | None:
    """The weekday a word names (`Thu`, `jeudi`), else None."""
    return WEEKDAYS.get(word.strip().rstrip(".").lower())


def month_number(word: str) -> int | None:
    """The month a word names (`Sept`, `März`), else None."""
    return MONTHS.get(word.strip().rstrip(".").lower())


ENGLISH_WEEKDAY_WORDS: frozenset[str] = frozenset(_english(_WORDS["weekdays"]))
"""English weekday names and abbreviations (`monday`, `mon`, `thurs`)."""
ENGLISH_MONTH_WORDS: frozenset[str] = frozenset(_english(_WORDS["months"]))
"""English month names and abbreviations (`january`, `jan`, `sept`)."""
WEEKDAY_TITLES: frozenset[str] = frozenset(name.title() for name in WEEKDAY_NAMES)
"""`Monday` … `Sunday`, as a sentence writes them."""

RELATIVE_DAYS: dict[str, int] = dict(_WORDS["relative_days"])
"""`today`, `tonight`, `tomorrow`, `the day after tomorrow` → days from today."""


def twenty_four_hour(hour: int, half: str) -> int:
    """The hour of a 12-hour reading (`half` is `am`/`pm`/`a`/`p`, any case; empty: as is)."""
    half = half.lower()[:1]
    if half == "p" and hour < 12:
        return hour + 12
    if half == "a" and hour == 12:
        return 0
    return hour


def _weekday_word(word: str) -> int | None:
    """A weekday word, or any English word starting like one (`wednes`, `thursdays`)."""
    found = weekday_index(word)
    if found is None and len(word) >= 3:
        found = WEEKDAYS.get(word[:3]) if word[:3] in ENGLISH_WEEKDAY_WORDS else None
    return found


def day_named(text: str, today: date) -> date | None:
    """The day `2026-11-26`, `today`, `tomorrow`, `thursday` or `next friday` means, else None.

    A weekday is the next such day, today included; `next` skips today.
    """
    value = " ".join(text.strip().lower().split())
    if value == "":
        return today
    if value in RELATIVE_DAYS:
        return today + timedelta(days=RELATIVE_DAYS[value])
    match = re.fullmatch(r"(?:(next|this|on) )?([^\W\d_]+)", value)
    weekday = _weekday_word(match.group(2)) if match else None
    if match and weekday is not None:
        ahead = (weekday - today.weekday()) % 7
        if match.group(1) == "next" and ahead == 0:
            ahead = 7
        return today + timedelta(days=ahead)
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
