"""How much work one message may cost the parser, and the error that says which bound it broke.

A mailbox is written by strangers. Without bounds, one message of nested parts, encoded words
or unclosed HTML tags can hold a fetch for hours or take gigabytes; with them, such a message
becomes an error row that names the limit, and the rest of the inbox is triaged.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

KIB = 1024
MIB = 1024 * KIB

MAX_DEPTH = 20
"""MIME nesting levels (a multipart inside a multipart, a forwarded message inside one...).
Real mail rarely goes past 5; the standard library's parser recurses once per level."""
MAX_PARTS = 1_000
"""MIME parts in one message, at every level. Newsletters with many inline images stay far
below; every part costs several header parses."""
MAX_MESSAGE_BYTES = 48 * MIB
"""Raw size of one message. Above the largest attachments mail providers let through (25 to
35 MB once base64-encoded); a message this big is listed from its headers only."""
MAX_HEADER_BYTES = 256 * KIB
"""The top-level header block (every header line before the body). Long Received and DKIM
chains stay under 64 KiB."""
MAX_HEADER_CHARS = 16 * KIB
"""One header's value; a longer value is cut, with `TRUNCATED_MARKER` at the cut."""
MAX_ENCODED_WORDS = 200
"""RFC 2047 encoded words (`=?utf-8?q?...?=`) decoded in one header; the header is cut after
the last one allowed, with `TRUNCATED_MARKER`. The standard parser's memory grows with the
square of their number."""
MAX_TEXT_BYTES = 4 * MIB
"""Decoded bytes of the text parts that make up the body (plain text and HTML together);
attachments do not count. A million-character body is still read in full."""
MAX_HTML_DEPTH = 100
"""HTML elements tracked one inside the other; deeper ones are read as text of the
innermost tracked element, so nesting costs nothing more past this level."""
MAX_BODY_CHARS = 4 * MIB
"""Characters of body text kept once HTML is converted; the rest is cut with a marker."""
MAX_SECONDS = 10.0
"""Wall-clock time one message may take to parse, checked between steps of every loop."""

TRUNCATED_MARKER = "[TRUNCATED]"
"""Put where a header value or a body was cut at one of these limits."""


@dataclass(frozen=True)
class ParseLimits:
    """The bounds one `parse_email` call works within; the defaults are the constants above."""

    max_depth: int = MAX_DEPTH
    max_parts: int = MAX_PARTS
    max_message_bytes: int = MAX_MESSAGE_BYTES
    max_header_bytes: int = MAX_HEADER_BYTES
    max_header_chars: int = MAX_HEADER_CHARS
    max_encoded_words: int = MAX_ENCODED_WORDS
    max_text_bytes: int = MAX_TEXT_BYTES
    max_html_depth: int = MAX_HTML_DEPTH
    max_body_chars: int = MAX_BODY_CHARS
    max_seconds: float = MAX_SECONDS


DEFAULT_LIMITS = ParseLimits()


class ParseLimitError(Exception):
    """A message broke one of the `ParseLimits`; the text is the reason shown on its error row."""


class Deadline:
    """A point in time that loops check, so no step of parsing runs past it.

    Checked, not signalled: parsing runs in worker threads, where an alarm cannot reach, and a
    check between steps leaves no half-updated state behind.
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._end = clock() + seconds

    def check(self) -> None:
        """Raise `ParseLimitError` once the time is up."""
        if self._clock() > self._end:
            raise ParseLimitError(
                f"took too long: parsing stopped after {self.seconds:g} s (the limit per message)"
            )


def size_text(size: int) -> str:
    """A byte count as people read it: `48 MiB`, `256 KiB`, `900 bytes`."""
    for unit, name in ((MIB, "MiB"), (KIB, "KiB")):
        if size >= unit:
            value = size / unit
            return f"{value:.0f} {name}" if value == int(value) else f"{value:.1f} {name}"
    return f"{size} bytes"
