"""Header values plain enough to read without the modern header parser.

The stdlib's modern parser builds a token tree for every value it reads, a few hundred
microseconds a message; most values are printable ASCII with no encoded word, for which the
result is known in advance. Anything else (an encoded word, 8-bit or control characters,
comments, quoting beyond the simplest) returns None here and goes to the full parser.
`tests/unit/mail/test_plain_headers.py` checks these answers against the parser's.
"""

from __future__ import annotations

import email.headerregistry
import re
from collections.abc import Iterator
from typing import Any, Protocol

_STRUCTURED = frozenset(email.headerregistry._default_header_map)  # type: ignore[attr-defined]
"""Header names the modern parser reads with a grammar of their own (dates, addresses, MIME)."""
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOMAIN = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
_ADDR = rf"{_ATOM}(?:\.{_ATOM})*@{_DOMAIN}"
_WORDS = r"[A-Za-z0-9]+(?:[ ][A-Za-z0-9]+)*"
"""A display name of plain words, one space apart: no phrase the grammar could read otherwise."""
_QUOTED = r"[A-Za-z0-9](?:[A-Za-z0-9 ,.'-]*[A-Za-z0-9.])?"
"""A quoted display name: letters, digits, spaces, commas, dots; no quote or backslash."""
_MAILBOX = re.compile(
    rf"(?:(?P<plain>{_WORDS}) |\"(?P<quoted>{_QUOTED})\" ?)?<(?P<spec>{_ADDR})>|(?P<bare>{_ADDR})"
)


class HeaderLines(Protocol):
    """What the header reader needs of a message: its header lines and its bounds."""

    @property
    def policy(self) -> Any:
        """Has `max_header_chars` and `max_encoded_words`, or the defaults are used."""

    def raw_items(self) -> Iterator[tuple[str, Any]]:
        """(name, raw value) of every header line, in order."""


_LIST_SEPARATOR = re.compile(r", ?")
_MESSAGE_ID = re.compile(rf"<{_ADDR}>")


def is_plain(value: str) -> bool:
    """Printable ASCII (tabs allowed) with no encoded word."""
    return value.isascii() and value.replace("\t", " ").isprintable() and "=?" not in value


def plain_text(name: str, value: str) -> str | None:
    """The decoded text of an unstructured header, or None when the full parser must read it.

    For printable ASCII without encoded words, the parser's text is the value itself.
    """
    lowered = name.lower()
    if lowered == "message-id":
        return value if _MESSAGE_ID.fullmatch(value) else None
    if lowered in _STRUCTURED and lowered != "subject":
        return None
    return value if is_plain(value) else None


def plain_addresses(value: str) -> list[tuple[str, str]] | None:
    """(display name, address) pairs of a simple address list, or None for the full parser.

    Simple means every entry is `addr@domain`, `<addr@domain>`, `Plain Words <addr@domain>` or
    `"Quoted, Name" <addr@domain>`, separated by commas. The address keeps its case here.
    """
    if not is_plain(value):
        return None
    text = value.strip()
    if not text:
        return None
    found: list[tuple[str, str]] = []
    pos = 0
    while True:
        match = _MAILBOX.match(text, pos)
        if match is None:
            return None
        name = match["plain"] or match["quoted"] or ""
        found.append((name, match["spec"] or match["bare"]))
        pos = match.end()
        if pos == len(text):
            return found
        separator = _LIST_SEPARATOR.match(text, pos)
        if separator is None or separator.end() == len(text):
            return None
        pos = separator.end()
