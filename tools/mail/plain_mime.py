"""The most common message shapes split without the feed parser, the way the feed parser would.

Most mail is one text/plain or text/html part, a multipart/alternative of the two, or a
multipart/mixed of text and attached files, with ordinary headers. For those, the standard
library's feed parser, its header objects and its content-type questions cost more than the
rest of the parse together, and the answers are known in advance. `split_plain` reads such a
message in a few passes over its bytes, and returns None for anything it does not fully
understand (an unusual header line, nesting, a forwarded message, an odd Content-* value, a
lone CR, a part without headers...), which the full parser then reads.
`tests/unit/mail/test_plain_mime.py` checks its answers against the full parser's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

_FIELD_NAME = r"[\x21-\x39\x3b-\x7e]+"
"""A header name as the feed parser reads one: printable ASCII, no space, no colon."""
_HEADER_FIELD = re.compile(rf"({_FIELD_NAME}):[ \t]*+([^\n]*+\n(?:[ \t][^\n]*+\n)*+)")
"""One header: its name, then its value from the first character after the spaces to the end
of its last continuation line."""
_HEADER_BLOCK = re.compile(rf"(?:{_FIELD_NAME}:[^\n]*+\n(?:[ \t][^\n]*+\n)*+)++")
"""Header lines only, each one read one way: checked in one pass, however hostile."""
_TOKEN = r"[A-Za-z0-9!#$%&*+.^_`{|}~-]+"
_PARAMETER_NAME = r"[A-Za-z0-9!#$%&+.^_`{|}~-]+"
"""A token without `*`: no RFC 2231 parameter (`name*=utf-8''...`) is read here."""
_QUOTED = r'"[A-Za-z0-9 !#$%&*+,./:=?@^_`{|}~-]*"'
"""A quoted string without quote, backslash, angle brackets, parentheses or semicolon."""
_PARAMETER = re.compile(rf"[ \t]*;[ \t]*({_PARAMETER_NAME})=({_TOKEN}|{_QUOTED})[ \t]*")
_CONTENT_TYPE = re.compile(rf"[ \t]*({_TOKEN}/{_TOKEN})[ \t]*")
_DISPOSITION = re.compile(rf"[ \t]*({_TOKEN})[ \t]*")
_MULTIPARTS = ("multipart/alternative", "multipart/mixed")
_BOUNDARY = re.compile(r"[A-Za-z0-9()+_,./:=?-]{1,70}")
_ENCODINGS = frozenset({"7bit", "8bit", "binary", "quoted-printable", "base64"})
TEXT_TYPES = ("text/plain", "text/html")
MAX_VALUE = 998
"""Longest Content-* value read here, line ends included; a longer one goes to the full parser."""
MAX_PARTS = 8


@dataclass(frozen=True)
class PlainPart:
    """A leaf part: its type, parameters, transfer encoding and disposition, its undecoded bytes."""

    content_type: str
    """`maintype/subtype`, lower case."""
    params: tuple[tuple[str, str], ...]
    """Content-Type parameters in order: lower-cased name, unquoted value."""
    encoding: str
    """Content-Transfer-Encoding, lower case; '' without one."""
    payload: bytes
    disposition: str = ""
    """The Content-Disposition (`inline`, `attachment`), lower case; '' without one."""
    filename: str = ""
    """The first `filename` parameter of the disposition, '' without one."""

    @property
    def is_text(self) -> bool:
        """Read into the body, not described as an attachment."""
        return self.content_type in TEXT_TYPES and self.disposition != "attachment"

    @property
    def charset(self) -> str | None:
        """The first charset parameter, lower case, as `Message.get_content_charset` gives it."""
        return next((value.lower() for name, value in self.params if name == "charset"), None)


@dataclass
class PlainMessage:
    """A message read by `split_plain`: its header lines and its text parts."""

    headers: list[tuple[str, str]]
    """(name, value) of each header line, as the feed parser stores them."""
    policy: Any
    parts: list[PlainPart] = field(default_factory=list)
    multipart: str = ""
    """`multipart/alternative` or `multipart/mixed` when `parts` are its parts, else ''."""

    def raw_items(self) -> Iterator[tuple[str, str]]:
        """The header lines, as `Message.raw_items` gives them."""
        return iter(self.headers)


def split_plain(data: bytes, policy: Any, max_header_bytes: int) -> PlainMessage | None:
    """`data` read as one of the plain shapes, or None when the full parser must read it.

    `data` is the message from its first header line; `policy` is what the header reader asks
    for its bounds. A plain message has at most `MAX_PARTS` parts, counting itself, and its
    header block, blank line included, is no longer than `max_header_bytes`.
    """
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None  # a lone CR ends a line for the feed parser
    found = _headers(data, 0)
    if found is None:
        return None
    headers, body_start = found
    if body_start > max_header_bytes:
        return None
    message = PlainMessage(headers, policy)
    top = _part_of(headers, data[body_start:])
    if top is None:
        return None
    if top.is_text:
        message.parts.append(top)
        return message
    boundary = _boundary(top.params) if top.content_type in _MULTIPARTS else None
    if boundary is None or top.disposition:
        return None
    parts = _parts(data[body_start:], boundary)
    if parts is None or len(parts) + 1 > MAX_PARTS:
        return None
    if top.content_type == "multipart/alternative" and not all(p.is_text for p in parts):
        return None
    message.parts, message.multipart = parts, top.content_type
    return message


def _headers(data: bytes, start: int) -> tuple[list[tuple[str, str]], int] | None:
    """The header lines from `start` up to a blank line, and where the body starts; None if odd.

    Each header is (name, value) as the standard policy's `header_source_parse` makes it: the
    value without the space after the colon, continuation lines kept, the last line end cut.
    """
    lf = data.find(b"\n\n", start)
    crlf = data.find(b"\n\r\n", start)
    if lf < 0 and crlf < 0:
        return None
    end = lf if crlf < 0 or 0 <= lf < crlf else crlf
    block = data[start : end + 1].decode("ascii", "surrogateescape")
    body_start = end + (2 if end == lf else 3)
    if not _HEADER_BLOCK.fullmatch(block):
        return None
    # A CRLF line still ends in CR here (lines end at LF): the last line end is cut.
    fields = [(name, value.rstrip("\r\n")) for name, value in _HEADER_FIELD.findall(block)]
    return fields, body_start


def _part_of(headers: list[tuple[str, str]], payload: bytes) -> PlainPart | None:
    """The part with these headers and this payload; None when a Content-* header is unusual."""
    wanted: dict[str, str] = {}
    for name, value in headers:
        lowered = name.lower()
        if lowered.startswith("content-"):
            if lowered in wanted or lowered not in _CONTENT_HEADERS or len(value) > MAX_VALUE:
                return None
            wanted[lowered] = value.replace("\r", "").replace("\n", "")
    encoding = wanted.get("content-transfer-encoding", "").lower()
    if encoding and encoding not in _ENCODINGS:
        return None
    ctype = "text/plain"
    params: tuple[tuple[str, str], ...] = ()
    if "content-type" in wanted:
        parsed = _parameters(wanted["content-type"], _CONTENT_TYPE)
        if parsed is None:
            return None
        ctype, params = parsed
    if "content-disposition" not in wanted:
        return PlainPart(ctype, params, encoding, payload)
    disposition = _parameters(wanted["content-disposition"], _DISPOSITION)
    if disposition is None:
        return None
    filename = next((value for name, value in disposition[1] if name == "filename"), "")
    return PlainPart(ctype, params, encoding, payload, disposition[0], filename)


_CONTENT_HEADERS = frozenset(
    {
        "content-type",
        "content-transfer-encoding",
        "content-disposition",
        "content-language",
        "content-id",
        "content-description",
    }
)
"""Content-* headers a plain part may carry: the first three are read, the others never are."""


def _parameters(
    value: str, first: re.Pattern[str]
) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    """The value's first word, lower case, and its parameters, when all are simple; else None.

    Simple: tokens, or quoted strings without quote, backslash or encoded word, which the
    modern header parser and `Message.get_params` read as they are written.
    """
    if "=?" in value:
        return None
    found = first.match(value)
    if found is None:
        return None
    params: list[tuple[str, str]] = []
    pos = found.end()
    while pos < len(value):
        parameter = _PARAMETER.match(value, pos)
        if parameter is None:
            return None
        params.append((parameter[1].lower(), parameter[2].removeprefix('"').removesuffix('"')))
        pos = parameter.end()
    return found[1].lower(), tuple(params)


def _boundary(params: tuple[tuple[str, str], ...]) -> bytes | None:
    """The first boundary parameter, when it is one the feed parser reads as it is written."""
    value = next((value for name, value in params if name == "boundary"), None)
    if value is None or not _BOUNDARY.fullmatch(value):
        return None
    return value.encode("ascii")


def _boundary_line(line: bytes, separator: bytes) -> bool | None:
    """None when `line` is no boundary line; True for the closing one, False for another.

    As the feed parser's pattern reads it: the separator, maybe `--`, spaces or tabs, the line end.
    """
    if not line.startswith(separator):
        return None
    rest = line[len(separator) :].removesuffix(b"\n").removesuffix(b"\r").rstrip(b" \t")
    if rest == b"--":
        return True
    return False if not rest else None


def _parts(body: bytes, boundary: bytes) -> list[PlainPart] | None:
    """The parts of a multipart body, or None when its layout is not plain.

    Plain: a preamble, parts each with headers and a blank line, a closing boundary line.
    """
    separator = b"--" + boundary
    starts = [0] if body.startswith(separator) else []
    found = body.find(b"\n" + separator)
    while found >= 0:
        starts.append(found + 1)
        found = body.find(b"\n" + separator, found + 1)
    bounds: list[tuple[int, int]] = []  # (start, end) of each boundary line
    for start in starts:
        end = body.find(b"\n", start) + 1 or len(body)
        kind = _boundary_line(body[start:end], separator)
        if kind is None:
            continue
        bounds.append((start, end))
        if kind:
            break  # the rest is the epilogue, which the parser does not read
        if len(bounds) >= MAX_PARTS:
            return None  # more parts than a plain message has: none of them is read here
    else:
        return None  # no closing boundary
    if len(bounds) < 2:
        return None
    parts: list[PlainPart] = []
    for (_, first_end), (after, _) in zip(bounds, bounds[1:], strict=False):
        if after == first_end:
            return None  # boundary lines one after another: the parser skips the empty part
        part = _part(body[first_end:after])
        if part is None:
            return None
        parts.append(part)
    return parts


def _part(text: bytes) -> PlainPart | None:
    """One part between two boundary lines: its headers, a blank line, the text."""
    if text.startswith((b"\n", b"\r\n")):
        return None  # no headers: the full parser reads it
    found = _headers(text, 0)
    if found is None:
        return None
    headers, body_start = found
    # The line end before a boundary belongs to the boundary.
    payload = text[body_start:]
    payload = payload[:-2] if payload.endswith(b"\r\n") else payload.removesuffix(b"\n")
    part = _part_of(headers, payload)
    if part is None or part.content_type.startswith(_NOT_LEAVES):
        return None
    if part.encoding == "base64" and not payload.isascii():
        return None  # an attachment's size is counted on its text, which 8-bit bytes change
    return part


_NOT_LEAVES = ("multipart/", "message/")
"""Types the feed parser reads as more than a leaf of bytes."""
