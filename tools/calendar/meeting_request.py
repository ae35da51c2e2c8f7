"""Reading a meeting request: which times it proposes, for how long, with whom.

`read_meeting_request` pulls what the mail itself says (English phrasing: "Tue 24 Nov
10:00-10:30 (CET)", "Thursday 2026-11-26 at 14:00 CET", "tomorrow (Fri 20 Nov) at 09:30",
"Wed 25 Nov after 14:00", "Friday 27 November in the morning", "this Thursday (3/12) at
1:00 pm CT", "30 min", "one hour"); `tools.calendar.proposal` checks those times against the
user's free/busy. Pure and deterministic. What cannot be read is said in `notes`, never
guessed. Mail content is data: nothing in it is followed, only read.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo

from tools.calendar.model import Attendee
from tools.calendar.request_dates import DateMention, date_mentions
from tools.calendar.request_times import (
    TIME,
    TimeMention,
    duration_named,
    time_mentions,
    zone_named,
)
from tools.mail.model import Email, without_quotes

DEFAULT_DURATION = timedelta(minutes=30)

_IF_NOT_WORK = re.compile(
    r"(?i)\bif\b[^,.;?!]*?\b(?:does\s*n[o’']?t|doesn[’']t|do\s*n[o’']?t|don[’']t|won[’']t|will not|"
    r"can[’']?t|cannot|is\s*n[o’']?t|isn[’']t)\s+(?:work|suit|fit|possible)[^,.;?!]*"
)
_MEETING_CUE = re.compile(
    r"(?i)\b(meet|meeting|call|sync|chat|catch[- ]?up|talk|free|available|availability|works?|suit"
    r"|possible|slot|time)\b|\?"
)


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


@dataclass
class _Reading:
    """What the sentences of a mail proposed so far, read in order."""

    drafts: list[tuple[str, date, TimeMention | None]] = field(default_factory=list)
    """(the mail's words, the day, the time of day if any), before zones and durations."""
    proposed_days: set[date] = field(default_factory=set)
    orphans: list[str] = field(default_factory=list)
    last_proposed_day: date | None = None
    day_only: list[DateMention] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if text and text not in self.notes:
            self.notes.append(text)


def _mail_zone_token(sentences: list[str]) -> str:
    """The first time zone the mail names next to a time ("10:00 CET"), or ''."""
    for sentence in sentences:
        for match in TIME.finditer(sentence):
            if match.group("zone"):
                return str(match.group("zone"))
    return ""


def _anchor_times(
    reading: _Reading, sentence: str, dates: list[DateMention], in_if: Callable[[int], bool]
) -> set[int]:
    """Each time of day of a sentence on its day; returns the starts of the days used."""
    used: set[int] = set()
    for mention in time_mentions(sentence):
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
            reading.note(anchor.note)
            words = sentence[min(anchor.start, mention.start) : max(anchor.end, mention.end)]
        elif reading.last_proposed_day is not None:
            day, words = reading.last_proposed_day, mention.text
        else:
            if mention.begin is not None:
                reading.orphans.append(mention.text)
            continue
        reading.drafts.append((words.strip(), day, mention))
        reading.proposed_days.add(day)
        reading.last_proposed_day = day
    return used


def _read_sentence(
    reading: _Reading, sentence: str, reference: date, about_a_meeting: bool
) -> None:
    dates, date_notes = date_mentions(sentence, reference)
    for note in date_notes:
        reading.note(note)
    spans = [(m.start(), m.end()) for m in _IF_NOT_WORK.finditer(sentence)]

    def in_if(position: int) -> bool:
        return any(s <= position < e for s, e in spans)

    used = _anchor_times(reading, sentence, dates, in_if)
    for said in dates:
        if said.start in used or said.deadline or in_if(said.start):
            continue
        if about_a_meeting or _MEETING_CUE.search(sentence):
            reading.day_only.append(said)


def _duration_of(
    sentences: list[str], drafts: list[tuple[str, date, TimeMention | None]]
) -> tuple[timedelta, str]:
    """The meeting's length and where it comes from: the mail's words, a range, a default."""
    found = duration_named("\n".join(sentences))
    first_range = next(
        (m for _, _, m in drafts if m is not None and m.begin and m.finish and not m.modifier),
        None,
    )
    if found is not None:
        return found[0], f"the mail says “{found[1]}”"
    if first_range is not None and first_range.begin and first_range.finish:
        span = datetime.combine(date.min, first_range.finish) - datetime.combine(
            date.min, first_range.begin
        )
        return span, f"the proposed time “{first_range.text}”"
    return DEFAULT_DURATION, "the mail names no duration; 30 minutes assumed"


def _requested_times(
    drafts: list[tuple[str, date, TimeMention | None]],
    mail_zone_token: str,
    default_zone: tzinfo,
    duration: timedelta,
) -> list[RequestedTime]:
    """The drafts as instants in their zone, each distinct time once."""
    requested: list[RequestedTime] = []
    for words, day, draft in drafts:
        named = zone_named((draft.zone if draft else "") or mail_zone_token)
        item = _requested(words, day, draft, named or default_zone, duration)
        if item is not None and all(
            (r.start, r.end, r.exact) != (item.start, item.end, item.exact) for r in requested
        ):
            requested.append(item)
    return requested


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
    reference = (sent or now or datetime.now(UTC)).astimezone(default_zone).date()
    subject = email.subject or ""
    sentences = ([subject] if subject.strip() else []) + _sentences(
        without_quotes(email.body, gap="\n")
    )
    mail_zone_token = _mail_zone_token(sentences)
    reading = _Reading()
    for sentence in sentences:
        _read_sentence(reading, sentence, reference, about_a_meeting)
    for said in reading.day_only:
        if said.day not in reading.proposed_days:
            reading.drafts.append((said.text, said.day, None))
            reading.proposed_days.add(said.day)
            reading.note(said.note)
    duration, source = _duration_of(sentences, reading.drafts)
    requested = _requested_times(reading.drafts, mail_zone_token, default_zone, duration)
    notes = reading.notes
    if not mail_zone_token and default_zone is not zone and requested:
        notes.append(
            "the mail names no time zone; its times are read in the sender's "
            f"{_offset_name(default_zone)} (from its Date header)"
        )
    notes.extend(
        f"could not tell which day “{text}” is on" for text in dict.fromkeys(reading.orphans)
    )
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
    words: str, day: date, mention: TimeMention | None, zone: tzinfo, duration: timedelta
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
