"""Weekday and month names, ordinals and the English patterns built from them (`words.toml`)."""

from __future__ import annotations

import re
import tomllib
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
