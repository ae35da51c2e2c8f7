"""A real SMTP server on a local port that keeps every message it receives.

Sending is tested against it over real sockets, so smtplib's dialogue, STARTTLS, implicit TLS
and AUTH are exercised end to end; it can also refuse chosen recipients, and run a hook at each
stage of the exchange (to kill or stall the sender there).
"""

from __future__ import annotations

import datetime
import email
import email.policy
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HOST = "127.0.0.1"

SmtpCommand = Literal["MAIL", "RCPT", "DATA", "QUIT"]
"""Where `SmtpSink.on_command` runs: MAIL and RCPT before the server answers them (it has no
message yet), DATA once the whole message arrived and before the 250, QUIT when the client,
having read the 250, says goodbye."""


@dataclass(frozen=True)
class ReceivedMessage:
    """One message as the server took it."""

    mail_from: str
    rcpt_tos: list[str]
    """Envelope recipients the server accepted."""
    raw: bytes
    """The DATA exactly as transmitted (CRLF line ends)."""
    message: EmailMessage
    """`raw` parsed, with line ends normalised to LF."""
    tls_version: str | None
    """The TLS version of the session (e.g. "TLSv1.3"), None when it was plain text."""
    authenticated_as: str | None
    """The login the client authenticated with, None without AUTH."""


def free_port(host: str = HOST) -> int:
    """A TCP port nothing listens on right now (aiosmtpd cannot bind port 0 and report it)."""
    return free_ports(1, host)[0]


def free_ports(count: int, host: str = HOST) -> list[int]:
    """`count` different TCP ports nothing listens on right now.

    The probes stay bound until all are taken: asked one after the other, the system may hand
    out the same free port twice (a server given it for two listeners refuses to start).
    """
    probes = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for probe in probes:
            probe.bind((host, 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        self.sink._command("MAIL")
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.sink._command("QUIT")
        return "221 Bye"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        self.sink._command("RCPT")
        if address.lower() in self.sink.refuse_recipients:
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        transport = server.transport
        ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
        login_data = session.auth_data if session.authenticated else None
        login = login_data.login.decode() if isinstance(login_data, LoginPassword) else None
        record = ReceivedMessage(
            mail_from=envelope.mail_from or "",
            rcpt_tos=list(envelope.rcpt_tos),
            raw=raw,
            message=cast(
                EmailMessage,
                email.message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=email.policy.default),
            ),
            tls_version=ssl_object.version() if ssl_object is not None else None,
            authenticated_as=login,
        )
        self.sink._receive(record)
        return "250 2.0.0 Message accepted"


class SmtpSink:
    """An SMTP server on a free local port that records messages: `with SmtpSink() as sink:`.

    `auth` (login → password) offers AUTH, also without TLS; with STARTTLS it is required and
    only accepted once the session is encrypted.
    `tls_context` offers STARTTLS, or with `implicit_tls` speaks TLS from the first byte (smtps).
    `on_data` runs when a message arrives, before the client hears that it was accepted.
    `on_command` runs at each `SmtpCommand` (after `on_data` for DATA); both run on the
    server's event loop, so a hook that blocks stalls every session.
    """

    def __init__(
        self,
        *,
        auth: dict[str, str] | None = None,
        tls_context: ssl.SSLContext | None = None,
        implicit_tls: bool = False,
        refuse_recipients: Iterable[str] = (),
        on_data: Callable[[ReceivedMessage], None] | None = None,
        on_command: Callable[[SmtpCommand], None] | None = None,
        host: str = HOST,
    ) -> None:
        if implicit_tls and tls_context is None:
            raise ValueError("implicit_tls needs a tls_context")
        self.host = host
        self.port = free_port(host)
        self.auth = dict(auth) if auth else None
        self.implicit_tls = implicit_tls
        self.refuse_recipients = {a.lower() for a in refuse_recipients}
        self.on_data = on_data
        self.on_command = on_command
        self._messages: list[ReceivedMessage] = []
        self._arrived = threading.Condition()
        smtp_options: dict[str, Any] = {}
        if self.auth is not None:
            starttls = tls_context is not None and not implicit_tls
            # aiosmtpd only enforces "AUTH over TLS" for STARTTLS; elsewhere requiring AUTH
            # makes it warn on every connection, so there AUTH is offered but optional and
            # tests check `authenticated_as` instead.
            smtp_options.update(
                authenticator=self._authenticate,
                auth_required=starttls,
                auth_require_tls=starttls,
            )
        if tls_context is not None and not implicit_tls:
            smtp_options["tls_context"] = tls_context
        self._controller = Controller(
            _Handler(self),
            hostname=host,
            port=self.port,
            ssl_context=tls_context if implicit_tls else None,
            **smtp_options,
        )

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert self.auth is not None
        ok = (
            isinstance(data, LoginPassword)
            and self.auth.get(data.login.decode()) == data.password.decode()
        )
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)

    def _receive(self, record: ReceivedMessage) -> None:
        with self._arrived:
            self._messages.append(record)
            self._arrived.notify_all()
        if self.on_data is not None:
            self.on_data(record)
        self._command("DATA")

    def _command(self, command: SmtpCommand) -> None:
        if self.on_command is not None:
            self.on_command(command)

    @property
    def url(self) -> str:
        """The `SMTP_URL` of this server, without credentials."""
        scheme = "smtps" if self.implicit_tls else "smtp"
        return f"{scheme}://{self.host}:{self.port}"

    @property
    def messages(self) -> list[ReceivedMessage]:
        """Every message received so far, oldest first."""
        with self._arrived:
            return list(self._messages)

    def deliveries(self, message_id: str) -> int:
        """How many times a message with this Message-ID (with or without <>) was received."""
        bare = message_id.strip().strip("<>")
        return sum(
            1
            for m in self.messages
            if str(m.message["Message-ID"] or "").strip().strip("<>") == bare
        )

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedMessage]:
        """Wait until at least `count` messages have arrived and return them all.

        Raises:
            TimeoutError: fewer had arrived after `timeout` seconds.

        """
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self._messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"{len(self._messages)} of {count} messages arrived in {timeout}s"
                    )
                self._arrived.wait(left)
            return list(self._messages)

    def start(self) -> SmtpSink:
        """Start listening; returns self."""
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening and close the server's event loop."""
        self._controller.stop()

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@dataclass(frozen=True)
class SelfSignedCert:
    """A self-signed certificate and its key, as PEM files."""

    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        """A server-side TLS context presenting this certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def write_self_signed_cert(
    directory: Path, names: Sequence[str] = ("127.0.0.1", "localhost"), *, stem: str = "smtp"
) -> SelfSignedCert:
    """Write a self-signed certificate for `names` (IP addresses become IP SANs) and its key.

    The files are `<stem>-cert.pem` and `<stem>-key.pem` in `directory`.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    alt_names: list[x509.GeneralName] = []
    for name in names:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt_names.append(x509.DNSName(name))
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(alt_names),
            critical=False,
        )
        # A CA flag, key usages and key identifiers let it be its own trust anchor, also under
        # OpenSSL's strict X.509 checks.
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_file = directory / f"{stem}-cert.pem"
    key_file = directory / f"{stem}-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return SelfSignedCert(cert_file=cert_file, key_file=key_file)
