"""The daily digest: what needs the user today, in a few lines, each cited by its Message-ID.

One function builds it from the cached mailbox, its triage and the calendar, so the command line
(`smart-inbox digest`) and the scheduled digest (`graph.digest_graph`) say the same thing.
Sections: needs reply and awaiting reply (the lists of `smart-inbox followups`), urgent mail,
what was cleared for the user in the last day (the inbox actions' journal), today's meetings.
A section that cannot be built is named in `left_out` with why, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from memory.inbox_store import InboxStore
from memory.mail_tables import TriageRecord
from tools.calendar.backend import CalendarError
from tools.calendar.model import CalendarEvent
from tools.calendar.scheduling import CalendarEnv
from tools.calendar.settings import local_day_bounds
from tools.mail.conversation_tools import Mailbox, read_mailbox, replies_sent
from tools.mail.conversations import is_own, sender_name, sent_at
from tools.mail.followups import FollowupRow, followups_in
from tools.mail.mailbox import MailboxEnv
from tools.mail.model import Email
from tools.mail.reply_tracking import awaiting_days
from tools.registry import ToolRegistry
from tools.toolkit import ToolFailure

SECTION_LIMIT = 5
"""Items shown per section; the rest are counted."""
URGENT_WINDOW = timedelta(days=1)
"""How recent high-priority mail must be to count as urgent today."""
CLEARED_WINDOW = timedelta(days=1)
"""How far back the digest lists what was archived, marked done or trashed."""
CLEARED_NOTES = {
    "archive_conversations": "archived",
    "mark_done": "marked done",
    "trash_conversations": "moved to Trash",
}


@dataclass(frozen=True)
class DigestItem:
    """One conversation to look at: its message to act on, and why it is listed."""

    message_id: str
    sender: str
    subject: str
    note: str

    def line(self) -> str:
        """One cited line."""
        subject = self.subject or "(no subject)"
        return f"- {self.sender}: {subject} ({self.note}) [msg:{self.message_id}]"


@dataclass(frozen=True)
class Meeting:
    """One event of today's calendar, in the user's time zone."""

    uid: str
    title: str
    when: str
    """`09:30–10:00`, or `all day`."""


@dataclass(frozen=True)
class Digest:
    """The digest of one day."""

    day: date
    needs_reply: tuple[DigestItem, ...]
    urgent: tuple[DigestItem, ...]
    awaiting_reply: tuple[DigestItem, ...]
    """Conversations where the user waits on someone, oldest question first."""
    meetings: tuple[Meeting, ...] | None
    """None when there is no calendar to read (`left_out` says why)."""
    cleared: tuple[DigestItem, ...] = ()
    """What approved inbox actions archived, marked done or trashed in the last day."""
    more: dict[str, int] = field(default_factory=dict)
    """Section → items beyond `SECTION_LIMIT`, not shown."""
    left_out: tuple[str, ...] = ()
    """Sections not in this digest, each with why."""

    @property
    def key(self) -> str:
        """Its id: one digest per day, delivered at most once per channel."""
        return f"digest-{self.day.isoformat()}"

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        data = asdict(self)
        data["day"] = self.day.isoformat()
        data["id"] = self.key
        return data

    def text(self) -> str:
        """The digest as a person reads it: short, every message cited."""
        lines = [f"Your inbox on {self.day:%A %d %B %Y}"]
        sections: list[tuple[str, str, Sequence[DigestItem]]] = [
            ("needs_reply", "Waiting on your reply", self.needs_reply),
            ("awaiting_reply", "You are waiting on", self.awaiting_reply),
            ("urgent", "Urgent", self.urgent),
            ("cleared", "Cleared for you in the last day", self.cleared),
        ]
        for name, title, items in sections:
            count = len(items) + self.more.get(name, 0)
            lines += ["", f"{title}: {count or 'none'}"]
            lines += [item.line() for item in items]
            if self.more.get(name):
                lines.append(f"- … and {self.more[name]} more")
        if self.meetings is not None:
            lines += ["", f"Meetings today: {len(self.meetings) or 'none'}"]
            lines += [f"- {m.when} {m.title or '(no title)'}" for m in self.meetings]
        if self.left_out:
            lines += ["", "Not in this digest:", *(f"- {why}" for why in self.left_out)]
        return "\n".join(lines)


def calendar_of(tools: ToolRegistry) -> CalendarEnv | str:
    """The calendar the digest reads, or why there is none."""
    kit = tools.toolkit("calendar")
    if kit is None:
        return "no calendar is set up"
    if kit.missing:
        return f"no calendar is set up ({kit.missing})"
    env = kit.env
    return env if isinstance(env, CalendarEnv) else "no calendar is set up"


def _item(email: Email, note: str) -> DigestItem:
    return DigestItem(email.id, sender_name(email.sender), email.subject, note)


def _days(days: int) -> str:
    return "today" if days < 1 else ("1 day" if days == 1 else f"{days} days")


def _needs_reply(rows: Sequence[FollowupRow]) -> list[DigestItem]:
    return [
        DigestItem(r.id, sender_name(r.sender), r.subject, f"waiting {_days(r.age_days)}")
        for r in rows
    ]


def _awaiting(rows: Sequence[FollowupRow]) -> list[DigestItem]:
    """Whom the user asked, and how long ago."""
    return [
        DigestItem(r.id, ", ".join(r.waiting_on), r.subject, f"asked {_days(r.age_days)} ago")
        for r in rows
    ]


def _urgent(mailbox: Mailbox, now: datetime, listed: set[str]) -> list[DigestItem]:
    """The newest high-priority mail of each conversation from the last day, not listed yet."""
    found: list[tuple[Email, TriageRecord]] = []
    for conversation in mailbox.conversations:
        for email in reversed(conversation.emails):
            if is_own(email, mailbox.own) or email.is_draft:
                continue
            triage = mailbox.triage.get(email.id)
            if triage and triage.priority == "high" and now - sent_at(email) <= URGENT_WINDOW:
                found.append((email, triage))
            break
    found.sort(key=lambda pair: sent_at(pair[0]), reverse=True)
    return [
        _item(email, f"{triage.category.replace('_', ' ')}: {triage.reason}")
        for email, triage in found
        if email.id not in listed
    ]


def _cleared(env: MailboxEnv, mailbox: Mailbox, now: datetime) -> list[DigestItem]:
    """What the inbox actions archived, marked done or trashed in the last day, newest first."""
    since = now - CLEARED_WINDOW
    cleared = InboxStore(env.db).cleared_since(env.source, since, mailbox.away)
    emails = {e.id: e for e in env.db.emails_by_ids([message for message, _ in cleared])}
    return [
        _item(emails[message], CLEARED_NOTES.get(action, "cleared"))
        for message, action in cleared
        if message in emails
    ]


def _meeting(event: CalendarEvent, calendar: CalendarEnv) -> Meeting:
    if event.all_day or not isinstance(event.start, datetime):
        return Meeting(event.uid, event.title, "all day")
    zone = calendar.zone
    end = event.end if isinstance(event.end, datetime) else event.start
    when = f"{event.start.astimezone(zone):%H:%M}–{end.astimezone(zone):%H:%M}"
    return Meeting(event.uid, event.title, when)


def _meetings(calendar: CalendarEnv, day: date) -> tuple[Meeting, ...]:
    """Today's busy events (blocking: reads the calendar); `CalendarError` when it cannot."""
    start, end = local_day_bounds(day, calendar.zone)
    events = calendar.calendar.events_between(start, end)
    return tuple(_meeting(e, calendar) for e in events if e.busy)


def _shown(items: list[DigestItem], name: str, more: dict[str, int]) -> tuple[DigestItem, ...]:
    if len(items) > SECTION_LIMIT:
        more[name] = len(items) - SECTION_LIMIT
    return tuple(items[:SECTION_LIMIT])


def build_digest(
    env: MailboxEnv,
    calendar: CalendarEnv | str,
    now: datetime,
) -> Digest:
    """The digest of `now`'s day (blocking: reads the mail cache and the calendar).

    The reply lists are `smart-inbox followups`' (`tools.mail.followups`), so the two never
    disagree; `AwaitingDaysError` for a bad `SMART_INBOX_AWAITING_DAYS`.

    `calendar` is the calendar to read, or why there is none (then today's meetings are left
    out, with that reason). What approved inbox actions cleared in the last day (archived,
    marked done, trashed; not undone) is listed last.
    """
    left_out: list[str] = []
    try:
        mailbox = read_mailbox(env, with_sent=True)
    except ToolFailure as err:  # an IMAP account's Sent folder: the lists may miss answers
        mailbox = read_mailbox(env)
        left_out.append(f"answers in your Sent folder ({err}): the reply lists may be stale")
    lists = followups_in(mailbox, replies_sent(env), now, awaiting_days())
    needs = _needs_reply(lists.needs_reply)
    urgent = _urgent(mailbox, now, {item.message_id for item in needs})
    awaiting = _awaiting(lists.awaiting_reply)
    meetings: tuple[Meeting, ...] | None = None
    day = now.date()
    if isinstance(calendar, str):
        left_out.append(f"today's meetings: {calendar}")
    else:
        day = now.astimezone(calendar.zone).date()
        try:
            meetings = _meetings(calendar, day)
        except CalendarError as err:
            left_out.append(f"today's meetings: the calendar could not be read ({err})")
    more: dict[str, int] = {}
    return Digest(
        day=day,
        needs_reply=_shown(needs, "needs_reply", more),
        urgent=_shown(urgent, "urgent", more),
        awaiting_reply=_shown(awaiting, "awaiting_reply", more),
        meetings=meetings,
        cleared=_shown(_cleared(env, mailbox, now), "cleared", more),
        more=more,
        left_out=tuple(left_out),
    )
