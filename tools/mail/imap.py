"""Mail from an IMAP folder (`--inbox imap://user@host[:port]/FOLDER`), read without changing it.

Fetching opens the folder read-only (EXAMINE) and reads bodies with `BODY.PEEK[]`, so no flag
ever changes; the cursor (UIDVALIDITY and the highest UID read) means only new mail is read.
The server is written to only by approved actions: a draft APPENDed to Drafts, a copy of sent
mail to Sent. `imaplib` blocks, so the graph calls this module through `asyncio.to_thread`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import imaplib
import ipaddress
import logging
import os
import re
import socket
import ssl
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast
from urllib.parse import parse_qs, quote, unquote, urlsplit

from memory.secrets import SecretLookup
from tools.config_checks import check_ca_file, is_loopback_host, positive_seconds
from tools.mail.mime import message_id_of, parse_email
from tools.mail.model import Email
from tools.mail.source_protocol import MailSourceError, SyncResult, environment_secrets

if TYPE_CHECKING:
    from memory.db import AppDatabase

logger = logging.getLogger(__name__)

SPEC_FORM = "imap://user@host[:port][/FOLDER][?tls=starttls|none]"
TLS_MODES = ("implicit", "starttls", "none")
"""`implicit`: TLS from the first byte (the default); `starttls`: a plain connection upgraded
before login; `none`: no TLS at all, allowed only to this machine."""
DEFAULT_PORTS = {"implicit": 993, "starttls": 143, "none": 143}
PASSWORD_CREDENTIAL = "imap.password"
"""The credential the password is looked up under; from the environment that is `IMAP_PASSWORD`."""
DEFAULT_TIMEOUT = 30.0
FETCH_BATCH = 50
"""Messages read per FETCH: few round trips, a bounded response, and progress saved after each."""
HEADER_BATCH = 500
"""Messages whose Message-ID is asked for per FETCH when a folder is listed again."""
MAX_RECONNECTS = 10
"""Times one fetch reopens a connection the server dropped (on a message it cannot serve)."""
_MAX_LINE = 50_000_000
"""Longest response line accepted; the standard library's 1 MB cuts off a big folder's SEARCH."""
_HOST = re.compile(r"[A-Za-z0-9._~%:-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_UID = re.compile(rb"\bUID (\d+)")
_APPENDUID = re.compile(rb"APPENDUID (\d+) (\d+)", re.IGNORECASE)
_CURSOR = re.compile(r"uidvalidity=(\d+) uid=(\d+)")
_LIST = re.compile(rb'^\((?P<flags>[^)]*)\) (?P<sep>"(?:[^"\\]|\\.)*"|NIL) (?P<name>.*)$', re.S)


# --------------------------------------------------------------------------- the spec


@dataclass(frozen=True)
class ImapSpec:
    """Which folder of which account an `imap://` inbox reads, and how it connects."""

    user: str
    host: str
    port: int
    folder: str = "INBOX"
    """The folder as the user wrote it (the server's own hierarchy separator, not encoded)."""
    tls: str = "implicit"
    """One of `TLS_MODES`."""

    @property
    def server(self) -> str:
        """`host:port`, with an IPv6 host in brackets: how errors and logs name the server."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def spec(self) -> str:
        """The one spelling of this inbox: the key of its mail cache and cursor."""
        query = "" if self.tls == "implicit" else f"?tls={self.tls}"
        user = quote(self.user, safe="")
        return f"imap://{user}@{self.server}/{quote(self.folder, safe='/')}{query}"


def parse_imap_spec(spec: str) -> ImapSpec:
    """Read `imap://user@host[:port][/FOLDER][?tls=starttls|none]`.

    TLS from the first byte on port 993 unless `tls=` says otherwise: `starttls` (port 143,
    upgraded before login) or `none` (port 143, only to 127.0.0.1, ::1 or localhost). The folder
    defaults to INBOX. User and folder are percent-decoded (`%40` for an `@` in the user name,
    `%20` for a space). The password never goes in the spec: it is looked up when logging in.

    Raises:
        MailSourceError: the spec is malformed; the message quotes it only when it cannot
            hold a password.

    """
    text = spec.strip()
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() != "imap":
        raise MailSourceError(f"inbox spec '{text}' is not an IMAP spec: use {SPEC_FORM}")
    rest, _, query = rest.partition("?")
    authority, _, path = rest.partition("/")
    userinfo, at, hostport = authority.rpartition("@")
    if ":" in userinfo:
        raise MailSourceError(
            "the IMAP inbox spec must not hold a password ('user:password@'): set IMAP_PASSWORD "
            f"(or store the credential '{PASSWORD_CREDENTIAL}') and use {SPEC_FORM}"
        )
    if "#" in text:
        raise MailSourceError(f"inbox spec '{text}' has a '#' (write it %23): use {SPEC_FORM}")
    user = unquote(userinfo)
    if not at or not user.strip():
        raise MailSourceError(f"inbox spec '{text}' has no user name: use {SPEC_FORM}")
    if _CONTROL.search(user):
        raise MailSourceError(f"inbox spec '{text}': the user name holds control characters")
    try:
        parts = urlsplit(f"//{hostport}")
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        raise MailSourceError(
            f"inbox spec '{text}' has a bad host or port (a number from 1 to 65535)"
        ) from None
    if not host or not _HOST.fullmatch(host):
        raise MailSourceError(f"inbox spec '{text}' has no usable host: use {SPEC_FORM}")
    if port == 0:
        raise MailSourceError(f"inbox spec '{text}' has a bad port: use a number from 1 to 65535")
    options = parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(options) - {"tls"})
    if unknown:
        # Names only: a value might be something secret put in the wrong place.
        raise MailSourceError(
            f"IMAP inbox spec: unknown option(s) {', '.join(unknown)} (the only option is tls=)"
        )
    tls = (options.get("tls") or ["implicit"])[-1].strip().lower()
    if tls not in TLS_MODES:
        raise MailSourceError(
            f"inbox spec '{text}': tls={tls} is not one of {', '.join(TLS_MODES)}"
        )
    if tls == "none" and not is_loopback_host(host):
        raise MailSourceError(
            f"inbox spec '{text}': tls=none is allowed only to 127.0.0.1, ::1 or localhost; "
            "anywhere else the password would cross the network unencrypted (use tls=starttls)"
        )
    folder = unquote(path).strip("/") or "INBOX"
    if _CONTROL.search(folder):
        raise MailSourceError(f"inbox spec '{text}': the folder name holds control characters")
    if folder.upper() == "INBOX":
        folder = "INBOX"  # the one name IMAP makes case-insensitive
    return ImapSpec(user=user, host=host, port=port or DEFAULT_PORTS[tls], folder=folder, tls=tls)


# --------------------------------------------------------------------------- wire helpers


def encode_mailbox(name: str) -> str:
    """A folder name in IMAP's modified UTF-7 (RFC 3501 5.1.3): `Entwürfe` is `Entw&APw-rfe`."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            data = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def decode_mailbox(name: str) -> str:
    """A folder name from modified UTF-7 back to text; a name that is not valid stays as it is."""

    def decode(match: re.Match[str]) -> str:
        chunk = match.group(1)
        if not chunk:
            return "&"
        data = chunk.replace(",", "/")
        try:
            return base64.b64decode(data + "=" * (-len(data) % 4), validate=True).decode(
                "utf-16-be"
            )
        except (binascii.Error, UnicodeDecodeError):
            return match.group(0)

    return re.sub(r"&([A-Za-z0-9+,]*)-", decode, name)


def quoted(value: str) -> str:
    """An IMAP quoted string."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def uid_set(uids: Sequence[int]) -> str:
    """UIDs as an IMAP sequence set, runs compressed: `1:5,7,9:12`."""
    ordered = sorted(set(uids))
    runs: list[str] = []
    start = prev = ordered[0]
    for uid in ordered[1:]:
        if uid == prev + 1:
            prev = uid
            continue
        runs.append(f"{start}:{prev}" if prev != start else str(start))
        start = prev = uid
    runs.append(f"{start}:{prev}" if prev != start else str(start))
    return ",".join(runs)


def fetch_literals(data: Sequence[Any]) -> dict[int, bytes]:
    """The literal of each FETCH response in `imaplib`'s shape, by UID.

    A response is a `(b'1 (UID 7 BODY[] {54}', b'<literal>')` tuple followed by `b')'` (or by
    `b' UID 7)'` when the server names the UID after the literal). Untagged FETCH responses
    without a literal (a flag change another client made) are ignored.
    """
    found: dict[int, bytes] = {}
    for index, item in enumerate(data):
        if not isinstance(item, tuple) or len(item) < 2:
            continue
        match = _UID.search(item[0])
        if match is None and index + 1 < len(data) and isinstance(data[index + 1], bytes):
            match = _UID.search(data[index + 1])
        if match is not None:
            found[int(match.group(1))] = bytes(item[1])
    return found


def cursor_signature(uidvalidity: int, last_uid: int) -> str:
    """What the sync cursor of an IMAP folder stores: its UIDVALIDITY and the highest UID read."""
    return f"uidvalidity={uidvalidity} uid={last_uid}"


def parse_cursor(signature: str) -> tuple[int, int] | None:
    """(UIDVALIDITY, highest UID read) from a cursor signature; None when it is not one."""
    match = _CURSOR.fullmatch(signature.strip())
    return (int(match.group(1)), int(match.group(2))) if match else None


def _text(data: Any) -> str:
    """A server reply as one short line."""
    if isinstance(data, list | tuple):
        data = b" ".join(d if isinstance(d, bytes) else str(d).encode() for d in data if d)
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    text = " ".join(str(data).split())
    if text.startswith(("b'", 'b"')) and text.endswith(("'", '"')):
        text = text[2:-1]  # imaplib puts the server's bytes into some errors with their repr
    return text if len(text) <= 300 else text[:299] + "…"


def _read_line(conn: imaplib.IMAP4) -> bytes:
    line = cast(BinaryIO, conn.file).readline(_MAX_LINE + 1)
    if len(line) > _MAX_LINE:
        raise conn.error(f"the server sent a line longer than {_MAX_LINE} bytes")
    return line


class _Imap(imaplib.IMAP4):
    def readline(self) -> bytes:
        return _read_line(self)


class _ImapSsl(imaplib.IMAP4_SSL):
    def readline(self) -> bytes:
        return _read_line(self)


def _shutdown(conn: imaplib.IMAP4) -> None:
    """Drop a connection that failed, without waiting for the server."""
    try:
        conn.shutdown()
    except OSError as exc:
        logger.debug("closing a failed IMAP connection: %s", exc)


def _logout(conn: imaplib.IMAP4) -> None:
    try:
        conn.logout()  # never raises: imaplib shuts the socket down whatever the server says
    except (OSError, imaplib.IMAP4.error) as exc:
        logger.debug("IMAP LOGOUT failed: %s", exc)


class _Dropped(Exception):
    """The server closed the connection in the middle of a command."""


@dataclass(frozen=True)
class FolderStatus:
    """What EXAMINE says about the folder."""

    uidvalidity: int
    uidnext: int | None
    """The UID the next message will get; None when the server does not say."""
    exists: int


# --------------------------------------------------------------------------- the source


class ImapSource:
    """One folder of an IMAP account, read as a mail source; connects only when used."""

    def __init__(
        self,
        imap: ImapSpec,
        *,
        secrets: SecretLookup = environment_secrets,
        ca_file: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.imap = imap
        self._secrets = secrets
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
    ) -> ImapSource:
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
        return f"ImapSource({self.spec!r})"

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
        if isinstance(exc, imaplib.IMAP4.abort | _Dropped):
            return f"the server closed the connection: {_text(str(exc))}"
        if isinstance(exc, imaplib.IMAP4.error):
            return f"IMAP error: {_text(str(exc))}"
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
                return _ImapSsl(host, port, ssl_context=context, timeout=self.timeout)
            conn = _Imap(host, port, timeout=self.timeout)
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
            elif not _peer_is_loopback(conn):
                raise self._error("tls=none is allowed only to a server on this machine")
        except MailSourceError:
            _shutdown(conn)
            raise
        except (OSError, imaplib.IMAP4.error) as exc:
            _shutdown(conn)
            raise self._error(self._reason(exc)) from exc
        return conn

    def _login(self, conn: imaplib.IMAP4) -> None:
        """Log in with the looked-up password (AUTHENTICATE PLAIN when offered, else LOGIN)."""
        from memory.keys import KeySourceError
        from memory.secrets import account_secret
        from memory.vault import VaultError

        user = self.imap.user
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
            reason = _text(str(exc)).replace(password, "***")
            raise self._error(f"login failed for user '{user}': {reason}") from None
        except UnicodeEncodeError:
            raise self._error(
                "the user name or password is not ASCII and the server offers no "
                "AUTHENTICATE PLAIN to carry it"
            ) from None
        typ, data = conn.capability()
        if typ == "OK" and data and isinstance(data[-1], bytes):
            # imaplib keeps the capabilities of the greeting; they often grow after login.
            conn.capabilities = tuple(data[-1].decode("ascii", "replace").upper().split())

    @contextmanager
    def _session(self) -> Iterator[imaplib.IMAP4]:
        """A logged-in connection; any failure on it becomes one `MailSourceError`."""
        conn = self._connect()
        try:
            self._login(conn)
            yield conn
        except MailSourceError:
            _shutdown(conn)
            raise
        except (OSError, imaplib.IMAP4.error) as exc:
            _shutdown(conn)
            raise self._error(self._reason(exc)) from exc
        except BaseException:
            _shutdown(conn)
            raise
        else:
            _logout(conn)

    def _examine(self, conn: imaplib.IMAP4) -> FolderStatus:
        """Open the folder read-only: nothing done on it can change a flag."""
        folder = self.imap.folder
        typ, data = conn.select(quoted(encode_mailbox(folder)), readonly=True)
        if typ != "OK":
            raise self._error(
                f"folder '{folder}' cannot be opened: {_text(data)}{self._folders_hint(conn)}"
            )
        uidvalidity = _number(conn.response("UIDVALIDITY")[1])
        if uidvalidity is None:
            raise self._error(f"the server sent no UIDVALIDITY for folder '{folder}'")
        exists = _number(data) or 0
        return FolderStatus(
            uidvalidity=uidvalidity, uidnext=_number(conn.response("UIDNEXT")[1]), exists=exists
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
                match = _LIST.match(item[0].rstrip())
                raw_name = item[1]
            elif isinstance(item, bytes):
                match = _LIST.match(item)
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

    @contextmanager
    def _open_folder(self) -> Iterator[_FolderReader]:
        reader = _FolderReader(self)
        reader.open()
        try:
            yield reader
        except MailSourceError:
            reader.drop()
            raise
        except (OSError, imaplib.IMAP4.error, _Dropped) as exc:
            reader.drop()
            raise self._error(self._reason(exc)) from exc
        except BaseException:
            reader.drop()
            raise
        else:
            reader.close()

    def sync(self, db: AppDatabase) -> SyncResult:
        """Read the messages that arrived since the cursor into the cache (see the module doc).

        Unchanged UIDVALIDITY: only UIDs above the highest one read are fetched, and a folder
        whose UIDNEXT has not moved costs one EXAMINE. Changed UIDVALIDITY (the folder was
        recreated or rebuilt): every UID is new, so the folder is listed again, each message's
        Message-ID is asked for, and only those not already cached are read in full. A message
        already cached (same Message-ID, same bytes) is never stored twice; one that only shares
        a Message-ID is stored with an id of its own. Cached mail is never dropped.
        Progress is saved after every batch, so a connection lost midway loses nothing.

        Raises:
            MailSourceError: the server cannot be reached, the login or the folder fails.

        """
        cursor = db.get_cursor(self.spec)
        previous = parse_cursor(cursor.signature) if cursor is not None else None
        result = SyncResult(source=self.spec)
        with self._open_folder() as reader:
            status = reader.status
            same = previous is not None and previous[0] == status.uidvalidity
            if same and previous is not None:
                last = previous[1]
                if status.uidnext is not None and status.uidnext <= last + 1:
                    result.skipped = True
                    return result
                listed = [uid for uid in reader.search("UID", f"{last + 1}:*") if uid > last]
            else:
                if previous is not None:
                    logger.warning(
                        "%s: UIDVALIDITY changed from %d to %d; listing the folder again "
                        "(cached mail is kept, only mail not cached yet is read)",
                        self.spec,
                        previous[0],
                        status.uidvalidity,
                    )
                last = 0
                listed = reader.search("ALL")
            known = db.known_digests(self.spec)
            wanted = listed if same or not known else self._not_cached(reader, listed, set(known))
            for start in range(0, len(wanted), FETCH_BATCH):
                batch = wanted[start : start + FETCH_BATCH]
                emails, read = self._read_batch(reader, batch, status.uidvalidity, known)
                stored = db.add_emails(emails)
                db.set_cursor(
                    self.spec, cursor_signature(status.uidvalidity, batch[-1]), status.exists
                )
                result.new.extend(stored)
                result.read_count += read
            top = max([last, *listed, (status.uidnext or 1) - 1])
            db.set_cursor(self.spec, cursor_signature(status.uidvalidity, top), status.exists)
        logger.debug(
            "%s: %d listed, %d read, %d new",
            self.spec,
            len(listed),
            result.read_count,
            len(result.new),
        )
        return result

    def _not_cached(self, reader: _FolderReader, uids: list[int], known_ids: set[str]) -> list[int]:
        """The UIDs whose Message-ID is not cached yet (or that have none, or no answer)."""
        wanted: list[int] = []
        for start in range(0, len(uids), HEADER_BATCH):
            batch = uids[start : start + HEADER_BATCH]
            try:
                headers, _ = reader.fetch(batch, "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]")
            except _Dropped as exc:
                reader.reopen(exc)
                headers = {}  # read them in full instead: slower, never wrong
            for uid in batch:
                raw = headers.get(uid)
                message_id = message_id_of(raw) if raw is not None else ""
                if not message_id or message_id not in known_ids:
                    wanted.append(uid)
        logger.info(
            "%s: %d of %d listed message(s) are not cached yet", self.spec, len(wanted), len(uids)
        )
        return wanted

    def _read_batch(
        self, reader: _FolderReader, uids: list[int], uidvalidity: int, known: dict[str, set[str]]
    ) -> tuple[list[Email], int]:
        """Parse the messages of `uids` not cached yet; returns them and how many were read.

        `known` holds the digests of the cached messages by Message-ID. A message whose
        Message-ID and bytes are both cached is the same message read again (the folder was
        rebuilt) and is skipped; one that only shares the Message-ID is a message of its own
        (a forged copy, say) and is kept, to get an id of its own when it is stored.
        """
        bodies = self._bodies(reader, uids)
        emails: list[Email] = []
        read = 0
        for uid in uids:
            body = bodies.get(uid)
            key = f"{uidvalidity}:{uid}"
            if body is None:
                logger.info("%s: UID %d was expunged before it could be read", self.spec, uid)
                continue
            if isinstance(body, str):
                email = self._unreadable(key, body)
            else:
                read += 1
                email = parse_email(body, source=self.spec, folder=self.imap.folder, key=key)
            digests = known.setdefault(email.id, set())
            # '': cached before digests were kept, when a Message-ID alone told messages apart.
            if email.digest in digests or "" in digests:
                logger.debug("%s: UID %d is %s, cached already", self.spec, uid, email.id)
                continue
            digests.add(email.digest)
            emails.append(email)
        return emails, read

    def _bodies(self, reader: _FolderReader, uids: list[int]) -> dict[int, bytes | str]:
        """Raw messages by UID; a str says why the server would not give that one.

        A UID missing from the answer was expunged meanwhile. When the server refuses the
        batch or drops the connection over it, the messages are asked for one by one, so one
        message the server cannot serve does not hold back the rest.
        """
        try:
            found, refusal = reader.fetch(uids, "BODY.PEEK[]")
        except _Dropped as exc:
            reader.reopen(exc)
            if len(uids) == 1:
                return {uids[0]: f"the server dropped the connection instead of sending it ({exc})"}
            found, refusal = {}, str(exc)
        bodies: dict[int, bytes | str] = dict(found)
        if refusal is None:
            return bodies
        if len(uids) == 1:
            if uids[0] not in bodies:
                bodies[uids[0]] = f"the server could not send this message: {refusal}"
            return bodies
        for uid in uids:
            if uid not in bodies:
                bodies.update(self._bodies(reader, [uid]))
        return bodies

    def _unreadable(self, key: str, reason: str) -> Email:
        logger.warning("%s: message %s could not be read: %s", self.spec, key, reason)
        return Email(
            id="sha256:" + hashlib.sha256(f"{self.spec}\n{key}".encode()).hexdigest()[:32],
            source=self.spec,
            folder=self.imap.folder,
            key=key,
            error=reason,
        )

    # ------------------------------------------------------------------ writing

    def save_draft(self, raw: bytes) -> str:
        r"""APPEND `raw` to Drafts (SPECIAL-USE `\Drafts`, else "Drafts"), flagged `\Draft`."""
        return self._append(raw, "\\Drafts", "Drafts", "(\\Seen \\Draft)")

    def save_sent(self, raw: bytes) -> str:
        r"""APPEND a copy of sent mail to the Sent folder (SPECIAL-USE `\Sent`, else "Sent")."""
        return self._append(raw, "\\Sent", "Sent", "(\\Seen)")

    def _append(self, raw: bytes, use: str, fallback: str, flags: str) -> str:
        """Store `raw` in the folder marked `use`; returns `FOLDER;UIDVALIDITY=V/;UID=U`.

        The key follows the IMAP URL form (RFC 5092); it is just the folder when the server
        does not say which UID it gave the message (no UIDPLUS).
        """
        with self._session() as conn:
            folder = self._special_folder(conn, use, fallback)
            name = decode_mailbox(folder)
            typ, data = conn.append(quoted(folder), flags, None, raw)
            if typ == "NO" and "TRYCREATE" in _text(data).upper():
                created, reply = conn.create(quoted(folder))
                if created != "OK":
                    raise self._error(f"folder '{name}' cannot be created: {_text(reply)}")
                logger.info("%s: created folder %s", self.imap.server, name)
                typ, data = conn.append(quoted(folder), flags, None, raw)
            if typ != "OK":
                raise self._error(
                    f"the server did not store the message in '{name}': {_text(data)}"
                )
            match = _APPENDUID.search(b" ".join(d for d in data if isinstance(d, bytes)))
        logger.info("%s: message stored in %s", self.imap.server, name)
        if match is None:
            return name
        return f"{name};UIDVALIDITY={int(match.group(1))}/;UID={int(match.group(2))}"

    def find_sent(self, message_ids: Sequence[str]) -> dict[str, str]:
        r"""The messages in Sent carrying these Message-IDs: id (as given) → key, found only.

        One session: the Sent folder (as `save_sent` picks it) is examined read-only and
        asked `UID SEARCH HEADER Message-ID <id>` for each id. A Sent folder that does not
        exist yet holds none. Keys have the form `save_sent` returns.

        Raises:
            MailSourceError: the server cannot be reached, or refuses the search.

        """
        found: dict[str, str] = {}
        with self._session() as conn:
            folder = self._special_folder(conn, "\\Sent", "Sent")
            name = decode_mailbox(folder)
            typ, _ = conn.select(quoted(folder), readonly=True)
            if typ != "OK":
                return found  # not created yet: nothing was ever kept in it
            uidvalidity = _number(conn.response("UIDVALIDITY")[1])
            for message_id in message_ids:
                bare = "".join(message_id.split()).strip("<>")
                typ, data = conn.uid("SEARCH", "HEADER", "Message-ID", quoted(f"<{bare}>"))
                if typ != "OK":
                    raise self._error(f"searching '{name}' failed: {_text(data)}")
                uids = [int(t) for line in data if isinstance(line, bytes) for t in line.split()]
                if uids:
                    where = f"{name};UIDVALIDITY={uidvalidity}/" if uidvalidity else f"{name}/"
                    found[message_id] = f"{where};UID={max(uids)}"
        return found

    def _special_folder(self, conn: imaplib.IMAP4, use: str, fallback: str) -> str:
        r"""The encoded name of the folder marked `use` (`\Drafts`, `\Sent`), else `fallback`.

        Servers mark their special folders in LIST (RFC 6154); one that only does so when
        asked is asked. Without a mark, a folder named `fallback` (at the top or under INBOX)
        is used, and when there is none it is created by the first APPEND.
        """
        folders = self._list(conn)
        marked = [name for flags, name in folders if use.lower() in flags]
        if not marked and "SPECIAL-USE" in conn.capabilities:
            marked = [
                name for flags, name in self._list(conn, special_use=True) if use.lower() in flags
            ]
        if marked:
            return marked[0]
        wanted = fallback.lower()
        for _, name in folders:
            if decode_mailbox(name).lower() == wanted:
                return name
        for _, name in folders:
            if re.split(r"[./]", decode_mailbox(name))[-1].lower() == wanted:
                return name
        return encode_mailbox(fallback)


class _FolderReader:
    """The examined folder over a connection that is reopened when the server drops it."""

    def __init__(self, source: ImapSource) -> None:
        self.source = source
        self.conn: imaplib.IMAP4 | None = None
        self.status = FolderStatus(uidvalidity=0, uidnext=None, exists=0)
        self.reconnects = 0

    def open(self) -> None:
        conn = self.source._connect()
        try:
            self.source._login(conn)
            status = self.source._examine(conn)
        except MailSourceError:
            _shutdown(conn)
            raise
        except (OSError, imaplib.IMAP4.error) as exc:
            _shutdown(conn)
            raise self.source._error(self.source._reason(exc)) from exc
        if self.conn is not None and status.uidvalidity != self.status.uidvalidity:
            _shutdown(conn)
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
        if self.conn is not None:
            _shutdown(self.conn)

    def close(self) -> None:
        if self.conn is not None:
            _logout(self.conn)

    def _command(self, *args: str) -> tuple[str, list[Any]]:
        assert self.conn is not None, "the folder is not open"
        try:
            return cast(tuple[str, list[Any]], self.conn.uid(*args))
        except (imaplib.IMAP4.abort, ConnectionResetError, BrokenPipeError) as exc:
            # imaplib words it "command: UID => <what the server said>".
            raise _Dropped(re.sub(r"^command: \w+ => ", "", _text(str(exc)))) from exc

    def search(self, *criteria: str) -> list[int]:
        """UIDs matching `criteria`, ascending."""
        typ, data = self._command("SEARCH", *criteria)
        if typ != "OK":
            raise self.source._error(f"SEARCH failed: {_text(data)}")
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
        return literals, None if typ == "OK" else (_text(data) or typ)


def _number(data: Any) -> int | None:
    """The first integer in an untagged response's data, if any."""
    for item in data or []:
        if isinstance(item, bytes):
            match = re.match(rb"\s*(\d+)", item)
            if match:
                return int(match.group(1))
    return None


def _peer_is_loopback(conn: imaplib.IMAP4) -> bool:
    try:
        return ipaddress.ip_address(conn.sock.getpeername()[0]).is_loopback
    except (OSError, ValueError, AttributeError):
        return False
