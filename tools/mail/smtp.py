"""Send mail the user approved through their SMTP server (`tools.mail.smtp_settings`).

Every failure comes back as one `SmtpSendError` naming the server and the reason, so the
answer can say honestly that it was not sent; the password never appears in an error or a
log line. The caller may follow the exchange stage by stage (`on_stage`), so a process that
dies mid-send leaves a record of whether the server can have the message.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import smtplib
import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.mail.smtp_settings import SmtpSettings
from tools.oauth.tokens import TokenError
from tools.oauth.xoauth2 import mail_server_tokens, smtp_xoauth2

if TYPE_CHECKING:
    from memory.ledger import SendStage


logger = logging.getLogger(__name__)


class SmtpSendError(Exception):
    """The SMTP server did not confirm taking the message; `reason` says why."""

    def __init__(self, server: str, reason: str) -> None:
        super().__init__(server, reason)
        self.server = server
        """`host:port` of the SMTP server."""
        self.reason = reason
        """Why the server did not take the message."""

    def __str__(self) -> str:
        return f"SMTP server {self.server}: {self.reason}"


@dataclass(frozen=True)
class SendReceipt:
    """What the server accepted."""

    message_id: str
    recipients: list[str]
    """Envelope recipients the server accepted."""
    refused: dict[str, str] = field(default_factory=dict)
    """Recipients the server refused while accepting others: address → its reply."""


def _tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    """A verifying client context: the system's trusted CAs plus `settings.ca_file`."""
    context = ssl.create_default_context()
    if settings.ca_file:
        context.load_verify_locations(cafile=str(Path(settings.ca_file).expanduser()))
    return context


def envelope_recipients(message: EmailMessage) -> list[str]:
    """The addresses in To, Cc and Bcc, each once, in that order."""
    values = [str(v) for name in ("To", "Cc", "Bcc") for v in message.get_all(name, [])]
    seen: dict[str, str] = {}
    for _, address in getaddresses(values):
        if address and address.lower() not in seen:
            seen[address.lower()] = address
    return list(seen.values())


StageCallback = Callable[["SendStage"], None]
"""Told each stage of the exchange as it is reached: `envelope` before MAIL FROM, `data` once
the server is ready for the message and before any of it is transmitted, `data_sent` once all
of it is handed to the connection and before the server's answer is read, `accepted` after
the server's 250 (see `memory.ledger.SendStage`)."""


def send_message(
    settings: SmtpSettings,
    message: EmailMessage,
    *,
    recipients: Sequence[str] | None = None,
    on_stage: StageCallback | None = None,
) -> SendReceipt:
    """Deliver `message` to the SMTP server; blocking, so async callers use `asyncio.to_thread`.

    Envelope recipients default to To, Cc and Bcc; the Bcc header itself is never transmitted.
    A message without a Message-ID gets one in place, so a copy kept afterwards matches what
    was sent. With `smtp://` the connection is upgraded with STARTTLS whenever the server
    offers it, and a password is only sent over TLS (or to a server on this machine).
    `on_stage` is called as the exchange reaches each stage; what it raises ends the exchange
    and comes out of this function as it is.

    Raises:
        SmtpSendError: the server did not take the message: the login has no password (then
            nothing is even attempted), it could not be reached, TLS or login failed, or it
            refused the sender, the message or every recipient.

    """
    server = settings.server
    if settings.password_problem:
        logger.warning("not sending through %s: %s", server, settings.password_problem)
        raise SmtpSendError(server, settings.password_problem)
    envelope_to = _clean(recipients) if recipients is not None else envelope_recipients(message)
    if not envelope_to:
        raise SmtpSendError(server, "the message has no recipients")
    envelope_from = _sender(message)
    if not envelope_from:
        raise SmtpSendError(server, "the message has no From address")
    if not message["Message-ID"]:
        domain = envelope_from.rpartition("@")[2] if "@" in envelope_from else "localhost"
        message["Message-ID"] = make_msgid(domain=domain)
    message_id = str(message["Message-ID"]).strip()

    try:
        refused = _deliver(settings, message, envelope_from, envelope_to, on_stage or _no_stage)
    except SmtpSendError:
        raise
    except (OSError, smtplib.SMTPException, ValueError) as exc:
        # ssl.SSLError, TimeoutError and every smtplib error are OSError subclasses.
        reason = _scrub(_reason(exc, settings), settings.password)
        logger.warning("sending %s through %s failed: %s", message_id, server, reason)
        raise SmtpSendError(server, reason) from exc

    refused_text = {address: _reply_text(code, text) for address, (code, text) in refused.items()}
    accepted = [address for address in envelope_to if address not in refused]
    if refused_text:
        logger.warning("%s: recipients refused by %s: %s", message_id, server, refused_text)
    logger.info("sent %s to %d recipient(s) through %s", message_id, len(accepted), server)
    return SendReceipt(message_id=message_id, recipients=accepted, refused=refused_text)


def _no_stage(_stage: SendStage) -> None:
    pass


class _StagedSession(smtplib.SMTP):
    """smtplib's session, telling `on_stage` where the exchange is before each step that matters.

    Only MAIL and DATA are overridden; `send_message` drives them as it always does.
    """

    def __init__(self, *args: Any, on_stage: StageCallback, **kwargs: Any) -> None:
        self.on_stage = on_stage
        super().__init__(*args, **kwargs)

    def mail(self, sender: str, options: Sequence[str] = ()) -> tuple[int, bytes]:
        self.on_stage("envelope")
        return super().mail(sender, options)

    def data(self, msg: Any) -> tuple[int, bytes]:
        # smtplib's DATA, split so that the moment the server may hold the whole message
        # (the end mark is out, its answer not yet in) is known.
        self.putcmd("data")
        code, reply = self.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        if isinstance(msg, str):
            msg = re.sub(r"(?:\r\n|\n|\r(?!\n))", "\r\n", msg).encode("ascii")
        body = bytes(msg)
        body = re.sub(rb"(?m)^\.", b"..", body)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        self.on_stage("data")
        self.send(body + b".\r\n")
        self.on_stage("data_sent")
        return self.getreply()


class _StagedSslSession(_StagedSession, smtplib.SMTP_SSL):
    """The same, over TLS from the first byte (smtps)."""


def _deliver(
    settings: SmtpSettings,
    message: EmailMessage,
    envelope_from: str,
    envelope_to: list[str],
    on_stage: StageCallback,
) -> dict[str, tuple[int, bytes]]:
    """One SMTP session; returns the recipients refused while others were accepted."""
    try:
        context = _tls_context(settings)
    except (OSError, ssl.SSLError) as exc:
        # Checked when the settings were read; the file may have changed since.
        raise SmtpSendError(
            settings.server, f"SMTP_CA_FILE '{settings.ca_file}' cannot be loaded: {exc}"
        ) from exc
    client: smtplib.SMTP
    if settings.scheme == "smtps":
        client = _StagedSslSession(
            settings.host,
            settings.port,
            timeout=settings.timeout,
            context=context,
            on_stage=on_stage,
        )
    else:
        client = _StagedSession(
            settings.host, settings.port, timeout=settings.timeout, on_stage=on_stage
        )
    try:
        client.ehlo()
        if settings.scheme == "smtp":
            if client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            elif not _is_loopback(client):
                logger.warning("%s does not offer STARTTLS; sending unencrypted", settings.server)
        if settings.username:
            _login(client, settings)
        refused = client.send_message(message, envelope_from, envelope_to)
        on_stage("accepted")
        try:
            client.quit()
        except (OSError, smtplib.SMTPException) as exc:
            # The server has taken the message; a failed goodbye does not undo that.
            logger.debug("QUIT to %s failed after delivery: %s", settings.server, exc)
        return refused
    finally:
        client.close()


def probe_server(settings: SmtpSettings) -> None:
    """Greet the server (EHLO, STARTTLS when offered, the login when set), then QUIT.

    Nothing is sent: the health check of `SMTP_URL`. Blocking.

    Raises:
        SmtpSendError: the server cannot be reached, or refuses the greeting or the login.

    """
    if settings.password_problem:
        raise SmtpSendError(settings.server, settings.password_problem)
    try:
        context = _tls_context(settings)
        address, limit = (settings.host, settings.port), settings.timeout
        client: smtplib.SMTP = (
            smtplib.SMTP_SSL(*address, timeout=limit, context=context)
            if settings.scheme == "smtps"
            else smtplib.SMTP(*address, timeout=limit)
        )
        try:
            client.ehlo()
            if settings.scheme == "smtp" and client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            if settings.username:
                _login(client, settings)
            client.quit()
        finally:
            client.close()
    except (OSError, smtplib.SMTPException) as exc:
        reason = _scrub(_reason(exc, settings), settings.password)
        raise SmtpSendError(settings.server, reason) from None


def _login(client: smtplib.SMTP, settings: SmtpSettings) -> None:
    if not client.has_extn("auth"):
        raise SmtpSendError(
            settings.server,
            f"the server offers no AUTH, so user '{settings.username}' cannot log in "
            "(remove the user from SMTP_URL if it accepts mail without a login)",
        )
    if not isinstance(client.sock, ssl.SSLSocket) and not _is_loopback(client):
        raise SmtpSendError(
            settings.server,
            "the server offers no STARTTLS, so the password would travel unencrypted "
            "(use smtps:// or a server that offers STARTTLS)",
        )
    if settings.account:
        try:
            return smtp_xoauth2(client, settings.username, mail_server_tokens(settings.account))
        except TokenError as err:
            raise SmtpSendError(settings.server, str(err)) from None
    if not (settings.username + settings.password).isascii():
        # smtplib sends AUTH as ASCII; its encoding error would carry the whole AUTH string.
        raise SmtpSendError(
            settings.server,
            "the user name or password is not ASCII, which the SMTP login cannot carry",
        )
    client.login(settings.username, settings.password)


def _is_loopback(client: smtplib.SMTP) -> bool:
    if client.sock is None:
        return False
    try:
        return ipaddress.ip_address(client.sock.getpeername()[0]).is_loopback
    except (OSError, ValueError):
        return False


def _sender(message: EmailMessage) -> str:
    value = message["Sender"] or message["From"]
    addresses = [address for _, address in getaddresses([str(value)]) if address] if value else []
    return addresses[0] if addresses else ""


def _clean(addresses: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(a.strip() for a in addresses if a.strip()))


def _reply_text(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(text.split())}".strip()


def _reason(exc: BaseException, settings: SmtpSettings) -> str:
    """Say in a few words why the session failed; the order matters (subclasses first)."""
    for explain in (_tls_reason, _refusal_reason, _session_reason, _network_reason):
        reason = explain(exc, settings)
        if reason is not None:
            return reason
    return f"the message could not be sent: {exc}"


def _tls_reason(exc: BaseException, settings: SmtpSettings) -> str | None:
    """Why a TLS handshake failed, or None for any other failure."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"TLS certificate verification failed ({exc.verify_message or exc.reason}); "
            "if the server uses a private CA, set SMTP_CA_FILE to its PEM bundle"
        )
    if isinstance(exc, ssl.SSLError):
        hint = (
            " (is this port really implicit TLS? use smtp:// for STARTTLS)"
            if settings.scheme == "smtps" and exc.reason == "WRONG_VERSION_NUMBER"
            else ""
        )
        return f"TLS failure: {exc.reason or exc}{hint}"
    return None


def _refusal_reason(exc: BaseException, settings: SmtpSettings) -> str | None:
    """What the server refused (the login, recipients, sender, message), or None."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return (
            f"authentication failed for user '{settings.username}': "
            f"{_reply_text(exc.smtp_code, exc.smtp_error)}"
        )
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = "; ".join(
            f"{address}: {_reply_text(code, text)}"
            for address, (code, text) in exc.recipients.items()
        )
        return f"all recipients refused ({refused})"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"sender {exc.sender} refused: {_reply_text(exc.smtp_code, exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPDataError):
        return f"message refused: {_reply_text(exc.smtp_code, exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPConnectError):
        return f"the server refused the session: {_reply_text(exc.smtp_code, exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"unexpected reply: {_reply_text(exc.smtp_code, exc.smtp_error)}"
    return None


def _session_reason(exc: BaseException, settings: SmtpSettings) -> str | None:
    """Why the SMTP session broke off without a refusal, or None."""
    if isinstance(exc, smtplib.SMTPServerDisconnected) and isinstance(
        exc.__context__, TimeoutError
    ):
        # smtplib reports a reply that never came as a disconnection.
        return f"timed out after {settings.timeout:g}s waiting for the server"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"the server closed the connection ({exc})" if str(exc) else "connection closed"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"the server does not support what the message needs: {exc}"
    if isinstance(exc, smtplib.SMTPException):
        return f"SMTP error: {exc}"
    return None


def _network_reason(exc: BaseException, settings: SmtpSettings) -> str | None:
    """Why the server could not be reached or the network failed, or None."""
    if isinstance(exc, TimeoutError):
        return f"timed out after {settings.timeout:g}s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return f"host '{settings.host}' not found ({exc.strerror or exc})"
    if isinstance(exc, OSError):
        return f"network error: {exc.strerror or exc}"
    return None


def _scrub(text: str, password: str) -> str:
    """Remove the password from server-supplied text, should a server ever echo it."""
    return text.replace(password, "***") if password else text
