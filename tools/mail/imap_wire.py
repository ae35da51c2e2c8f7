"""The IMAP wire format as this client speaks it: folder names, UID sets, FETCH literals, cursors.

Pure helpers over `imaplib`'s data shapes, plus the connection classes that bound a
response line, kept apart from the session logic that uses them.
"""

from __future__ import annotations

import base64
import binascii
import imaplib
import ipaddress
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

logger = logging.getLogger(__name__)


_MAX_LINE = 50_000_000
"""Longest response line accepted; the standard library's 1 MB cuts off a big folder's SEARCH."""


_UID = re.compile(rb"\bUID (\d+)")
APPENDUID = re.compile(rb"APPENDUID (\d+) (\d+)", re.IGNORECASE)
_CURSOR = re.compile(r"uidvalidity=(\d+) uid=(\d+)")
LIST_LINE = re.compile(rb'^\((?P<flags>[^)]*)\) (?P<sep>"(?:[^"\\]|\\.)*"|NIL) (?P<name>.*)$', re.S)


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


def reply_text(data: Any) -> str:
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


class PlainImap(imaplib.IMAP4):
    """A plain (or STARTTLS) connection whose response lines are bounded."""

    def readline(self) -> bytes:
        """The next response line, refused past `_MAX_LINE` bytes."""
        return _read_line(self)


class TlsImap(imaplib.IMAP4_SSL):
    """A TLS connection whose response lines are bounded."""

    def readline(self) -> bytes:
        """The next response line, refused past `_MAX_LINE` bytes."""
        return _read_line(self)


def shut_down(conn: imaplib.IMAP4) -> None:
    """Drop a connection that failed, without waiting for the server."""
    try:
        conn.shutdown()
    except OSError as exc:
        logger.debug("closing a failed IMAP connection: %s", exc)


def log_out(conn: imaplib.IMAP4) -> None:
    """End a session that went well; a failing LOGOUT only closes the socket."""
    try:
        conn.logout()  # never raises: imaplib shuts the socket down whatever the server says
    except (OSError, imaplib.IMAP4.error) as exc:
        logger.debug("IMAP LOGOUT failed: %s", exc)


class ConnectionDropped(Exception):
    """The server closed the connection in the middle of a command."""


@dataclass(frozen=True)
class FolderStatus:
    """What EXAMINE says about the folder."""

    uidvalidity: int
    uidnext: int | None
    """The UID the next message will get; None when the server does not say."""
    exists: int


def first_number(data: Any) -> int | None:
    """The first integer in an untagged response's data, if any."""
    for item in data or []:
        if isinstance(item, bytes):
            match = re.match(rb"\s*(\d+)", item)
            if match:
                return int(match.group(1))
    return None


def peer_is_loopback(conn: imaplib.IMAP4) -> bool:
    """Whether the connection goes to this machine (where plain text is allowed)."""
    try:
        return ipaddress.ip_address(conn.sock.getpeername()[0]).is_loopback
    except (OSError, ValueError, AttributeError):
        return False
