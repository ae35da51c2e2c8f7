"""Which conversations wait on someone else's reply: the user asked, and nobody answered.

The other half of `tools.mail.conversations.awaiting_reply` (someone waits on the user):
here the newest word of a conversation is the user's own, it asks something, it went to a
person (not a mailing list, not a robot), and it is older than `SMART_INBOX_AWAITING_DAYS`.
Everything here is pure: the caller reads the mailbox, threads it and passes it in.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tools.mail.conversations import (
    Conversation,
    from_a_person,
    is_own,
    sent_at,
)
from tools.mail.language import asks_something
from tools.mail.model import Email, without_quotes

AWAITING_DAYS_VARIABLE = "SMART_INBOX_AWAITING_DAYS"
DEFAULT_AWAITING_DAYS = 3
"""Days a question of the user's may go unanswered before it is listed as awaited."""


class AwaitingDaysError(ValueError):
    """`SMART_INBOX_AWAITING_DAYS` is not a whole number of days."""


def awaiting_days(environ: Mapping[str, str] | None = None) -> int:
    """The days from `SMART_INBOX_AWAITING_DAYS` (default 3); a bad value raises, named."""
    raw = (os.environ if environ is None else environ).get(AWAITING_DAYS_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_AWAITING_DAYS
    try:
        days = int(raw)
    except ValueError:
        days = -1
    if days < 0:
        raise AwaitingDaysError(
            f"{AWAITING_DAYS_VARIABLE} must be a whole number of days (0 or more), not {raw!r}"
        )
    return days


@dataclass(frozen=True)
class Awaited:
    """A conversation where the user asked someone something and has no answer yet."""

    conversation: Conversation
    email: Email
    """The user's own message that asks (the newest of the conversation)."""
    waiting_on: tuple[str, ...]
    """The people it asked (its To, else its Cc), lower-cased addresses."""
    age: timedelta
    """How long ago it was sent."""

    @property
    def days(self) -> int:
        """Whole days since it was sent."""
        return max(self.age.days, 0)


def not_people(emails: Iterable[Email], categories: Mapping[str, str] = {}) -> frozenset[str]:
    """Addresses the mailbox shows to be lists or robots, whatever display name they carry.

    The sender of messages that are not from a person (list headers, `Auto-Submitted`, a
    role mailbox, a newsletter triage) and never of one that is, and the recipients of a
    list's messages (the list's own address is where its mail is sent to). A person's
    out-of-office notice (`Auto-Submitted: auto-replied`) leaves them a person.
    """
    robots: set[str] = set()
    people: set[str] = set()
    for email in emails:
        if email.error or not email.from_addr:
            continue
        if _from_a_list(email):
            robots.update(a.lower() for a in (*email.to, *email.cc))
        if _auto_replied(email):
            continue
        person = from_a_person(email, categories.get(email.id, ""))
        (people if person else robots).add(email.from_addr.lower())
    return frozenset(robots - people)


def _auto_replied(email: Email) -> bool:
    headers = {k.lower(): v.strip().lower() for k, v in email.headers.items()}
    return headers.get("auto-submitted", "") == "auto-replied"


def _from_a_list(email: Email) -> bool:
    headers = {k.lower() for k in email.headers}
    return "list-id" in headers or "list-post" in headers


def awaiting_their_reply(
    conversations: Iterable[Conversation],
    *,
    own: Collection[str],
    now: datetime,
    days: int = DEFAULT_AWAITING_DAYS,
    categories: Mapping[str, str] = {},
    automated: Collection[str] = (),
) -> list[Awaited]:
    """Conversations whose newest word is the user's question to a person, `days` old or more.

    Counted: the user's own message (Sent, or from their address) is the newest of its
    conversation once drafts and automatic replies (an out-of-office) are left out, its own
    words ask something (a question in the quoted part does not), and it went to a person.
    Not counted: any mailing list in the conversation; recipients that are robots or lists
    (`automated`, see `not_people`, plus role mailboxes such as `noreply@`); a later
    message from anyone else, even someone who was not asked — the conversation moved on,
    and when that message asks the user something it is listed as needing a reply instead.
    Oldest question first.
    """
    mine = {a.lower() for a in own}
    robots = {a.lower() for a in automated}
    found: list[Awaited] = []
    for conversation in conversations:
        if any(_from_a_list(e) for e in conversation.emails):
            continue
        said = [
            e
            for e in conversation.emails
            if not e.is_draft and (is_own(e, own) or from_a_person(e, categories.get(e.id, "")))
        ]
        if not said or not is_own(said[-1], own):
            continue
        email = said[-1]
        if not asks_something(without_quotes(email.body, gap="\n")):
            continue
        asked = _people_asked(email, mine | robots)
        age = now - sent_at(email)
        if asked and age >= timedelta(days=days):
            found.append(Awaited(conversation, email, asked, age))
    found.sort(key=lambda a: sent_at(a.email))
    return found


def _people_asked(email: Email, not_asked: Collection[str]) -> tuple[str, ...]:
    """The To recipients who are people (the Cc ones when the To holds none)."""
    for recipients in (email.to, email.cc):
        people = tuple(
            a.lower()
            for a in dict.fromkeys(recipients)
            if a and a.lower() not in not_asked and _a_personal_address(a)
        )
        if people:
            return people
    return ()


def _a_personal_address(address: str) -> bool:
    probe = Email(id="", source="", folder="", key="", from_addr=address)
    return from_a_person(probe)


def awaited_from(
    awaited: Sequence[Awaited], who: str, *, names: Mapping[str, str] = {}
) -> list[Awaited]:
    """The awaited conversations asking `who`: a word of a name, or part of an address.

    `names` maps addresses to the display names their mail shows ("Bob Stone"), so "Bob"
    finds bob.stone@… as well as b.s@… when Bob signs his mail so.
    """
    wanted = who.strip().casefold()
    if not wanted:
        return []
    words = wanted.split()

    def asks(address: str) -> bool:
        name = names.get(address, "").casefold().split()
        local = address.split("@", 1)[0]
        return wanted in address or all(w in name or w in local for w in words)

    return [a for a in awaited if any(asks(address) for address in a.waiting_on)]
