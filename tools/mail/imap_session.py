"""A logged-in IMAP session on one folder: TLS as the spec says, the password from the vault.

Every failure on the way (TLS, DNS, login, a dropped connection) becomes one
`MailSourceError` saying why in a few words; a dropped connection is reopened a bounded
number of times while a folder is read.
"""

from __future__ import annotations

import imaplib
import logging
import os
import re
import socket
import ssl
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from memory.secrets import SecretLookup
from tools.config_checks import check_ca_file, positive_seconds
from tools.mail.imap_spec import PASSWORD_CREDENTIAL, ImapSpec
from tools.mail.imap_wire import (
    LIST_LINE,
    ConnectionDropped,
    FolderStatus,
    PlainImap,
    TlsImap,
    decode_mailbox,
    encode_mailbox,
    fetch_literals,
    first_number,
    log_out,
    peer_is_loopback,
    quoted,
    reply_text,
    shut_down,
    uid_set,
)
from tools.mail.source_protocol import MailSourceError, environment_secrets
from tools.oauth.tokens import TokenError
from tools.oauth.xoauth2 import TokensFor, imap_xoauth2, mail_server_tokens

logger = logging.getLogger(__name__)


DEFAULT_TIMEOUT = 30.0


MAX_RECONNECTS = 10
"""Times one fetch reopens a connection the server dropped (on a message it cannot serve)."""


def _refresh_capabilities(conn: imaplib.IMAP4) -> None:
    typ, data = conn.capability()
    if typ == "OK" and data and isinstance(data[-1], bytes):
        # imaplib keeps the capabilities of the greeting; they often grow after login.
        conn.capabilities = tuple(data[-1].decode("ascii", "replace").upper().split())


class ImapConnection:
    """How to reach one folder of an IMAP account; connects only when used."""

    def __init__(
        self,
        imap: ImapSpec,
        *,
        secrets: SecretLookup = environment_secrets,
        ca_file: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        tokens_for: TokensFor | None = None,
    ) -> None:
        self.imap = imap
        self._secrets = secrets
        self._tokens_for = tokens_for or mail_server_tokens
        self.ca_file = ca_file
        """A PEM bundle of extra CAs to trust, on top of the system ones (e.g. a private CA)."""
        self.timeout = timeout
        """Seconds any one network operation may take."""

    @classmethod
    def from_environment(
        cls,
        imap: ImapSpec,
        *,
        secrets: SecretLookup = environment_secrets,
        environ: Mapping[str, str] | None = None,
    ) -> Self:
        """The source with `IMAP_CA_FILE` and `IMAP_TIMEOUT` from the environment.

        Raises:
            MailSourceError: the CA file is missing or holds no certificate, or the timeout
                is not a positive number.

        """
        env = os.environ if environ is None else environ
        ca_file = env.get("IMAP_CA_FILE", "").strip() or None
        if ca_file is not None:
            try:
                check_ca_file("IMAP_CA_FILE", ca_file)
            except ValueError as exc:
                raise MailSourceError(str(exc)) from exc
        try:
            timeout = positive_seconds(env, "IMAP_TIMEOUT", DEFAULT_TIMEOUT)
        except ValueError as exc:
            raise MailSourceError(str(exc)) from None
        return cls(imap, secrets=secrets, ca_file=ca_file, timeout=timeout)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec!r})"

    @property
    def spec(self) -> str:
        """The canonical `imap://` spec: the key of this folder's mail cache and cursor."""
        return self.imap.spec

    # ------------------------------------------------------------------ connecting

    def _error(self, reason: str) -> MailSourceError:
        return MailSourceError(f"inbox {self.spec}: {reason}")

    def _reason(self, exc: BaseException) -> str:
        """Say in a few words why talking to the server failed; subclasses come first."""
        if isinstance(exc, ssl.SSLCertVerificationError):
            return (
                f"TLS certificate verification failed ({exc.verify_message or exc.reason}); "
                "if the server uses a private CA, set IMAP_CA_FILE to its PEM bundle"
            )
        if isinstance(exc, ssl.SSLError):
            hint = (
                " (is this port really TLS from the first byte? use ?tls=starttls for port 143)"
                if self.imap.tls == "implicit" and exc.reason == "WRONG_VERSION_NUMBER"
                else ""
            )
            return f"TLS failure: {exc.reason or exc}{hint}"
        if isinstance(exc, TimeoutError):
            return f"timed out after {self.timeout:g}s waiting for the server"
        if isinstance(exc, ConnectionRefusedError):
            return f"connection refused by {self.imap.server} (is the IMAP server running?)"
        if isinstance(exc, socket.gaierror):
            return f"host '{self.imap.host}' not found ({exc.strerror or exc})"
        if isinstance(exc, imaplib.IMAP4.abort | ConnectionDropped):
            return f"the server closed the connection: {reply_text(str(exc))}"
        if isinstance(exc, imaplib.IMAP4.error):
            return f"IMAP error: {reply_text(str(exc))}"
        if isinstance(exc, OSError):
            return f"network error: {exc.strerror or exc}"
        return f"unexpected failure: {exc}"

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.ca_file:
            context.load_verify_locations(cafile=str(Path(self.ca_file).expanduser()))
        return context

    def _connect(self) -> imaplib.IMAP4:
        """A connection, encrypted as the spec says, not logged in yet."""
        try:
            context = self._tls_context()
        except (OSError, ssl.SSLError) as exc:
            # Checked when the source was opened; the file may have changed since.
            raise self._error(f"IMAP_CA_FILE '{self.ca_file}' cannot be loaded: {exc}") from exc
        host, port = self.imap.host, self.imap.port
        logger.debug("connecting to %s (tls=%s)", self.imap.server, self.imap.tls)
        try:
            if self.imap.tls == "implicit":
                return TlsImap(host, port, ssl_context=context, timeout=self.timeout)
            conn = PlainImap(host, port, timeout=self.timeout)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise self._error(self._reason(exc)) from exc
        try:
            if self.imap.tls == "starttls":
                if "STARTTLS" not in conn.capabilities:
                    raise self._error(
                        "the server does not offer STARTTLS, so the password would travel "
                        "unencrypted (use the TLS port, 993, without ?tls=)"
                    )
                conn.starttls(context)
            elif not peer_is_loopback(conn):
                raise self._error("tls=none is allowed only to a server on this machine")
        except MailSourceError:
            shut_down(conn)
            raise
        except (OSError, imaplib.IMAP4.error) as exc:
            shut_down(conn)
            raise self._error(self._reason(exc)) from exc
        return conn

    def _login(self, conn: imaplib.IMAP4) -> None:
        """Log in with the password (AUTHENTICATE PLAIN if offered, else LOGIN), or XOAUTH2."""
        from memory.credential_cipher import VaultError
        from memory.keys import KeySourceError
        from memory.secrets import account_secret

        user = self.imap.user
        if self.imap.account:
            try:
                imap_xoauth2(conn, user, self._tokens_for(self.imap.account))
            except TokenError as err:
                raise self._error(str(err)) from None
            return _refresh_capabilities(conn)
        try:
            password, account = account_secret(
                self._secrets, PASSWORD_CREDENTIAL, f"{user}@{self.imap.host}"
            )
        except (VaultError, KeySourceError) as err:
            raise self._error(f"the IMAP password cannot be read: {err}") from None
        if not password:
            raise self._error(
                f"no IMAP password: store the credential '{account}' "
                f"(smart-inbox credentials set '{account}') or set IMAP_PASSWORD"
            )
        try:
            if "AUTH=PLAIN" in conn.capabilities:
                # PLAIN carries UTF-8, which LOGIN in imaplib cannot.
                conn.authenticate("PLAIN", lambda _challenge: f"\0{user}\0{password}".encode())
            elif "LOGINDISABLED" in conn.capabilities:
                raise self._error("the server refuses to log in on this connection (LOGINDISABLED)")
            else:
                conn.login(user, password)
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error as exc:
            reason = reply_text(str(exc)).replace(password, "***")
            raise self._error(f"login failed for user '{user}': {reason}") from None
        except UnicodeEncodeError:
            raise self._error(
                "the user name or password is not ASCII and the server offers no "
                "AUTHENTICATE PLAIN to carry it"
            ) from None
        _refresh_capabilities(conn)

    @contextmanager
    def _session(self) -> Iterator[imaplib.IMAP4]:
        """A logged-in connection; any failure on it becomes one `MailSourceError`."""
        conn = self._connect()
        try:
            self._login(conn)
            yield conn
        except MailSourceError:
            shut_down(conn)
            raise
        except (OSError, imaplib.IMAP4.error) as exc:
            shut_down(conn)
            raise self._error(self._reason(exc)) from exc
        except BaseException:
            shut_down(conn)
            raise
        else:
            log_out(conn)

    def probe(self) -> FolderStatus:
        """Log in and examine the folder read-only, then log out: the health check. Blocking."""
        with self._session() as conn:
            return self._examine(conn)

    def _examine(self, conn: imaplib.IMAP4) -> FolderStatus:
        """Open the folder read-only: nothing done on it can change a flag."""
        folder = self.imap.folder
        typ, data = conn.select(quoted(encode_mailbox(folder)), readonly=True)
        if typ != "OK":
            raise self._error(
                f"folder '{folder}' cannot be opened: {reply_text(data)}{self._folders_hint(conn)}"
            )
        uidvalidity = first_number(conn.response("UIDVALIDITY")[1])
        if uidvalidity is None:
            raise self._error(f"the server sent no UIDVALIDITY for folder '{folder}'")
        exists = first_number(data) or 0
        return FolderStatus(
            uidvalidity=uidvalidity,
            uidnext=first_number(conn.response("UIDNEXT")[1]),
            exists=exists,
        )

    def _folders_hint(self, conn: imaplib.IMAP4) -> str:
        try:
            names = [decode_mailbox(name) for _, name in self._list(conn)]
        except (OSError, imaplib.IMAP4.error):
            return ""
        if not names:
            return ""
        shown = ", ".join(sorted(names)[:20]) + (", …" if len(names) > 20 else "")
        return f" (folders on the server: {shown})"

    def _list(
        self, conn: imaplib.IMAP4, *, special_use: bool = False
    ) -> list[tuple[set[str], str]]:
        """(lower-cased flags, encoded name) of every selectable folder."""
        pattern = '"*" RETURN (SPECIAL-USE)' if special_use else '"*"'
        typ, data = conn.list('""', pattern)
        if typ != "OK":
            return []
        folders: list[tuple[set[str], str]] = []
        for item in data:
            if isinstance(item, tuple):  # the name came as a literal
                match = LIST_LINE.match(item[0].rstrip())
                raw_name = item[1]
            elif isinstance(item, bytes):
                match = LIST_LINE.match(item)
                raw_name = match.group("name") if match else b""
            else:
                continue
            if match is None:
                continue
            flags = {f.lower() for f in match.group("flags").decode("ascii", "replace").split()}
            if flags & {"\\noselect", "\\nonexistent"}:
                continue
            name = raw_name.decode("utf-8", "replace").strip()
            if name.startswith('"') and name.endswith('"') and len(name) >= 2:
                name = re.sub(r"\\(.)", r"\1", name[1:-1])
            folders.append((flags, name))
        return folders

    # ------------------------------------------------------------------ reading


class FolderReader:
    """The examined folder over a connection that is reopened when the server drops it."""

    def __init__(self, source: ImapConnection) -> None:
        self.source = source
        self.conn: imaplib.IMAP4 | None = None
        self.status = FolderStatus(uidvalidity=0, uidnext=None, exists=0)
        self.reconnects = 0

    def open(self) -> None:
        """Connect, log in and examine the folder; a reopened one must keep its UIDVALIDITY."""
        conn = self.source._connect()
        try:
            self.source._login(conn)
            status = self.source._examine(conn)
        except MailSourceError:
            shut_down(conn)
            raise
        except (OSError, imaplib.IMAP4.error) as exc:
            shut_down(conn)
            raise self.source._error(self.source._reason(exc)) from exc
        if self.conn is not None and status.uidvalidity != self.status.uidvalidity:
            shut_down(conn)
            raise self.source._error(
                "UIDVALIDITY changed while reading the folder; the next fetch lists it again"
            )
        if self.conn is None:
            self.status = status
        self.conn = conn

    def reopen(self, cause: BaseException) -> None:
        """Connect again after the server dropped the connection (at most `MAX_RECONNECTS`)."""
        self.drop()
        if self.reconnects >= MAX_RECONNECTS:
            raise self.source._error(
                f"the server closed the connection {self.reconnects + 1} times ({cause})"
            )
        self.reconnects += 1
        logger.warning(
            "%s: the server dropped the connection (%s); reconnecting", self.source.spec, cause
        )
        self.open()

    def drop(self) -> None:
        """Drop the connection of a read that failed, without waiting for the server."""
        if self.conn is not None:
            shut_down(self.conn)

    def close(self) -> None:
        """Log out of a read that ended well."""
        if self.conn is not None:
            log_out(self.conn)

    def _command(self, *args: str) -> tuple[str, list[Any]]:
        assert self.conn is not None, "the folder is not open"
        try:
            return self.conn.uid(*args)
        except (imaplib.IMAP4.abort, ConnectionResetError, BrokenPipeError) as exc:
            # imaplib words it "command: UID => <what the server said>".
            raise ConnectionDropped(re.sub(r"^command: \w+ => ", "", reply_text(str(exc)))) from exc

    def search(self, *criteria: str) -> list[int]:
        """UIDs matching `criteria`, ascending."""
        typ, data = self._command("SEARCH", *criteria)
        if typ != "OK":
            raise self.source._error(f"SEARCH failed: {reply_text(data)}")
        return sorted(
            {
                int(token)
                for line in data
                if isinstance(line, bytes)
                for token in line.split()
                if token.isdigit()
            }
        )

    def fetch(self, uids: Sequence[int], item: str) -> tuple[dict[int, bytes], str | None]:
        """`item` of each UID, and the server's refusal when it answered NO."""
        typ, data = self._command("FETCH", uid_set(uids), f"(UID {item})")
        literals = fetch_literals(data)
        return literals, None if typ == "OK" else (reply_text(data) or typ)
