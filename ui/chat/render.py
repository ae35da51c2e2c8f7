"""What the chat shows, as data and markdown: answers with citation links, cards, the triage list.

Pure functions with no Chainlit in them, so what a person sees is tested without a browser.
A message opens from a plain link to the mail page (`ui.chat.mail_page`): the link is text in the
chat's history, so it works after a reload, a reopened chat and a restart, and the page holds
a message only when someone opens it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from typing import Any
from urllib.parse import quote

from graph.approval import code_span
from graph.engines.triage.senders import domain_of
from graph.grounding import CITATION
from memory.mail_tables import TriageRecord
from tools.language.categories import CATEGORIES, DECISIONS, PRIORITIES
from tools.mail.conversation_triage import ConversationTriage
from tools.mail.conversations import is_own
from tools.mail.model import Email

MAIL_PATH = "/mail/view"
"""Where the chat server shows one message (see `ui.chat.mail_page`)."""
PRIORITY_ORDER = {"error": -1, "high": 0, "normal": 1, "low": 2}
DECISION_ORDER = {"error": -1, "respond": 0, "notify": 1, "answered": 2, "ignore": 3}
"""The triage list's groups, in the order a person works through them (unreadable on top);
`answered` is a conversation the user wrote in last, whatever its decision."""
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
    conversation: str = ""
    """The conversation's key (the id of its first message); '' on a row of one message."""
    people: tuple[str, ...] = ()
    """Who wrote in the conversation, by name (the user is `me`)."""
    count: int = 1
    """How many messages the conversation has (the user's own included)."""
    triaged: str = ""
    """The message whose triage the row shows (a correction changes it); '' when it is `id`."""
    answered: bool = False
    """The user wrote last: nothing waits on them, whatever the decision."""
    messages: tuple[TriageRow, ...] = ()
    """The row of each message of the conversation not the user's own, newest first (shown
    when the row is opened); empty when it has only one."""
    account: str = ""
    """In an inbox of several accounts, the one the mail came to (its label); '' otherwise."""

    @property
    def group(self) -> str:
        """Where the row sorts: `answered`, else its decision."""
        return "answered" if self.answered else self.decision

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
            "conversation": self.conversation,
            "people": list(self.people),
            "count": self.count,
            "triaged": self.triaged or self.id,
            "answered": self.answered,
            "messages": [m.as_props() for m in self.messages],
            "account": self.account,
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
            account=email.account,
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
        account=email.account,
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
    """A row per message: unreadable, respond, notify, ignore; by priority, newest first."""
    return _sorted([(triage_row(email, triage, zone), email.date) for email, triage in pairs])


def conversation_row(state: ConversationTriage, zone: tzinfo | None) -> TriageRow:
    """A conversation as one row: its people and size, its latest message, the state it is in.

    The state is the triage of its newest message not the user's own (`state.standing`):
    an incident followed by its "resolved" update reads as the update. A warning from any of
    its messages stands on the row; a conversation the user answered offers no reply.
    """
    shown = triage_row(state.standing, state.record, zone)
    theirs = [e for e in reversed(state.emails) if not is_own(e, state.own)]
    latest = state.latest
    moment = local_time(latest.date, zone) if latest.date else None
    warning = state.warning
    record = state.record
    hide = bool(warning and not shown.warning and record and record.action in SUGGESTIONS)
    return replace(
        shown,
        id=latest.id,
        url=mail_url(latest.id),
        sender=", ".join(state.people) or shown.sender,
        account=latest.account,
        subject=latest.subject or "(no subject)",
        day=day_label(moment) if moment else "",
        action="—" if hide else shown.action,
        reply_to="" if warning or state.answered else shown.reply_to,
        warning=warning,
        conversation=state.key if len(state.emails) > 1 else "",
        people=tuple(state.people),
        count=len(state.emails),
        triaged=state.standing.id,
        answered=state.answered,
        messages=tuple(
            triage_row(e, state.triage.get(e.id), zone) for e in theirs if len(state.emails) > 1
        ),
    )


def conversation_rows(states: Iterable[ConversationTriage], zone: tzinfo | None) -> list[TriageRow]:
    """A row per conversation, in the order of `triage_rows`; the answered ones before ignore."""
    return _sorted([(conversation_row(state, zone), state.latest.date) for state in states])


def _sorted(rows: list[tuple[TriageRow, str]]) -> list[TriageRow]:
    rows.sort(key=lambda pair: pair[1], reverse=True)
    rows.sort(key=lambda pair: row_place(pair[0].as_props()))
    return [row for row, _ in rows]


def _group_order(group: str) -> int:
    return DECISION_ORDER.get(group, len(DECISION_ORDER))


def row_place(row: dict[str, Any]) -> tuple[int, int]:
    """Where a row (as props) sorts in the list: its group, then its priority."""
    group = "answered" if row.get("answered") else str(row.get("decision"))
    return _group_order(group), PRIORITY_ORDER.get(str(row.get("priority")), 3)


def _urgent(row: TriageRow) -> bool:
    if row.answered:
        return False
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
    """One line above the list: how many of each priority, and a warning about phishing.

    The counts are of rows (conversations), the answered ones apart; the message count says
    how many triaged messages they hold.
    """
    open_rows = [r for r in rows if not r.answered]
    counts = {p: sum(1 for r in open_rows if r.priority == p) for p in PRIORITY_ORDER}
    parts = [f"{counts['high']} high", f"{counts['normal']} normal", f"{counts['low']} low"]
    if counts["error"]:
        parts.append(f"{counts['error']} unreadable")
    if len(open_rows) < len(rows):
        parts.append(f"{len(rows) - len(open_rows)} answered")
    messages = sum(len(r.messages) or 1 for r in rows)
    grouped = f" in {len(rows)} conversations" if messages != len(rows) else ""
    summary = f"**{messages} messages triaged**{grouped}: " + ", ".join(parts) + "."
    suspicious = sum(1 for r in rows if r.warning)
    if suspicious:
        summary += (
            f" ⚠ {suspicious} look like phishing or fraud: don't reply, pay or sign in from them."
        )
    return summary


def triage_list_props(
    rows: Sequence[TriageRow], element_id: str, accounts: Sequence[str] = ()
) -> dict[str, Any]:
    """The triage list element's props: its rows, how many show first, the correction menus.

    `accounts` are the labels of an inbox of several accounts: with more than one, the list
    shows each row's account in a column of its own.
    """
    return {
        "rows": [row.as_props() for row in rows],
        "first": first_rows(rows),
        "elementId": element_id,
        "choices": {name: list(values) for name, values in CHOICES.items()},
        "accounts": list(accounts),
    }
