"""Where each conversation stands now: the triage its latest word from someone else got.

Triage is per message, but a person works through conversations: an incident and its
"resolved" update are one thing, in the state of the update. A conversation's state is the
triage of its newest message that is not the user's own; it is answered when the user wrote
after it (a message of theirs, or a reply sent from here); it is suspicious when any of its
messages is. The triage list, `smart-inbox triage` and the triage summary all read it here.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from memory.commits import commits_made
from memory.db import PRIORITY_ORDER
from memory.inbox_store import InboxStore
from memory.mail_listing import CompactTriage, inbox_listing, triaged_listing
from memory.mail_tables import TriageRecord
from tools.mail.conversation_tools import MAILBOX_WINDOW, own_addresses, replies_sent
from tools.mail.conversations import OWN_FOLDERS, is_own, sender_name, sent_at, sent_instant
from tools.mail.mailbox import MailboxEnv
from tools.mail.message_refs import message_ref
from tools.mail.model import Email
from tools.mail.sent_folder import sent_mail
from tools.mail.source_protocol import MailSourceError
from tools.mail.threading import thread_messages

ME = "me"
"""How the user reads among a conversation's people."""


@dataclass(frozen=True, slots=True)
class ConversationTriage:
    """One conversation and the state it is in now (slotted: a whole inbox's are held at once)."""

    emails: tuple[Email, ...]
    """Its messages, oldest first, the user's own included."""
    standing: Email
    """Its newest message not the user's own: the one whose triage the conversation shows."""
    triage: Mapping[str, TriageRecord] = field(default_factory=dict, compare=False)
    """The triage of its messages, by id (the user's own have none)."""
    answered: bool = False
    """The user wrote after `standing` (or a reply to one of its messages was sent from here)."""
    own: frozenset[str] = field(default=frozenset(), compare=False)

    @property
    def key(self) -> str:
        """The id of its first message: stable while the conversation grows."""
        return self.emails[0].id

    @property
    def latest(self) -> Email:
        """Its newest message: the one a list cites and opens."""
        return self.emails[-1]

    @property
    def record(self) -> TriageRecord | None:
        """The triage of `standing`: the conversation's priority, decision and reason now."""
        return self.triage.get(self.standing.id)

    def state_column(self, name: str) -> Any:
        """One column of the triage of `standing` (None when it has none), no record made."""
        triage, email_id = self.triage, self.standing.id
        if isinstance(triage, CompactTriage):
            return triage.column(email_id, name) if email_id in triage else None
        record = triage.get(email_id)
        return None if record is None else getattr(record, name)

    @property
    def suspicious(self) -> list[tuple[Email, str]]:
        """Every message of it that looks like phishing or fraud, with why, newest first."""
        found = [(e, why) for e in self.emails if (why := _suspicious_of(self.triage, e.id))]
        return found[::-1]

    @property
    def warning(self) -> str:
        """Why the conversation looks like phishing or fraud ('' when none of it does)."""
        found = self.suspicious
        return found[0][1] if found else ""

    @property
    def people(self) -> list[str]:
        """Who wrote in it, by name, in order of their first message; the user is `me`."""
        names = [ME if is_own(e, self.own) else sender_name(e.sender) for e in self.emails]
        return list(dict.fromkeys(n for n in names if n))

    @property
    def needs_you(self) -> bool:
        """High priority now and not answered: what a triage summary puts first."""
        return not self.answered and self.state_column("priority") == "high"


def _suspicious_of(triage: Mapping[str, TriageRecord], email_id: str) -> str:
    """Why message `email_id` looks like phishing or fraud ('' when not, or not triaged).

    A compact triage answers from its column: no record made for each message each time.
    """
    if isinstance(triage, CompactTriage):
        why: str = triage.column(email_id, "suspicious") if email_id in triage else ""
        return why or ""
    record = triage.get(email_id)
    return record.suspicious if record else ""


def conversation_triage(
    emails: Iterable[Email],
    triage: Mapping[str, TriageRecord],
    own: Collection[str],
    replied: Mapping[str, datetime] | None = None,
) -> list[ConversationTriage]:
    """Thread `emails` and say where each conversation stands, newest conversation first.

    A conversation only the user wrote in has no state and is left out; an unreadable
    message cannot be threaded and stands alone. `replied`: message id → when a reply to it
    was sent from here (`tools.mail.conversation_tools.replies_sent`).
    """
    mail = list({e.id: e for e in emails}.values())
    mine = frozenset(a.lower() for a in own)
    states = [
        ConversationTriage((email,), email, triage, own=mine) for email in mail if email.error
    ]
    threads = thread_messages(mail, own)
    del mail
    # Each thread is let go once its state is made, so a whole inbox's threads and states are
    # not held at once. Newest first comes from the sort at the end, which `group_conversations`
    # sorts by too: sorted once or twice by one key, the order is the same.
    threads.reverse()
    while threads:
        emails_of = threads.pop().emails
        theirs = [e for e in emails_of if not is_own(e, own)]
        if not theirs:
            continue
        standing = next((e for e in reversed(theirs) if e.id in triage), theirs[-1])
        answers = [sent_at(e) for e in emails_of if is_own(e, own) and not e.is_draft]
        answers += [at for e in emails_of if (at := (replied or {}).get(e.id))]
        answered = bool(answers) and max(answers) >= sent_at(standing)
        states.append(ConversationTriage(emails_of, standing, triage, answered, mine))
    states.sort(key=lambda c: sent_instant(c.latest), reverse=True)
    return states


def own_mail(env: MailboxEnv, *, with_sent: bool) -> list[Email]:
    """The user's sent mail in the cache (and an IMAP account's Sent folder, with `with_sent`).

    Blocking (the database; the network for an IMAP Sent folder, which raises
    `MailSourceError` when it cannot be read).
    """
    mail = [
        email
        for folder in sorted(OWN_FOLDERS)
        for email in env.db.list_emails(source=env.source, folder=folder, limit=MAILBOX_WINDOW)
    ]
    return mail + (sent_mail(env, MAILBOX_WINDOW) if with_sent else [])


def triaged_conversations(
    env: MailboxEnv,
    pairs: Sequence[tuple[Email, TriageRecord]],
    *,
    with_sent: bool,
) -> tuple[list[ConversationTriage], str]:
    """The conversations of these triaged messages, with the user's own mail to tell answered.

    Blocking. Returns the conversations and a note: '' or why the user's sent mail could not
    be read (then a conversation only they answered there reads as not answered).
    """
    triage = {email.id: record for email, record in pairs}
    return listed_conversations(env, [email for email, _ in pairs], triage, with_sent=with_sent)


def listed_conversations(
    env: MailboxEnv,
    emails: list[Email],
    triage: Mapping[str, TriageRecord],
    *,
    with_sent: bool,
) -> tuple[list[ConversationTriage], str]:
    """`triaged_conversations` of messages and their triage given apart (a whole inbox's list).

    `emails` is extended with the user's own mail.
    """
    note = ""
    try:
        mine = own_mail(env, with_sent=with_sent)
    except MailSourceError as err:
        mine, note = own_mail(env, with_sent=False), f"your sent mail could not be read: {err}"
    emails += mine
    return conversation_triage(emails, triage, own_addresses(env), replies_sent(env)), note


def every_conversation(env: MailboxEnv, *, with_sent: bool) -> tuple[list[ConversationTriage], str]:
    """Every conversation of the inbox's triaged mail, and the note `triaged_conversations` gives.

    Blocking. The messages are read as the whole inbox's list needs them
    (`memory.mail_listing`), not as full messages.
    """
    emails, triage = inbox_listing(env.db.engine, env.source)
    return listed_conversations(env, emails, triage, with_sent=with_sent)


@dataclass
class KeptListing:
    """The whole inbox's conversations a first triage made, kept for the caller to list.

    A first triage's run threads the whole inbox to cite its conversations; `smart-inbox
    triage` lists the same conversations right after. Kept (`keeping_listing`), they are
    threaded once: `take` hands them over while nothing has been committed to the database
    since they were made (`memory.commits`), and only once.
    """

    source: str = ""
    states: list[ConversationTriage] | None = None
    commits: int = -1

    def keep(self, source: str, states: list[ConversationTriage]) -> None:
        """Keep `states`, `every_conversation(..., with_sent=False)` of `source`, made now."""
        self.source, self.states, self.commits = source, states, commits_made()

    def take(self, env: MailboxEnv, *, with_sent: bool) -> list[ConversationTriage] | None:
        """What `every_conversation(env, with_sent=with_sent)` would give now, or None.

        None when nothing was kept, or it was made for another source, or the database has
        changed since, or the sent mail would be read apart (an IMAP account's Sent folder,
        which the run does not fetch). What was kept is let go either way.
        """
        states, self.states = self.states, None
        fresh = self.source == env.source and self.commits == commits_made()
        if states is None or not fresh or (with_sent and _sent_apart(env)):
            return None
        return states


_KEPT: ContextVar[KeptListing | None] = ContextVar("kept_listing", default=None)


@contextmanager
def keeping_listing() -> Iterator[KeptListing]:
    """While open, a first triage run in this context keeps the inbox's conversations here."""
    kept = KeptListing()
    token = _KEPT.set(kept)
    try:
        yield kept
    finally:
        _KEPT.reset(token)


def _sent_apart(env: MailboxEnv) -> bool:
    """Whether the user's sent mail may be in a folder the cache does not hold (IMAP)."""
    return any(e.source.startswith("imap") for e in [env, *env.accounts.values()])


def conversations_of_new_mail(
    env: MailboxEnv, email_ids: Sequence[str], *, whole_inbox: bool = False
) -> tuple[list[ConversationTriage], int]:
    """The conversations the triaged messages with these ids are in, with the rest of their mail.

    For a triage run: its new mail is read again from the database as the whole inbox's list
    needs it (`memory.mail_listing`), in the order of `email_ids`, with the newest inbox mail
    around it. Blocking (the database only: an IMAP account's separate Sent folder is not
    fetched, so answered there is told by the replies sent from here). Mail moved out of the
    inbox is left out, as the triage list leaves it out. Returns the conversations and how
    many of the messages were found triaged (one gone since is not).

    `whole_inbox`: the ids are every triaged message of the source (a first triage). Then
    the inbox is listed as `every_conversation` lists it, and kept for the caller when it
    asked (`keeping_listing`).
    """
    if whole_inbox:
        return _whole_inbox(env, email_ids)
    emails, triage = triaged_listing(env.db.engine, env.source, email_ids)
    order = {email_id: n for n, email_id in enumerate(email_ids)}
    emails.sort(key=lambda email: order[email.id])
    order.clear()
    return _around(env, emails, triage), len(emails)


def _whole_inbox(env: MailboxEnv, email_ids: Sequence[str]) -> tuple[list[ConversationTriage], int]:
    states, _ = every_conversation(env, with_sent=False)
    kept = _KEPT.get()
    if kept is not None:
        kept.keep(env.source, states)
    # Every listed message is in exactly one conversation (an unreadable one alone).
    new = set(email_ids)
    cited = [s for s in states if any(e.id in new for e in s.emails)]
    return cited, sum(e.id in new for s in cited for e in s.emails)


def _around(env: MailboxEnv, new: list[Email], triage: CompactTriage) -> list[ConversationTriage]:
    emails = env.db.list_emails(source=env.source, limit=MAILBOX_WINDOW)
    near_triage = env.db.triage_for([e.id for e in emails])
    away = InboxStore(env.db).away_ids(env.source)
    near = [e for e in emails if e.id in near_triage and e.id not in away]
    for email in near:
        triage.add_record(near_triage[email.id])
    ids = {email.id for email in new}
    states, _ = listed_conversations(env, [*new, *near], triage, with_sent=False)
    return [s for s in states if any(e.id in ids for e in s.emails)]


def by_importance(states: Iterable[ConversationTriage]) -> list[ConversationTriage]:
    """Those that need the user first, then by priority now, answered last; newest first."""
    ordered = sorted(states, key=lambda s: sent_at(s.latest), reverse=True)
    return sorted(ordered, key=_rank)


def most_important(states: Iterable[ConversationTriage], count: int) -> list[ConversationTriage]:
    """`by_importance(states)[:count]`, without a sort key held for every conversation.

    A triage run cites the first few of its conversations, which after a first triage are a
    whole inbox's: one key of rank and date made at a time, `count` of them kept.
    """
    return heapq.nsmallest(count, states, key=lambda s: (*_rank(s), -sent_instant(s.latest)))


def _rank(state: ConversationTriage) -> tuple[bool, bool, int]:
    priority = PRIORITY_ORDER.get(state.state_column("priority"), len(PRIORITY_ORDER))
    return not state.needs_you, state.answered, priority


def state_ref(state: ConversationTriage) -> dict[str, Any]:
    """The conversation as a `MessageRef`: its latest message, with the triage it stands at.

    The triage fields are the conversation's state (its newest message from someone else),
    `suspicious` is a warning from any of its messages, `answered` says the user wrote last.
    """
    ref = message_ref(state.latest, None, full=False)
    record = state.record
    if record is not None:
        ref.update(
            priority=record.priority,
            category=record.category,
            action=record.action,
            reason=record.reason,
            decision=record.decision,
        )
    if state.warning:
        ref["suspicious"] = state.warning
    ref.update(
        conversation=state.key,
        thread_size=len(state.emails),
        people=state.people,
        answered=state.answered,
    )
    return ref


def render_state_refs(refs: Sequence[Mapping[str, Any]]) -> str:
    """Conversations as a numbered text block: people, size, latest message, state now."""
    if not refs:
        return "No conversations."
    blocks = []
    for n, ref in enumerate(refs, 1):
        lines = [
            f"{n}. conversation of {ref['thread_size']} message(s), "
            f"people: {', '.join(ref['people'])}",
            f"   latest message: id: {ref['id']}",
            f"   from: {ref['sender']}",
            f"   subject: {ref['subject']}",
            f"   date: {ref['date']}",
        ]
        if "priority" in ref:
            lines.append(
                f"   state now: {ref['priority']} / {ref['category']} / {ref['action']}"
                f" — {ref['reason']}"
            )
        if ref.get("answered"):
            lines.append("   answered: the user wrote last")
        if ref.get("suspicious"):
            lines.append(f"   suspicious: {ref['suspicious']}")
        lines.append(f"   preview: {ref['text']}")
        blocks.append("\n".join(lines))
    return "\n".join(blocks)
