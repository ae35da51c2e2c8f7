"""The grounding verifier: every checkable claim in a draft answer must be found in the evidence.

It checks cited message ids, e-mail addresses, quoted phrases (subjects are quoted by the
prompt's rules), amounts, ticket keys, dates, times of day and sender names. A draft with any
problem is never shown to the user as is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from graph.state import Evidence
from tools.language.addresses import ADDRESS
from tools.language.dates import ENGLISH_MONTH, WEEKDAY_TITLES, month_number, twenty_four_hour

CITATION = re.compile(r"\[msg:([^\]\s]+)\]")
QUOTED = re.compile(r"\"([^\"\n]{3,200})\"|“([^”\n]{3,200})”")
AMOUNT = re.compile(
    r"(?:(?P<sym>[$€£¥])\s?(?P<a>\d[\d,]*(?:\.\d+)?)"
    r"|(?P<cur>USD|EUR|GBP|CHF|JPY)\s?(?P<b>\d[\d,]*(?:\.\d+)?)"
    r"|(?P<c>\d[\d,]*(?:\.\d+)?)\s?(?P<cur2>USD|EUR|GBP|CHF|JPY|€|dollars|euros))",
)
# Whole keys, so an invented "INV-2026-9999" is not excused by a real "INV-2026-0412".
TICKET = re.compile(r"\b[A-Z][A-Z0-9]{1,9}(?:-\d{1,6})+\b")
ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})(?!\d)")
_MONTH = rf"({ENGLISH_MONTH})"
MONTH_DAY = re.compile(rf"\b{_MONTH}\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b", re.IGNORECASE)
DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\b", re.IGNORECASE)
CLOCK = re.compile(r"(?<![\d:])(\d{1,2}):(\d{2})(?!\d)(?:\s*([ap])\.?m\b\.?)?", re.IGNORECASE)
"""A time of day: `09:30`, `2:00 pm` (a meeting slot, a deadline)."""
SENDER_NAME = re.compile(r"\bfrom\s+((?:[A-Z][\w'-]+)(?:\s+[A-Z][\w'-]+){0,2})")
# Words that start a sentence after "from" without being a sender's name.
NOT_NAMES = frozenset(
    {"The", "This", "That", "These", "Those", "Your", "You", "Our", "An", "A", "It", "Their"}
    | WEEKDAY_TITLES
    | {"Today", "Tomorrow", "Yesterday", "Last", "Next"}
)


@dataclass(frozen=True)
class GroundingReport:
    """The outcome of a check: `problems` names every unsupported claim."""

    problems: tuple[str, ...]
    citations: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when nothing unsupported was found."""
        return not self.problems


def record_text(record: Evidence) -> str:
    """Everything one evidence record says, as one searchable text.

    A ref whose body the record keeps in `content` (`graph.evidence_bodies`) adds no preview:
    a body cut short could end in half a figure ("$1,2" of "$1,250") that no message states.
    """
    parts = [record["content"]]
    if record["error"]:
        parts.append(record["error"])
    for message in record["messages"]:
        kept_in_content = "body_at" in message
        parts.extend(
            str(v)
            for k, v in message.items()
            if isinstance(v, str) and not (kept_in_content and k == "text")
        )
    return "\n".join(parts)


def evidence_text(evidence: Iterable[Evidence]) -> str:
    """Everything the evidence says, as one searchable text."""
    return "\n".join(record_text(record) for record in evidence)


@dataclass(frozen=True)
class Facts:
    """What the checks look for in a text: its folded words and the figures in it."""

    folded: str
    amounts: frozenset[Decimal]
    tickets: frozenset[str]
    dates: frozenset[tuple[int, int]]
    times: frozenset[tuple[int, int]]

    @classmethod
    def of(cls, text: str) -> Facts:
        """The facts of `text` (the evidence side: times read both ways)."""
        return cls(
            _fold(text),
            frozenset(_amounts(text)),
            frozenset(TICKET.findall(text)),
            frozenset(_dates(text)),
            frozenset(_times(text)),
        )


REMEMBERED_TEXT_LIMIT = 32_768
"""Records up to this long have their facts remembered (at most 256 records, a few MiB): a
thread's evidence is checked again on every later turn, and a record's text never changes."""


@lru_cache(maxsize=256)
def _remembered_facts(text: str) -> Facts:
    return Facts.of(text)


def evidence_facts(evidence: Iterable[Evidence], reported: Sequence[str] = ()) -> Facts:
    """The facts of the evidence and of each `reported` text; a record's are remembered.

    A figure is supported when one record holds it: none is made of the end of one record
    and the start of the next.
    """
    each = [Facts.of(text) for text in reported]
    for record in evidence:
        text = record_text(record)
        each.append(
            _remembered_facts(text) if len(text) <= REMEMBERED_TEXT_LIMIT else Facts.of(text)
        )
    return Facts(
        " ".join(f.folded for f in each if f.folded),
        frozenset().union(*(f.amounts for f in each)),
        frozenset().union(*(f.tickets for f in each)),
        frozenset().union(*(f.dates for f in each)),
        frozenset().union(*(f.times for f in each)),
    )


def evidence_ids(evidence: Iterable[Evidence]) -> set[str]:
    """Ids of every message the evidence mentions."""
    return {m["id"] for record in evidence for m in record["messages"]}


def citations_in(text: str) -> list[str]:
    """Message ids cited as `[msg:ID]`, in order, without repeats."""
    return list(dict.fromkeys(CITATION.findall(text)))


def verify_answer(
    draft: str, evidence: Sequence[Evidence], reported: Sequence[str] = ()
) -> GroundingReport:
    """Check a draft answer against the evidence; returns every problem found.

    `reported` is what else the answer may repeat word for word: the errors of this turn's
    fetch (an inbox spec in them, such as `imap://dana%40example.com@host`, is not a claim).
    """
    facts = evidence_facts(evidence, reported)
    known_ids = evidence_ids(evidence)
    cited = citations_in(draft)
    problems = [
        f"cites message id {cited_id!r}, which no tool returned"
        for cited_id in cited
        if cited_id not in known_ids
    ]
    prose = CITATION.sub(" ", draft)
    problems += _unsupported_words(prose, facts.folded)
    problems += _unsupported_figures(prose, facts)
    problems += _unknown_senders(prose, facts.folded)
    return GroundingReport(problems=tuple(dict.fromkeys(problems)), citations=tuple(cited))


def _unsupported_words(prose: str, folded: str) -> list[str]:
    """Addresses and quoted phrases of the draft that the evidence lacks."""
    problems: list[str] = []
    for address in set(ADDRESS.findall(prose)):
        if address.lower() not in folded:
            problems.append(f"mentions address {address!r}, which is not in the evidence")
    for match in QUOTED.finditer(prose):
        phrase = match.group(1) or match.group(2)
        if _fold(phrase) not in folded:
            problems.append(f"quotes {phrase!r}, which is not in the evidence")
    return problems


def _unknown_senders(prose: str, folded: str) -> list[str]:
    """Names the draft gives as a sender ("from Dana Whit") that the evidence lacks."""
    return [
        f"names sender {name!r}, who is not in the evidence"
        for name in SENDER_NAME.findall(prose)
        if name.split()[0] not in NOT_NAMES and _fold(name) not in folded
    ]


def _unsupported_figures(prose: str, facts: Facts) -> list[str]:
    """Amounts, ticket keys, dates and times of day of the draft that the evidence lacks."""
    problems = [
        f"states the amount {amount}, which is not in the evidence"
        for amount in _amounts(prose) - facts.amounts
    ]
    known_tickets = facts.tickets
    for ticket in set(TICKET.findall(prose)) - known_tickets:
        if any(known.startswith(ticket + "-") for known in known_tickets):
            continue  # a shortened form of a real key ("INV-2026" of "INV-2026-0412")
        problems.append(f"names {ticket}, which is not in the evidence")
    for month, day in _dates(prose) - facts.dates:
        problems.append(f"states the date {month:02d}-{day:02d}, which is not in the evidence")
    for hour, minute in sorted(_times(prose, strict=True) - facts.times):
        problems.append(f"states the time {hour:02d}:{minute:02d}, which is not in the evidence")
    return problems


def _fold(text: str) -> str:
    text = text.replace("’", "'").replace("“", '"').replace("”", '"')
    return " ".join(text.casefold().split())


def _amounts(text: str) -> set[Decimal]:
    found: set[Decimal] = set()
    for match in AMOUNT.finditer(text):
        raw = match.group("a") or match.group("b") or match.group("c") or ""
        try:
            found.add(Decimal(raw.replace(",", "")).normalize())
        except InvalidOperation:
            continue
    return found


def _dates(text: str) -> set[tuple[int, int]]:
    """(month, day) pairs; ISO dates, 'Nov 18' and '18 November' forms."""
    found: set[tuple[int, int]] = set()
    for _year, month, day in ISO_DATE.findall(text):
        found.add((int(month), int(day)))
    for month_name, day in MONTH_DAY.findall(text):
        found.add((month_number(month_name) or 0, int(day)))
    for day, month_name in DAY_MONTH.findall(text):
        found.add((month_number(month_name) or 0, int(day)))
    # RFC 2822 dates in evidence ("Tue, 17 Nov 2026") are covered by DAY_MONTH.
    return {(m, d) for m, d in found if 1 <= m <= 12 and 1 <= d <= 31}


def _times(text: str, *, strict: bool = False) -> set[tuple[int, int]]:
    """(hour, minute) of the times of day in `text`.

    Evidence (`strict=False`) counts each time both as written and as a 12-hour clock
    reading would make it, so "2:00 pm" in a draft is supported by "14:00" in a mail and
    the other way round; a draft's own time (`strict=True`) is its 24-hour reading.
    """
    found: set[tuple[int, int]] = set()
    for hour_text, minute_text, half in CLOCK.findall(text):
        hour, minute = int(hour_text), int(minute_text)
        if hour > 23 or minute > 59:
            continue
        hour = twenty_four_hour(hour, half)
        found.add((hour, minute))
        if not strict and not half:
            found.add(((hour + 12) % 24, minute))
    return found


def iso_day(value: str) -> str:
    """`2026-11-18T09:12:00+01:00` → `2026-11-18` (unchanged when not ISO)."""
    try:
        return datetime.fromisoformat(value).date().isoformat()
    except ValueError:
        return value
