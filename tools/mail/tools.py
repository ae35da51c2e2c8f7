"""Native mail tools the model can call: search, list, get; draft, send and reply (with approval).

Each tool returns a `ToolResult`; `act` turns it into an `Evidence` record. The mailbox
is injected at call time and never visible to the model. Mail goes out over SMTP; from the
bundled demo inbox without `SMTP_URL` it goes to a local outbox instead (`tools.mail.demo`),
which `list_outbox` shows.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from langchain_core.tools import InjectedToolArg, tool

from memory.inbox_store import InboxStore
from memory.mail_tables import TriageRecord
from memory.search_query import SearchQueryError
from tools.mail.delivery import deliver, sent_data
from tools.mail.mailbox import MailboxEnv, sending_problem
from tools.mail.message_refs import message_ref, read_outbox, render_refs, with_triage
from tools.mail.model import Email
from tools.mail.outgoing import (
    compose_draft,
    compose_new,
    compose_reply,
    send_refusal,
    store_draft,
)
from tools.toolkit import ToolFailure, Toolkit, ToolResult, text_result


@tool
async def search_emails(
    query: str = "",
    sender: str = "",
    limit: int = 10,
    *,
    env: Annotated[MailboxEnv, InjectedToolArg],
) -> ToolResult:
    """Search mail: words, "phrases", from:, after:/before:YYYY-MM-DD, folder:, attachment:."""
    limit = max(1, min(limit, 50))
    try:
        refs = await asyncio.to_thread(_search, env, query, sender, limit)
    except SearchQueryError as err:
        raise ToolFailure(f"cannot search for that: {err}") from None
    return {"completeness": "PREVIEW", "content": render_refs(refs, full=False), "messages": refs}


def _search(env: MailboxEnv, query: str, sender: str, limit: int) -> list[dict[str, Any]]:
    """The matches' previews with their triage, in one trip off the event loop (blocking)."""
    emails = env.db.list_emails(source=env.source, query=query, sender=sender, limit=limit)
    return with_triage(env, emails, full=False)


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
    pairs = await asyncio.to_thread(_in_the_inbox, env, priority, category, limit)
    refs = [message_ref(email, triage, full=False) for email, triage in pairs]
    return {"completeness": "PREVIEW", "content": render_refs(refs, full=False), "messages": refs}


def _read(env: MailboxEnv, email_id: str) -> list[dict[str, Any]]:
    """The message in full with its triage, or nothing when it is not cached (blocking)."""
    email = env.db.get_email(email_id)
    return [] if email is None else with_triage(env, [email], full=True)


def _in_the_inbox(
    env: MailboxEnv, priority: str, category: str, limit: int
) -> list[tuple[Email, TriageRecord]]:
    """Triaged messages still in the inbox: not archived, trashed or snoozed by an inbox action."""
    away = InboxStore(env.db).away_ids(env.source)
    pairs = env.db.triaged_emails(env.source, priority=priority or None, category=category or None)
    return [(email, triage) for email, triage in pairs if email.id not in away][:limit]


@tool
async def get_email(
    email_id: str,
    *,
    env: Annotated[MailboxEnv, InjectedToolArg],
) -> ToolResult:
    """Get one message in full by its id."""
    refs = await asyncio.to_thread(_read, env, email_id)
    if not refs:
        raise ToolFailure(f"no message with id {email_id!r} in the mailbox")
    return {"completeness": "COMPLETE", "content": render_refs(refs, full=True), "messages": refs}


@tool
async def save_draft(
    body: str,
    to: str = "",
    subject: str = "",
    in_reply_to_id: str = "",
    account: str = "",
    *,
    env: Annotated[MailboxEnv, InjectedToolArg],
) -> ToolResult:
    """Save a draft in Drafts (nothing is sent): in_reply_to_id for a reply, else from `account`."""
    message, _ = await asyncio.to_thread(
        compose_draft,
        env,
        body=body,
        to=to,
        subject=subject,
        in_reply_to_id=in_reply_to_id,
        account=account,
    )
    _, text = await asyncio.to_thread(store_draft, env, message)
    return text_result(text)


@tool
async def send_email(
    to: str,
    subject: str,
    body: str,
    cc: str = "",
    account: str = "",
    *,
    env: Annotated[MailboxEnv, InjectedToolArg],
) -> ToolResult:
    """Send a new email to addresses (comma-separated) from `account` (default: the first one)."""
    message = compose_new(env, to=to, subject=subject, body=body, cc=cc, account=account)
    delivery = await asyncio.to_thread(deliver, env, message)
    return text_result(delivery.text, data=sent_data(message, delivery))


@tool
async def reply_to_email(
    email_id: str,
    body: str,
    reply_all: bool = False,
    *,
    env: Annotated[MailboxEnv, InjectedToolArg],
) -> ToolResult:
    """Reply to a message by its id; recipient, subject and threading come from that message."""
    message = await asyncio.to_thread(
        compose_reply, env, email_id=email_id, body=body, reply_all=reply_all
    )
    delivery = await asyncio.to_thread(deliver, env, message)
    return text_result(delivery.text, data=sent_data(message, delivery, in_reply_to=email_id))


@tool
async def list_outbox(
    limit: int = 10,
    *,
    env: Annotated[MailboxEnv, InjectedToolArg],
) -> ToolResult:
    """List the mail delivered to the local demo outbox, newest first."""
    if env.outbox is None:
        raise ToolFailure(NO_OUTBOX)
    text, rows = await asyncio.to_thread(read_outbox, env.outbox, max(1, min(limit, 50)))
    return text_result(text, data={"outbox": str(env.outbox), "messages": rows})


NO_OUTBOX = (
    "there is no local outbox: only the bundled demo inbox has one; here mail goes out over "
    "SMTP and a copy of it is kept in Sent"
)
MAIL_TOOLS = [
    search_emails,
    list_inbox,
    get_email,
    save_draft,
    send_email,
    reply_to_email,
    list_outbox,
]
READ_ONLY_MAIL_TOOLS = frozenset({"search_emails", "list_inbox", "get_email", "list_outbox"})
SENDING_TOOLS = frozenset({"send_email", "reply_to_email"})


def mail_toolkit(env: MailboxEnv) -> Toolkit:
    """The mail tools with their mailbox; sending only when it can run here, with why not.

    Sending needs SMTP (or the demo's local outbox) and a From address; the outbox can only
    be listed where there is one.
    """
    problem = sending_problem(env)
    unavailable = dict.fromkeys(SENDING_TOOLS, problem) if problem else {}
    if env.outbox is None:
        unavailable["list_outbox"] = NO_OUTBOX
    return Toolkit(
        name="mail",
        tools=MAIL_TOOLS,
        read_only=READ_ONLY_MAIL_TOOLS,
        env=env,
        unavailable=unavailable,
        refuses=lambda name, args, _offered: send_refusal(env, name, args),
    )
