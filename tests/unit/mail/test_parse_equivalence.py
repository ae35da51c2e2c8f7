"""The faster parse stores what the standard library's reading stored, message for message.

Three shortcuts make a first fetch cheaper: the common shapes are read without the feed parser
(`plain_mime`, compared on more messages in `test_plain_mime.py`), the Date header is read
without the modern header parser's token tree (`HeaderReader.date_text`) and parsed once
(`HeaderReader.iso_date`), and each MIME part
works out its content type once (`ParsedMessage`). Here every generated template, broken MIME, latin-1, base64, quoted-
printable and HTML-only mail, hostile shapes and odd Date and Content-Type headers are parsed
both ways; the cache rows and the rules' triage must be the same.
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import pytest

from bench.mailgen import MailFactory
from graph.engines.triage import triage_by_rules
from memory.mail_rows import email_row
from tests.hostile_mime import SHAPES
from tools.mail import headers, mime
from tools.mail.header_values import iso_date
from tools.mail.headers import HeaderReader, parse_bytes
from tools.mail.limits import DEFAULT_LIMITS, Deadline
from tools.mail.mime import parse_email
from tools.mail.mime_message import ParsedMessage
from tools.mail.model import Email

ODD_DATES = [
    "Tue, 17 Nov 2026 09:00:00 +0000",
    "17 Nov 2026 09:00 -0000",
    "Tue, 17 Nov 26 09:00:00 GMT",
    "Tue, 17 Nov 2026 09:00:00 +0530 (IST)",
    "Tue,\r\n 17 Nov 2026 09:00:00 -0030",
    "Tue, 17 Nov 2026 09:00:00 +9999",
    "Tue, 31 Feb 2026 09:00:00 +0000",
    "Tue, 17 Nov 99999 09:00:00 +0000",
    "Fri, 31 Dec 9999 23:59:59 -1200",
    "=?utf-8?q?Tue=2C_17_Nov_2026_09=3A00=3A00_+0000?=",
    "\xe9t\xe9 17 Nov 2026 09:00:00 +0000",
    "Tue, 17 Nov 2026 09:00:00 " + "x" * 3000,
    "2026-11-17T09:00:00Z",
    "garbage",
    " ",
    "",
]
ODD_CONTENT_TYPES = [
    "TEXT/PLAIN; CHARSET=ISO-8859-1",
    "text/plain (comment); charset=utf-8",
    "text/plain;\r\n charset=utf-8; format=flowed; delsp=yes",
    "text/plain; charset==?utf-8?q?x?=",
    "text",
    'application/octet-stream; name="a;b.txt"',
    "image/png; name*=utf-8''%E2%82%AC.png",
    'text/plain; name="=?utf-8?b?w6kudHh0?="',
    "multipart/mixed",
    "multipart/digest; boundary=D",
]


def _odd_messages() -> list[bytes]:
    found = []
    for number, date in enumerate(ODD_DATES):
        found.append(
            f"From: a@b.example\r\nSubject: date {number}\r\nDate: {date}\r\n\r\nbody\r\n".encode(
                "latin-1"
            )
        )
    for number, ctype in enumerate(ODD_CONTENT_TYPES):
        found.append(
            (
                f"From: a@b.example\r\nSubject: type {number}\r\nMIME-Version: 1.0\r\n"
                'Content-Type: multipart/mixed; boundary="XX"\r\n\r\n--XX\r\n'
                "Content-Type: text/plain\r\n\r\nfirst\r\n--XX\r\n"
                f"Content-Type: {ctype}\r\n\r\n--D\r\n\r\nsecond caf\xe9\r\n--D--\r\n--XX--\r\n"
            ).encode("latin-1")
        )
    return found


def _corpus() -> list[bytes]:
    factory = MailFactory(seed=26)
    generated = [factory.message()[1] for _ in range(400)]
    # Every template is in: the rarest (broken MIME, incidents) come up a few times in 400.
    assert all(factory.stats[kind] for kind, _, _ in factory.kinds)
    assert factory.stats["base64 text"]
    small = [shape.build() for shape in SHAPES if "MB" not in shape.name]
    return generated + small + _odd_messages()


def _parse_the_old_way(monkeypatch: pytest.MonkeyPatch, raw: bytes) -> Email:
    """`parse_email` with the standard library's parser, message class and reading of Date."""
    policy = headers._policy(DEFAULT_LIMITS.max_header_chars, DEFAULT_LIMITS.max_encoded_words)
    standard = policy.clone(message_factory=EmailMessage)
    with monkeypatch.context() as patch:
        patch.setattr(mime, "_read_plain", lambda *args: None)
        patch.setattr(headers, "_policy", lambda chars, words: standard)
        patch.setattr(HeaderReader, "date_text", lambda reader: reader.text("Date"))
        patch.setattr(HeaderReader, "iso_date", lambda reader: iso_date(reader.text("Date")))
        return parse_email(raw, source="maildir:test", folder="INBOX", key="k")


def _stored(email: Email) -> dict[str, Any]:
    return email_row(email, email.id, "2026-12-03T00:00:00+00:00")


def test_every_message_is_stored_and_triaged_as_the_standard_reading_did(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    corpus = _corpus()
    new = [parse_email(raw, source="maildir:test", folder="INBOX", key="k") for raw in corpus]
    old = [_parse_the_old_way(monkeypatch, raw) for raw in corpus]
    for before, after in zip(old, new, strict=True):
        assert _stored(after) == _stored(before)
        assert triage_by_rules(after) == triage_by_rules(before)
    # The corpus reads dates, attachments, errors and HTML-only bodies, not only the easy case.
    assert sum(bool(e.date) for e in new) > 400
    assert sum(not e.date for e in new) >= 5
    assert any(e.attachments for e in new)
    assert any(e.error for e in new)
    assert any("\xe9" in e.body for e in new)


@pytest.mark.parametrize("date", ODD_DATES)
def test_a_date_reads_as_the_modern_parser_reads_it(date: str) -> None:
    raw = f"From: a@b.example\r\nDate: {date}\r\n\r\nbody\r\n".encode("latin-1")
    msg = parse_bytes(raw, DEFAULT_LIMITS, Deadline(DEFAULT_LIMITS.max_seconds))
    reader = HeaderReader(msg)
    assert reader.date_text() == reader.text("Date")


@pytest.mark.parametrize("date", ODD_DATES)
def test_a_date_parsed_once_is_the_date_the_modern_parser_reads(date: str) -> None:
    raw = f"From: a@b.example\r\nDate: {date}\r\n\r\nbody\r\n".encode("latin-1")
    msg = parse_bytes(raw, DEFAULT_LIMITS, Deadline(DEFAULT_LIMITS.max_seconds))
    reader = HeaderReader(msg)
    assert reader.iso_date() == iso_date(reader.text("Date"))


def test_a_message_without_a_date_reads_none() -> None:
    msg = parse_bytes(b"From: a@b.example\r\n\r\nbody\r\n", DEFAULT_LIMITS, Deadline(10))
    assert HeaderReader(msg).date_text() == ""


def test_a_parsed_part_is_a_parsed_message() -> None:
    raw = _odd_messages()[len(ODD_DATES)]
    msg = parse_bytes(raw, DEFAULT_LIMITS, Deadline(DEFAULT_LIMITS.max_seconds))
    assert all(isinstance(part, ParsedMessage) for part in msg.walk())


def test_a_changed_header_changes_the_remembered_content_type() -> None:
    """Every way of changing a header or the default type forgets the type worked out before."""
    msg = ParsedMessage()
    assert msg.get_content_type() == "text/plain"
    msg.set_default_type("message/rfc822")
    assert msg.get_content_type() == "message/rfc822"
    msg["Content-Type"] = "text/html"
    assert msg.get_content_type() == "text/html"
    msg.replace_header("Content-Type", "image/png")
    assert msg.get_content_type() == "image/png"
    msg.set_type("text/calendar")
    assert msg.get_content_maintype() == "text"
    assert msg.get_content_subtype() == "calendar"
    del msg["Content-Type"]
    assert msg.get_content_type() == "message/rfc822"
    msg.set_raw("Content-Type", "application/pdf")
    assert msg.get_content_type() == "application/pdf"
