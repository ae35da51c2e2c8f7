"""Mail threaded into conversations, and which conversations wait on the user's reply.

A conversation is the messages linked by `In-Reply-To` / `References` (JWZ threading, or the
provider's own thread id where it gives one: `tools.mail.threading`), plus messages with the
same subject once reply prefixes are removed ("Re:", "AW:", "Fwd:") when they share a
participant: a stranger's "Re: <your subject>" does not join a thread just by its subject.
Everything here is pure: the caller reads the mailbox and passes the messages in.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parseaddr
from functools import lru_cache

from tools.mail.language import asks_something
from tools.mail.model import Email, without_quotes
from tools.mail.threading import (
    by_date,
    normalised_subject,
    sent_at,
    sent_instant,
    thread_messages,
    without_reply_prefix,
)

__all__ = [
    "AUTOMATED_PRECEDENCE",
    "Conversation",
    "NOT_A_PERSON_CATEGORIES",
    "OWN_FOLDERS",
    "ROLE_MAILBOXES",
    "Waiting",
    "addressed_to",
    "awaiting_reply",
    "conversation_of",
    "from_a_person",
    "group_conversations",
    "is_own",
    "normalised_subject",
    "sender_name",
    "sent_at",
    "sent_instant",
    "without_reply_prefix",
]

OWN_FOLDERS = frozenset({"Sent", "Sent Items", "Sent Messages", "[Gmail]/Sent Mail"})
"""Folders holding mail the user sent."""
NOT_A_PERSON_CATEGORIES = frozenset({"newsletter", "notification", "spam_or_cold"})
"""Triage categories of mail nobody is personally waiting on."""
ROLE_MAILBOXES = re.compile(
    r"^(?:no-?reply|do-?not-?reply|notifications?|alerts?|mailer-daemon|postmaster|bounces?|"
    r"billing|invoices?|payments?|accounts?|ar|ap|receipts?|orders?|support|helpdesk|info|news(?:letter)?|"
    r"updates|digest|marketing|sales|team|hello|admin|root|webforms?|calendar(?:-noreply)?|ci|"
    r"jira|github)(?:[+.-].*)?$",
    re.I,
)
"""Local parts of shared and automated mailboxes, not of a person."""
AUTOMATED_PRECEDENCE = frozenset({"bulk", "list", "junk"})


@dataclass(frozen=True, slots=True)
class Conversation:
    """The messages of one conversation, oldest first (slotted: a whole inbox's may be held)."""

    emails: tuple[Email, ...]
    parents: Mapping[str, str] = field(default_factory=dict, compare=False)
    """Message id → id of the message of this conversation it answers, by its headers;
    messages that start a branch (or joined only by their subject) are not keys."""

    @property
    def key(self) -> str:
        """The id of its first message: stable while the conversation grows."""
        return self.emails[0].id

    @property
    def newest(self) -> Email:
        """Its latest message."""
        return self.emails[-1]

    @property
    def subject(self) -> str:
        """The subject of its first message that has one."""
        return next((e.subject for e in self.emails if e.subject), "")


def group_conversations(emails: Iterable[Email], own: Collection[str] = ()) -> list[Conversation]:
    """Thread `emails` into conversations, newest conversation first (`tools.mail.threading`).

    `own` are the user's addresses: sharing only the user (every mail of the inbox does)
    does not make two same-subject messages one conversation.
    """
    return [
        Conversation(thread.emails, thread.parents)
        for thread in by_date(thread_messages(emails, own))
    ]


def conversation_of(email_id: str, conversations: Sequence[Conversation]) -> Conversation | None:
    """The conversation holding the message `email_id`, or None."""
    return next((c for c in conversations if any(e.id == email_id for e in c.emails)), None)


def is_own(email: Email, own: Collection[str]) -> bool:
    """Mail the user sent: in a Sent folder, or from one of their addresses."""
    return email.folder in OWN_FOLDERS or email.from_addr.lower() in {a.lower() for a in own}


def from_a_person(email: Email, category: str = "") -> bool:
    """Mail a person wrote (not a list, a robot or a shared mailbox), judged by its headers."""
    if category in NOT_A_PERSON_CATEGORIES:
        return False
    headers = {k.lower(): v.strip().lower() for k, v in email.headers.items()}
    if headers.get("auto-submitted", "no") not in ("", "no"):
        return False
    if headers.get("precedence", "") in AUTOMATED_PRECEDENCE:
        return False
    if "list-id" in headers or "list-unsubscribe" in headers:
        return False
    local = email.from_addr.split("@", 1)[0]
    return bool(local) and not ROLE_MAILBOXES.match(local)


def addressed_to(email: Email, own: Collection[str]) -> bool:
    """Whether the user is among the recipients (always true when their addresses are unknown)."""
    if not own:
        return True
    mine = {a.lower() for a in own}
    return bool(mine & {a.lower() for a in (*email.to, *email.cc)})


@dataclass(frozen=True)
class Waiting:
    """A conversation that waits on the user: the message to answer and how long it has waited."""

    conversation: Conversation
    email: Email


def awaiting_reply(
    conversations: Iterable[Conversation],
    *,
    own: Collection[str],
    actions: Mapping[str, str],
    categories: Mapping[str, str],
    replied: Mapping[str, datetime],
) -> list[Waiting]:
    """Conversations whose latest word is someone else's question to the user, newest first.

    A message waits when a person wrote it to the user, it asks something (or its triage
    says to reply) and nothing of the user's came after it in its conversation: no Sent
    copy, no message from the user's addresses, no reply recorded as sent (`replied`:
    message id → when the reply to it was sent).
    """
    waiting: list[Waiting] = []
    for conversation in conversations:
        answered = [sent_at(e) for e in conversation.emails if is_own(e, own)]
        answered += [at for e in conversation.emails if (at := replied.get(e.id)) is not None]
        last_answer = max(answered, default=None)
        for email in reversed(conversation.emails):
            if is_own(email, own) or email.folder == "Drafts":
                continue
            if last_answer is not None and sent_at(email) <= last_answer:
                break
            if _waits(email, own, actions.get(email.id, ""), categories.get(email.id, "")):
                waiting.append(Waiting(conversation, email))
                break
    waiting.sort(key=lambda w: sent_at(w.email), reverse=True)
    return waiting


def _waits(email: Email, own: Collection[str], action: str, category: str) -> bool:
    if not from_a_person(email, category) or not addressed_to(email, own):
        return False
    return action == "reply" or asks_something(without_quotes(email.body, gap="\n"))


@lru_cache(maxsize=4096)
def sender_name(sender: str) -> str:
    """The display name of `Name <address>`, else the address.

    Kept for the senders seen last: a whole inbox's list names each conversation's people,
    and one sender writes many of its messages.
    """
    name, address = parseaddr(sender)
    return name.strip() or address or sender
