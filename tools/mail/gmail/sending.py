"""Sending the user's mail through Gmail (`messages.send`) when the inbox is `gmail:ACCOUNT`.

Gmail files what it sends in Sent itself, so there is no copy to keep. A retry of a call
whose first attempt may have reached Gmail asks Sent first (by Message-ID): a message found
there is not sent a second time.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage

from tools.mail.gmail.source import GmailSource
from tools.mail.smtp import SendReceipt, StageCallback, envelope_recipients
from tools.mail.source_protocol import MailSourceError

logger = logging.getLogger(__name__)


class GmailSendError(Exception):
    """Gmail did not take the message; nothing was sent."""


def send_with_gmail(
    source: GmailSource,
    message: EmailMessage,
    *,
    retry: bool = False,
    on_stage: StageCallback | None = None,
) -> tuple[SendReceipt, str]:
    """Send `message` (it must carry its Message-ID); the receipt and the sent message's id.

    `retry`: an earlier attempt may have reached Gmail, so Sent is searched first.

    Raises:
        GmailSendError: the message has no recipients or Gmail refused it.

    """
    recipients = envelope_recipients(message)
    if not recipients:
        raise GmailSendError("the message has no recipients")
    message_id = str(message["Message-ID"] or "").strip()
    if retry and message_id:
        try:
            found = source.find_sent([message_id])
        except MailSourceError as err:
            logger.warning("Sent could not be searched for %s: %s", message_id, err)
            found = {}
        if message_id in found:
            logger.info("%s is in Sent already: not sent again", message_id)
            if on_stage is not None:
                on_stage("accepted")
            return SendReceipt(message_id=message_id, recipients=recipients), found[message_id]
    if on_stage is not None:
        on_stage("data")
    try:
        sent = source.send(bytes(message))
    except MailSourceError as err:
        raise GmailSendError(str(err)) from err
    if on_stage is not None:
        on_stage("accepted")
    return SendReceipt(message_id=message_id, recipients=recipients), sent["id"]
