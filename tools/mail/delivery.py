"""Sending the user's mail: over SMTP or into the demo's local outbox, with a copy in Sent.

Each send is recorded stage by stage in the idempotency ledger, so a retry after a crash
sends the same message again at most, never a second one unseen.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from memory.audit_tables import OutgoingMessage
from memory.ledger import ClaimedCall, SendStage, running_call
from tools.mail.compose import MESSAGE_ID_DOMAIN
from tools.mail.mailbox import (
    MailboxEnv,
    sending_account,
    sending_problem,
    sends_through_source,
)
from tools.mail.maildir import INBOX, MaildirSource
from tools.mail.outgoing import address_list
from tools.mail.smtp import (
    SendReceipt,
    SmtpSendError,
    StageCallback,
    envelope_recipients,
    send_message,
)
from tools.mail.source_protocol import MailSourceError, SendsMail
from tools.mail.sources import parse_source_spec
from tools.toolkit import ToolFailure

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """A message that went out: the server's receipt, the Sent copy's key, a summary."""

    receipt: SendReceipt
    sent_copy_key: str
    text: str


def deliver(env: MailboxEnv, message: EmailMessage, *, part: str = "") -> Delivery:
    """Send over SMTP (or, on the demo, into its local outbox) and keep a copy in Sent.

    Synchronous (callers on an event loop use `asyncio.to_thread`); `ToolFailure` when
    nothing was sent. Once the message is delivered, nothing here raises: a missing Sent
    copy is reported in the text instead.

    Run by `act` (see `memory.ledger.running_call`), the message is one of the call's
    messages (`part` tells several apart, '' for the only one): its Message-ID and Date are
    recorded before anything connects, a retry of the call sends the first attempt's again,
    and each stage the exchange reaches is recorded, so a card after a crash can say whether
    the server can have it. A copy already kept in Sent by an earlier attempt is not kept twice.
    In an inbox of several accounts the message goes out through the account whose address it
    is From (its provider, or its own SMTP server), and the copy is kept there; a From no
    account has (or two have) sends nothing.
    """
    env = sending_account(env, message)
    if sending_problem(env):
        raise ToolFailure(sending_problem(env))
    claimed = running_call()
    outgoing = _prepare(claimed, part, message) if claimed is not None else None
    on_stage = _stage_recorder(claimed, part) if claimed is not None else None
    if sends_through_source(env.source):
        return _deliver_by_source(env, message, outgoing, on_stage)
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


def _deliver_by_source(
    env: MailboxEnv,
    message: EmailMessage,
    outgoing: OutgoingMessage | None,
    on_stage: StageCallback | None,
) -> Delivery:
    """Hand the message as it is (MIME) to an inbox whose API sends it (Microsoft Graph).

    Its Message-ID, In-Reply-To and References go with it, so a reply stays in its thread; the
    provider keeps the Sent copy itself, whose id is the copy's key. A retry whose message is
    already in Sent went out the first time and is not sent again.
    """
    recipients = envelope_recipients(message)
    if not recipients:
        raise ToolFailure(f"not sent through {env.source}: the message has no recipients")
    if not message["Message-ID"]:
        message["Message-ID"] = make_msgid(domain=MESSAGE_ID_DOMAIN)
    message_id = str(message["Message-ID"]).strip()
    try:
        source = parse_source_spec(env.source, secrets=env.secrets)
        if not isinstance(source, SendsMail):  # the spec table and this module disagree
            raise MailSourceError(f"the mail source {env.source} does not send mail")
        earlier = source.find_sent([message_id]) if outgoing and outgoing.attempts > 1 else {}
        if not earlier:
            if on_stage is not None:
                on_stage("data")
            source.send(bytes(message))
            if on_stage is not None:
                on_stage("accepted")
        key = earlier.get(message_id) or source.save_sent(bytes(message))
    except MailSourceError as err:
        raise ToolFailure(f"not sent: {err}") from err
    if on_stage is not None:
        on_stage("copied")
    receipt = SendReceipt(message_id=message_id, recipients=recipients)
    text = (
        f"Sent through {env.source} to {', '.join(recipients)}, subject "
        f"{message['Subject']!r} (Message-ID {message_id})."
    )
    if earlier:
        text = f"Already sent by an earlier attempt: found in Sent ({env.source}). " + text
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


def sent_data(
    message: EmailMessage, delivery: Delivery, *, in_reply_to: str = ""
) -> dict[str, Any]:
    """What was sent, as plain data kept with the call's result (for the `reply_sent` event)."""
    return {
        "message_id": delivery.receipt.message_id.strip("<>"),
        "from": str(message["From"] or ""),
        "to": address_list(str(message["To"] or "")),
        "cc": address_list(str(message["Cc"] or "")),
        "subject": str(message["Subject"] or ""),
        "in_reply_to": in_reply_to,
        "recipients": list(delivery.receipt.recipients),
    }
