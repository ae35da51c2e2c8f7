"""The short reason beside each triaged message: what it is and why its priority moved.

A reason is read in a table cell next to the subject, so it is a short phrase in plain words from
the rule files, never the subject again and never rule jargon.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from graph.engines.triage.dates import due_date
from tools.language.categories import Category

REASON_CHARS = 60
"""A reason is read in a table cell: a short phrase, its least important parts left out."""

_ERROR_DETAIL_RE = re.compile(r"\s*(\([^()]*\)|'[^']*'|\"[^\"]*\")")


@dataclass
class Signal:
    """A signal found in a message: the category it counts for, how much, how it is named."""

    category: Category
    weight: float
    says: str


def snippet(text: str, limit: int = 60) -> str:
    """`text` on one line, cut with an ellipsis to at most `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def unreadable_reason(error: str) -> str:
    """The reason of a message that could not be read: `unreadable: <why>`, short.

    Quoted and parenthesised details (a MIME boundary, a list of headers) are left out: the
    full error stays on the message for whoever needs it.
    """
    why = _ERROR_DETAIL_RE.sub("", error).strip() or error
    return snippet(f"unreadable: {why}", REASON_CHARS + 20)


def lead(category: Category, flags: set[str], text: str, why: list[str]) -> str:
    """What the mail is in a few words where the rule signals say it poorly, else ''.

    A bill gets its state and due date; a meeting proposed soon gets when.
    """
    if category == "billing":
        return _billing_lead(flags, text)
    if category == "meeting_request" and why and why[0].startswith("proposed "):
        return f"meeting {why[0]}"
    return ""


def _billing_lead(flags: set[str], text: str) -> str:
    """What a billing mail is in a few words, with its due date when it names one."""
    due = due_date(text)
    if "overdue" in flags:
        return f"overdue payment, was due {due}" if due else "overdue payment"
    if "payment_failed" in flags:
        return "payment failed"
    if "receipt" in flags and "amount_due" not in flags:
        return "receipt, already paid"
    return f"invoice due {due}" if due else ""


def reason(
    category: Category, evidence: list[Signal], flags: set[str], why: list[str], lead: str
) -> str:
    """A short phrase: what the mail is, why its priority moved, then a second signal if it fits.

    Parts are plain words from the rule files (never the subject, which is shown beside the
    reason); a part that repeats one already said, or that would make the phrase longer than
    `REASON_CHARS`, is left out.
    """
    mine = sorted((e for e in evidence if e.category == category), key=lambda e: -e.weight)
    signals = list(dict.fromkeys(item.says for item in mine))
    if lead:
        parts, more = [lead], why
    elif signals:
        parts, more = [signals[0]], [*why, *signals[1:2]]
    else:
        direct = "asks you something directly" if "request" in flags else "no clear signal"
        parts, more = [direct], why
    if category == "urgent_incident":
        more = [part for part in more if part not in why]  # high is what an incident always is
    for part in more:
        if any(_repeats(part, said) for said in parts):
            continue
        if len(", ".join([*parts, part])) <= REASON_CHARS:
            parts.append(part)
    return snippet(", ".join(parts), REASON_CHARS + 20)


def _repeats(part: str, said: str) -> bool:
    """Whether `part` adds nothing to `said`.

    One holds the other, or both end on the same noun ("asks for a meeting", "mentions a meeting").
    """
    return part in said or said in part or part.split()[-1] == said.split()[-1]
