"""Native mail tools the model can call: search, list, get; draft, send and reply (with approval).

Each tool returns a `ToolResult`; `act` turns it into an `Evidence` record. The mailbox
environment is injected at call time and never visible to the model. Mail goes out over SMTP;
from the bundled demo inbox without `SMTP_URL` it goes to a local outbox instead
(`tools.mail.demo`), which `list_outbox` shows.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from langchain_core.tools import InjectedToolArg, tool
from sqlalchemy.exc import SQLAlchemyError

from memory.audit import ClaimedCall, OutgoingMessage, SendStage, running_call
from memory.db import AppDatabase, TriageRecord
from tools.mail.compose import MESSAGE_ID_DOMAIN, new_message, reply_message, reply_subject
from tools.mail.demo import demo_outbox, demo_owner, demo_working_copy, is_demo_inbox
from tools.mail.maildir import INBOX, MaildirSource
from tools.mail.model import Email
from tools.mail.smtp import (
    SendReceipt,
    SmtpSendError,
    SmtpSettings,
    StageCallback,
    envelope_recipients,
    send_message,
)
from tools.mail.sources import MailSourceError, SecretLookup, parse_source_spec
from tools.mail.sync import canonical_spec
from tools.toolkit import ToolFailure, Toolkit, ToolResult, text_result

logger = logging.getLogger(__name__)

FULL_TEXT_LIMIT = 20_000
"""Characters of a body kept in evidence; the rest is named, not silently dropped."""


@dataclass(frozen=True)
class MailboxEnv:
    """What the mail tools need at run time, injected by `act`."""

    db: AppDatabase
    source: str
    smtp: SmtpSettings | None = None
    """Where mail is sent; None when `SMTP_URL` is not set (then only to `outbox`, if any)."""
    sender: str = ""
    """The From address of mail the user sends."""
    user_addresses: tuple[str, ...] = ()
    """The user's own addresses, left out of reply-all."""
    secrets: SecretLookup | None = None
    """Where a source's credentials (the IMAP password) are looked up; None: the environment."""
    outbox: Path | None = None
    """The local outbox (a Maildir) of the bundled demo: it takes the mail when `smtp` is None.
    None for every other inbox, where sending then needs `SMTP_URL`."""


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
    if email.is_draft:  # the user's own: who it is for matters more than who it is from
        ref["to"] = ", ".join(email.to)
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
            *([f"   to: {ref['to']}"] if "to" in ref else []),
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


def _address_list(value: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,;]", value) if part.strip()]


def _header_addresses(message: EmailMessage, name: str) -> list[str]:
    """The addresses a mail server is given for one header, read back as sending reads it."""
    return [a for _, a in getaddresses([str(v) for v in message.get_all(name, [])]) if a]


def _envelope(parts: list[str]) -> list[str]:
    """The addresses sending would use for these recipients: the header built and read back.

    A quoted local part or a comment is what the server gets without them
    (`"archive"@x` is `archive@x`, `mallory(x)@y` is `mallory@y`).
    """
    message = EmailMessage()
    try:
        message["To"] = ", ".join(parts)
    except ValueError:
        return parts  # a line break: sending refuses the header, so the card shows the text
    return _header_addresses(message, "To")


@dataclass(frozen=True)
class MailAction:
    """What a mail tool call would do, worked out from its real arguments and the mailbox."""

    to: list[str]
    """The envelope addresses the server is given (not the text the call was written with)."""
    cc: list[str]
    subject: str
    body: str
    """The text the user's mail will carry (a reply's quote of the original included)."""
    reply_of: Email | None = None
    """The message being answered, for replies."""
    sender: str = ""
    """The From it will carry ('' when no address is known)."""
    notes: tuple[str, ...] = ()
    """What the person deciding should know about where it goes (a local outbox, a setting
    that is still missing), so a call never fails for a setting only after it was approved."""


def plan_mail_action(env: MailboxEnv, name: str, args: dict[str, Any]) -> MailAction | None:
    """The recipients, subject and body a mail tool call would use; None for other tools.

    Synchronous (reads the database); the approval step shows this on the card, so the
    person sees the real recipient and content, never a description written by a model.
    """
    action = _planned_action(env, name, args)
    if action is None:
        return None
    return replace(action, sender=env.sender, notes=delivery_notes(env, name))


def delivery_notes(env: MailboxEnv, name: str) -> tuple[str, ...]:
    """Where a mail call's message will really go, and every setting it still lacks."""
    missing = missing_for_sending(env)
    if name == "save_draft":
        notes = []
        if not env.sender:
            notes.append(f"The draft will have no From address: {NO_SENDER.how}")
        if missing:
            notes.append(f"Only a draft: sending needs what is missing here ({how_to(missing)})")
        return tuple(notes)
    if missing:
        return (f"This will fail: {sending_problem(env)}",)
    if env.smtp is not None:
        if env.smtp.password_problem:
            return (f"This will fail until it is fixed: {env.smtp.password_problem}",)
        return ()
    return (outbox_note(env) + ".",)


def _planned_action(env: MailboxEnv, name: str, args: dict[str, Any]) -> MailAction | None:
    body = str(args.get("body", ""))
    if name == "send_email":
        return MailAction(
            to=_envelope(_address_list(str(args.get("to", "")))),
            cc=_envelope(_address_list(str(args.get("cc", "")))),
            subject=str(args.get("subject", "")),
            body=body,
        )
    reply_id = str(args.get("email_id" if name == "reply_to_email" else "in_reply_to_id", ""))
    if name not in ("reply_to_email", "save_draft"):
        return None
    original = env.db.get_email(reply_id) if reply_id else None
    if name == "save_draft" and (original is None or args.get("to")):
        return MailAction(
            to=_envelope(_address_list(str(args.get("to", "")))),
            cc=[],
            subject=str(args.get("subject", ""))
            or (reply_subject(original.subject) if original else ""),
            body=body,
            reply_of=original,
        )
    if original is None:
        return MailAction(to=[], cc=[], subject="", body=body)
    message = reply_message(
        original,
        sender=env.sender,
        body=body,
        reply_all=bool(args.get("reply_all")),
        own=env.user_addresses,
    )
    return MailAction(
        to=_header_addresses(message, "To"),
        cc=_header_addresses(message, "Cc"),
        subject=str(message["Subject"]),
        body=message.get_content(),
        reply_of=original,
    )


def original_message(env: MailboxEnv, email_id: str) -> Email:
    """The message a reply answers, or `ToolFailure` when the mailbox has no such id."""
    original = env.db.get_email(email_id)
    if original is None:
        raise ToolFailure(f"no message with id {email_id!r} to reply to")
    return original


def compose_draft(
    env: MailboxEnv, *, body: str, to: str = "", subject: str = "", in_reply_to_id: str = ""
) -> tuple[EmailMessage, Email | None]:
    """A draft: a reply quoting the original when `in_reply_to_id` is given, else a new message."""
    if in_reply_to_id:
        original = original_message(env, in_reply_to_id)
        message = reply_message(original, sender=env.sender, body=body, own=env.user_addresses)
        if to:
            message.replace_header("To", ", ".join(_address_list(to)))
        if subject:
            message.replace_header("Subject", subject)
        return message, original
    if not to.strip():
        raise ToolFailure(
            "a draft needs a recipient (`to`) or a message to reply to (`in_reply_to_id`)"
        )
    return new_message(sender=env.sender, to=_address_list(to), subject=subject, body=body), None


def compose_new(env: MailboxEnv, *, to: str, subject: str, body: str, cc: str = "") -> EmailMessage:
    """A new message from the user; `ToolFailure` without a recipient."""
    recipients = _address_list(to)
    if not recipients:
        raise ToolFailure("send_email needs at least one recipient in `to`")
    return new_message(
        sender=env.sender, to=recipients, cc=_address_list(cc), subject=subject, body=body
    )


def compose_reply(env: MailboxEnv, *, email_id: str, body: str, reply_all: bool) -> EmailMessage:
    """A reply to a message of the mailbox: threaded, `Re:` subject, the original quoted."""
    original = original_message(env, email_id)
    return reply_message(
        original, sender=env.sender, body=body, reply_all=reply_all, own=env.user_addresses
    )


def store_draft(env: MailboxEnv, message: EmailMessage) -> tuple[str, str]:
    """Keep a draft in the Drafts folder; returns its key and a sentence saying so.

    Blocking: a Maildir file, or an APPEND to an IMAP server's Drafts folder.
    """
    try:
        key = parse_source_spec(env.source, secrets=env.secrets).save_draft(bytes(message))
    except MailSourceError as err:
        raise ToolFailure(f"the draft was not saved: {err}") from err
    text = f"Draft saved in Drafts (key {key}) to {message['To']}, subject {message['Subject']!r}."
    return key, text


@dataclass(frozen=True)
class Delivery:
    """A message that went out: the server's receipt, the Sent copy's key, a summary."""

    receipt: SendReceipt
    sent_copy_key: str
    text: str


@dataclass(frozen=True)
class MissingSetting:
    """A setting something needs that is not set: what is missing, and how to set it."""

    what: str
    how: str


NO_SMTP_URL = MissingSetting(
    "SMTP_URL is not set", "set SMTP_URL to your mail server (smtp[s]://user@host[:port])"
)
NO_SENDER = MissingSetting(
    "no From address is known",
    "set SMTP_FROM to your address (or SMART_INBOX_USER_EMAILS to your addresses)",
)


def outbox_note(env: MailboxEnv) -> str:
    """What a card says when the mail goes to the demo's local outbox."""
    return (
        f"Nothing leaves this machine: the bundled demo delivers to its local outbox "
        f"({env.outbox}); set SMTP_URL to send for real"
    )


def missing_for_sending(env: MailboxEnv) -> list[MissingSetting]:
    """Every setting sending lacks here (none when mail can go out, over SMTP or to the outbox).

    Read when the catalogue is built and when a card is written, so a send that cannot run
    is said to be so before anyone approves it, never only afterwards.
    """
    missing = []
    if env.smtp is None and env.outbox is None:
        missing.append(NO_SMTP_URL)
    if not env.sender:
        missing.append(NO_SENDER)
    return missing


def what_is_missing(missing: list[MissingSetting]) -> str:
    """`SMTP_URL is not set and no From address is known`."""
    return " and ".join(m.what for m in missing)


def how_to(missing: list[MissingSetting]) -> str:
    """`set SMTP_URL to … and set SMTP_FROM to …`."""
    return " and ".join(m.how for m in missing)


def sending_problem(env: MailboxEnv) -> str:
    """Why no mail can be sent here and how to fix it, in one sentence; '' when it can."""
    missing = missing_for_sending(env)
    if not missing:
        return ""
    return (
        f"sending is unavailable: {what_is_missing(missing)}, so nothing is sent "
        f"(drafts still work); to send, {how_to(missing)}"
    )


def deliver(env: MailboxEnv, message: EmailMessage, *, part: str = "") -> Delivery:
    """Send over SMTP (or, on the demo, into its local outbox) and keep a copy in Sent.

    Synchronous (callers on an event loop use `asyncio.to_thread`); `ToolFailure` when
    nothing was sent. Once the message is delivered, nothing here raises: a missing Sent
    copy is reported in the text instead.

    Run by `act` (see `memory.audit.running_call`), the message is one of the call's
    messages (`part` tells several apart, '' for the only one): its Message-ID and Date are
    recorded before anything connects, a retry of the call sends the first attempt's again,
    and each stage the exchange reaches is recorded, so a card after a crash can say whether
    the server can have it. A copy already kept in Sent by an earlier attempt is not kept twice.
    """
    if not env.sender or (env.smtp is None and env.outbox is None):
        raise ToolFailure(sending_problem(env))
    claimed = running_call()
    outgoing = _prepare(claimed, part, message) if claimed is not None else None
    on_stage = _stage_recorder(claimed, part) if claimed is not None else None
    if env.smtp is None and env.outbox is not None:
        receipt = deliver_to_outbox(env.outbox, message, on_stage=on_stage)
        text = (
            f"Delivered to the local demo outbox ({env.outbox}) for "
            f"{', '.join(receipt.recipients)}, subject {message['Subject']!r} "
            f"(Message-ID {receipt.message_id}); nothing left this machine: set SMTP_URL to "
            "send for real."
        )
    else:
        assert env.smtp is not None  # checked above: without it there is an outbox
        try:
            receipt = send_message(env.smtp, message, on_stage=on_stage)
        except SmtpSendError as err:
            raise ToolFailure(f"not sent: {err}") from err
        text = (
            f"Sent to {', '.join(receipt.recipients)}, subject {message['Subject']!r} "
            f"(Message-ID {receipt.message_id})."
        )
    if receipt.refused:
        text += " Refused by the server: " + "; ".join(
            f"{address}: {why}" for address, why in receipt.refused.items()
        )
    if outgoing is not None and _copied_earlier(env, outgoing):
        text += " (The copy in Sent was kept by an earlier attempt.)"
        return Delivery(receipt=receipt, sent_copy_key="", text=text)
    key = ""
    try:
        key = parse_source_spec(env.source, secrets=env.secrets).save_sent(bytes(message))
    except Exception as err:  # noqa: BLE001 — the mail went out; a missing copy must not hide that
        logger.warning("sent, but no copy was kept in Sent: %s", err)
        text += f" (No copy was kept in Sent: {err}.)"
    else:
        if on_stage is not None:
            on_stage("copied")
    return Delivery(receipt=receipt, sent_copy_key=key, text=text)


def _copied_earlier(env: MailboxEnv, outgoing: OutgoingMessage) -> bool:
    """Whether an earlier attempt kept this message in Sent (recorded, or found there)."""
    if outgoing.stage == "copied":
        return True
    if outgoing.attempts == 1:
        return False
    try:
        found = parse_source_spec(env.source, secrets=env.secrets).find_sent([outgoing.message_id])
    except MailSourceError as err:
        logger.warning("Sent could not be searched for %s: %s", outgoing.message_id, err)
        return False
    return outgoing.message_id in found


def _prepare(claimed: ClaimedCall, part: str, message: EmailMessage) -> OutgoingMessage:
    """Record the message before it is sent, and give it the Message-ID and Date on record.

    The first attempt records the ones the message was composed with; a retry gets them back,
    so it sends the same message again. The Date too: it is the message the person approved,
    and a receiver that compares more than the Message-ID still sees the copy for what it is.
    Nothing is sent when this cannot be recorded.
    """
    try:
        outgoing = claimed.prepare(
            part,
            message_id=str(message["Message-ID"] or make_msgid(domain=MESSAGE_ID_DOMAIN)).strip(),
            date=str(message["Date"] or format_datetime(datetime.now().astimezone())),
            recipients=envelope_recipients(message),
        )
    except SQLAlchemyError as err:
        raise ToolFailure(f"not sent: the send could not be recorded beforehand: {err}") from err
    for header, value in (("Message-ID", outgoing.message_id), ("Date", outgoing.date)):
        del message[header]
        message[header] = value
    return outgoing


def _stage_recorder(claimed: ClaimedCall, part: str) -> StageCallback:
    """Record each stage the exchange reaches for this message.

    A stage before the message goes out that cannot be recorded stops the send (nothing has
    left yet, and a crash now would leave no trace); one after is logged: the mail may have
    gone, and failing the call would invite a second send.
    """

    def record(stage: SendStage) -> None:
        try:
            claimed.reach(part, stage)
        except SQLAlchemyError as err:
            if stage in ("envelope", "data"):
                raise ToolFailure(f"not sent: the send could not be recorded: {err}") from err
            logger.warning("the stage %s of %s could not be recorded: %s", stage, part, err)

    return record


def deliver_to_outbox(
    outbox: Path, message: EmailMessage, *, on_stage: StageCallback | None = None
) -> SendReceipt:
    """Put `message` in the local outbox Maildir (made when missing), as a server would take it.

    Blocking. Like `send_message`, a message without a Message-ID gets one in place, so the
    Sent copy matches what was delivered. The delivery is one rename: `on_stage` hears `data`
    before the message is written and `accepted` once it is in the outbox.

    Raises:
        ToolFailure: the message has no recipients, or the outbox cannot be written.

    """
    recipients = envelope_recipients(message)
    if not recipients:
        raise ToolFailure("not delivered to the local demo outbox: the message has no recipients")
    if not message["Message-ID"]:
        message["Message-ID"] = make_msgid(domain=MESSAGE_ID_DOMAIN)
    if on_stage is not None:
        on_stage("data")
    try:
        for part in ("cur", "new", "tmp"):
            (outbox / part).mkdir(parents=True, exist_ok=True, mode=0o700)
        MaildirSource(outbox, f"maildir:{outbox}").save_message(bytes(message), INBOX, "")
    except (OSError, MailSourceError) as err:
        raise ToolFailure(f"not delivered to the local demo outbox {outbox}: {err}") from err
    if on_stage is not None:
        on_stage("accepted")
    message_id = str(message["Message-ID"]).strip()
    logger.info("delivered %s to the local demo outbox %s", message_id, outbox)
    return SendReceipt(message_id=message_id, recipients=recipients)


Verdict = Literal["delivered", "likely", "maybe", "not_sent"]
"""What can be said of a message whose send was interrupted, surest delivery first."""
VERDICTS: tuple[Verdict, ...] = get_args(Verdict)
VERDICT_WORDS: dict[str, str] = {
    "delivered": "delivered",
    "likely": "most likely delivered",
    "maybe": "may have been delivered",
    "not_sent": "not sent",
}


@dataclass(frozen=True)
class SentTrace:
    """What can be seen of one message an interrupted call was sending, and what follows."""

    message_id: str
    recipients: tuple[str, ...]
    stage: SendStage
    """The furthest stage an attempt recorded (`memory.audit.SendStage`)."""
    stage_at: str
    attempts: int
    in_sent: bool | None
    """Whether a copy with its Message-ID is in Sent; None when Sent could not be searched."""
    in_outbox: bool | None = None
    """Whether the demo's local outbox holds it; None where there is none (or it is unreadable)."""
    problems: tuple[str, ...] = ()
    """Why a place could not be searched."""

    @property
    def verdict(self) -> Verdict:
        """Delivered, most likely, maybe or not: from where it was seen, else from its stage.

        The outbox is the demo's server and takes a message in one rename, so it answers
        outright. A Sent copy is written only after the server's 250. Without either, the
        stage says whether the server can hold the whole message.
        """
        if self.in_outbox is not None:
            return "delivered" if self.in_outbox else "not_sent"
        if self.in_sent or self.stage in ("accepted", "copied"):
            return "delivered"
        if self.stage == "data_sent":
            return "likely"
        if self.stage == "data":
            return "maybe"
        return "not_sent"

    def explain(self) -> str:
        """What was found and why it means what `verdict` says, in a sentence or three."""
        if self.in_outbox:
            found = "It is in the local demo outbox: it was delivered there."
        elif self.in_outbox is not None:
            found = (
                "It is not in the local demo outbox, which takes a message whole or not at all: "
                "it was not delivered."
            )
        elif self.in_sent:
            found = (
                "A copy with this Message-ID is in your Sent folder, which is written only "
                "after the server accepts a message: it was delivered."
            )
        else:
            seen = "No copy in Sent." if self.in_sent is False else "Sent could not be searched."
            found = f"{seen} {STAGE_FINDINGS[self.stage].format(at=self.stage_at)}"
        if self.attempts > 1:
            found += f" ({self.attempts} attempts began; this is as far as any of them got.)"
        if self.problems:
            found += f" (Could not search: {'; '.join(self.problems)}.)"
        return found


STAGE_FINDINGS: dict[str, str] = {
    "prepared": (
        "The process stopped before its session with the mail server was ready (while "
        "connecting or logging in at the latest): it was not sent."
    ),
    "envelope": (
        "The exchange stopped after connecting, while naming the sender and recipients, before "
        "the message itself was transmitted: the server never had it, so it was not sent."
    ),
    "data": (
        "The exchange stopped while the message was being transmitted to the server ({at}): it "
        "may or may not have been delivered."
    ),
    "data_sent": (
        "The whole message was handed to the server ({at}), but the exchange stopped before "
        "its answer (250) was received: it was most likely delivered."
    ),
    "accepted": "The server accepted it (answered 250) at {at}: it was delivered.",
    "copied": "The server accepted it and a copy was kept in Sent at {at}: it was delivered.",
}
"""What each recorded stage means for the message, when it was not seen anywhere."""


def traces_summary(traces: Sequence[SentTrace]) -> str:
    """`<id> to a@x: delivered; <id2> to b@y: not sent`: what was found, in one line."""
    return "; ".join(
        f"{t.message_id} to {', '.join(t.recipients) or '(nobody)'}: {VERDICT_WORDS[t.verdict]}"
        for t in traces
    )


def trace_sends(env: MailboxEnv, messages: Sequence[OutgoingMessage]) -> list[SentTrace]:
    """Look for each message an interrupted call was sending: in Sent and in the demo outbox.

    Blocking (reads the Maildir or asks the IMAP server). A place that cannot be searched is
    named in the trace, never an error: the person must be asked either way.
    """
    if not messages:
        return []
    ids = [m.message_id for m in messages]
    problems: list[str] = []
    in_sent: dict[str, str] | None = None
    try:
        in_sent = parse_source_spec(env.source, secrets=env.secrets).find_sent(ids)
    except MailSourceError as err:
        problems.append(f"Sent: {err}")
    in_outbox: dict[str, str] | None = None
    if env.smtp is None and env.outbox is not None:
        try:
            in_outbox = (
                MaildirSource(env.outbox, f"maildir:{env.outbox}").find_message_ids(INBOX, ids)
                if env.outbox.is_dir()
                else {}
            )
        except MailSourceError as err:
            problems.append(f"the local demo outbox: {err}")
    return [
        SentTrace(
            message_id=m.message_id,
            recipients=tuple(m.recipient_list()),
            stage=m.stage,  # type: ignore[arg-type]
            stage_at=m.stage_at,
            attempts=m.attempts,
            in_sent=None if in_sent is None else m.message_id in in_sent,
            in_outbox=None if in_outbox is None else m.message_id in in_outbox,
            problems=tuple(problems),
        )
        for m in messages
    ]


def sent_data(
    message: EmailMessage, delivery: Delivery, *, in_reply_to: str = ""
) -> dict[str, Any]:
    """What was sent, as plain data kept with the call's result (for the `reply_sent` event)."""
    return {
        "message_id": delivery.receipt.message_id.strip("<>"),
        "from": str(message["From"] or ""),
        "to": _address_list(str(message["To"] or "")),
        "cc": _address_list(str(message["Cc"] or "")),
        "subject": str(message["Subject"] or ""),
        "in_reply_to": in_reply_to,
        "recipients": list(delivery.receipt.recipients),
    }


def sender_address(
    smtp: SmtpSettings | None,
    user_addresses: tuple[str, ...],
    environ: Mapping[str, str] | None = None,
) -> str:
    """The From of sent mail: `SMTP_FROM`, else your first address, else the SMTP login."""
    env = os.environ if environ is None else environ
    if env.get("SMTP_FROM", "").strip():
        return env["SMTP_FROM"].strip()
    if user_addresses:
        return user_addresses[0]
    if smtp is not None and "@" in smtp.username:
        return smtp.username
    return ""


def open_mailbox_env(
    db: AppDatabase,
    inbox: str,
    home: Path,
    *,
    user_addresses: tuple[str, ...],
    smtp: SmtpSettings | None,
    secrets: SecretLookup | None = None,
    environ: Mapping[str, str] | None = None,
) -> MailboxEnv:
    """The mailbox the tools work on: its source, whose it is, where sent mail goes. Blocking.

    The one place the bundled demo differs from any other inbox: it is worked on as a copy in
    the data directory `home` (the repository's folder is never written), its owner
    (`owner.json`) is the user when neither `SMTP_FROM` nor `SMART_INBOX_USER_EMAILS` is set,
    and its mail goes to a local outbox in `home` when `SMTP_URL` is not set. Explicit
    settings always win. A source that cannot be opened is kept as given: fetching it reports
    why.

    Raises:
        DemoInboxError: the demo's owner cannot be read or its copy cannot be made.

    """
    env = os.environ if environ is None else environ
    if not is_demo_inbox(inbox):
        try:
            source = canonical_spec(inbox)
        except MailSourceError:
            source = inbox
        return MailboxEnv(
            db=db,
            source=source,
            smtp=smtp,
            sender=sender_address(smtp, user_addresses, env),
            user_addresses=user_addresses,
            secrets=secrets,
        )
    sender = sender_address(smtp, user_addresses, env)
    if not user_addresses and not env.get("SMTP_FROM", "").strip():
        owner = demo_owner()
        user_addresses, sender = (owner.address,), owner.sender
    return MailboxEnv(
        db=db,
        source=canonical_spec(f"maildir:{demo_working_copy(home)}"),
        smtp=smtp,
        sender=sender,
        user_addresses=user_addresses,
        secrets=secrets,
        outbox=demo_outbox(home),
    )


@tool
async def save_draft(
    body: str,
    to: str = "",
    subject: str = "",
    in_reply_to_id: str = "",
    *,
    env: Annotated[MailboxEnv, InjectedToolArg],
) -> ToolResult:
    """Save a draft in the Drafts folder (nothing is sent); give in_reply_to_id to draft a reply."""
    message, _ = await asyncio.to_thread(
        compose_draft, env, body=body, to=to, subject=subject, in_reply_to_id=in_reply_to_id
    )
    _, text = await asyncio.to_thread(store_draft, env, message)
    return text_result(text)


@tool
async def send_email(
    to: str,
    subject: str,
    body: str,
    cc: str = "",
    *,
    env: Annotated[MailboxEnv, InjectedToolArg],
) -> ToolResult:
    """Send a new email to the given addresses (comma-separated) over SMTP."""
    message = compose_new(env, to=to, subject=subject, body=body, cc=cc)
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


def read_outbox(outbox: Path, limit: int) -> tuple[str, list[dict[str, Any]]]:
    """The mail in the local outbox, newest first: a text block and the same as plain data.

    Blocking (reads the Maildir). An outbox that was never written to is empty, not an error.
    """
    if not outbox.is_dir():
        return f"The local demo outbox ({outbox}) is empty: nothing has been sent yet.", []
    try:
        emails = MaildirSource(outbox, f"maildir:{outbox}").fetch_new(set()).emails
    except MailSourceError as err:
        raise ToolFailure(f"the local demo outbox cannot be read: {err}") from err
    emails.sort(key=lambda e: (e.date, e.key), reverse=True)
    rows = [
        {
            "message_id": email.id,
            "from": email.sender,
            "to": list(email.to),
            "cc": list(email.cc),
            "subject": email.subject,
            "date": email.date,
            "attachments": [a.filename for a in email.attachments],
            "text": email.error or email.preview(),
        }
        for email in emails[:limit]
    ]
    if not rows:
        return f"The local demo outbox ({outbox}) is empty: nothing has been sent yet.", []
    blocks = [
        f"{len(emails)} message(s) in the local demo outbox ({outbox}), newest first; "
        "none of them left this machine:"
    ]
    for n, row in enumerate(rows, 1):
        lines = [
            f"{n}. to: {', '.join(row['to']) or '(nobody)'}",
            f"   from: {row['from'] or '(no From header)'}",
            f"   subject: {row['subject'] or '(no subject)'}",
            f"   date: {row['date'] or 'unknown'}",
        ]
        if row["cc"]:
            lines.insert(1, f"   cc: {', '.join(row['cc'])}")
        if row["attachments"]:
            lines.append(f"   attachments: {', '.join(row['attachments'])}")
        lines.append(f"   text: {row['text']}")
        blocks.append("\n".join(lines))
    return "\n".join(blocks), rows


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
    )
