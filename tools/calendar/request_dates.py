"""The days a meeting request names, each resolved against the mail's own date.

"Tue 24 Nov", "2026-11-26", "tomorrow (Fri 20 Nov)", "this Thursday (3/12)", "next Friday".

Weekday and month words come from `tools.language.dates`, like every other reader of a date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta

from tools.language.dates import (
    ENGLISH_MONTH,
    ENGLISH_WEEKDAY_WORDS,
    RELATIVE_DAYS,
    month_number,
    weekday_index,
)

_MONTH_ALT = ENGLISH_MONTH
# Full names and longer abbreviations in any case; three-letter ones only as written in a
# date ("Thu 26 Nov"): "sat", "sun" and "wed" are words too.
_WEEKDAY_ALT = (
    "(?i:"
    + "|".join(sorted((w for w in ENGLISH_WEEKDAY_WORDS if len(w) > 3), key=len, reverse=True))
    + ")|"
    + "|".join(sorted(w.title() for w in ENGLISH_WEEKDAY_WORDS if len(w) == 3))
)
_WD = rf"(?:(?P<wd>{_WEEKDAY_ALT})\.?,?\s+)?"
_RELATIVE = "|".join(sorted(RELATIVE_DAYS, key=len, reverse=True))

_DATE_PATTERNS = [
    ("iso", re.compile(rf"\b{_WD}(?P<y>20\d\d)-(?P<m>\d{{1,2}})-(?P<d>\d{{1,2}})\b")),
    (
        "day_month",
        re.compile(
            rf"\b{_WD}(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\.?\s+(?:of\s+)?(?P<mon>(?i:{_MONTH_ALT}))\b\.?"
            rf"(?:,?\s+(?P<y>20\d\d)\b)?"
        ),
    ),
    (
        "month_day",
        re.compile(
            rf"\b{_WD}(?P<mon>(?i:{_MONTH_ALT}))\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b(?![:.]\d)"
            rf"(?:,?\s+(?P<y>20\d\d)\b)?"
        ),
    ),
    (
        "numeric",
        re.compile(
            rf"\b(?P<wd>{_WEEKDAY_ALT})\.?,?\s*\(?\s*(?P<a>\d{{1,2}})/(?P<b>\d{{1,2}})"
            rf"(?:/(?P<y>(?:20)?\d\d))?\b\)?"
        ),
    ),
    (
        "relative",
        re.compile(rf"(?i)\b(?P<rel>{_RELATIVE})\b"),
    ),
    (
        "weekday",
        re.compile(
            rf"\b(?:(?P<which>(?i:this|next|coming|on))\s+)?(?P<wd>{_WEEKDAY_ALT})\b(?!'s|’s)\.?"
        ),
    ),
]
_DEADLINE_BEFORE = re.compile(r"(?i)\b(by|until|till|due|since|last|from last|before)\s*(on\s+)?$")
_PAREN_JOIN = re.compile(r"\s*\(\s*$")


@dataclass(frozen=True)
class DateMention:
    """A day named in a sentence: where, which day, and how it was read."""

    start: int
    end: int
    day: date
    text: str
    deadline: bool
    """Preceded by "by", "until", "due" …: a deadline or a past reference, not a proposal."""
    note: str = ""
    """How it was read, when that took an assumption (said only if it becomes a proposal)."""


def _weekday_index(name: str) -> int:
    index = weekday_index(name)
    if index is None:
        raise ValueError(f"{name!r} is not a weekday")
    return index


def _month_index(name: str) -> int:
    number = month_number(name)
    if number is None:
        raise ValueError(f"{name!r} is not a month")
    return number


def _next_on_or_after(month: int, day: int, reference: date) -> date | None:
    for year in (reference.year, reference.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= reference - timedelta(days=1):
            return candidate
    return None


def _weekday_day(match: re.Match[str], weekday: int, reference: date) -> tuple[date, str]:
    """A weekday: the next one after the mail; "next Thursday": in the week after the mail's."""
    if (match.group("which") or "").lower() == "next":
        target = _week_start(reference) + timedelta(days=7 + weekday)
        words = match.group(0).strip()
        return target, f"read “{words}” as {target:%a %d %b %Y} (in the week after the mail's)"
    return reference + timedelta(days=(weekday - reference.weekday()) % 7 or 7), ""


def _numeric_day(
    match: re.Match[str], weekday: int | None, reference: date
) -> tuple[date | None, str]:
    """`3/12`: US month/day first, then day/month; the weekday named decides between them."""
    a, b = int(match.group("a")), int(match.group("b"))
    readings = []
    for month, dom in ((a, b), (b, a)):
        candidate = _next_on_or_after(month, dom, reference) if 1 <= month <= 12 else None
        if candidate is not None and (weekday is None or candidate.weekday() == weekday):
            readings.append(candidate)
    if not readings:
        return None, f"could not read the date in “{match.group(0)}”"
    return min(readings), ""


def _named_month_day(
    match: re.Match[str], weekday: int | None, reference: date
) -> tuple[date | None, str]:
    """`24 Nov`, `Nov 24, 2026`: without a year the next such day (or the year the weekday fits)."""
    month, dom = _month_index(match.group("mon")), int(match.group("d"))
    if match.group("y"):
        try:
            return date(int(match.group("y")), month, dom), ""
        except ValueError:
            return None, f"“{match.group(0)}” is not a real date"
    day = _next_on_or_after(month, dom, reference)
    if day is None:
        return None, f"“{match.group(0)}” is not a real date"
    if weekday is not None and day.weekday() != weekday:
        later = _next_on_or_after(month, dom, date(day.year + 1, 1, 1))
        if later is not None and later.weekday() == weekday and later.year <= reference.year + 1:
            return later, ""
    return day, ""


def _resolve(kind: str, match: re.Match[str], reference: date) -> tuple[date | None, str]:
    """The day a date mention means (and a note when a reading was assumed or looks wrong)."""
    groups = match.groupdict()
    weekday = _weekday_index(groups["wd"]) if groups.get("wd") else None
    if kind == "relative":
        return reference + timedelta(days=RELATIVE_DAYS[groups["rel"].lower()]), ""
    if kind == "weekday":
        assert weekday is not None
        return _weekday_day(match, weekday, reference)
    if kind == "numeric":
        return _numeric_day(match, weekday, reference)
    if kind == "iso":
        try:
            day: date | None = date(int(groups["y"]), int(groups["m"]), int(groups["d"]))
        except ValueError:
            return None, f"“{match.group(0)}” is not a real date"
    else:
        day, note = _named_month_day(match, weekday, reference)
        if day is None:
            return None, note
    if weekday is not None and day is not None and day.weekday() != weekday:
        return day, (
            f"the mail says “{match.group(0).strip()}”, but {day:%d %b %Y} is a {day:%A}; "
            "read as the date"
        )
    return day, ""


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def date_mentions(sentence: str, reference: date) -> tuple[list[DateMention], list[str]]:
    """The days a sentence names, in order, and notes on what could not be read."""
    found: list[tuple[int, int, str, re.Match[str]]] = []
    for kind, pattern in _DATE_PATTERNS:
        for match in pattern.finditer(sentence):
            found.append((match.start(), match.end(), kind, match))
    # The longest reading wins where two overlap ("Thursday (3/12)" over "this Thursday").
    found.sort(key=lambda f: (-(f[1] - f[0]), f[0]))
    chosen: list[tuple[int, int, str, re.Match[str]]] = []
    for item in found:
        if all(item[1] <= other[0] or item[0] >= other[1] for other in chosen):
            chosen.append(item)
    chosen.sort(key=lambda f: f[0])
    mentions: list[DateMention] = []
    notes: list[str] = []
    for start, end, kind, match in chosen:
        day, note = _resolve(kind, match, reference)
        if day is None:
            notes.append(note)
            continue
        deadline = bool(_DEADLINE_BEFORE.search(sentence[:start]))
        mention = DateMention(start, end, day, match.group(0).strip(), deadline, note)
        # "tomorrow (Fri 20 Nov)": one day, said twice.
        if mentions and _PAREN_JOIN.fullmatch(sentence[mentions[-1].end : start]):
            previous = mentions.pop()
            note = mention.note or previous.note
            if previous.day != day:
                note = (
                    f"“{previous.text}” and “{mention.text}” are different days; "
                    f"read as {day:%d %b %Y}"
                )
            mention = replace(
                mention,
                start=previous.start,
                text=sentence[previous.start : end].strip(),
                note=note,
            )
        mentions.append(mention)
    return mentions, notes
