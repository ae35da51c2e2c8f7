"""Hostile messages, made by code: every shape that once stalled, flooded or crashed a parser.

Used by the unit tests (each shape must become a row or an error row with a clear reason) and
by `bench/hostile_mail.py` (a whole inbox of them, mixed with ordinary mail). Sizes are the
ones the issue reported: a 1,000-level multipart, 20 MB parts, 10,000 parts, a 1 MB Subject,
20,000 encoded words, 20,000 unclosed `<ul><li>`, 50,000 nested `<div>`.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from dataclasses import dataclass

MB = 1024 * 1024


def headers(subject: str = "Hostile", *, message_id: str = "", extra: str = "") -> str:
    """The usual top headers, CRLF-terminated, without the blank line."""
    lines = [
        "From: Mallory <mallory@evil.example>",
        "To: me@acme.example",
        f"Subject: {subject}",
        "Date: Tue, 17 Nov 2026 09:00:00 +0000",
        f"Message-ID: <{message_id or 'hostile@evil.example'}>",
        "MIME-Version: 1.0",
    ]
    if extra:
        lines.append(extra)
    return "\r\n".join(lines) + "\r\n"


def text_message(body: bytes, ctype: str = "text/plain; charset=utf-8", **kw: str) -> bytes:
    cte = kw.pop("cte", "")
    extra = f"Content-Type: {ctype}" + (f"\r\nContent-Transfer-Encoding: {cte}" if cte else "")
    return (headers(extra=extra, **kw) + "\r\n").encode() + body


def deep_multipart(depth: int = 1_000) -> bytes:
    opening = "".join(
        f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(depth)
    )
    closing = "".join(f"\r\n--b{i}--" for i in reversed(range(depth)))
    inner = "Content-Type: text/plain\r\n\r\ndeep inside"
    return (headers("Deep") + opening + inner + closing + "\r\n").encode()


def deep_forwards(depth: int = 100) -> bytes:
    inner = b"From: a@b.example\r\nSubject: innermost\r\n\r\ninnermost text\r\n"
    for _ in range(depth):
        inner = b"From: a@b.example\r\nSubject: fwd\r\nContent-Type: message/rfc822\r\n\r\n" + inner
    return headers("Forwarded").encode() + b"Content-Type: message/rfc822\r\n\r\n" + inner


def big_attachment(size: int = 20 * MB) -> bytes:
    data = base64.encodebytes(os.urandom(size)).replace(b"\n", b"\r\n")
    return (
        (
            headers("Big attachment", extra='Content-Type: multipart/mixed; boundary="B"')
            + "\r\n--B\r\nContent-Type: text/plain\r\n\r\nThe file is attached.\r\n"
            + "--B\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
            + 'Content-Disposition: attachment; filename="big.pdf"\r\n\r\n'
        ).encode()
        + data
        + b"\r\n--B--\r\n"
    )


def big_text(size: int = 20 * MB) -> bytes:
    line = b"All work and no play makes a very long message. " * 20 + b"\r\n"
    return text_message(line * (size // len(line)), subject="Big text")


def many_parts(count: int = 10_000) -> bytes:
    parts = "".join(f"--B\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n" for i in range(count))
    return (
        headers("Many parts", extra='Content-Type: multipart/mixed; boundary="B"')
        + "\r\n"
        + parts
        + "--B--\r\n"
    ).encode()


def missing_boundary() -> bytes:
    return (
        headers("Missing boundary", extra='Content-Type: multipart/mixed; boundary="never"')
        + "\r\nno boundary ever appears\r\n"
    ).encode()


def no_boundary_parameter() -> bytes:
    return (headers("No boundary", extra="Content-Type: multipart/mixed") + "\r\nbody\r\n").encode()


def unclosed_multipart() -> bytes:
    return (
        headers("Unclosed", extra='Content-Type: multipart/mixed; boundary="B"')
        + "\r\n--B\r\nContent-Type: text/plain\r\n\r\nthe only part, never closed\r\n"
    ).encode()


def nul_bytes() -> bytes:
    return (
        b"From: Nul\x00 Sender <nul@evil.example>\r\nTo: me@acme.example\r\n"
        b"Subject: zero\x00byte\x00subject\r\nMessage-ID: <nul@evil.example>\r\n"
        b"X-Null: \x00\x00\x00\r\n\r\nbody with\x00nul bytes\x00\r\n" + b"\x00" * 10_000
    )


def huge_subject(size: int = MB) -> bytes:
    return text_message(b"The subject is too long.\r\n", subject="S" * size)


def encoded_words(count: int = 20_000, *, compact: bool = False) -> bytes:
    word = "=?utf-8?q?a?=" if compact else "=?utf-8?q?abc?= "
    return text_message(b"Look at the subject.\r\n", subject=word * count)


def many_header_fields(count: int = 100_000) -> bytes:
    fields = "".join(f"X-Field-{i}: value\r\n" for i in range(count))
    return (headers("Many fields") + fields + "\r\nbody\r\n").encode()


def nested_lists(count: int = 20_000) -> bytes:
    return text_message(b"<ul><li>item" * count, "text/html; charset=utf-8", subject="Lists")


def nested_divs(count: int = 50_000) -> bytes:
    body = b"<div>" * count + b"deep text" + b"</div>" * count
    return text_message(body, "text/html; charset=utf-8", subject="Divs")


def unterminated_tags(count: int = 200_000) -> bytes:
    return text_message(b"<p>start</p>" + b"</" * count, "text/html", subject="Tags")


def invalid_charset() -> bytes:
    body = "Grüße aus Köln".encode()
    return text_message(body, "text/plain; charset=x-no-such-charset", subject="Charset")


def base64_garbage() -> bytes:
    good = base64.encodebytes(b"Hello from base64 with garbage in between.\n").decode()
    body = ("!!!" + good[:12] + " *** " + good[12:] + "@@@\r\n").encode()
    return text_message(body, cte="base64", subject="Garbage")


def quoted_printable_soft_breaks(size: int = 3 * MB) -> bytes:
    # One logical line of `size` characters, broken softly every 70: a line of megabytes.
    chunk = b"a" * 69 + b"=\r\n"
    body = chunk * (size // 70) + b"end\r\n"
    return text_message(body, cte="quoted-printable", subject="Soft breaks")


def quoted_printable_long_line(size: int = 3 * MB) -> bytes:
    # No line break at all, not even soft ones: one physical line of megabytes.
    return text_message(b"b=3D" * (size // 4), cte="quoted-printable", subject="Long line")


@dataclass(frozen=True)
class Shape:
    """One hostile shape and the outcome it must have."""

    name: str
    build: Callable[[], bytes]
    error: str
    """How the error row's reason starts; '' when the message must be read as a normal row."""


SHAPES: tuple[Shape, ...] = (
    Shape("multipart 1,000 deep", deep_multipart, "too deeply nested: more than 20 levels"),
    Shape("forwarded 100 deep", deep_forwards, "too deeply nested: more than 20 levels"),
    Shape("20 MB attachment", big_attachment, ""),
    Shape("20 MB text part", big_text, "body too large: its text decodes to more than 4 MiB"),
    Shape("10,000 parts", many_parts, "too many parts: more than 1,000 MIME parts"),
    Shape("boundary never appears", missing_boundary, "malformed MIME: multipart boundary"),
    Shape("no boundary parameter", no_boundary_parameter, "malformed MIME: multipart message"),
    Shape("multipart never closed", unclosed_multipart, ""),
    Shape("NUL bytes", nul_bytes, ""),
    Shape("1 MB Subject", huge_subject, "headers too large: more than 256 KiB"),
    Shape("20,000 encoded words", encoded_words, "headers too large: more than 256 KiB"),
    Shape("12,000 compact encoded words", lambda: encoded_words(12_000, compact=True), ""),
    Shape("100,000 header fields", many_header_fields, "headers too large: more than 256 KiB"),
    Shape("20,000 unclosed <ul><li>", nested_lists, ""),
    Shape("50,000 nested <div>", nested_divs, ""),
    Shape("200,000 unterminated </", unterminated_tags, ""),
    Shape("invalid charset", invalid_charset, ""),
    Shape("base64 with garbage", base64_garbage, ""),
    Shape("quoted-printable, 3 MB soft-broken line", quoted_printable_soft_breaks, ""),
    Shape("quoted-printable, 3 MB without a line break", quoted_printable_long_line, ""),
)
