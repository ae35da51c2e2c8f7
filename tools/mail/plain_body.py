"""The body text of a message `plain_mime` split, read as `body_parts.BodyWalker` reads it.

The same choice of alternative, the same decoding of each transfer encoding and charset, the
same refusal of base64 that lost its last bytes: only the questions to the message object are
gone, since a plain part's type, charset and encoding are already known.
"""

from __future__ import annotations

import email.errors
import quopri
from email._encoded_words import decode_b  # type: ignore[import-not-found]

from tools.mail.body_parts import Unreadable, unflow
from tools.mail.charsets import decode_bytes
from tools.mail.headers import one_line
from tools.mail.html_text import html_to_text
from tools.mail.limits import Deadline, ParseLimits
from tools.mail.model import Attachment
from tools.mail.plain_mime import TEXT_TYPES, PlainMessage, PlainPart


def plain_body(
    message: PlainMessage, limits: ParseLimits, deadline: Deadline
) -> tuple[str, list[Attachment]]:
    """The body text of `message`, before layout, and its attachments.

    Raises `Unreadable` or `ParseLimitError` as the walker does. The message is no larger than
    `limits.max_text_bytes`, so its text parts together cannot pass that limit.
    """
    deadline.check()
    parts = message.parts
    chosen_text = None
    if message.multipart == "multipart/alternative":
        chosen, chosen_text = _choose_alternative(parts)
        parts = [chosen]
    texts: list[str] = []
    attachments: list[Attachment] = []
    for part in parts:
        if message.multipart:
            deadline.check()
        if not part.is_text:
            attachments.append(_attachment(part))
            continue
        text = chosen_text if chosen_text is not None else _part_text(part)
        if part.content_type == "text/html":
            text = html_to_text(text, limits, deadline)
        texts.append(text)
    return "\n\n".join(t.strip("\n") for t in texts if t.strip()), attachments


def _attachment(part: PlainPart) -> Attachment:
    """The attachment as `body_parts` describes it: name, type, decoded size."""
    name = part.filename.strip() or next(
        (value.strip() for key, value in part.params if key == "name"), ""
    )
    return Attachment(
        filename=one_line(name) or "unnamed", content_type=part.content_type, size=_size(part)
    )


def _size(part: PlainPart) -> int:
    """The decoded size, counted as `body_parts._decoded_size` counts it."""
    payload = part.payload
    if part.encoding == "base64":
        letters = len(payload) - sum(payload.count(c) for c in (b"\r", b"\n", b" ", b"\t"))
        return max(0, letters * 3 // 4 - payload.count(b"="))
    if part.encoding == "quoted-printable":
        return len(quopri.decodestring(payload))
    return len(payload)


def _choose_alternative(parts: list[PlainPart]) -> tuple[PlainPart, str | None]:
    """The plain-text alternative when it has text, else the HTML one, else the last.

    With the chosen part's text when choosing it decoded it (None for the last, fallen back
    to), so it is not decoded twice.
    """
    for wanted in TEXT_TYPES:
        for part in parts:
            if part.content_type != wanted or not part.is_text:
                continue
            try:
                text = _part_text(part)
            except Unreadable:
                continue  # the walk reports it if this part ends up chosen anyway
            if text.strip():
                return part, text
    return parts[-1], None


def _part_text(part: PlainPart) -> str:
    """The part's text, decoded as `Message.get_payload(decode=True)` and the walker do."""
    payload = part.payload
    if part.encoding == "quoted-printable":
        payload = quopri.decodestring(payload)
    elif part.encoding == "base64":
        payload, defects = decode_b(b"".join(payload.splitlines()))
        if any(isinstance(d, email.errors.InvalidBase64LengthDefect) for d in defects):
            raise Unreadable("body could not be decoded: invalid base64")
    text = decode_bytes(payload, part.charset)
    params = dict(part.params)
    if part.content_type == "text/plain" and params.get("format", "").lower() == "flowed":
        text = unflow(text, delsp=params.get("delsp", "").lower() == "yes")
    return text
