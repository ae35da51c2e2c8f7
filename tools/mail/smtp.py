"""Send mail the user approved through their SMTP server, configured by one `SMTP_URL`.

The login's password may sit in the URL or, better, in the credential vault
(`smtp.password:USER@HOST`, else `smtp.password`, else `SMTP_PASSWORD`), looked up when the
settings are built. Every failure comes back as one `SmtpSendError` naming the server and the
reason, so the answer can say honestly that it was not sent; the password never appears in an
error or a log line.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import shlex
import smtplib
import socket
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from email.utils import getaddresses, make_msgid
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from memory.secrets import SecretLookup, account_secret, environment_secrets, warn_unreadable
from tools.config_checks import check_ca_file, positive_seconds

logger = logging.getLogger(__name__)

SCHEMES = ("smtp", "smtps")
DEFAULT_PORTS = {"smtp": 587, "smtps": 465}
"""`smtp://` defaults to the submission port (RFC 6409), where mail clients hand over mail and
which providers keep open; port 25 is for server-to-server relay and is often blocked."""
DEFAULT_TIMEOUT = 30.0
URL_FORM = "smtp[s]://[user[:password]@]host[:port]"
_HOST = re.compile(r"[A-Za-z0-9._~%:-]+")
PASSWORD_CREDENTIAL = "smtp.password"
"""The credential of the SMTP password for any login; `smtp.password:USER@HOST` is one
account's own (USER as in `SMTP_URL`, decoded; HOST without the port)."""


class SmtpConfigError(ValueError):
    """`SMTP_URL` (or `SMTP_CA_FILE`, `SMTP_TIMEOUT`) is unusable; the message says why."""


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
class SmtpSettings:
    """Where and how to send mail: server, login and TLS trust."""

    scheme: str
    """`smtp` (STARTTLS when offered) or `smtps` (TLS from the first byte)."""
    host: str
    port: int
    username: str = ""
    """Login name; empty means no AUTH."""
    password: str = field(default="", repr=False)
    ca_file: str | None = None
    """A PEM bundle of extra CAs to trust, on top of the system ones (e.g. a private CA)."""
    timeout: float = DEFAULT_TIMEOUT
    """Seconds any one network operation may take."""
    password_problem: str = ""
    """Why the login (`username`) has no password: none is stored or set, or the vault cannot
    be read. Sending fails with it before connecting; the rest of the product works. Never
    holds a secret."""

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise SmtpConfigError(f"unsupported SMTP scheme '{self.scheme}': use {URL_FORM}")
        if not self.host:
            raise SmtpConfigError(f"the SMTP server has no host: use {URL_FORM}")
        if not 1 <= self.port <= 65535:
            raise SmtpConfigError(f"SMTP port {self.port} is out of range (1-65535)")
        if not self.timeout > 0:
            raise SmtpConfigError(f"SMTP timeout must be a positive number, not {self.timeout}")

    @classmethod
    def from_url(
        cls, url: str, *, ca_file: str | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> SmtpSettings:
        """Parse `smtp://[user[:password]@]host[:port]` or `smtps://...`.

        The port defaults to 587 (submission, with STARTTLS) for `smtp://` and to 465 for
        `smtps://`. User and password are percent-decoded, so `@`, `:` and `/` in them are
        written `%40`, `%3A` and `%2F`.

        Raises:
            SmtpConfigError: the URL is malformed or `ca_file` is missing or not PEM. The
                message never quotes the parts of the URL that could hold the password.

        """
        url = url.strip()
        scheme, sep, rest = url.partition("://")
        scheme = scheme.lower()
        if not sep or scheme not in SCHEMES:
            shown = f" '{scheme}'" if sep and scheme.isalnum() and len(scheme) <= 10 else ""
            raise SmtpConfigError(f"SMTP_URL has an unsupported scheme{shown}: use {URL_FORM}")
        # Only the authority is allowed; anything after it is a typo (or an unescaped "/" in
        # the password) that would otherwise be silently ignored.
        authority, _, tail = rest.partition("/")
        if tail or "?" in authority or "#" in authority:
            raise SmtpConfigError(
                f"SMTP_URL has a path or query after the host (a '/' in the password must be "
                f"written %2F): use {URL_FORM}"
            )
        userinfo, at, hostport = authority.rpartition("@")
        username, _, password = userinfo.partition(":") if at else ("", "", "")
        try:
            parts = urlsplit(f"//{hostport}")
            host = parts.hostname or ""
            port = parts.port
        except ValueError:
            raise SmtpConfigError(
                f"SMTP_URL has a bad host or port (the port must be a number from 1 to 65535): "
                f"use {URL_FORM}"
            ) from None
        if not host:
            raise SmtpConfigError(f"SMTP_URL has no host: use {URL_FORM}")
        if not _HOST.fullmatch(host):
            # Safe to quote: the host comes after the last "@", so it cannot hold the password.
            raise SmtpConfigError(f"SMTP_URL has a bad host '{host}': use {URL_FORM}")
        if port == 0:
            raise SmtpConfigError("SMTP_URL has a bad port: it must be a number from 1 to 65535")
        if password and not username:
            raise SmtpConfigError("SMTP_URL has a password but no user name")
        if ca_file is not None:
            try:
                check_ca_file("SMTP_CA_FILE", ca_file)
            except ValueError as err:
                raise SmtpConfigError(str(err)) from err
        return cls(
            scheme=scheme,
            host=host,
            port=port or DEFAULT_PORTS[scheme],
            username=unquote(username),
            password=unquote(password),
            ca_file=ca_file,
            timeout=timeout,
        )

    @property
    def server(self) -> str:
        """`host:port`, with an IPv6 host in brackets: how errors and logs name the server."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def safe_url(self) -> str:
        """The URL with the user name but without the password, for messages and logs."""
        user = f"{quote(self.username, safe='')}@" if self.username else ""
        return f"{self.scheme}://{user}{self.server}"


def smtp_settings_from_env(
    environ: Mapping[str, str] | None = None, secrets: SecretLookup | None = None
) -> SmtpSettings | None:
    """Read `SMTP_URL`, `SMTP_CA_FILE` and `SMTP_TIMEOUT`; None when `SMTP_URL` is unset or empty.

    A login without a password in the URL gets it from `secrets` (see `with_password`); without
    `secrets`, from `SMTP_PASSWORD` in `environ`. Blocking when `secrets` reads the vault.

    Raises:
        SmtpConfigError: one of them is set but unusable (the CA file is missing, say).

    """
    env = os.environ if environ is None else environ
    url = env.get("SMTP_URL", "").strip()
    if not url:
        return None
    ca_file = env.get("SMTP_CA_FILE", "").strip() or None
    try:
        timeout = positive_seconds(env, "SMTP_TIMEOUT", DEFAULT_TIMEOUT)
    except ValueError as err:
        raise SmtpConfigError(str(err)) from None
    settings = SmtpSettings.from_url(url, ca_file=ca_file, timeout=timeout)
    return with_password(settings, environment_secrets(env) if secrets is None else secrets)


def with_password(settings: SmtpSettings, secrets: SecretLookup) -> SmtpSettings:
    """`settings` with the login's password looked up, when `SMTP_URL` names a user but no password.

    The password in `SMTP_URL` wins (as it always did); else the credential
    `smtp.password:USER@HOST`, else `smtp.password` (which the lookup falls back to
    `SMTP_PASSWORD` for). With none, or a vault that cannot be read, the settings carry
    `password_problem` instead of raising: only sending needs the password, and it fails with
    that one line.
    """
    if not settings.username or settings.password:
        return settings
    from memory.keys import KeySourceError
    from memory.vault import VaultError

    try:
        password, credential = account_secret(
            secrets, PASSWORD_CREDENTIAL, f"{settings.username}@{settings.host}"
        )
    except (VaultError, KeySourceError) as err:
        problem = f"the SMTP password cannot be read: {err}"
        warn_unreadable(logger, problem)
        return replace(settings, password_problem=problem)
    if password:
        return replace(settings, password=password)
    return replace(
        settings,
        password_problem=(
            f"no password for user '{settings.username}': store it with "
            f"`smart-inbox credentials set {shlex.quote(credential)}` (or set SMTP_PASSWORD)"
        ),
    )


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


def send_message(
    settings: SmtpSettings,
    message: EmailMessage,
    *,
    recipients: Sequence[str] | None = None,
) -> SendReceipt:
    """Deliver `message` to the SMTP server; blocking, so async callers use `asyncio.to_thread`.

    Envelope recipients default to To, Cc and Bcc; the Bcc header itself is never transmitted.
    A message without a Message-ID gets one in place, so a copy kept afterwards matches what
    was sent. With `smtp://` the connection is upgraded with STARTTLS whenever the server
    offers it, and a password is only sent over TLS (or to a server on this machine).

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
        refused = _deliver(settings, message, envelope_from, envelope_to)
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


def _deliver(
    settings: SmtpSettings, message: EmailMessage, envelope_from: str, envelope_to: list[str]
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
        client = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=context
        )
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
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
        try:
            client.quit()
        except (OSError, smtplib.SMTPException) as exc:
            # The server has taken the message; a failed goodbye does not undo that.
            logger.debug("QUIT to %s failed after delivery: %s", settings.server, exc)
        return refused
    finally:
        client.close()


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
    if isinstance(exc, TimeoutError):
        return f"timed out after {settings.timeout:g}s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return f"host '{settings.host}' not found ({exc.strerror or exc})"
    if isinstance(exc, OSError):
        return f"network error: {exc.strerror or exc}"
    return f"the message could not be sent: {exc}"


def _scrub(text: str, password: str) -> str:
    """Remove the password from server-supplied text, should a server ever echo it."""
    return text.replace(password, "***") if password else text
