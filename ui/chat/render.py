"""What the chat shows, as data and markdown: answers with citation links, cards, the triage list.

Pure functions with no Chainlit in them, so what a person sees is tested without a browser.
A message opens from a plain link to the mail page (`ui.chat.mail_page`): the link is text in the
chat's history, so it works after a reload, a reopened chat and a restart, and the page holds
a message only when someone opens it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any
from urllib.parse import quote

from graph.approval import code_span
from graph.engines.triage.senders import domain_of
from graph.grounding import CITATION
from memory.mail_tables import TriageRecord
from tools.language.categories import CATEGORIES, DECISIONS, PRIORITIES
from tools.mail.model import Email

MAIL_PATH = "/mail/view"
"""Where the chat server shows one message (see `ui.chat.mail_page`)."""
PRIORITY_ORDER = {"error": -1, "high": 0, "normal": 1, "low": 2}
DECISION_ORDER = {"error": -1, "respond": 0, "notify": 1, "ignore": 2}
"""The triage list's groups, in the order a person works through them (unreadable on top)."""
FIRST_ROWS = 12
"""Triage rows shown before "show more": every urgent row, and at least this many."""
REPLY_ACTIONS = ("reply", "schedule_meeting")
"""Suggested actions the triage list offers as a reply button."""
SUGGESTIONS = (*REPLY_ACTIONS, "create_ticket", "notify_team", "create_lead")
"""Actions that are suggestions to act on a message: never shown on a suspicious one."""


def mail_url(message_id: str) -> str:
    """The link that opens one message of the mailbox."""
    return f"{MAIL_PATH}?id={quote(message_id, safe='')}"


def answer_markdown(text: str) -> str:
    """An answer with each `[msg:ID]` as a link `mail N`, numbered in order of first mention."""
    numbers: dict[str, int] = {}

    def link(match: re.Match[str]) -> str:
        message_id = match.group(1)
        number = numbers.setdefault(message_id, len(numbers) + 1)
        return f"[mail {number}]({mail_url(message_id)})"

    return CITATION.sub(link, text)


def card_markdown(description: str) -> str:
    """A card's description with message ids shown as code and an `open` link, never as links.

    An id such as `abc@mail.example` would otherwise become a `mailto:` link, and one that
    starts with a dot or a bracket would lose its start to the markdown renderer.
    """
    return CITATION.sub(
        lambda m: f"{code_span(m.group(1))} ([open]({mail_url(m.group(1))}))", description
    )


def local_time(value: str | datetime, zone: tzinfo | None) -> datetime | None:
    """An ISO 8601 instant (or a datetime) in the user's zone; None when it is not one."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if value.tzinfo is None:
        return value
    return value.astimezone(zone) if zone is not None else value


def day_label(moment: datetime) -> str:
    """`Thu 19 Nov`: how people write a day in a list."""
    return f"{moment:%a} {moment.day} {moment:%b}"


def time_span(start: str, end: str, zone: tzinfo | None) -> str:
    """`Thu 19 Nov, 15:00–15:45` in the user's zone (the end's day only when it differs)."""
    first, last = local_time(start, zone), local_time(end, zone)
    if first is None or last is None:
        return f"{start} – {end}"
    if first.date() == last.date():
        return f"{day_label(first)}, {first:%H:%M}–{last:%H:%M}"
    return f"{day_label(first)}, {first:%H:%M} – {day_label(last)}, {last:%H:%M}"


def slot_offer(data: dict[str, Any], zone: tzinfo | None) -> str:
    """One meeting request's proposal as a short paragraph: who, what, and numbered free slots."""
    who = ", ".join(str(a) for a in data.get("attendees") or []) or "the sender"
    title = str(data.get("title") or "Meeting")
    lines = [f"**{title}** with {who} ({data.get('duration_minutes', '?')} min):"]
    for number, slot in enumerate(data.get("slots") or [], 1):
        asked = " — the time they asked for" if slot.get("asked_for") else ""
        lines.append(f"{number}. {time_span(slot['start'], slot['end'], zone)}{asked}")
    if not data.get("slots"):
        lines.append("No free slot in working hours.")
    for requested in data.get("requested") or []:
        if requested.get("problem"):
            lines.append(f"- They asked for {requested['text']}: {requested['problem']}")
    lines += [f"- {note}" for note in data.get("notes") or []]
    return "\n".join(lines)


@dataclass(frozen=True)
class TriageRow:
    """One line of the triage list, in the words a person scans."""

    id: str
    url: str
    priority: str
    sender: str
    subject: str
    category: str
    action: str
    reason: str
    day: str
    reply_to: str
    """Who a suggested reply goes to (a name), or empty when the row suggests no reply."""
    decision: str = "error"
    """`respond`, `notify` or `ignore`; `error` for a message that could not be read."""
    warning: str = ""
    """Why the message looks like phishing or fraud; '' when it does not."""
    unsure: bool = False
    by_you: bool = False
    """The row follows one of the user's own rules (their correction)."""
    fix: dict[str, str] = field(default_factory=dict)
    """What a correction starts from: the raw priority and category, the sender's address and
    domain, and `list` when the message came through a mailing list. Empty on an error row."""
    woken: bool = False
    """Back from a snooze: shown first, marked."""

    def as_props(self) -> dict[str, Any]:
        """The row as the triage list element's props (JSON)."""
        return {
            "id": self.id,
            "url": self.url,
            "priority": self.priority,
            "sender": self.sender,
            "subject": self.subject,
            "category": self.category,
            "action": self.action,
            "reason": self.reason,
            "day": self.day,
            "replyTo": self.reply_to,
            "decision": self.decision,
            "warning": self.warning,
            "unsure": self.unsure,
            "byYou": self.by_you,
            "fix": dict(self.fix),
            "woken": self.woken,
        }


ACTION_WORDS = {
    "reply": "reply",
    "schedule_meeting": "schedule",
    "create_ticket": "open a ticket",
    "notify_team": "tell the team",
    "create_lead": "add a lead",
    "archive": "archive",
    "none": "—",
}
CHOICES = {"decision": DECISIONS, "priority": PRIORITIES, "category": CATEGORIES}
"""What a row's decision, priority and category may be changed to (the correction menus)."""


def _has_list(email: Email) -> bool:
    return any(name.casefold() == "list-id" for name in email.headers or {})


def triage_row(email: Email, triage: TriageRecord | None, zone: tzinfo | None) -> TriageRow:
    """A message and its triage as one row; an unreadable message is an error row."""
    moment = local_time(email.date, zone) if email.date else None
    sender = email.from_name or email.from_addr or "(unknown sender)"
    day = day_label(moment) if moment else ""
    subject = email.subject or "(no subject)"
    if email.error or triage is None:
        why = email.error or "not triaged"
        return TriageRow(
            id=email.id,
            url=mail_url(email.id),
            priority="error",
            sender=sender,
            subject=subject,
            category="unreadable" if email.error else "—",
            action="—",
            reason=f"unreadable: {why}" if email.error else why,
            day=day,
            reply_to="",
        )
    suspicious = triage.suspicious
    offers_reply = (
        triage.action in REPLY_ACTIONS and triage.priority in ("high", "normal") and not suspicious
    )
    shown_action = "—" if suspicious and triage.action in SUGGESTIONS else triage.action
    address = (email.from_addr or "").casefold()
    return TriageRow(
        id=email.id,
        url=mail_url(email.id),
        priority=triage.priority,
        sender=sender,
        subject=subject,
        category=triage.category.replace("_", " "),
        action=ACTION_WORDS.get(shown_action, shown_action.replace("_", " ")),
        reason=triage.reason,
        day=day,
        reply_to=sender if offers_reply else "",
        decision=triage.decision if triage.decision in DECISION_ORDER else "notify",
        warning=suspicious,
        unsure=triage.unsure,
        by_you=triage.engine == "you",
        fix={
            "priority": triage.priority,
            "category": triage.category,
            "address": address,
            "domain": domain_of(address),
            "list": "yes" if _has_list(email) else "",
        },
    )


def triage_rows(
    pairs: Iterable[tuple[Email, TriageRecord | None]], zone: tzinfo | None
) -> list[TriageRow]:
    """Every row: unreadable first, then respond, notify, ignore; by priority, newest first."""
    rows = [(triage_row(email, triage, zone), email.date) for email, triage in pairs]
    rows.sort(key=lambda pair: pair[1], reverse=True)
    rows.sort(
        key=lambda pair: (
            DECISION_ORDER.get(pair[0].decision, 3),
            PRIORITY_ORDER.get(pair[0].priority, 3),
        )
    )
    return [row for row, _ in rows]


def _urgent(row: TriageRow) -> bool:
    return row.decision in ("error", "respond") or (
        row.priority == "high" and row.decision != "ignore"
    )


def first_rows(rows: Sequence[TriageRow]) -> int:
    """How many rows show before "show more": through the last urgent one, at least `FIRST_ROWS`.

    Urgent: unreadable, to respond to, or high priority and not to ignore.
    """
    last = max((n + 1 for n, row in enumerate(rows) if _urgent(row)), default=0)
    return min(len(rows), max(FIRST_ROWS, last))


def triage_summary(rows: Sequence[TriageRow]) -> str:
    """One line above the list: how many of each priority, and a warning about phishing."""
    counts = {p: sum(1 for r in rows if r.priority == p) for p in PRIORITY_ORDER}
    parts = [f"{counts['high']} high", f"{counts['normal']} normal", f"{counts['low']} low"]
    if counts["error"]:
        parts.append(f"{counts['error']} unreadable")
    summary = f"**{len(rows)} messages triaged**: " + ", ".join(parts) + "."
    suspicious = sum(1 for r in rows if r.warning)
    if suspicious:
        summary += (
            f" ⚠ {suspicious} look like phishing or fraud: don't reply, pay or sign in from them."
        )
    return summary


def triage_list_props(rows: Sequence[TriageRow], element_id: str) -> dict[str, Any]:
    """The triage list element's props: its rows, how many show first, the correction menus."""
    return {
        "rows": [row.as_props() for row in rows],
        "first": first_rows(rows),
        "elementId": element_id,
        "choices": {name: list(values) for name, values in CHOICES.items()},
    }
