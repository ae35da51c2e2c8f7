"""The calendar words every reader of a date shares: days relative to today, 12-hour times."""

from __future__ import annotations

from datetime import date

import pytest

from tools.language.dates import (
    ENGLISH_MONTH_WORDS,
    ENGLISH_WEEKDAY_WORDS,
    RELATIVE_DAYS,
    day_named,
    twenty_four_hour,
)

FRIDAY = date(2026, 11, 20)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", FRIDAY),
        ("today", FRIDAY),
        ("Tomorrow", date(2026, 11, 21)),
        ("the day after tomorrow", date(2026, 11, 22)),
        ("friday", FRIDAY),
        ("next friday", date(2026, 11, 27)),
        ("thursday", date(2026, 11, 26)),
        ("on Thurs", date(2026, 11, 26)),
        ("wednes", date(2026, 11, 25)),
        ("jeudi", date(2026, 11, 26)),
        ("2026-12-03", date(2026, 12, 3)),
    ],
)
def test_a_day_is_read_relative_to_today(text: str, expected: date) -> None:
    assert day_named(text, FRIDAY) == expected


@pytest.mark.parametrize("text", ["someday", "2026-13-01", "next year"])
def test_what_is_not_a_day_is_none(text: str) -> None:
    assert day_named(text, FRIDAY) is None


@pytest.mark.parametrize(
    ("hour", "half", "expected"),
    [(2, "pm", 14), (12, "pm", 12), (12, "am", 0), (9, "AM", 9), (7, "p", 19), (14, "", 14)],
)
def test_twelve_hour_readings(hour: int, half: str, expected: int) -> None:
    assert twenty_four_hour(hour, half) == expected


def test_english_words_are_the_ones_the_tables_name() -> None:
    assert {"monday", "mon", "thurs"} <= ENGLISH_WEEKDAY_WORDS
    assert {"january", "jan", "sept", "may"} <= ENGLISH_MONTH_WORDS
    assert "montag" not in ENGLISH_WEEKDAY_WORDS
    assert RELATIVE_DAYS["tomorrow"] == 1
