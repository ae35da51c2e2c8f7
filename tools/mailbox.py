"""Native mail tools the model can call: search and list (previews), get (full), save a draft.

Each tool returns a `ToolResult`; `act` turns it into an `Evidence` record. The mailbox
environment is injected at call time and never visible to the model.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Annotated, Any, TypedDict

from langchain_core.tools import InjectedToolArg, tool

from memory.db import AppDatabase, TriageRecord
from tools.mail.model import Email
from tools.mail.sources import parse_source_spec

FULL_TEXT_LIMIT = 20_000
"""Characters of a body kept in evidence; the rest is named, not silently dropped."""


class ToolResult(TypedDict):
    """What a native tool returns: text for the answer step plus the messages it is about."""

    completeness: str
    content: str
    messages: list[dict[str, Any]]


@dataclass(frozen=True)
class MailboxEnv:
    """What the mail tools need at run time, injected by `act`."""

    db: AppDatabase
    source: str


class ToolFailure(Exception):
    """A tool could not do what was asked; the message is shown to the user as is."""


def message_ref(email: Email, triage: TriageRecord | None = None, *, full: bool) -> dict[str, Any]:
    """The `MessageRef` of a message: preview or full text, with its triage when known."""
    ref: dict[str, Any] = {
        "id": email.id,
        "sender": email.sender,
        "subject": email.subject,
        "date": email.date,
        "text": _full_text(email.body) if full else email.preview(),
    }
    if email.error:
        ref["text"] = f"[UNREADABLE MESSAGE: {email.error}]"
    if triage is not None:
        ref.update(
            priority=triage.priority,
            category=triage.category,
            action=triage.action,
            reason=triage.reason,
        )
    if full:
        if email.reply_to and email.reply_to != email.from_addr:
            ref["reply_to"] = email.reply_to
        if email.attachments:
            ref["attachments"] = [
                f"{a.filename} ({a.content_type}, {a.size} bytes)" for a in email.attachments
            ]
    return ref


def _full_text(body: str) -> str:
    if len(body) <= FULL_TEXT_LIMIT:
        return body
    cut = len(body) - FULL_TEXT_LIMIT
    return body[:FULL_TEXT_LIMIT] + f"\n[… {cut} more characters of this message not included]"


def render_refs(refs: list[dict[str, Any]], *, full: bool) -> str:
    """Messages as the numbered text block tools return and prompts show."""
    if not refs:
        return "No messages matched."
    blocks = []
    for n, ref in enumerate(refs, 1):
        lines = [
            f"{n}. id: {ref['id']}",
            f"   from: {ref['sender']}",
            f"   subject: {ref['subject']}",
            f"   date: {ref['date']}",
        ]
        if "priority" in ref:
            lines.append(
                f"   triage: {ref['priority']} / {ref['category']} / {ref['action']} — {ref['reason']}"
            )
        if ref.get("reply_to"):
            lines.append(f"   reply-to: {ref['reply_to']}")
        if ref.get("attachments"):
            lines.append("   attachments: " + "; ".join(ref["attachments"]))
        label = "body" if full else "preview"
        lines.append(f"   {label}: {ref['text']}")
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def _with_triage(env: MailboxEnv, emails: list[Email], *, full: bool) -> list[dict[str, Any]]:
    triage = env.db.triage_for([e.id for e in emails])
    return [message_ref(e, triage.get(e.id), full=full) for e in emails]


@tool
async def search_emails(
    query: str = "",
    sender: str = "",
    limit: int = 10,
    *,
    env: Annotated[MailboxEnv, InjectedToolArg],
) -> ToolResult:
    """Search the mailbox by words and/or sender; returns previews of matching messages."""
    limit = max(1, min(limit, 50))
    emails = await asyncio.to_thread(
        env.db.list_emails, source=env.source, query=query, sender=sender, limit=limit
    )
    refs = await asyncio.to_thread(_with_triage, env, emails, full=False)
    return {"completeness": "PREVIEW", "content": render_refs(refs, full=False), "messages": refs}


@tool
async def list_inbox(
    priority: str = "",
    category: str = "",
    limit: int = 10,
    *,
    env: Annotated[MailboxEnv, InjectedToolArg],
) -> ToolResult:
    """List triaged messages, most important first, optionally by priority or category."""
    limit = max(1, min(limit, 50))
    pairs = await asyncio.to_thread(
        env.db.triaged_emails,
        env.source,
        priority=priority or None,
        category=category or None,
        limit=limit,
    )
    refs = [message_ref(email, triage, full=False) for email, triage in pairs]
    return {"completeness": "PREVIEW", "content": render_refs(refs, full=False), "messages": refs}


@tool
async def get_email(
    email_id: str,
    *,
    env: Annotated[MailboxEnv, InjectedToolArg],
) -> ToolResult:
    """Get one message in full by its id."""
    email = await asyncio.to_thread(env.db.get_email, email_id)
    if email is None:
        raise ToolFailure(f"no message with id {email_id!r} in the mailbox")
    refs = await asyncio.to_thread(_with_triage, env, [email], full=True)
    return {"completeness": "COMPLETE", "content": render_refs(refs, full=True), "messages": refs}


@tool
async def save_draft(
    to: str,
    subject: str,
    body: str,
    in_reply_to_id: str = "",
    *,
    env: Annotated[MailboxEnv, InjectedToolArg],
) -> ToolResult:
    """Save a draft message in the mailbox's Drafts folder (nothing is sent)."""
    message = EmailMessage()
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="smart-inbox.local")
    if in_reply_to_id:
        original = await asyncio.to_thread(env.db.get_email, in_reply_to_id)
        if original is None:
            raise ToolFailure(f"no message with id {in_reply_to_id!r} to reply to")
        message["In-Reply-To"] = f"<{original.id}>"
        message["References"] = " ".join(f"<{r}>" for r in (*original.references, original.id))
    message.set_content(body)
    source = parse_source_spec(env.source)
    key = await asyncio.to_thread(source.save_draft, bytes(message))
    text = f"Draft saved in Drafts (key {key}) to {to}, subject {subject!r}."
    return {"completeness": "COMPLETE", "content": text, "messages": []}


MAIL_TOOLS = [search_emails, list_inbox, get_email, save_draft]
READ_ONLY_MAIL_TOOLS = frozenset({"search_emails", "list_inbox", "get_email"})
