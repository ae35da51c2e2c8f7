"""A message's header block read within bounds: size, encoded words and time are limited.

Hostile headers (megabytes of one line, thousands of encoded words) must cost little; the
values come back decoded, on one line, with a marker where they were cut.
"""

from __future__ import annotations

import email
import email.errors
import email.feedparser
import email.policy
import email.utils
import functools
import logging
import re
from email.header import decode_header, make_header
from email.message import Message
from email.utils import format_datetime, getaddresses, parsedate_to_datetime
from typing import Any

from tools.mail.address_comments import with_comments
from tools.mail.charsets import decode_bytes, fix_surrogates
from tools.mail.header_values import bare_message_id, iso_date, iso_date_in_one_parse, message_ids
from tools.mail.limits import (
    MAX_ENCODED_WORDS,
    MAX_HEADER_CHARS,
    TRUNCATED_MARKER,
    Deadline,
    ParseLimitError,
    ParseLimits,
)
from tools.mail.mime_message import ParsedMessage
from tools.mail.plain_headers import HeaderLines, plain_addresses, plain_text

logger = logging.getLogger(__name__)


# Headers the triage rules read, in their canonical spelling.
KEPT_HEADERS = (
    "List-Unsubscribe",
    "List-Id",
    "Precedence",
    "Auto-Submitted",
    "X-Mailer",
    "Return-Path",
    "X-Priority",
    "Importance",
    "X-Auto-Response-Suppress",
    "Reply-To",
    "Authentication-Results",
    "X-Autoreply",
    "X-Autorespond",
    "List-Unsubscribe-Post",
    "X-Failed-Recipients",
)


# --------------------------------------------------------------------------- bounded parsing

_FEED_CHUNK = 64 * 1024
"""Bytes fed to the parser between two deadline checks."""
_HEADER_LINE = re.compile(rb"[^\s:]+[ \t]*:")
_LINE_BREAKS = re.compile(r"[\r\n]")
_ENCODED_WORD = re.compile(r"=\?[^?\s]{1,75}\?[bBqQ]\?[^?\s]*\?=")
_DOMAIN = re.compile(r"[^\s\"<>()@,;:\\]+")
"""What may follow an address's last `@`: not a quote, a bracket or a space. An encoded name that
hides a whole `Name <addr@domain>` decodes to a quoted "local part" with no domain after it."""


def _is_address(spec: str) -> bool:
    """Whether `spec` is an address with a domain, not a name that only contains one."""
    local, at, domain = spec.rpartition("@")
    return bool(local and at and _DOMAIN.fullmatch(domain))


_MODERN_PARSER_MAX_CHARS = 2 * 1024
"""Longer header values are decoded by the lenient decoders (`decode_header`, `getaddresses`):
the modern header parser takes about 30 µs a character, they take a tenth of that."""


def header_block_end(data: bytes, max_bytes: int) -> int | None:
    """Where the message's header block ends (its body starts); None when it runs past `max_bytes`.

    The block ends at the blank line, or, as the standard parser reads it, at the first line
    that is neither a header nor a continuation. Only the first `max_bytes` are looked at.
    """
    pos = 0
    size = len(data)
    while pos < size:
        newline = data.find(b"\n", pos, max_bytes)
        if newline < 0:
            return size if size <= max_bytes else None
        line = data[pos:newline].rstrip(b"\r")
        if not line:
            return newline + 1
        continuation = line[:1] in (b" ", b"\t") and pos > 0
        unix_from = pos == 0 and line.startswith(b"From ")
        if not (continuation or unix_from or _HEADER_LINE.match(line)):
            return pos
        pos = newline + 1
    return size


def bound_header(value: str, max_chars: int, max_words: int) -> str:
    """`value` cut at `max_chars` characters or after `max_words` encoded words, with a marker."""
    cut = max_chars if len(value) > max_chars else None
    if "=?" in value:
        words = _ENCODED_WORD.finditer(value, 0, cut if cut is not None else len(value))
        for count, word in enumerate(words, 1):
            if count > max_words:
                cut = word.start()
                break
    if cut is None:
        return value
    return f"{value[:cut].rstrip()} {TRUNCATED_MARKER}"


def _display_name(raw: str) -> str:
    return one_line(decode_rfc2047(fix_surrogates(raw)))  # 8-bit bytes, then encoded words


class _BoundedPolicy(email.policy.EmailPolicy):
    """The standard policy, with every header value bounded before the header parser sees it.

    The stdlib parses a header each time it is read (`get_content_type`, `get_boundary`...),
    and its parser's cost grows faster than the header: bounding at read time covers them all.
    """

    max_header_chars: int = MAX_HEADER_CHARS
    max_encoded_words: int = MAX_ENCODED_WORDS

    def header_fetch_parse(self, name: str, value: str) -> Any:
        """Bound the raw value, then parse it as the standard policy does (memoised)."""
        if not isinstance(value, str) or hasattr(value, "name"):
            return super().header_fetch_parse(name, value)
        value = bound_header(value, self.max_header_chars, self.max_encoded_words)
        return parsed_header(name, _LINE_BREAKS.sub("", value))


_MEMO_MAX_CHARS = 512
"""Longer header values are parsed each time: rarely repeated, and they would fill the memo."""


@functools.lru_cache(maxsize=4096)
def _memo_header(name: str, value: str) -> Any:
    return email.policy.default.header_factory(name, value)


def parsed_header(name: str, value: str) -> Any:
    """The standard policy's header object for `name: value` (one line, already bounded).

    The stdlib parses a header again each time it is read (a part's Content-Type three or four
    times while the tree is walked) and builds a new class for every parse; the objects are
    immutable, so a short value seen before (`text/plain; charset="utf-8"`, a regular sender)
    is parsed once per process.
    """
    if len(value) <= _MEMO_MAX_CHARS:
        return _memo_header(name, value)
    return email.policy.default.header_factory(name, value)


@functools.lru_cache(maxsize=8)
def _policy(max_header_chars: int, max_encoded_words: int) -> _BoundedPolicy:
    # Policies take their settings as keywords, which the type stubs do not know of.
    bounds: dict[str, Any] = {
        "max_header_chars": max_header_chars,
        "max_encoded_words": max_encoded_words,
        "message_factory": ParsedMessage,
    }
    return _BoundedPolicy(**bounds)


class _BoundedParser(email.feedparser.BytesFeedParser):
    """The standard feed parser, stopped as soon as a message goes past the depth or part limits.

    It recurses once per level of nesting; refusing the 21st level before it is entered keeps
    a 1,000-level message from ever reaching Python's recursion limit.
    """

    def __init__(self, limits: ParseLimits, deadline: Deadline) -> None:
        super().__init__(policy=_policy(limits.max_header_chars, limits.max_encoded_words))
        self._limits = limits
        self._deadline = deadline
        self._parts = 0

    def _new_message(self) -> None:
        depth = len(self._msgstack)  # type: ignore[attr-defined]
        if depth >= self._limits.max_depth:
            raise ParseLimitError(
                f"too deeply nested: more than {self._limits.max_depth} levels of MIME parts"
            )
        self._parts += 1
        if self._parts > self._limits.max_parts:
            raise ParseLimitError(
                f"too many parts: more than {self._limits.max_parts:,} MIME parts"
            )
        self._deadline.check()
        super()._new_message()  # type: ignore[misc]


def parse_bytes(data: bytes, limits: ParseLimits, deadline: Deadline) -> Message:
    """The standard library's parse of `data`, within `limits`; raises `ParseLimitError`."""
    parser = _BoundedParser(limits, deadline)
    for start in range(0, len(data), _FEED_CHUNK):
        deadline.check()
        parser.feed(data[start : start + _FEED_CHUNK])
    deadline.check()
    return parser.close()


# --------------------------------------------------------------------------- headers


class HeaderReader:
    """Reads decoded header values, falling back to a lenient split where the modern policy fails.

    Every value is bounded (`bound_header`) before any parser sees it, and long ones go to the
    lenient decoders, whose cost grows linearly.
    """

    def __init__(self, msg: Message | HeaderLines) -> None:
        policy = msg.policy
        self._max_chars = getattr(policy, "max_header_chars", MAX_HEADER_CHARS)
        self._max_words = getattr(policy, "max_encoded_words", MAX_ENCODED_WORDS)
        self._first: dict[str, str] = {}
        for name, value in msg.raw_items():
            self._first.setdefault(name.lower(), str(value))

    def _raw(self, name: str) -> str | None:
        """The first `name` header, bounded, raw 8-bit bytes still surrogates; None if absent."""
        value = self._first.get(name.lower())
        if value is None:
            return None
        # Unfolded as the policy does before parsing: a line break is no space between words.
        # NUL is dropped: no header means it, and PostgreSQL cannot store it in text.
        value = value.replace("\r", "").replace("\n", "").replace("\x00", "")
        return bound_header(value, self._max_chars, self._max_words)

    def raw_value(self, name: str) -> str:
        """Return the header's undecoded value, or ''.

        Encoded words stay intact; raw 8-bit text is decoded.
        """
        return fix_surrogates(self._raw(name) or "")

    def _parsed(self, name: str) -> Any:
        """The header as the modern policy parses it, with raw 8-bit bytes decoded first.

        Bytes outside an encoded word reach the parser as surrogates, which it would turn into
        U+FFFD ("Rechnung f\ufffdr"); decoding them beforehand (`fix_surrogates`) keeps the text
        and still lets the parser decode the encoded words next to them. A value too long for
        the modern parser raises `_TooLong`, and the caller decodes it leniently.
        """
        raw = self._raw(name)
        if raw is None:
            return None
        if len(raw) > _MODERN_PARSER_MAX_CHARS:
            raise _TooLong(name)
        return parsed_header(name, fix_surrogates(raw))

    def text(self, name: str) -> str:
        """Return the header decoded to one line of text, or '' when absent."""
        raw = self._raw(name)
        if raw is None:
            return ""
        plain = plain_text(name, raw)
        if plain is not None:
            return one_line(plain)
        try:
            value = self._parsed(name)
            if value is None:
                return ""
            return one_line(fix_surrogates(str(value)))
        except Exception as exc:  # the modern header parser raises on some broken headers
            logger.debug("header %s needs the lenient fallback: %s", name, exc)
            return one_line(decode_rfc2047(self.raw_value(name)))

    def date_text(self) -> str:
        """`text("Date")`, without the modern parser's token tree of the reformatted date.

        The standard policy reads a date it can parse as that date formatted again, and any
        other value as it is; this does the same, a tenth of the cost (every message has a
        Date, and each is a new value the memo cannot help with).
        """
        raw = self._raw("Date")
        if raw is None:
            return ""
        if len(raw) > _MODERN_PARSER_MAX_CHARS or not raw:
            return self.text("Date")
        value = fix_surrogates(raw)
        try:
            text = format_datetime(parsedate_to_datetime(value))
        except ValueError:
            text = value
        except Exception as exc:  # as the modern parser raises it, read by the lenient fallback
            logger.debug("header Date needs the lenient fallback: %s", exc)
            return one_line(decode_rfc2047(self.raw_value("Date")))
        return one_line(text)

    def iso_date(self) -> str:
        """`iso_date(date_text())`: a Date value that parses as it stands is parsed once."""
        raw = self._raw("Date")
        if raw and len(raw) <= _MODERN_PARSER_MAX_CHARS:
            found = iso_date_in_one_parse(fix_surrogates(raw))
            if found is not None:
                return found
        return iso_date(self.date_text())

    def addresses(self, name: str) -> list[tuple[str, str]]:
        """(display name, lower-cased address) pairs of an address header."""
        raw = self._raw(name)
        if raw is None:
            return []
        plain = plain_addresses(raw) if len(raw) <= _MODERN_PARSER_MAX_CHARS else None
        if plain is not None:
            return [(display, spec.lower()) for display, spec in plain]
        found: list[tuple[str, str]] = []
        try:
            header = self._parsed(name)
            if header is None:
                return []
            for addr in getattr(header, "addresses", ()):
                spec = fix_surrogates(addr.addr_spec or "").strip()
                if _is_address(spec):
                    found.append((fix_surrogates(addr.display_name or ""), spec.lower()))
        except Exception as exc:  # fall through to the lenient parser below
            logger.debug("address header %s needs the lenient fallback: %s", name, exc)
            found = []
        if found:
            return with_comments(found, raw, _display_name)
        # The modern parser gave nothing usable: split the raw header instead, then decode names.
        raw = self.raw_value(name)
        for display, spec in getaddresses([raw]):
            spec = spec.strip()
            if _is_address(spec):
                found.append((_display_name(display), spec.lower()))
        return found

    def fields(self, fallback_id: str) -> dict[str, Any]:
        """All `Email` header fields, keyed by field name."""
        senders = self.addresses("From")
        from_name, from_addr = senders[0] if senders else ("", "")
        if not from_addr and not from_name:
            from_name = self.text("From").strip().strip('"').strip()
        reply_to = self.addresses("Reply-To")
        present = [name for name in KEPT_HEADERS if name.lower() in self._first]
        headers = {name: value for name in present if (value := self.text(name))}
        message_id = bare_message_id(self.text("Message-ID"))
        return {
            "id": message_id or fallback_id,
            "message_id": message_id,
            "from_name": from_name,
            "from_addr": from_addr,
            "to": tuple(addr for _, addr in self.addresses("To")),
            "cc": tuple(addr for _, addr in self.addresses("Cc")),
            "reply_to": reply_to[0][1] if reply_to else "",
            "subject": self.text("Subject"),
            "date": self.iso_date(),
            "in_reply_to": bare_message_id(self.text("In-Reply-To")),
            "references": tuple(message_ids(self.text("References"))),
            "headers": headers,
        }


class _TooLong(Exception):
    """A header value too long for the modern parser; read by the lenient one instead."""


def decode_rfc2047(value: str) -> str:
    """Decode RFC 2047 encoded words in a raw header value, tolerating unknown charsets."""
    if "=?" not in value:
        return value
    try:
        return str(make_header(decode_header(value)))
    except (LookupError, UnicodeError, ValueError, email.errors.HeaderParseError):
        # Unknown charset or broken encoding: decode each chunk by hand with fallbacks.
        parts = []
        try:
            chunks = decode_header(value)
        except (ValueError, email.errors.HeaderParseError):
            return value
        for chunk, charset in chunks:
            if isinstance(chunk, bytes):
                parts.append(decode_bytes(chunk, charset))
            else:
                parts.append(chunk)
        return "".join(parts)


def one_line(value: object) -> str:
    """Any value as one line of text: whitespace runs collapsed, NUL bytes dropped."""
    return " ".join(str(value).replace("\x00", "").split())
