"""The times of day, zones and durations a meeting request names.

"10:00-10:30 (CET)", "after 14:00", "10-11am", "in the morning", "1:00 pm CT", "30 min".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from tools.language.dates import twenty_four_hour

ZONE_ABBREVIATIONS: dict[str, str] = {
    "CET": "Europe/Berlin",
    "CEST": "Europe/Berlin",
    "MEZ": "Europe/Berlin",
    "MESZ": "Europe/Berlin",
    "WET": "Europe/Lisbon",
    "WEST": "Europe/Lisbon",
    "EET": "Europe/Helsinki",
    "EEST": "Europe/Helsinki",
    "BST": "Europe/London",
    "UTC": "UTC",
    "GMT": "UTC",
    "ET": "America/New_York",
    "EST": "America/New_York",
    "EDT": "America/New_York",
    "CT": "America/Chicago",
    "CST": "America/Chicago",
    "CDT": "America/Chicago",
    "MT": "America/Denver",
    "MST": "America/Denver",
    "MDT": "America/Denver",
    "PT": "America/Los_Angeles",
    "PST": "America/Los_Angeles",
    "PDT": "America/Los_Angeles",
    "JST": "Asia/Tokyo",
    "SGT": "Asia/Singapore",
    "AEST": "Australia/Sydney",
    "AEDT": "Australia/Sydney",
}
"""Zone abbreviations read as the region's zone, so `CET` in summer still means Berlin time.
Ambiguous ones (IST: India or Ireland) are left out and fall back like an unnamed zone."""

_CLOCK = (
    r"(?:(?P<{p}h>[01]?\d|2[0-3])[:.h](?P<{p}m>[0-5]\d)(?:\s*(?P<{p}ap>am|pm))?"
    r"|(?P<{p}h12>1[0-2]|0?[1-9])\s*(?P<{p}ap12>am|pm)"
    r"|(?P<{p}noon>noon|midday))"
)
_ZONE = (
    r"(?:\s*\(?\s*(?P<zone>"
    + "|".join(sorted(ZONE_ABBREVIATIONS, key=len, reverse=True))
    + r"|(?:UTC|GMT)\s*[+-−]\s*\d{1,2}(?::?\d{2})?)\b\s*\)?)?"
)
TIME = re.compile(
    r"(?i:(?P<mod>any\s*time\s+after|after|from|before|until|till|not\s+before|between)\s+)?"
    r"(?<![\d.,:/$€£])"
    + _CLOCK.format(p="a")
    + r"(?:\s*(?:-|–|—|to|until|till|and)\s*"
    + _CLOCK.format(p="b")
    + r")?(?![.:]?\d)"
    + _ZONE,
    re.IGNORECASE,
)
_SHORT_RANGE = re.compile(
    r"(?<![\d.,:/])\b(?P<a>1[0-2]|0?[1-9])\s*(?:-|–|to)\s*(?P<b>1[0-2]|0?[1-9])\s*(?P<ap>am|pm)\b"
    + _ZONE,
    re.IGNORECASE,
)
_DAY_PART = re.compile(
    r"(?i)\b(?P<part>(?:in the |late |early )?morning|(?:in the |late |early )?afternoon"
    r"|any ?time)\b"
)


@dataclass(frozen=True)
class TimeMention:
    """A time of day named in a sentence: where, when, and what kind (exact or a window)."""

    start: int
    end: int
    text: str
    begin: time | None
    finish: time | None
    modifier: str
    """'' (exact), 'between', 'after', 'before', 'morning', 'afternoon', 'day'."""
    zone: str


def _clock(match: re.Match[str], p: str, fallback_ap: str | None = None) -> time | None:
    g = match.groupdict()
    if g.get(f"{p}noon"):
        return time(12, 0)
    if g.get(f"{p}h12"):
        hour, minute, ap = int(g[f"{p}h12"]), 0, g[f"{p}ap12"]
    elif g.get(f"{p}h") is not None:
        hour, minute, ap = int(g[f"{p}h"]), int(g[f"{p}m"]), g.get(f"{p}ap") or fallback_ap
    else:
        return None
    if ap:
        if hour > 12:
            return None
        hour = twenty_four_hour(hour, ap)
    return time(hour, minute)


def _short_ranges(sentence: str) -> list[TimeMention]:
    """Short ranges ("10-11am", "2 to 3 pm"): one am/pm for both ends."""
    mentions = []
    for match in _SHORT_RANGE.finditer(sentence):
        half = match.group("ap")
        end_hour = twenty_four_hour(int(match.group("b")) % 12, half)
        start_hour = twenty_four_hour(int(match.group("a")) % 12, half)
        if start_hour >= end_hour:
            start_hour -= 12
        if start_hour < 0:
            continue
        text = match.group(0).strip()
        zone = match.group("zone") or ""
        begin, finish = time(start_hour), time(end_hour)
        mentions.append(TimeMention(match.start(), match.end(), text, begin, finish, "", zone))
    return mentions


def _modifier(match: re.Match[str], finish: time | None) -> tuple[str, time | None]:
    """The kind of a clock mention ("after 14:00" is a window) and its end, if it keeps one."""
    modifier = " ".join((match.group("mod") or "").lower().split())
    if modifier == "between" and finish is not None:
        return "between", finish
    if "after" in modifier or "not before" in modifier or (modifier == "from" and not finish):
        return "after", None
    if modifier in ("before", "until", "till"):
        return "before", None
    return "", finish


def _clock_time(sentence: str, match: re.Match[str]) -> TimeMention | None:
    begin = _clock(match, "a", fallback_ap=match.group("bap") or match.group("bap12"))
    if begin is None:
        return None
    separator = sentence[match.end("ah")] if match.group("ah") else ":"
    if separator != ":" and match.group("am") not in ("00", "15", "30", "45"):
        return None  # "14.30" is a time; "2.14" (a version) or "12.99" (an amount) is not
    finish = _clock(match, "b")
    if finish is not None and finish <= begin:
        finish = None
    kind, finish = _modifier(match, finish)
    text, zone = match.group(0).strip(), match.group("zone") or ""
    return TimeMention(match.start(), match.end(), text, begin, finish, kind, zone)


def time_mentions(sentence: str) -> list[TimeMention]:
    """The times of day in a sentence, in order: ranges, clock times, then parts of the day."""
    mentions = _short_ranges(sentence)
    taken = [(m.start, m.end) for m in mentions]

    def free(match: re.Match[str]) -> bool:
        return all(match.end() <= s or match.start() >= e for s, e in taken)

    for match in TIME.finditer(sentence):
        mention = _clock_time(sentence, match) if free(match) else None
        if mention is not None:
            mentions.append(mention)
            taken.append((match.start(), match.end()))
    for match in _DAY_PART.finditer(sentence):
        if not free(match):
            continue
        part = match.group("part").lower()
        kind = "morning" if "morning" in part else "afternoon" if "afternoon" in part else "day"
        mentions.append(
            TimeMention(match.start(), match.end(), match.group(0), None, None, kind, "")
        )
    mentions.sort(key=lambda m: m.start)
    return mentions


def zone_named(token: str) -> tzinfo | None:
    """The zone an abbreviation (`CET`) or offset (`UTC+2`) names; None for none or unknown."""
    if not token:
        return None
    token = token.replace("−", "-").replace(" ", "")
    if token in ZONE_ABBREVIATIONS:
        return ZoneInfo(ZONE_ABBREVIATIONS[token])
    match = re.fullmatch(r"(?:UTC|GMT)([+-])(\d{1,2})(?::?(\d{2}))?", token, re.IGNORECASE)
    if not match:
        return None
    sign = 1 if match.group(1) == "+" else -1
    offset = timedelta(hours=int(match.group(2)), minutes=int(match.group(3) or 0))
    return timezone(sign * offset) if offset <= timedelta(hours=14) else None


_DURATION = re.compile(
    r"(?i)(?<!\bin )(?<!\bwithin )(?<!\bevery )\b(?P<n>\d{1,3}(?:\.5)?|half an?|an?|one|two|three"
    r"|one and a half)\s*-?\s*(?P<unit>minutes?|mins?|hours?|hrs?|h)\b(?P<half> and a half)?"
    r"(?!\s+(?:late|early|ago|away|drive|walk|later|before|after|of (?:delay|downtime)))"
)
_WORD_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "one and a half": 1.5}


def duration_named(text: str) -> tuple[timedelta, str] | None:
    """The first meeting length the text names (5 minutes to 8 hours), with its words."""
    for match in _DURATION.finditer(text):
        raw, unit = match.group("n").lower(), match.group("unit").lower()
        if raw.startswith("half"):
            amount = 0.5
        elif raw in _WORD_NUMBERS:
            amount = float(_WORD_NUMBERS[raw])
        else:
            amount = float(raw)
        if match.group("half"):
            amount += 0.5
        minutes = amount * (60 if unit.startswith("h") else 1)
        if 5 <= minutes <= 8 * 60:
            return timedelta(minutes=round(minutes)), match.group(0).strip()
    return None
