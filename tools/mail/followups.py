"""Both reply lists at once: conversations that need the user's reply, and those awaiting theirs.

What `smart-inbox followups` prints and the triage view shows: one row per conversation with
its age, who it is from (or whom the user asked), subject and ids, read from one threading
of the mailbox so the two lists never disagree about a conversation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tools.mail.conversation_tools import (
    Mailbox,
    awaited_in,
    read_mailbox,
    replies_sent,
)
from tools.mail.conversations import awaiting_reply, sent_at
from tools.mail.mailbox import MailboxEnv
from tools.mail.model import Email
from tools.mail.reply_tracking import awaiting_days


@dataclass(frozen=True)
class FollowupRow:
    """One conversation of a reply list, through the message that stands for it."""

    id: str
    """The product's id of that message (what citations and other commands take)."""
    message_id: str
    """Its Message-ID header, without angle brackets ('' when it has none)."""
    conversation: str
    """The conversation's key: the id of its first message."""
    thread_size: int
    sender: str
    """`Name <address>` of who wrote it (the user, on the awaiting list)."""
    waiting_on: tuple[str, ...]
    """Whom the user asked (awaiting list); empty on the needs-reply list."""
    subject: str
    date: str
    age_days: int
    """Whole days since it was sent."""

    def as_json(self) -> dict[str, Any]:
        """The row as `smart-inbox followups --json` prints it (docs/cli.md)."""
        row: dict[str, Any] = {
            "id": self.id,
            "message_id": self.message_id,
            "conversation": self.conversation,
            "thread_size": self.thread_size,
            "from": self.sender,
            "subject": self.subject,
            "date": self.date,
            "age_days": self.age_days,
        }
        if self.waiting_on:
            row["waiting_on"] = list(self.waiting_on)
        return row


@dataclass(frozen=True)
class Followups:
    """The two reply lists of a mailbox at one moment."""

    needs_reply: list[FollowupRow]
    """People wait on the user, newest question first."""
    awaiting_reply: list[FollowupRow]
    """The user waits on people, oldest question first."""
    awaiting_days: int
    """A question of the user's counts as awaited after this many days."""

    def as_json(self) -> dict[str, Any]:
        """Both lists as `smart-inbox followups --json` prints them."""
        return {
            "awaiting_days": self.awaiting_days,
            "needs_reply": [r.as_json() for r in self.needs_reply],
            "awaiting_reply": [r.as_json() for r in self.awaiting_reply],
        }


def _row(
    email: Email, size: int, key: str, now: datetime, asked: tuple[str, ...] = ()
) -> FollowupRow:
    return FollowupRow(
        id=email.id,
        message_id=email.message_id,
        conversation=key,
        thread_size=size,
        sender=email.sender,
        waiting_on=asked,
        subject=email.subject,
        date=email.date,
        age_days=max((now - sent_at(email)).days, 0),
    )


def followups_in(
    mailbox: Mailbox, replied: dict[str, datetime], now: datetime, days: int
) -> Followups:
    """Both lists of an already threaded mailbox (pure)."""
    waiting = awaiting_reply(
        mailbox.conversations,
        own=mailbox.own,
        actions={i: t.action for i, t in mailbox.triage.items()},
        categories={i: t.category for i, t in mailbox.triage.items()},
        replied=replied,
    )
    awaited = awaited_in(mailbox, now, days)
    return Followups(
        needs_reply=[
            _row(w.email, len(w.conversation.emails), w.conversation.key, now)
            for w in waiting
            if w.email.id not in mailbox.away
        ],
        awaiting_reply=[
            _row(a.email, len(a.conversation.emails), a.conversation.key, now, a.waiting_on)
            for a in awaited
        ],
        awaiting_days=days,
    )


def read_followups(env: MailboxEnv, now: datetime) -> Followups:
    """Both lists of the cached mailbox (and the Sent folder of an IMAP account).

    Blocking (the database, and the network for an IMAP Sent folder). Raises
    `AwaitingDaysError` for a bad `SMART_INBOX_AWAITING_DAYS`, `ToolFailure` when the sent
    mail cannot be read.
    """
    days = awaiting_days()
    return followups_in(read_mailbox(env, with_sent=True), replies_sent(env), now, days)
