"""Turn raw RFC 5322 bytes into a normalised `Email`, whatever state the message is in.

Real mailboxes hold broken, mislabelled and hostile messages; this module is the one place
that copes with them, so everything downstream can rely on clean text and a clear `error`.
"""

from __future__ import annotations

import codecs
import email
import email.errors
import email.feedparser
import email.policy
import email.utils
import functools
import hashlib
import io
import logging
import re
from collections.abc import Callable
from datetime import UTC
from email.generator import BytesGenerator
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

from tools.mail.html_text import html_to_text
from tools.mail.limits import (
    DEFAULT_LIMITS,
    MAX_ENCODED_WORDS,
    MAX_HEADER_CHARS,
    TRUNCATED_MARKER,
    Deadline,
    ParseLimitError,
    ParseLimits,
    size_text,
)
from tools.mail.model import (
    EMPTY_BODY_MARKER,
    QUOTE_END,
    QUOTE_START,
    SIGNATURE_END,
    SIGNATURE_START,
    Attachment,
    Email,
)

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
)

# A message with none of these is some other file that happens to contain a "name: value" line.
_MAIL_HEADERS = (
    "From",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "Received",
    "Content-Type",
    "MIME-Version",
    "Return-Path",
    "Delivered-To",
)

_FORWARDED_NAME = "forwarded message"


class _Unreadable(Exception):
    """Raised inside this module when the body cannot be trusted; carries the one-line reason."""


def parse_email(
    raw: bytes,
    *,
    source: str,
    folder: str,
    key: str,
    limits: ParseLimits = DEFAULT_LIMITS,
) -> Email:
    """Parse one raw message into an `Email`; never raises for bad input.

    A message that cannot be read comes back with `error` set to a one-line reason, an empty
    body, and whatever headers could still be read. The parser's defect reports decide that:

    Fatal (the body cannot be trusted, so `error` is set):
        * `StartBoundaryNotFoundDefect` — the declared multipart boundary never appears.
        * `NoBoundaryInMultipartDefect` — a multipart type with no boundary parameter.
        * `MultipartInvariantViolationDefect` — multipart type, but no parts could be split out.
        * `InvalidBase64LengthDefect` on a text part that makes up the body — the text is lost.
        * No headers at all, or none of the usual mail headers — this is not an e-mail.
        * A message past one of `limits` (nesting depth, part count, header block size, raw
          size, decoded text size, time): the reason names the limit. Its headers are still read.

    Cosmetic (logged at debug level, the message is read normally):
        * `CloseBoundaryNotFoundDefect` — every part was still split out; mail clients show
          such messages without complaint, so rejecting them would hide real mail.
        * `InvalidBase64PaddingDefect` / `InvalidBase64CharactersDefect` — the decoder repairs
          these; `InvalidBase64LengthDefect` on an attachment only makes its size approximate.
        * Header-level defects (missing MIME-Version, bad addresses, undecodable bytes,
          misplaced "From " lines, missing header/body separator after some headers): the
          affected header is read as well as possible and the rest of the message is intact.
        * Unknown or wrong charsets: text is decoded with fallbacks, never rejected.
        * A header longer than `limits.max_header_chars`, or with more encoded words than
          `limits.max_encoded_words`: it is cut there and ends with `TRUNCATED_MARKER`.
    """
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    elif not isinstance(raw, bytes):
        raw = bytes(raw)
    digest = hashlib.sha256(raw).hexdigest()[:32]
    base: dict[str, Any] = {
        "source": source,
        "folder": folder,
        "key": key,
        "size": len(raw),
        "digest": digest,
    }
    fallback_id = "sha256:" + digest
    if not raw.strip():
        return Email(id=fallback_id, error="not an email: the message is empty", **base)
    # Some tools write a byte-order mark or a blank line before the headers; a parser would
    # take everything after that as body and find no headers at all.
    data = raw.removeprefix(b"\xef\xbb\xbf").lstrip(b"\r\n")
    deadline = Deadline(limits.max_seconds)
    header_end = header_block_end(data, limits.max_header_bytes)
    if header_end is None:
        reason = (
            f"headers too large: more than {size_text(limits.max_header_bytes)} of header lines"
        )
        # Cut where the limit falls, even mid-line: a header too long to end within it still
        # shows its start (bounded, with the marker).
        return _headers_only(data[: limits.max_header_bytes], reason, fallback_id, base, limits)
    if len(raw) > limits.max_message_bytes:
        reason = (
            f"too large: the message is {size_text(len(raw))}, more than the "
            f"{size_text(limits.max_message_bytes)} read"
        )
        return _headers_only(data[:header_end], reason, fallback_id, base, limits)
    try:
        msg = parse_bytes(data, limits, deadline)
    except ParseLimitError as exc:
        return _headers_only(data[:header_end], str(exc), fallback_id, base, limits)
    except Exception as exc:  # RecursionError or a parser bug: one message, never the fetch
        reason = f"could not be parsed: {_exception_line(exc)}"
        return _headers_only(data[:header_end], reason, fallback_id, base, limits, exc)
    fields = _fields(msg, fallback_id, key)
    try:
        _check_is_mail(msg)
        walker = _BodyWalker(limits, deadline)
        walker.walk(msg)
        body = _body(walker.text(), limits, deadline)
    except _Unreadable as exc:
        return Email(error=str(exc), **fields, **base)
    except ParseLimitError as exc:
        logger.warning("message %s: %s", key, exc)
        return Email(error=str(exc), **fields, **base)
    except Exception as exc:  # unexpected structure: report it on the message, keep the fetch going
        reason = f"body could not be read: {_exception_line(exc)}"
        logger.warning("message %s: %s", key, reason, exc_info=exc)
        return Email(error=reason, **fields, **base)
    is_empty = not body.strip()
    return Email(
        body=EMPTY_BODY_MARKER if is_empty else body,
        body_is_empty=is_empty,
        attachments=tuple(walker.attachments),
        **fields,
        **base,
    )


def _exception_line(exc: BaseException) -> str:
    """An unexpected exception as one short line: its type and the start of its message."""
    text = _one_line(exc)
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def _check_is_mail(msg: Message) -> None:
    """Raise `_Unreadable` for a file that is not an e-mail at all."""
    if not msg.keys():
        raise _Unreadable("not an email: no headers could be parsed")
    if not any(name in msg for name in _MAIL_HEADERS):
        raise _Unreadable(
            "not an email: none of the usual mail headers (From, To, Subject, Date) are present"
        )


def _headers_only(
    head: bytes,
    reason: str,
    fallback_id: str,
    base: dict[str, Any],
    limits: ParseLimits,
    error: BaseException | None = None,
) -> Email:
    """The error row of a message past a limit: its headers as far as they can be read, no body.

    Logged as one line; an unexpected `error` carries its traceback, which the command line
    shows only with `-v`. The headers get a fresh deadline: the message's may be what ran out.
    """
    logger.warning("message %s: %s", base["key"], reason, exc_info=error)
    try:
        msg = parse_bytes(head, limits, Deadline(limits.max_seconds))
        fields = _fields(msg, fallback_id, base["key"])
    except Exception as exc:  # the reason above is what matters; the headers are a bonus
        logger.debug("headers of message %s unreadable too: %s", base["key"], exc)
        fields = {"id": fallback_id}
    return Email(error=reason, **fields, **base)


def _fields(msg: Message, fallback_id: str, key: str) -> dict[str, Any]:
    try:
        return _HeaderReader(msg).fields(fallback_id)
    except Exception as exc:  # a header bug must not lose the whole message
        logger.warning("headers of message %s could not be read: %s", key, _one_line(exc))
        return {"id": fallback_id}


def _body(text: str, limits: ParseLimits, deadline: Deadline) -> str:
    """The walker's text laid out, quotes and signature marked, cut at `max_body_chars`."""
    deadline.check()
    cut = len(text) > limits.max_body_chars
    if cut:
        text = text[: limits.max_body_chars]
    body = mark_quotes_and_signature(normalise_text(text))
    deadline.check()
    return f"{body}\n{TRUNCATED_MARKER}" if cut else body


def message_id_of(raw_headers: bytes) -> str:
    """The Message-ID of a message with these headers, without brackets; '' without one.

    Lets a source tell whether a message is already cached from its headers alone.
    """
    data = raw_headers.removeprefix(b"\xef\xbb\xbf").lstrip(b"\r\n")
    try:
        msg = parse_bytes(data, DEFAULT_LIMITS, Deadline(DEFAULT_LIMITS.max_seconds))
        return _message_id(_HeaderReader(msg).text("Message-ID"))
    except Exception as exc:  # broken headers: the caller reads the whole message instead
        logger.debug("Message-ID could not be read from headers: %s", exc)
        return ""


# --------------------------------------------------------------------------- bounded parsing

_FEED_CHUNK = 64 * 1024
"""Bytes fed to the parser between two deadline checks."""
_HEADER_LINE = re.compile(rb"[^\s:]+[ \t]*:")
_LINE_BREAKS = re.compile(r"[\r\n]")
_ENCODED_WORD = re.compile(r"=\?[^?\s]{1,75}\?[bBqQ]\?[^?\s]*\?=")
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


class _BoundedPolicy(email.policy.EmailPolicy):
    """The standard policy, with every header value bounded before the header parser sees it.

    The stdlib parses a header each time it is read (`get_content_type`, `get_boundary`...),
    and its parser's cost grows faster than the header: bounding at read time covers them all.
    """

    max_header_chars: int = MAX_HEADER_CHARS
    max_encoded_words: int = MAX_ENCODED_WORDS

    def header_fetch_parse(self, name: str, value: str) -> Any:
        """Bound the raw value, then parse it as the standard policy does."""
        if isinstance(value, str) and not hasattr(value, "name"):
            value = bound_header(value, self.max_header_chars, self.max_encoded_words)
        return super().header_fetch_parse(name, value)


@functools.lru_cache(maxsize=8)
def _policy(max_header_chars: int, max_encoded_words: int) -> _BoundedPolicy:
    # Policies take their settings as keywords, which the type stubs do not know of.
    bounds: dict[str, Any] = {
        "max_header_chars": max_header_chars,
        "max_encoded_words": max_encoded_words,
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


class _HeaderReader:
    """Reads decoded header values, falling back to a lenient split where the modern policy fails.

    Every value is bounded (`bound_header`) before any parser sees it, and long ones go to the
    lenient decoders, whose cost grows linearly.
    """

    def __init__(self, msg: Message) -> None:
        self._msg = msg
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
        value = _LINE_BREAKS.sub("", value).replace("\x00", "")
        return bound_header(value, self._max_chars, self._max_words)

    def raw_value(self, name: str) -> str:
        """Return the header's undecoded value (encoded words intact, raw 8-bit text decoded), or ''."""
        return _fix_surrogates(self._raw(name) or "")

    def _parsed(self, name: str) -> Any:
        """The header as the modern policy parses it, with raw 8-bit bytes decoded first.

        Bytes outside an encoded word reach the parser as surrogates, which it would turn into
        U+FFFD ("Rechnung f\ufffdr"); decoding them beforehand (`_fix_surrogates`) keeps the text
        and still lets the parser decode the encoded words next to them. A value too long for
        the modern parser raises `_TooLong`, and the caller decodes it leniently.
        """
        raw = self._raw(name)
        if raw is None:
            return None
        if len(raw) > _MODERN_PARSER_MAX_CHARS:
            raise _TooLong(name)
        return email.policy.default.header_factory(name, _fix_surrogates(raw))

    def text(self, name: str) -> str:
        """Return the header decoded to one line of text, or '' when absent."""
        try:
            value = self._parsed(name)
            if value is None:
                return ""
            return _one_line(_fix_surrogates(str(value)))
        except Exception as exc:  # the modern header parser raises on some broken headers
            logger.debug("header %s needs the lenient fallback: %s", name, exc)
            return _one_line(decode_rfc2047(self.raw_value(name)))

    def addresses(self, name: str) -> list[tuple[str, str]]:
        """(display name, lower-cased address) pairs of an address header."""
        found: list[tuple[str, str]] = []
        try:
            header = self._parsed(name)
            if header is None:
                return []
            for addr in getattr(header, "addresses", ()):
                spec = _fix_surrogates(addr.addr_spec or "").strip()
                if "@" in spec:
                    found.append((_fix_surrogates(addr.display_name or ""), spec.lower()))
        except Exception as exc:  # fall through to the lenient parser below
            logger.debug("address header %s needs the lenient fallback: %s", name, exc)
            found = []
        if found:
            return found
        # The modern parser gave nothing usable: split the raw header instead, then decode names.
        raw = self.raw_value(name)
        for display, spec in getaddresses([raw]):
            spec = spec.strip()
            if "@" in spec:
                found.append((_one_line(decode_rfc2047(display)), spec.lower()))
        return found

    def fields(self, fallback_id: str) -> dict[str, Any]:
        """All `Email` header fields, keyed by field name."""
        senders = self.addresses("From")
        from_name, from_addr = senders[0] if senders else ("", "")
        if not from_addr and not from_name:
            from_name = self.text("From")
        reply_to = self.addresses("Reply-To")
        headers = {name: value for name in KEPT_HEADERS if (value := self.text(name))}
        message_id = _message_id(self.text("Message-ID"))
        return {
            "id": message_id or fallback_id,
            "message_id": message_id,
            "from_name": from_name,
            "from_addr": from_addr,
            "to": tuple(addr for _, addr in self.addresses("To")),
            "cc": tuple(addr for _, addr in self.addresses("Cc")),
            "reply_to": reply_to[0][1] if reply_to else "",
            "subject": self.text("Subject"),
            "date": _iso_date(self.text("Date")),
            "in_reply_to": _message_id(self.text("In-Reply-To")),
            "references": tuple(_message_ids(self.text("References"))),
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


def _message_id(value: str) -> str:
    match = re.search(r"<([^<>]*)>", value)
    inner = match.group(1) if match else value.strip("<> \t")
    return "".join(inner.split())


def _message_ids(value: str) -> list[str]:
    ids = ["".join(m.split()) for m in re.findall(r"<([^<>]*)>", value)]
    if not ids:
        ids = [token.strip("<>") for token in value.split()]
    return [i for i in ids if i]


def _iso_date(value: str) -> str:
    if not value:
        return ""
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return ""
    if parsed.tzinfo is None:
        # "-0000" means "offset unknown"; UTC is the honest reading.
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.isoformat()


_SURROGATE_RUN = re.compile("[\udc80-\udcff]+")


def _has_surrogates(value: str) -> bool:
    return _SURROGATE_RUN.search(value) is not None


def _fix_surrogates(value: str) -> str:
    """Decode raw 8-bit header bytes that the parser smuggled through as surrogates.

    Headers should be ASCII (non-ASCII text goes in RFC 2047 encoded words), but many mailers
    write raw bytes in their own charset, and say nothing about which. Each run of such bytes is
    read on its own: as UTF-8 when it is valid UTF-8, else as windows-1252 (a superset of
    Latin-1 for text), so one header can mix an encoded word, a UTF-8 name and a Latin-1 word.
    """
    return _SURROGATE_RUN.sub(
        lambda run: decode_8bit(run.group().encode("utf-8", "surrogateescape")), value
    )


def decode_8bit(data: bytes) -> str:
    """Bytes in an unknown charset: UTF-8 when valid, else windows-1252, else Latin-1 (never fails)."""
    for codec in ("utf-8", "cp1252"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _one_line(value: object) -> str:
    return " ".join(str(value).replace("\x00", "").split())


# --------------------------------------------------------------------------- charsets

_SINGLE_BYTE_PREFIXES = ("ascii", "iso8859", "latin", "cp125", "cp437", "cp850", "koi8", "mac-")


def _codec_name(charset: str | None) -> str | None:
    if not charset:
        return None
    name = charset.strip().strip("\"'").lower()
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return None


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode text bytes: declared charset, then UTF-8, then cp1252 with replacement.

    Never raises. A single-byte declared charset (latin-1, ascii, cp1252...) cannot detect that
    it is wrong, so valid non-ASCII UTF-8 is preferred over it: mislabelled UTF-8 is far more
    common than latin-1 text that happens to be valid UTF-8. ISO-8859-1 is read as cp1252, as
    browsers do, so the euro sign and curly quotes that mailers put in "latin-1" text survive.
    """
    codec = _codec_name(charset)
    candidates: list[str] = []
    if codec is None or codec.startswith(_SINGLE_BYTE_PREFIXES):
        if not data.isascii():
            candidates.append("utf-8")
        if codec == "iso8859-1":
            candidates.append("cp1252")
    if codec is not None:
        candidates.append(codec)
    candidates.extend(["utf-8", "cp1252"])
    for candidate in dict.fromkeys(candidates):
        try:
            text = data.decode(candidate)
        except (UnicodeError, LookupError):
            continue
        return text.removeprefix("\ufeff")
    return data.decode("cp1252", errors="replace")


# --------------------------------------------------------------------------- body


class _BodyWalker:
    """Walks the MIME tree once, collecting body text and attachment descriptions.

    The parser has already bounded the tree's depth and size; the walker bounds the decoded
    text and checks the deadline at every part.
    """

    def __init__(
        self, limits: ParseLimits = DEFAULT_LIMITS, deadline: Deadline | None = None
    ) -> None:
        self.parts: list[str] = []
        self.attachments: list[Attachment] = []
        self._limits = limits
        self._deadline = deadline or Deadline(limits.max_seconds)
        self._text_bytes = 0

    def text(self) -> str:
        return "\n\n".join(p.strip("\n") for p in self.parts if p.strip())

    def walk(self, part: Message) -> None:
        self._deadline.check()
        _check_structure(part)
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global"):
            self.attachments.append(_forwarded_attachment(part))
            return
        if part.is_multipart():
            children = [p for p in part.get_payload() if isinstance(p, Message)]  # type: ignore[union-attr]
            if ctype == "multipart/alternative":
                chosen = _choose_alternative(children, self._limits)
                children = [chosen] if chosen is not None else []
            for child in children:
                self.walk(child)
            return
        if _is_attachment(part):
            self.attachments.append(_leaf_attachment(part))
            return
        text = _part_text(part, self._count_text)
        if ctype == "text/html":
            text = html_to_text(text, self._limits, self._deadline)
        self.parts.append(text)

    def _count_text(self, size: int) -> None:
        """Add a text part's decoded size to the body's; past the limit, the message is refused."""
        self._text_bytes += size
        if self._text_bytes > self._limits.max_text_bytes:
            raise ParseLimitError(
                "body too large: its text decodes to more than "
                f"{size_text(self._limits.max_text_bytes)}"
            )


def _check_structure(part: Message) -> None:
    """Raise `_Unreadable` when the part's own defects mean its content cannot be trusted."""
    defects = part.defects
    if any(isinstance(d, email.errors.StartBoundaryNotFoundDefect) for d in defects):
        boundary = part.get_boundary() or ""
        raise _Unreadable(
            f"malformed MIME: multipart boundary '{boundary}' never appears in the body"
        )
    if any(isinstance(d, email.errors.NoBoundaryInMultipartDefect) for d in defects):
        raise _Unreadable("malformed MIME: multipart message declares no boundary")
    if any(isinstance(d, email.errors.MultipartInvariantViolationDefect) for d in defects):
        raise _Unreadable("malformed MIME: multipart message has no readable parts")
    for defect in defects:
        logger.debug("cosmetic MIME defect in %s part: %r", part.get_content_type(), defect)


def _is_attachment(part: Message) -> bool:
    if part.get_content_disposition() == "attachment":
        return True
    if part.get_content_type() in ("text/plain", "text/html"):
        return False
    # Everything else — images (inline or not), other text/* such as calendars, binaries — is
    # described, never inlined into the body.
    return True


def _leaf_attachment(part: Message) -> Attachment:
    return Attachment(
        filename=_filename(part), content_type=part.get_content_type(), size=_decoded_size(part)
    )


def _decoded_size(part: Message) -> int:
    """An attachment's decoded size; for base64, counted from the text without decoding it.

    Attachments are described, never read, so a 20 MB file costs no 20 MB copy. Base64 with
    characters outside its alphabet gives an approximate size, as its decoder skips them.
    """
    payload = part.get_payload()
    if not isinstance(payload, str):
        return 0
    if str(part.get("Content-Transfer-Encoding", "")).strip().lower() == "base64":
        letters = len(payload) - sum(payload.count(c) for c in "\r\n \t")
        return max(0, letters * 3 // 4 - payload.count("="))
    try:
        decoded = part.get_payload(decode=True)
    except Exception as exc:  # a broken attachment must not cost the message its body
        logger.debug("attachment payload could not be decoded: %s", exc)
        return 0
    return len(decoded) if isinstance(decoded, bytes) else 0


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception as exc:  # malformed RFC 2231 parameters
        logger.debug("attachment filename unreadable: %s", exc)
        name = None
    if not name:
        try:
            name = part.get_param("name")  # type: ignore[assignment]
        except Exception as exc:  # same malformed-parameter cases as above
            logger.debug("attachment name parameter unreadable: %s", exc)
            name = None
        if isinstance(name, tuple):
            name = email.utils.collapse_rfc2231_value(name)
    if not name:
        return "unnamed"
    return _one_line(decode_rfc2047(_fix_surrogates(str(name))))


def _forwarded_attachment(part: Message) -> Attachment:
    inner = part.get_payload(0) if part.is_multipart() else None
    subject = ""
    size = 0
    if isinstance(inner, Message):
        try:
            subject = _HeaderReader(inner).text("Subject")
        except Exception as exc:  # broken subject header on the forwarded copy
            logger.debug("forwarded message subject unreadable: %s", exc)
        try:
            buffer = io.BytesIO()
            BytesGenerator(buffer, policy=email.policy.compat32).flatten(inner)
            size = len(buffer.getvalue())
        except Exception as exc:  # the size is informative only
            logger.debug("forwarded message could not be re-serialised: %s", exc)
    else:
        payload = part.get_payload(decode=True)
        size = len(payload) if isinstance(payload, bytes) else 0
    return Attachment(
        filename=subject or _FORWARDED_NAME, content_type=part.get_content_type(), size=size
    )


def _choose_alternative(children: list[Message], limits: ParseLimits) -> Message | None:
    """Pick the plain-text alternative when it has text, else HTML, else the richest part."""
    if not children:
        return None
    for wanted in ("text/plain", "text/html"):
        for child in children:
            if _has_text(child, wanted, limits):
                return child
    return children[-1]


def _has_text(part: Message, ctype: str, limits: ParseLimits) -> bool:
    if part.get_content_type() in ("message/rfc822", "message/global"):
        return False
    if part.is_multipart():
        children = part.get_payload()
        return any(isinstance(c, Message) and _has_text(c, ctype, limits) for c in children)  # type: ignore[union-attr]
    if part.get_content_type() != ctype or _is_attachment(part):
        return False
    raw = part.get_payload()
    if isinstance(raw, str) and len(raw) > 2 * limits.max_text_bytes:
        return True  # chosen, and refused as too large by the walk, without decoding it twice
    try:
        return bool(_part_text(part).strip())
    except _Unreadable:
        # Let the walk report it if this part ends up chosen anyway.
        return False


def _part_text(part: Message, count: Callable[[int], None] | None = None) -> str:
    """The part's text, decoded; `count` is told its decoded size before any text is made of it."""
    payload = part.get_payload(decode=True)
    if any(isinstance(d, email.errors.InvalidBase64LengthDefect) for d in part.defects):
        raise _Unreadable("body could not be decoded: invalid base64")
    if not isinstance(payload, bytes):
        return ""
    if count is not None:
        count(len(payload))
    text = decode_bytes(payload, part.get_content_charset())
    params = {k.lower(): str(v).lower() for k, v in part.get_params() or () if isinstance(v, str)}
    if part.get_content_type() == "text/plain" and params.get("format") == "flowed":
        text = unflow(text, delsp=params.get("delsp") == "yes")
    return text


def unflow(text: str, *, delsp: bool = False) -> str:
    """Join RFC 3676 format=flowed soft line breaks back into paragraphs."""
    out: list[str] = []
    pending: str | None = None
    pending_depth = 0
    for line in text.replace("\r\n", "\n").split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing
        if pending is not None and depth != pending_depth:
            out.append(">" * pending_depth + (" " if pending_depth else "") + pending)
            pending = None
        joined = content if pending is None else pending + content
        if content.endswith(" ") and content.rstrip() != "--":
            pending = joined[:-1] if delsp else joined
            pending_depth = depth
            continue
        out.append(">" * depth + (" " if depth else "") + joined)
        pending = None
    if pending is not None:
        out.append(">" * pending_depth + (" " if pending_depth else "") + pending)
    return "\n".join(out)


# --------------------------------------------------------------------------- text layout

_BLANK_RUN = re.compile(r"\n{4,}")


def normalise_text(text: str) -> str:
    """LF line endings, no trailing whitespace, at most two blank lines in a row."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = _BLANK_RUN.sub("\n\n\n", text)
    return text.strip("\n")


_ATTRIBUTION = re.compile(
    r"^(on|am|le|el|il|op)\b.*\b(wrote|schrieb|a écrit|escribió|ha scritto|schreef)\s*:$", re.I
)
_ATTRIBUTION_START = re.compile(r"^(on|am|le|el|il|op)\s", re.I)
_ATTRIBUTION_END = re.compile(r"\b(wrote|schrieb|a écrit|escribió|ha scritto|schreef)\s*:$", re.I)
_ORIGINAL_MESSAGE = re.compile(r"^-{2,}\s*original message\s*-{2,}$", re.I)
_OUTLOOK_RULE = re.compile(r"^_{10,}$")
_OUTLOOK_FROM = re.compile(r"^(from|von|de)\s*:", re.I)
_OUTLOOK_SENT = re.compile(r"^(sent|gesendet|envoyé)\s*:", re.I)


def _is_quoted(line: str) -> bool:
    return line.startswith(">")


def _attribution_len(lines: list[str], i: int) -> int:
    """How many lines (0, 1 or 2) of an "On ... wrote:" attribution start at `i`."""
    if _ATTRIBUTION.match(lines[i]):
        return 1
    if (
        i + 1 < len(lines)
        and _ATTRIBUTION_START.match(lines[i])
        and _ATTRIBUTION_END.search(lines[i + 1])
        and not _is_quoted(lines[i + 1])
    ):
        return 2  # mailers wrap long attributions onto a second line
    return 0


def _outlook_start(lines: list[str]) -> int | None:
    """Index where an Outlook-style quoted original begins, if any."""
    for i, line in enumerate(lines):
        if _ORIGINAL_MESSAGE.match(line):
            return i
        if _OUTLOOK_FROM.match(line) and any(
            _OUTLOOK_SENT.match(nxt) for nxt in lines[i + 1 : i + 4]
        ):
            start = i
            # Include the underscore rule Outlook puts above the header block.
            j = i - 1
            while j >= 0 and not lines[j]:
                j -= 1
            if j >= 0 and _OUTLOOK_RULE.match(lines[j]):
                start = j
            return start
    return None


def _next_quoted(lines: list[str], i: int) -> int | None:
    """Index of the next `>` line at or after `i` if only blank lines come before it."""
    while i < len(lines) and not lines[i]:
        i += 1
    return i if i < len(lines) and _is_quoted(lines[i]) else None


def mark_quotes_and_signature(text: str) -> str:
    """Wrap quoted replies and signatures in the model's markers; keep all text verbatim.

    Quoted replies are runs of `>` lines, together with an "On ... wrote:" attribution right
    above them, and an Outlook "-----Original Message-----" or "From:/Sent:" block through to
    the end. A signature runs from a "-- " (or "--") line to the end of its stretch of
    unquoted text.
    """
    lines = text.split("\n")
    outlook = _outlook_start(lines)
    tail: list[str] = []
    if outlook is not None:
        tail = lines[outlook:]
        lines = lines[:outlook]
        while lines and not lines[-1]:
            lines.pop()

    # Split into alternating unquoted segments and quote blocks.
    blocks: list[tuple[bool, list[str]]] = []
    current: list[str] = []
    i = 0
    while i < len(lines):
        start = i
        attribution = _attribution_len(lines, i)
        if attribution:
            first = _next_quoted(lines, i + attribution)
            if first is None:
                attribution = 0
        if attribution or _is_quoted(lines[i]):
            i = start + attribution
            end = i
            while (nxt := _next_quoted(lines, i)) is not None:
                i = nxt + 1
                while i < len(lines) and _is_quoted(lines[i]):
                    i += 1
                end = i
            blocks.append((False, current))
            blocks.append((True, lines[start:end]))
            current = []
            i = end
            continue
        current.append(lines[i])
        i += 1
    blocks.append((False, current))
    if tail:
        blocks.append((True, tail))

    out: list[str] = []
    for quoted, block in blocks:
        if not block:
            continue
        if quoted:
            out.extend([QUOTE_START, *block, QUOTE_END])
        else:
            out.extend(_mark_signature(block))
    return "\n".join(out)


def _mark_signature(block: list[str]) -> list[str]:
    for i, line in enumerate(block):
        if line == "--":  # "-- " once trailing whitespace is gone
            body = block[:i]
            signature = block[i:]
            trailing: list[str] = []
            while signature and not signature[-1]:
                trailing.insert(0, signature.pop())
            return [*body, SIGNATURE_START, *signature, SIGNATURE_END, *trailing]
    return block
