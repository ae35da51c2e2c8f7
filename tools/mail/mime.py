"""Turn raw RFC 5322 bytes into a normalised `Email`, whatever state the message is in.

Real mailboxes hold broken, mislabelled and hostile messages; this module is the one place
that copes with them, so everything downstream can rely on clean text and a clear `error`.
The pieces live beside it: `headers` (bounded header reading), `charsets`, `body_parts`
(the MIME tree) and `text_layout` (quotes and signatures).
"""

from __future__ import annotations

import hashlib
import logging
from email.message import Message
from typing import Any

from tools.mail.body_parts import BodyWalker, Unreadable
from tools.mail.header_values import bare_message_id
from tools.mail.headers import (
    HeaderReader,
    header_block_end,
    one_line,
    parse_bytes,
)
from tools.mail.limits import (
    DEFAULT_LIMITS,
    TRUNCATED_MARKER,
    Deadline,
    ParseLimitError,
    ParseLimits,
    size_text,
)
from tools.mail.model import (
    EMPTY_BODY_MARKER,
    Email,
)
from tools.mail.plain_body import plain_body
from tools.mail.plain_headers import HeaderLines
from tools.mail.plain_mime import MAX_PARTS, MAX_VALUE, split_plain
from tools.mail.text_layout import mark_quotes_and_signature, normalise_text

logger = logging.getLogger(__name__)


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
_MAIL_NAMES = frozenset(name.lower() for name in _MAIL_HEADERS)
_PLAIN_MAX_BYTES = 1024 * 1024
"""Larger messages go to the full parser: rare, and where hostile mail is."""


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
    return _parse_within_limits(raw, data, fallback_id, base, limits)


def _parse_within_limits(
    raw: bytes, data: bytes, fallback_id: str, base: dict[str, Any], limits: ParseLimits
) -> Email:
    """`parse_email` past its first checks: the limits, the parse, the body walk."""
    key = base["key"]
    deadline = Deadline(limits.max_seconds)
    if len(raw) <= limits.max_message_bytes:
        plain = _read_plain(data, fallback_id, base, limits, deadline)
        if plain is not None:
            return plain
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
        walker = BodyWalker(limits, deadline)
        walker.walk(msg)
        body = _body(walker.text(), limits, deadline)
    except Unreadable as exc:
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


def _read_plain(
    data: bytes, fallback_id: str, base: dict[str, Any], limits: ParseLimits, deadline: Deadline
) -> Email | None:
    """The message read by the fast path (`plain_mime`), or None when it is not one of its shapes.

    Only within limits the fast path cannot break: no larger than the text limit, no deeper
    than one multipart of leaves, fewer parts than the part limit, no Content-* header the
    header limit would cut.
    """
    if (
        len(data) > min(limits.max_text_bytes, _PLAIN_MAX_BYTES)
        or limits.max_depth < 2
        or limits.max_parts < MAX_PARTS
        or limits.max_header_chars < MAX_VALUE
    ):
        return None
    message = split_plain(data, limits, limits.max_header_bytes)
    if message is None or not any(name.lower() in _MAIL_NAMES for name, _ in message.headers):
        return None
    fields = _fields(message, fallback_id, base["key"])
    try:
        text, attachments = plain_body(message, limits, deadline)
        body = _body(text, limits, deadline)
    except Unreadable as exc:
        return Email(error=str(exc), **fields, **base)
    except ParseLimitError as exc:
        logger.warning("message %s: %s", base["key"], exc)
        return Email(error=str(exc), **fields, **base)
    is_empty = not body.strip()
    return Email(
        body=EMPTY_BODY_MARKER if is_empty else body,
        body_is_empty=is_empty,
        attachments=tuple(attachments),
        **fields,
        **base,
    )


def _exception_line(exc: BaseException) -> str:
    """An unexpected exception as one short line: its type and the start of its message."""
    text = one_line(exc)
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def _check_is_mail(msg: Message) -> None:
    """Raise `Unreadable` for a file that is not an e-mail at all."""
    if not msg.keys():
        raise Unreadable("not an email: no headers could be parsed")
    if not any(name in msg for name in _MAIL_HEADERS):
        raise Unreadable(
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


def _fields(msg: HeaderLines, fallback_id: str, key: str) -> dict[str, Any]:
    try:
        return HeaderReader(msg).fields(fallback_id)
    except Exception as exc:  # a header bug must not lose the whole message
        logger.warning("headers of message %s could not be read: %s", key, one_line(exc))
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
        return bare_message_id(HeaderReader(msg).text("Message-ID"))
    except Exception as exc:  # broken headers: the caller reads the whole message instead
        logger.debug("Message-ID could not be read from headers: %s", exc)
        return ""
