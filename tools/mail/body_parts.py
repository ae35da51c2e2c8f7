"""The body of a message from its MIME tree: the text to show and the attachments to name.

One walk picks the best alternative, decodes each text part, flags a part whose defects
mean its text cannot be trusted, and describes attachments without keeping their bytes.
"""

from __future__ import annotations

import email
import email.errors
import email.feedparser
import email.policy
import email.utils
import io
import logging
from collections.abc import Callable
from email.generator import BytesGenerator
from email.message import Message

from tools.mail.charsets import decode_bytes, fix_surrogates
from tools.mail.headers import HeaderReader, decode_rfc2047, one_line
from tools.mail.html_text import html_to_text
from tools.mail.limits import (
    DEFAULT_LIMITS,
    Deadline,
    ParseLimitError,
    ParseLimits,
    size_text,
)
from tools.mail.model import (
    Attachment,
)

logger = logging.getLogger(__name__)


_FORWARDED_NAME = "forwarded message"


class Unreadable(Exception):
    """Raised inside this module when the body cannot be trusted; carries the one-line reason."""


# --------------------------------------------------------------------------- body


class BodyWalker:
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
        """The text parts read so far, separated by blank lines."""
        return "\n\n".join(p.strip("\n") for p in self.parts if p.strip())

    def walk(self, part: Message) -> None:
        """Read `part` and everything under it into `parts` and `attachments`."""
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
    """Raise `Unreadable` when the part's own defects mean its content cannot be trusted."""
    defects = part.defects
    if any(isinstance(d, email.errors.StartBoundaryNotFoundDefect) for d in defects):
        boundary = part.get_boundary() or ""
        raise Unreadable(
            f"malformed MIME: multipart boundary '{boundary}' never appears in the body"
        )
    if any(isinstance(d, email.errors.NoBoundaryInMultipartDefect) for d in defects):
        raise Unreadable("malformed MIME: multipart message declares no boundary")
    if any(isinstance(d, email.errors.MultipartInvariantViolationDefect) for d in defects):
        raise Unreadable("malformed MIME: multipart message has no readable parts")
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
    return one_line(decode_rfc2047(fix_surrogates(str(name))))


def _forwarded_attachment(part: Message) -> Attachment:
    inner = part.get_payload(0) if part.is_multipart() else None
    subject = ""
    size = 0
    if isinstance(inner, Message):
        try:
            subject = HeaderReader(inner).text("Subject")
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
    except Unreadable:
        # Let the walk report it if this part ends up chosen anyway.
        return False


def _part_text(part: Message, count: Callable[[int], None] | None = None) -> str:
    """The part's text, decoded; `count` is told its decoded size before any text is made of it."""
    payload = part.get_payload(decode=True)
    if any(isinstance(d, email.errors.InvalidBase64LengthDefect) for d in part.defects):
        raise Unreadable("body could not be decoded: invalid base64")
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
