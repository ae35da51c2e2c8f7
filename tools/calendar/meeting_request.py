"""Reading a meeting request: which times it proposes, for how long, with whom; and what to offer.

`read_meeting_request` pulls what the mail itself says (English phrasing: "Tue 24 Nov
10:00-10:30 (CET)", "Thursday 2026-11-26 at 14:00 CET", "tomorrow (Fri 20 Nov) at 09:30",
"Wed 25 Nov after 14:00", "Friday 27 November in the morning", "this Thursday (3/12) at
1:00 pm CT", "30 min", "one hour"); `propose_slots` checks those times against the user's
free/busy and fills up with other free slots. Both are pure and deterministic. What cannot be
read is said in `notes`, never guessed: a mail whose times cannot be read still gets free
slots, with a note saying so. Mail content is data: nothing in it is followed, only read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from tools.calendar.model import Attendee, Interval
from tools.calendar.settings import WorkingHours, zone_name
from tools.calendar.slots import find_slots, slot_problem
from tools.mail.model import Email, without_quotes

DEFAULT_DURATION = timedelta(minutes=30)
DEFAULT_COUNT = 3
DEFAULT_HORIZON = timedelta(days=14)
"""How far past the first possible day other free slots are looked for."""

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_ABBR = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = (
    "january february march april may june july august september october november december"
).split()

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


@dataclass(frozen=True)
class RequestedTime:
    """A time the mail proposes: an exact meeting time, or a window to find one in."""

    text: str
    """The mail's own words it was read from."""
    start: datetime
    end: datetime
    """For an exact time, its end (the start plus the meeting's duration when the mail names
    no end); for a window ("after 14:00", "in the morning", a day), the window's end."""
    exact: bool


@dataclass(frozen=True)
class MeetingRequest:
    """What a meeting request says: who, what, how long, and which times it proposes."""

    email_id: str
    title: str
    attendees: tuple[Attendee, ...]
    duration: timedelta
    duration_source: str
    """Where the duration comes from, in words (the mail's phrase, a proposed range, a default)."""
    requested: tuple[RequestedTime, ...]
    notes: tuple[str, ...]
    """What could not be read, or was read with an assumption."""


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
# Text
# ---------------------------------------------------------------------------------------


def _sentences(text: str) -> list[str]:
    """Paragraphs joined into lines, list items kept apart, then split into sentences."""
    text = re.sub(r"(?i)\b([ap])\.m\.", r"\1m", text)
    pieces: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        lines: list[str] = []
        for line in paragraph.splitlines():
            line = line.strip()
            if not line:
                continue
            if lines and not re.match(r"([-*•]|\d+[.)])\s", line):
                lines[-1] += " " + line
            else:
                lines.append(line)
        for line in lines:
            pieces.extend(s for s in re.split(r"(?<=[.?!])\s+", line) if s.strip())
    return pieces


# ---------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------

_MONTH_ALT = "|".join(sorted({*MONTHS, *(m[:3] for m in MONTHS), "sept"}, key=len, reverse=True))
_WEEKDAY_FULL = "|".join(WEEKDAYS)
_WEEKDAY_ALT = rf"(?i:{_WEEKDAY_FULL})|{'|'.join(_WEEKDAY_ABBR)}|(?i:tues|thur|thurs)"
_WD = rf"(?:(?P<wd>{_WEEKDAY_ALT})\.?,?\s+)?"

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
        re.compile(r"(?i)\b(?P<rel>the day after tomorrow|today|tonight|tomorrow)\b"),
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
class _DateMention:
    start: int
    end: int
    day: date
    text: str
    deadline: bool
    """Preceded by "by", "until", "due" …: a deadline or a past reference, not a proposal."""
    note: str = ""
    """How it was read, when that took an assumption (said only if it becomes a proposal)."""


def _weekday_index(name: str) -> int:
    key = name.lower()[:3]
    return [w[:3] for w in WEEKDAYS].index(key)


def _month_index(name: str) -> int:
    return [m[:3] for m in MONTHS].index(name.lower()[:3]) + 1


def _next_on_or_after(month: int, day: int, reference: date) -> date | None:
    for year in (reference.year, reference.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= reference - timedelta(days=1):
            return candidate
    return None


def _resolve(kind: str, match: re.Match[str], reference: date) -> tuple[date | None, str]:
    """The day a date mention means (and a note when a reading was assumed or looks wrong)."""
    groups = match.groupdict()
    weekday = _weekday_index(groups["wd"]) if groups.get("wd") else None
    note = ""
    day: date | None
    if kind == "relative":
        offsets = {"today": 0, "tonight": 0, "tomorrow": 1, "the day after tomorrow": 2}
        return reference + timedelta(days=offsets[groups["rel"].lower()]), ""
    if kind == "weekday":
        assert weekday is not None
        if (groups.get("which") or "").lower() == "next":
            target = _week_start(reference) + timedelta(days=7 + weekday)
            words = match.group(0).strip()
            return target, f"read “{words}” as {target:%a %d %b %Y} (in the week after the mail's)"
        return reference + timedelta(days=(weekday - reference.weekday()) % 7 or 7), ""
    if kind == "iso":
        try:
            day = date(int(groups["y"]), int(groups["m"]), int(groups["d"]))
        except ValueError:
            return None, f"“{match.group(0)}” is not a real date"
    elif kind == "numeric":
        a, b = int(groups["a"]), int(groups["b"])
        readings = []
        for month, dom in ((a, b), (b, a)):  # US month/day first, then day/month
            candidate = _next_on_or_after(month, dom, reference) if 1 <= month <= 12 else None
            if candidate is not None and (weekday is None or candidate.weekday() == weekday):
                readings.append(candidate)
        if not readings:
            return None, f"could not read the date in “{match.group(0)}”"
        day = min(readings)
        return day, ""
    else:
        month = _month_index(groups["mon"])
        dom = int(groups["d"])
        if groups.get("y"):
            try:
                day = date(int(groups["y"]), month, dom)
            except ValueError:
                return None, f"“{match.group(0)}” is not a real date"
        else:
            day = _next_on_or_after(month, dom, reference)
            if day is None:
                return None, f"“{match.group(0)}” is not a real date"
            if weekday is not None and day.weekday() != weekday:
                later = _next_on_or_after(month, dom, date(day.year + 1, 1, 1))
                if (
                    later is not None
                    and later.weekday() == weekday
                    and later.year <= reference.year + 1
                ):
                    day = later
    if weekday is not None and day.weekday() != weekday:
        note = (
            f"the mail says “{match.group(0).strip()}”, but {day:%d %b %Y} is a {day:%A}; "
            "read as the date"
        )
    return day, note


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _date_mentions(sentence: str, reference: date) -> tuple[list[_DateMention], list[str]]:
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
    mentions: list[_DateMention] = []
    notes: list[str] = []
    for start, end, kind, match in chosen:
        day, note = _resolve(kind, match, reference)
        if day is None:
            notes.append(note)
            continue
        deadline = bool(_DEADLINE_BEFORE.search(sentence[:start]))
        mention = _DateMention(start, end, day, match.group(0).strip(), deadline, note)
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


# ---------------------------------------------------------------------------------------
# Times
# ---------------------------------------------------------------------------------------

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
_TIME = re.compile(
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
    r"(?i)\b(?P<part>(?:in the |late |early )?morning|(?:in the |late |early )?afternoon|any ?time)\b"
)
_IF_NOT_WORK = re.compile(
    r"(?i)\bif\b[^,.;?!]*?\b(?:does\s*n[o’']?t|doesn[’']t|do\s*n[o’']?t|don[’']t|won[’']t|will not|"
    r"can[’']?t|cannot|is\s*n[o’']?t|isn[’']t)\s+(?:work|suit|fit|possible)[^,.;?!]*"
)
_MEETING_CUE = re.compile(
    r"(?i)\b(meet|meeting|call|sync|chat|catch[- ]?up|talk|free|available|availability|works?|suit"
    r"|possible|slot|time)\b|\?"
)


@dataclass(frozen=True)
class _TimeMention:
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
        hour = hour % 12 + (12 if ap.lower() == "pm" else 0)
    return time(hour, minute)


def _time_mentions(sentence: str) -> list[_TimeMention]:
    mentions: list[_TimeMention] = []
    taken: list[tuple[int, int]] = []

    def free(match: re.Match[str]) -> bool:
        return all(match.end() <= s or match.start() >= e for s, e in taken)

    for match in _SHORT_RANGE.finditer(sentence):  # "10-11am", "2 to 3 pm"
        pm = match.group("ap").lower() == "pm"
        end_hour = int(match.group("b")) % 12 + (12 if pm else 0)
        start_hour = int(match.group("a")) % 12 + (12 if pm else 0)
        if start_hour >= end_hour:
            start_hour -= 12
        if start_hour < 0:
            continue
        text = match.group(0).strip()
        zone = match.group("zone") or ""
        mentions.append(
            _TimeMention(
                match.start(), match.end(), text, time(start_hour), time(end_hour), "", zone
            )
        )
        taken.append((match.start(), match.end()))
    for match in _TIME.finditer(sentence):
        if not free(match):
            continue
        begin = _clock(match, "a", fallback_ap=match.group("bap") or match.group("bap12"))
        if begin is None:
            continue
        separator = sentence[match.end("ah")] if match.group("ah") else ":"
        if separator != ":" and match.group("am") not in ("00", "15", "30", "45"):
            continue  # "14.30" is a time; "2.14" (a version) or "12.99" (an amount) is not
        finish = _clock(match, "b")
        if finish is not None and finish <= begin:
            finish = None
        modifier = " ".join((match.group("mod") or "").lower().split())
        if modifier == "between" and finish is not None:
            kind = "between"
        elif "after" in modifier or "not before" in modifier or (modifier == "from" and not finish):
            kind, finish = "after", None
        elif modifier in ("before", "until", "till"):
            kind, finish = "before", None
        else:
            kind = ""
        mentions.append(
            _TimeMention(
                match.start(),
                match.end(),
                match.group(0).strip(),
                begin,
                finish,
                kind,
                match.group("zone") or "",
            )
        )
        taken.append((match.start(), match.end()))
    for match in _DAY_PART.finditer(sentence):
        if not free(match):
            continue
        part = match.group("part").lower()
        kind = "morning" if "morning" in part else "afternoon" if "afternoon" in part else "day"
        mentions.append(
            _TimeMention(match.start(), match.end(), match.group(0), None, None, kind, "")
        )
    mentions.sort(key=lambda m: m.start)
    return mentions


def _zone(token: str) -> tzinfo | None:
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


# ---------------------------------------------------------------------------------------
# Duration, title, attendees
# ---------------------------------------------------------------------------------------

_DURATION = re.compile(
    r"(?i)(?<!\bin )(?<!\bwithin )(?<!\bevery )\b(?P<n>\d{1,3}(?:\.5)?|half an?|an?|one|two|three"
    r"|one and a half)\s*-?\s*(?P<unit>minutes?|mins?|hours?|hrs?|h)\b(?P<half> and a half)?"
    r"(?!\s+(?:late|early|ago|away|drive|walk|later|before|after|of (?:delay|downtime)))"
)
_WORD_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "one and a half": 1.5}


def _duration(text: str) -> tuple[timedelta, str] | None:
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


_SUBJECT_PREFIX = re.compile(r"(?i)^\s*((re|fwd?|aw|wg|sv|tr)\s*:\s*|meeting request\s*:\s*)+")


def meeting_title(email: Email) -> str:
    """The subject without `Re:`/`Fwd:`/`Meeting request:` and a closing question mark."""
    title = _SUBJECT_PREFIX.sub("", email.subject or "").strip().rstrip("?").strip()
    if title:
        return title
    who = email.from_name or email.from_addr or "the sender"
    return f"Meeting with {who}"


def meeting_attendees(email: Email, own_addresses: tuple[str, ...] = ()) -> tuple[Attendee, ...]:
    """The sender; for the user's own mail, its other recipients."""
    own = {a.lower() for a in own_addresses}
    if email.from_addr and email.from_addr.lower() not in own:
        return (Attendee(email.from_addr.lower(), email.from_name),)
    others = [a for a in (*email.to, *email.cc) if a.lower() not in own]
    return tuple(Attendee(a.lower()) for a in dict.fromkeys(others))


# ---------------------------------------------------------------------------------------
# Reading a request
# ---------------------------------------------------------------------------------------


def _sender_zone(email: Email, zone: tzinfo) -> tuple[tzinfo, datetime | None]:
    """The zone the sender most likely means when the mail names none, and the mail's date.

    The Date header's offset: when it equals the user's own offset on that day, the user's
    zone (DST rules included); otherwise that fixed offset.
    """
    try:
        sent = datetime.fromisoformat(email.date) if email.date else None
    except ValueError:
        sent = None
    if sent is None or sent.tzinfo is None:
        return zone, sent
    offset = sent.utcoffset()
    if offset == sent.astimezone(zone).utcoffset():
        return zone, sent
    return timezone(offset or timedelta(0)), sent


def read_meeting_request(
    email: Email,
    *,
    zone: tzinfo,
    own_addresses: tuple[str, ...] = (),
    now: datetime | None = None,
    about_a_meeting: bool = False,
) -> MeetingRequest:
    """What `email` asks for: its proposed times (in order), duration, title and attendees.

    Days without a year are the next such day on or after the mail's date; times without a
    named zone are in the sender's zone (see `_sender_zone`). `now` stands in for the mail's
    date when it has none. A day named without a time counts only in a sentence about
    meeting ("Thursday works"), unless `about_a_meeting` says the whole text is (a reply to
    a meeting request: "Thursday is fine").
    """
    default_zone, sent = _sender_zone(email, zone)
    reference_instant = sent or now or datetime.now(UTC)
    reference = reference_instant.astimezone(default_zone).date()
    subject = email.subject or ""
    sentences = ([subject] if subject.strip() else []) + _sentences(
        without_quotes(email.body, gap="\n")
    )
    notes: list[str] = []
    mail_zone_token = ""
    for sentence in sentences:
        for match in _TIME.finditer(sentence):
            if match.group("zone"):
                mail_zone_token = match.group("zone")
                break
        if mail_zone_token:
            break

    drafts: list[tuple[str, date, _TimeMention | None]] = []
    proposed_days: set[date] = set()
    orphans: list[str] = []
    last_proposed_day: date | None = None
    day_only: list[_DateMention] = []
    for sentence in sentences:
        dates, date_notes = _date_mentions(sentence, reference)
        notes.extend(n for n in date_notes if n not in notes)
        times = _time_mentions(sentence)
        if_spans = [(m.start(), m.end()) for m in _IF_NOT_WORK.finditer(sentence)]

        def in_if(position: int, spans: list[tuple[int, int]] = if_spans) -> bool:
            return any(s <= position < e for s, e in spans)

        used: set[int] = set()
        for mention in times:
            if in_if(mention.start):
                continue
            before = [d for d in dates if d.end <= mention.start]
            after = [d for d in dates if d.start >= mention.end]
            anchor = before[-1] if before else (after[0] if after else None)
            if anchor is not None:
                used.add(anchor.start)
                if anchor.deadline:
                    continue
                day = anchor.day
                if anchor.note and anchor.note not in notes:
                    notes.append(anchor.note)
                words = sentence[min(anchor.start, mention.start) : max(anchor.end, mention.end)]
            elif last_proposed_day is not None:
                day, words = last_proposed_day, mention.text
            else:
                if mention.begin is not None:
                    orphans.append(mention.text)
                continue
            drafts.append((words.strip(), day, mention))
            proposed_days.add(day)
            last_proposed_day = day
        for said in dates:
            if said.start in used or said.deadline or in_if(said.start):
                continue
            if about_a_meeting or _MEETING_CUE.search(sentence):
                day_only.append(said)
    for said in day_only:
        if said.day not in proposed_days:
            drafts.append((said.text, said.day, None))
            proposed_days.add(said.day)
            if said.note and said.note not in notes:
                notes.append(said.note)

    found = _duration("\n".join(sentences))
    first_range = next(
        (m for _, _, m in drafts if m is not None and m.begin and m.finish and not m.modifier),
        None,
    )
    if found is not None:
        duration, source = found[0], f"the mail says “{found[1]}”"
    elif first_range is not None and first_range.begin and first_range.finish:
        span = datetime.combine(date.min, first_range.finish) - datetime.combine(
            date.min, first_range.begin
        )
        duration, source = span, f"the proposed time “{first_range.text}”"
    else:
        duration, source = DEFAULT_DURATION, "the mail names no duration; 30 minutes assumed"

    requested: list[RequestedTime] = []
    for words, day, draft in drafts:
        named = _zone((draft.zone if draft else "") or mail_zone_token)
        item = _requested(words, day, draft, named or default_zone, duration)
        if item is not None and all(
            (r.start, r.end, r.exact) != (item.start, item.end, item.exact) for r in requested
        ):
            requested.append(item)
    if not mail_zone_token and default_zone is not zone and requested:
        notes.append(
            f"the mail names no time zone; its times are read in the sender's {_offset_name(default_zone)} "
            "(from its Date header)"
        )
    for text in dict.fromkeys(orphans):
        notes.append(f"could not tell which day “{text}” is on")
    if not requested:
        notes.append("no proposed time could be read from the mail")
    return MeetingRequest(
        email_id=email.id,
        title=meeting_title(email),
        attendees=meeting_attendees(email, own_addresses),
        duration=duration,
        duration_source=source,
        requested=tuple(requested),
        notes=tuple(notes),
    )


def _offset_name(zone: tzinfo) -> str:
    offset = datetime(2000, 1, 1, tzinfo=zone).utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _requested(
    words: str, day: date, mention: _TimeMention | None, zone: tzinfo, duration: timedelta
) -> RequestedTime | None:
    midnight = datetime.combine(day, time(0), tzinfo=zone)
    next_midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    noon = datetime.combine(day, time(12), tzinfo=zone)
    if mention is None or mention.modifier == "day":
        return RequestedTime(words, midnight, next_midnight, exact=False)
    if mention.modifier == "morning":
        return RequestedTime(words, midnight, noon, exact=False)
    if mention.modifier == "afternoon":
        return RequestedTime(words, noon, next_midnight, exact=False)
    assert mention.begin is not None
    at = datetime.combine(day, mention.begin, tzinfo=zone)
    if mention.modifier == "after":
        return RequestedTime(words, at, next_midnight, exact=False)
    if mention.modifier == "before":
        return RequestedTime(words, midnight, at, exact=False)
    if mention.modifier == "between" and mention.finish is not None:
        return RequestedTime(words, at, datetime.combine(day, mention.finish, tzinfo=zone), False)
    finish = datetime.combine(day, mention.finish, tzinfo=zone) if mention.finish else None
    end = finish if finish is not None else at.astimezone(UTC) + duration
    return RequestedTime(words, at, end, exact=True)


# ---------------------------------------------------------------------------------------
# Proposing slots
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
    in the mail's order; then other free slots up to `count` in all. `busy` must cover `search_window(request, now=now, horizon=horizon)`.
    """
    chosen: list[ProposedSlot] = []
    checks: list[RequestCheck] = []
    taken = list(busy)
    slot: Interval | None
    for item in request.requested:
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
            checks.append(RequestCheck(item, problem or "no free time"))
            continue
        checks.append(RequestCheck(item, "", slot))
        chosen.append(ProposedSlot(slot, item.text))
        taken.append(slot)
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


# ---------------------------------------------------------------------------------------
# Text for the evidence
# ---------------------------------------------------------------------------------------


def slot_text(slot: Interval, zone: tzinfo) -> str:
    """`Tue 24 Nov 2026 10:00-10:30 [2026-11-24T10:00:00+01:00/2026-11-24T10:30:00+01:00]`."""
    start, end = slot.start.astimezone(zone), slot.end.astimezone(zone)
    span = (
        f"{start:%a %d %b %Y %H:%M}-{end:%H:%M}"
        if start.date() == end.date()
        else f"{start:%a %d %b %Y %H:%M} - {end:%a %d %b %Y %H:%M}"
    )
    return f"{span} [{start.isoformat()}/{end.isoformat()}]"


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
# Reading the text back (the offline engine and the triage pick a slot from the evidence)
# ---------------------------------------------------------------------------------------

_OFFERED_LINE = re.compile(
    r"^(?P<number>\d+)\. (?P<label>[^\[\n]+?) \[(?P<start>[^/\]\n]+)/(?P<end>[^\]\n]+)\]"
    r"(?: — (?P<origin>[^\n]*))?$",
    re.MULTILINE,
)
_HEADER_LINE = re.compile(
    r"^(?P<key>Meeting request|Title|Attendees): (?P<value>.*)$", re.MULTILINE
)


@dataclass(frozen=True)
class OfferedSlot:
    """One numbered slot of a proposal's text, with its exact instants."""

    number: int
    label: str
    """`Tue 24 Nov 2026 10:00-10:30`, as the text shows it (in the user's zone)."""
    start: datetime
    end: datetime
    asked_for: bool
    """The meeting request itself proposed this time."""

    @property
    def start_text(self) -> str:
        """The start exactly as the evidence writes it (ISO 8601 with offset)."""
        return self.start.isoformat()

    @property
    def end_text(self) -> str:
        """The end exactly as the evidence writes it."""
        return self.end.isoformat()


@dataclass(frozen=True)
class OfferedSlots:
    """What a `propose_meeting_slots` result offers, read back from its text."""

    email_id: str
    """The meeting request answered; empty for plain free slots."""
    title: str
    attendees: str
    """`Name <address>, …` as the text lists them; empty when none were found."""
    slots: tuple[OfferedSlot, ...]


def read_offered_slots(text: str) -> OfferedSlots:
    """The numbered slots (and, for a meeting request, its id, title and attendees) of `text`.

    The inverse of `render_proposal` and of the plain free-slot listing: every slot line
    carries its exact ISO instants, so nothing is recomputed or guessed.
    """
    header = {m.group("key"): m.group("value").strip() for m in _HEADER_LINE.finditer(text)}
    slots = []
    for match in _OFFERED_LINE.finditer(text):
        try:
            start = datetime.fromisoformat(match.group("start"))
            end = datetime.fromisoformat(match.group("end"))
        except ValueError:
            continue
        origin = match.group("origin") or ""
        slots.append(
            OfferedSlot(
                number=int(match.group("number")),
                label=match.group("label").strip(),
                start=start,
                end=end,
                asked_for=origin.startswith("asked for in the mail"),
            )
        )
    attendees = header.get("Attendees", "")
    return OfferedSlots(
        email_id=header.get("Meeting request", "").removeprefix("message id ").strip(),
        title=header.get("Title", ""),
        attendees="" if attendees == "none found" else attendees,
        slots=tuple(slots),
    )


def requested_time_of(
    request: MeetingRequest, start: datetime, end: datetime
) -> RequestedTime | None:
    """The time the mail proposed that [start, end) answers: same start, or inside its window."""
    for item in request.requested:
        if item.exact and item.start == start:
            return item
        if not item.exact and item.start <= start and end <= item.end:
            return item
    return None
