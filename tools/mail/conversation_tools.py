"""Read-only tools over conversations: what needs the user, a whole thread, who waits on a reply.

Answers about the inbox are about conversations, not single messages: two updates of one
incident are one thing to attend to. These tools thread the cached mailbox
(`tools.mail.conversations`) and return one message per conversation (the one to act on)
or every message of one conversation, so an answer can group, summarise and cite.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Annotated, Any

from langchain_core.tools import InjectedToolArg, tool
from sqlmodel import Session, col, select

from memory.audit_tables import LedgerEntry
from memory.db import CATEGORY_ORDER, PRIORITY_ORDER
from memory.inbox_store import InboxStore
from memory.mail_tables import TriageRecord
from tools.mail.conversations import (
    Conversation,
    awaiting_reply,
    conversation_of,
    group_conversations,
    is_own,
    sender_name,
    sent_at,
)
from tools.mail.mailbox import MailboxEnv
from tools.mail.message_refs import message_ref, render_refs
from tools.mail.model import Email, without_quotes
from tools.mail.reply_tracking import (
    Awaited,
    AwaitingDaysError,
    awaited_from,
    awaiting_days,
    awaiting_their_reply,
    not_people,
)
from tools.mail.sent_folder import sent_mail
from tools.mail.source_protocol import MailSourceError
from tools.toolkit import ToolFailure, Toolkit, ToolResult

logger = logging.getLogger(__name__)

MAILBOX_WINDOW = 2000
"""Newest messages threaded per call: enough for weeks of mail, bounded for a huge mailbox."""
EXCERPT_LIMIT = 1200
"""Characters of a message's own words shown per conversation (quotes and signature left out)."""
REPLY_TOOLS = ("reply_to_email",)
"""Tools whose recorded, completed calls are replies the user sent."""


@dataclass(frozen=True)
class Mailbox:
    """The threaded mailbox with its triage, read once per call."""

    conversations: list[Conversation]
    triage: dict[str, TriageRecord]
    own: tuple[str, ...]
    away: frozenset[str] = frozenset()
    """Ids the inbox actions moved out of the inbox (archived, trashed, snoozed, filed): a
    conversation whose message to act on is among them is cleared, and not listed as needing
    the user."""


def own_addresses(env: MailboxEnv) -> tuple[str, ...]:
    """The user's addresses: the configured ones and the From address mail is sent with."""
    sender = parseaddr(env.sender)[1].lower()
    return tuple(dict.fromkeys([*env.user_addresses, *([sender] if sender else [])]))


def read_mailbox(env: MailboxEnv, *, with_sent: bool = False) -> Mailbox:
    """Thread the newest cached messages of the source (blocking: reads the database).

    `with_sent` adds the account's separate Sent folder where the source does not hold it
    (IMAP; fetched first, so blocking on the network too): who answered whom needs both sides.
    """
    emails = env.db.list_emails(source=env.source, limit=MAILBOX_WINDOW)
    if with_sent:
        try:
            emails += sent_mail(env, MAILBOX_WINDOW)
        except MailSourceError as err:
            raise ToolFailure(f"your sent mail could not be read: {err}") from err
    own = own_addresses(env)
    triage = env.db.triage_for([e.id for e in emails])
    away = frozenset(InboxStore(env.db).away_ids(env.source))
    return Mailbox(group_conversations(emails, own), triage, own, away)


def replies_sent(env: MailboxEnv) -> dict[str, datetime]:
    """Message id → when a reply to it was sent, from the side-effect ledger's completed replies."""
    with Session(env.db.engine) as session:
        rows = session.exec(
            select(LedgerEntry).where(
                col(LedgerEntry.tool).in_(REPLY_TOOLS), LedgerEntry.status == "done"
            )
        ).all()
    sent: dict[str, datetime] = {}
    for row in rows:
        data = row.result_dict().get("data")
        answered = str(data.get("in_reply_to") or "") if isinstance(data, dict) else ""
        try:
            at = datetime.fromisoformat(row.finished_at or row.started_at)
        except ValueError:
            continue
        if answered:
            sent[answered] = max(at, sent.get(answered, at))
    return sent


def excerpt(email: Email, limit: int = EXCERPT_LIMIT) -> str:
    """The message's own words, line breaks kept, cut at `limit` characters with the cut named."""
    if email.error:
        return f"[UNREADABLE MESSAGE: {email.error}]"
    text = without_quotes(email.body, gap="\n").strip()
    if len(text) > limit:
        text = text[:limit].rstrip() + f"\n[… {len(text) - limit} more characters]"
    return text


def conversation_ref(
    email: Email, conversation: Conversation, triage: TriageRecord | None
) -> dict[str, Any]:
    """The message to act on, standing for its conversation: triage, excerpt, thread size."""
    ref = message_ref(email, triage, full=False)
    ref["text"] = excerpt(email)
    ref["conversation"] = conversation.key
    ref["thread_size"] = len(conversation.emails)
    return ref


def _rank(triage: TriageRecord | None, email: Email) -> tuple[int, int, float]:
    priority = PRIORITY_ORDER.get(triage.priority, 3) if triage else 3
    category = CATEGORY_ORDER.get(triage.category, len(CATEGORY_ORDER)) if triage else 9
    return priority, category, -sent_at(email).timestamp()


def render_conversations(refs: list[dict[str, Any]], mailbox: Mailbox) -> str:
    """One numbered block per conversation: its size and people, then the message to act on."""
    if not refs:
        return "No conversations matched."
    blocks = []
    for n, ref in enumerate(refs, 1):
        conversation = next(c for c in mailbox.conversations if c.key == ref["conversation"])
        people = dict.fromkeys(sender_name(e.sender) for e in conversation.emails)
        lines = [
            f"{n}. conversation of {len(conversation.emails)} message(s), "
            f"people: {', '.join(people)}",
            f"   message to act on: id: {ref['id']}",
            f"   from: {ref['sender']}",
            f"   subject: {ref['subject']}",
            f"   date: {ref['date']}",
        ]
        if "priority" in ref:
            lines.append(
                f"   triage: {ref['priority']} / {ref['category']} / {ref['action']}"
                f" — {ref['reason']}"
            )
        lines.append("   excerpt (own words, no quoted history):")
        lines += [f"   | {line}" for line in ref["text"].splitlines()]
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def _listed(env: MailboxEnv, priority: str, category: str, limit: int) -> ToolResult:
    mailbox = read_mailbox(env)
    picked: list[tuple[tuple[int, int, float], dict[str, Any]]] = []
    for conversation in mailbox.conversations:
        matching = [
            e
            for e in conversation.emails
            if (t := mailbox.triage.get(e.id)) is not None
            and not is_own(e, mailbox.own)
            and (not priority or t.priority == priority)
            and (not category or t.category == category)
        ]
        if not matching or matching[-1].id in mailbox.away:
            continue
        email = matching[-1]
        triage = mailbox.triage.get(email.id)
        best = min(_rank(mailbox.triage.get(e.id), e)[:2] for e in matching)
        rank = (*best, -sent_at(email).timestamp())
        picked.append((rank, conversation_ref(email, conversation, triage)))
    picked.sort(key=lambda pair: pair[0])
    refs = [ref for _, ref in picked[:limit]]
    return {
        "completeness": "PREVIEW",
        "content": render_conversations(refs, mailbox),
        "messages": refs,
    }


def _whole(env: MailboxEnv, email_id: str) -> ToolResult:
    if env.db.get_email(email_id) is None:
        raise ToolFailure(f"no message with id {email_id!r} in the mailbox")
    mailbox = read_mailbox(env)
    conversation = conversation_of(email_id, mailbox.conversations)
    if conversation is None:
        raise ToolFailure(f"the message {email_id!r} is not among the newest {MAILBOX_WINDOW}")
    refs = [
        message_ref(e, mailbox.triage.get(e.id), full=True)
        | {"conversation": conversation.key, "thread_size": len(conversation.emails)}
        for e in conversation.emails
    ]
    header = f"Conversation of {len(refs)} message(s), oldest first:\n"
    return {
        "completeness": "COMPLETE",
        "content": header + render_refs(refs, full=True),
        "messages": refs,
    }


def _waiting(env: MailboxEnv, limit: int) -> ToolResult:
    mailbox = read_mailbox(env, with_sent=True)
    waiting = awaiting_reply(
        mailbox.conversations,
        own=mailbox.own,
        actions={i: t.action for i, t in mailbox.triage.items()},
        categories={i: t.category for i, t in mailbox.triage.items()},
        replied=replies_sent(env),
    )
    waiting = [w for w in waiting if w.email.id not in mailbox.away]
    waiting.sort(key=lambda w: _rank(mailbox.triage.get(w.email.id), w.email)[::2])
    refs = [
        conversation_ref(w.email, w.conversation, mailbox.triage.get(w.email.id))
        for w in waiting[:limit]
    ]
    content = render_conversations(refs, mailbox)
    if len(waiting) > limit:
        content += f"\n({len(waiting) - limit} more conversation(s) also wait on a reply.)"
    how = (
        "Checked against your sent mail and the replies sent from here"
        + (
            ""
            if mailbox.own
            else "; your own addresses are not configured, so every recipient counts"
        )
        + "."
    )
    return {
        "completeness": "PREVIEW",
        "content": f"{len(waiting)} conversation(s) wait on your reply. {how}\n{content}",
        "messages": refs,
    }


def awaited_in(mailbox: Mailbox, now: datetime, days: int) -> list[Awaited]:
    """The conversations of `mailbox` where the user waits on a person's reply (oldest first)."""
    categories = {i: t.category for i, t in mailbox.triage.items()}
    emails = [e for c in mailbox.conversations for e in c.emails]
    return awaiting_their_reply(
        mailbox.conversations,
        own=mailbox.own,
        now=now,
        days=days,
        categories=categories,
        automated=not_people(emails, categories),
    )


def awaited_ref(
    awaited: Awaited, mailbox: Mailbox, names: dict[str, str] | None = None
) -> dict[str, Any]:
    """The user's asking message, standing for its conversation, with whom it asked (`to`).

    `to` names each person as their own mail does (`Bob Stone <bob@…>`, `Tomás Rivera <…>`:
    text for people, never a header's encoded words), for the answer and the greeting of a
    follow-up; a name a list could not hold is left out.
    """
    triage = mailbox.triage.get(awaited.email.id)
    ref = conversation_ref(awaited.email, awaited.conversation, triage)
    known = _names(mailbox) if names is None else names
    ref["to"] = ", ".join(
        f"{name} <{a}>" if (name := known.get(a, "")) and not set(name) & set(',;"<>') else a
        for a in awaited.waiting_on
    )
    return ref


def _awaited(env: MailboxEnv, person: str, limit: int) -> ToolResult:
    try:
        days = awaiting_days()
    except AwaitingDaysError as err:
        raise ToolFailure(str(err)) from err
    mailbox = read_mailbox(env, with_sent=True)
    awaited = awaited_in(mailbox, datetime.now(UTC), days)
    names = _names(mailbox)
    if person:
        awaited = awaited_from(awaited, person, names=names)
    refs = [awaited_ref(a, mailbox, names) for a in awaited[:limit]]
    lines = []
    for n, (item, ref) in enumerate(zip(awaited, refs, strict=False), 1):
        lines += [
            f"{n}. conversation of {len(item.conversation.emails)} message(s), "
            f"waiting on {ref['to']} for {item.days} day(s)",
            f"   your message that asks: id: {ref['id']}",
            f"   subject: {ref['subject']}",
            f"   date: {ref['date']}",
            "   excerpt (your own words, no quoted history):",
            *(f"   | {line}" for line in ref["text"].splitlines()),
        ]
    who = f" from {person}" if person else ""
    header = (
        f"{len(awaited)} conversation(s) wait on a reply{who} to a question of yours, "
        f"asked {days} or more day(s) ago and not answered since (your own message is the "
        "newest of each; mailing lists and automated senders are left out)."
    )
    if len(awaited) > limit:
        lines.append(f"({len(awaited) - limit} more conversation(s) also wait on a reply.)")
    return {"completeness": "PREVIEW", "content": "\n".join([header, *lines]), "messages": refs}


def _names(mailbox: Mailbox) -> dict[str, str]:
    """Address → display name, as the people's own mail shows them."""
    return {
        e.from_addr: e.from_name
        for c in mailbox.conversations
        for e in c.emails
        if e.from_addr and e.from_name
    }


@tool
async def list_conversations(
    priority: str = "",
    category: str = "",
    limit: int = 10,
    *,
    env: Annotated[MailboxEnv, InjectedToolArg],
) -> ToolResult:
    """List triaged conversations, most important first: one message each, with its own words."""
    return await asyncio.to_thread(_listed, env, priority, category, max(1, min(limit, 30)))


@tool
async def get_conversation(
    email_id: str,
    *,
    env: Annotated[MailboxEnv, InjectedToolArg],
) -> ToolResult:
    """Get every message of the conversation a message belongs to, in full, oldest first."""
    return await asyncio.to_thread(_whole, env, email_id)


@tool
async def list_awaiting_reply(
    limit: int = 10,
    *,
    env: Annotated[MailboxEnv, InjectedToolArg],
) -> ToolResult:
    """List conversations where a person asked you something you have not answered yet."""
    return await asyncio.to_thread(_waiting, env, max(1, min(limit, 30)))


@tool
async def list_awaiting_their_reply(
    person: str = "",
    limit: int = 10,
    *,
    env: Annotated[MailboxEnv, InjectedToolArg],
) -> ToolResult:
    """List conversations where you asked someone something and they have not answered yet."""
    return await asyncio.to_thread(_awaited, env, person.strip(), max(1, min(limit, 30)))


CONVERSATION_TOOLS = [
    list_conversations,
    get_conversation,
    list_awaiting_reply,
    list_awaiting_their_reply,
]


def conversation_toolkit(env: MailboxEnv) -> Toolkit:
    """The conversation tools on the mailbox; all of them only read."""
    return Toolkit(
        name="conversations",
        tools=CONVERSATION_TOOLS,
        read_only=frozenset(t.name for t in CONVERSATION_TOOLS),
        env=env,
    )
