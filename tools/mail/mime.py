"""Turn raw RFC 5322 bytes into a normalised `Email`, whatever state the message is in.

Real mailboxes hold broken, mislabelled and hostile messages; this module is the one place
that copes with them, so everything downstream can rely on clean text and a clear `error`.
"""

from __future__ import annotations

import codecs
import email
import email.errors
import email.policy
import email.utils
import hashlib
import io
import logging
import re
from datetime import UTC
from email.generator import BytesGenerator
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

import html2text

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


def parse_email(raw: bytes, *, source: str, folder: str, key: str) -> Email:
    """Parse one raw message into an `Email`; never raises for bad input.

    A message that cannot be read comes back with `error` set to a one-line reason, an empty
    body, and whatever headers could still be read. The parser's defect reports decide that:

    Fatal (the body cannot be trusted, so `error` is set):
        * `StartBoundaryNotFoundDefect` — the declared multipart boundary never appears.
        * `NoBoundaryInMultipartDefect` — a multipart type with no boundary parameter.
        * `MultipartInvariantViolationDefect` — multipart type, but no parts could be split out.
        * `InvalidBase64LengthDefect` on a text part that makes up the body — the text is lost.
        * No headers at all, or none of the usual mail headers — this is not an e-mail.

    Cosmetic (logged at debug level, the message is read normally):
        * `CloseBoundaryNotFoundDefect` — every part was still split out; mail clients show
          such messages without complaint, so rejecting them would hide real mail.
        * `InvalidBase64PaddingDefect` / `InvalidBase64CharactersDefect` — the decoder repairs
          these; `InvalidBase64LengthDefect` on an attachment only makes its size approximate.
        * Header-level defects (missing MIME-Version, bad addresses, undecodable bytes,
          misplaced "From " lines, missing header/body separator after some headers): the
          affected header is read as well as possible and the rest of the message is intact.
        * Unknown or wrong charsets: text is decoded with fallbacks, never rejected.
    """
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    elif not isinstance(raw, bytes):
        raw = bytes(raw)
    size = len(raw)
    fallback_id = "sha256:" + hashlib.sha256(raw).hexdigest()[:32]
    base: dict[str, Any] = {"source": source, "folder": folder, "key": key, "size": size}
    if not raw.strip():
        return Email(id=fallback_id, error="not an email: the message is empty", **base)
    # Some tools write a byte-order mark or a blank line before the headers; a parser would
    # take everything after that as body and find no headers at all.
    data = raw.removeprefix(b"\xef\xbb\xbf").lstrip(b"\r\n")
    try:
        msg = email.message_from_bytes(data, policy=email.policy.default)
    except Exception as exc:  # the stdlib parser is lenient, but a crash must not end a fetch
        logger.warning("message %s could not be parsed: %s", key, exc, exc_info=True)
        return Email(id=fallback_id, error=f"could not be parsed: {_one_line(exc)}", **base)

    reader = _HeaderReader(msg)
    fields: dict[str, Any]
    try:
        fields = reader.fields(fallback_id)
    except Exception as exc:  # a header bug must not lose the whole message
        logger.warning("headers of message %s could not be read: %s", key, exc, exc_info=True)
        fields = {"id": fallback_id}

    if not msg.keys():
        return Email(error="not an email: no headers could be parsed", **fields, **base)
    if not any(name in msg for name in _MAIL_HEADERS):
        return Email(
            error="not an email: none of the usual mail headers (From, To, Subject, Date) are present",
            **fields,
            **base,
        )

    try:
        walker = _BodyWalker()
        walker.walk(msg)
        text = walker.text()
    except _Unreadable as exc:
        return Email(error=str(exc), **fields, **base)
    except Exception as exc:  # unexpected structure: report it on the message, keep the fetch going
        logger.warning("body of message %s could not be read: %s", key, exc, exc_info=True)
        return Email(
            error=f"body could not be read: {_one_line(exc)}",
            **fields,
            **base,
        )

    body = mark_quotes_and_signature(normalise_text(text))
    is_empty = not body.strip()
    return Email(
        body=EMPTY_BODY_MARKER if is_empty else body,
        body_is_empty=is_empty,
        attachments=tuple(walker.attachments),
        **fields,
        **base,
    )


def message_id_of(raw_headers: bytes) -> str:
    """The id `parse_email` would give a message with these headers; '' without a Message-ID.

    Lets a source tell whether a message is already cached from its headers alone.
    """
    data = raw_headers.removeprefix(b"\xef\xbb\xbf").lstrip(b"\r\n")
    try:
        msg = email.message_from_bytes(data, policy=email.policy.default)
        return _message_id(_HeaderReader(msg).text("Message-ID"))
    except Exception as exc:  # broken headers: the caller reads the whole message instead
        logger.debug("Message-ID could not be read from headers: %s", exc)
        return ""


# --------------------------------------------------------------------------- headers


class _HeaderReader:
    """Reads decoded header values, falling back to a lenient split where the modern policy fails."""

    def __init__(self, msg: Message) -> None:
        self._msg = msg

    def _raw(self, name: str) -> str | None:
        """The first `name` header as stored, raw 8-bit bytes still surrogates; None if absent."""
        for key, value in self._msg.raw_items():
            if key.lower() == name.lower():
                return str(value)
        return None

    def raw_value(self, name: str) -> str:
        """Return the header's undecoded value (encoded words intact, raw 8-bit text decoded), or ''."""
        return _fix_surrogates(self._raw(name) or "")

    def _parsed(self, name: str) -> Any:
        """The header as the modern policy parses it, with raw 8-bit bytes decoded first.

        Bytes outside an encoded word reach the parser as surrogates, which it would turn into
        U+FFFD ("Rechnung f\ufffdr"); decoding them beforehand (`_fix_surrogates`) keeps the text
        and still lets the parser decode the encoded words next to them.
        """
        raw = self._raw(name)
        if raw is None or not _has_surrogates(raw):
            return self._msg.get(name)
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
        return {
            "id": _message_id(self.text("Message-ID")) or fallback_id,
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
    return " ".join(str(value).split())


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
    """Walks the MIME tree once, collecting body text and attachment descriptions."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.attachments: list[Attachment] = []

    def text(self) -> str:
        return "\n\n".join(p.strip("\n") for p in self.parts if p.strip())

    def walk(self, part: Message) -> None:
        _check_structure(part)
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global"):
            self.attachments.append(_forwarded_attachment(part))
            return
        if part.is_multipart():
            children = [p for p in part.get_payload() if isinstance(p, Message)]  # type: ignore[union-attr]
            if ctype == "multipart/alternative":
                chosen = _choose_alternative(children)
                children = [chosen] if chosen is not None else []
            for child in children:
                self.walk(child)
            return
        if _is_attachment(part):
            self.attachments.append(_leaf_attachment(part))
            return
        text = _part_text(part)
        if ctype == "text/html":
            text = html_to_text(text)
        self.parts.append(text)


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
    try:
        payload = part.get_payload(decode=True)
    except Exception as exc:  # a broken attachment must not cost the message its body
        logger.debug("attachment payload could not be decoded: %s", exc)
        payload = None
    size = len(payload) if isinstance(payload, bytes) else 0
    return Attachment(filename=_filename(part), content_type=part.get_content_type(), size=size)


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


def _choose_alternative(children: list[Message]) -> Message | None:
    """Pick the plain-text alternative when it has text, else HTML, else the richest part."""
    if not children:
        return None
    for wanted in ("text/plain", "text/html"):
        for child in children:
            if _has_text(child, wanted):
                return child
    return children[-1]


def _has_text(part: Message, ctype: str) -> bool:
    if part.get_content_type() in ("message/rfc822", "message/global"):
        return False
    if part.is_multipart():
        children = part.get_payload()
        return any(isinstance(c, Message) and _has_text(c, ctype) for c in children)  # type: ignore[union-attr]
    if part.get_content_type() != ctype or _is_attachment(part):
        return False
    try:
        return bool(_part_text(part).strip())
    except _Unreadable:
        # Let the walk report it if this part ends up chosen anyway.
        return False


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if any(isinstance(d, email.errors.InvalidBase64LengthDefect) for d in part.defects):
        raise _Unreadable("body could not be decoded: invalid base64")
    if not isinstance(payload, bytes):
        return ""
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


# --------------------------------------------------------------------------- HTML

_DROP_BLOCKS = re.compile(r"<(script|style|head|title|noscript)\b[^>]*>.*?</\1\s*>", re.I | re.S)
_COMMENTS = re.compile(r"<!--.*?(?:-->|$)", re.S)
_CELL_END = re.compile(r"</t[dh]\s*>", re.I)
_PIPES = re.compile(r"(?:[ \t]*\|[ \t]*){2,}")


def html_to_text(html: str) -> str:
    """Convert an HTML body to readable text: visible text and link text kept, markup dropped.

    Comments, `<script>`, `<style>` and `<head>` are removed first: they are never shown to
    the reader and are a favourite hiding place for instructions aimed at an assistant.
    Text hidden only by CSS (white or 1px text, `display:none`) is kept on purpose: deciding
    visibility needs a renderer, and the safety checks downstream should see such text rather
    than have it silently vanish. Table cells are separated with " | " so rows stay readable.
    """
    cleaned = _COMMENTS.sub("", _DROP_BLOCKS.sub("", html))
    cleaned = _CELL_END.sub(lambda m: " | " + m.group(0), cleaned)
    converter = html2text.HTML2Text()
    converter.ignore_links = True
    converter.ignore_images = True
    converter.ignore_emphasis = True
    converter.ignore_tables = True
    converter.body_width = 0
    converter.unicode_snob = True
    try:
        text = converter.handle(cleaned)
    except Exception as exc:  # html2text is sturdy, but the body must survive any HTML
        logger.debug("html2text failed, stripping tags instead: %s", exc)
        text = re.sub(r"<[^>]+>", " ", cleaned)
    lines = []
    for line in text.split("\n"):
        line = _PIPES.sub(" | ", line).strip()
        line = line.strip("|").strip()
        lines.append(line)
    return "\n".join(lines)


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
