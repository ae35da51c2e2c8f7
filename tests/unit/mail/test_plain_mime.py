"""The fast path stores what the full parser stores, message for message, row field for field.

`tools.mail.plain_mime` reads the common shapes without the feed parser. Here every message of
every template of the generator, every development and demo message, the hostile shapes and
messages made to slip past its checks (`tests.plain_shapes`) are parsed both ways; the cache
rows must be the same, and the fast path must really have read most of the plain ones.
"""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from bench.mailgen import MailFactory
from memory.mail_rows import email_row
from tests.hostile_mime import SHAPES
from tests.plain_shapes import messages
from tools.mail import mime
from tools.mail.limits import DEFAULT_LIMITS, ParseLimits
from tools.mail.mime import parse_email
from tools.mail.model import Email
from tools.mail.plain_mime import _CONTENT_TYPE, _DISPOSITION, _parameters, split_plain

ROOT = Path(__file__).resolve().parents[3]


def _full(monkeypatch: pytest.MonkeyPatch, raw: bytes, limits: ParseLimits) -> Email:
    with monkeypatch.context() as patch:
        patch.setattr(mime, "_read_plain", lambda *args: None)
        return parse_email(raw, source="maildir:test", folder="INBOX", key="k", limits=limits)


def _row(email: Email) -> dict[str, Any]:
    return email_row(email, email.id, "2026-12-04T00:00:00+00:00")


def _is_plain(raw: bytes) -> bool:
    data = raw.removeprefix(b"\xef\xbb\xbf").lstrip(b"\r\n")
    return split_plain(data, DEFAULT_LIMITS, DEFAULT_LIMITS.max_header_bytes) is not None


def _compare(
    monkeypatch: pytest.MonkeyPatch, corpus: list[bytes], limits: ParseLimits = DEFAULT_LIMITS
) -> int:
    """Assert both readings store the same row; return how many the fast path read."""
    for raw in corpus:
        fast = parse_email(raw, source="maildir:test", folder="INBOX", key="k", limits=limits)
        assert _row(fast) == _row(_full(monkeypatch, raw, limits)), raw[:2000]
    return sum(_is_plain(raw) for raw in corpus)


def _files(*folders: str) -> list[bytes]:
    found = []
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and (path.suffix == ".eml" or path.parent.name in ("cur", "new")):
                found.append(path.read_bytes())
    return found


def test_every_template_of_the_generator_reads_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    factory = MailFactory(seed=19)
    corpus = [factory.message()[1] for _ in range(600)]
    assert all(factory.stats[kind] for kind, _, _ in factory.kinds)
    assert _compare(monkeypatch, corpus) > 500


def test_the_development_and_demo_messages_read_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    # The held-out test set is never read here.
    corpus = _files("data/triage-eval/dev", "data/demo-inbox")
    assert len(corpus) > 600
    assert _compare(monkeypatch, corpus) > 550


def test_messages_made_to_slip_past_the_checks_read_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    corpus = messages()
    plain = _compare(monkeypatch, corpus)
    # Both ways are exercised: many are plain, many are sent on to the full parser.
    assert 300 < plain < len(corpus) - 300


def test_hostile_shapes_read_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = [shape.build() for shape in SHAPES if "MB" not in shape.name]
    _compare(monkeypatch, corpus)


def test_tight_limits_read_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """Limits the fast path could break send the message to the full parser, which refuses it."""
    corpus = messages(200, seed=4)
    for limits in (
        ParseLimits(max_text_bytes=300),
        ParseLimits(max_parts=2),
        ParseLimits(max_depth=1),
        ParseLimits(max_header_chars=20, max_encoded_words=1),
        ParseLimits(max_body_chars=40),
        ParseLimits(max_header_bytes=120),
        ParseLimits(max_message_bytes=500),
    ):
        _compare(monkeypatch, corpus, limits)


@pytest.mark.parametrize(
    "raw",
    [
        b"From: a@b.example\r\nSubject: x\r\n\r\nbody\r\n",
        b"From: a@b.example\nContent-Type: text/html\n\n<p>hi</p>",
        b"From: a@b.example\nContent-Type: multipart/alternative; boundary=b\n\n--b\n"
        b"Content-Type: text/plain\n\nplain\n--b\nContent-Type: text/html\n\n<p>html</p>\n--b--\n",
        b"From: a@b.example\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
        b"Content-Type: text/plain\n\nplain\n--b\nContent-Type: application/pdf; name=a.pdf\n"
        b"Content-Transfer-Encoding: base64\n\nJVBERi0=\n--b--\n",
    ],
)
def test_the_common_shapes_take_the_fast_path(raw: bytes) -> None:
    assert _is_plain(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b"From: a@b.example\rSubject: lone CR\n\nbody",
        b"From a@b.example Tue Nov 17 09:00:00 2026\nFrom: a@b.example\n\nbody",
        b"From: a@b.example\nContent-Type: text/plain; charset*=utf-8''x\n\nbody",
        b'From: a@b.example\nContent-Type: text/plain; name="=?utf-8?q?x?="\n\nbody',
        b"From: a@b.example\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
        b"Content-Type: message/rfc822\n\nFrom: c@d.example\n\ninner\n--b--\n",
        b"From: a@b.example\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
        b"Content-Type: text/plain\n\nnever closed\n",
        b"From: a@b.example\nX-No-Blank-Line: yes\n",
    ],
)
def test_unusual_shapes_go_to_the_full_parser(raw: bytes) -> None:
    assert not _is_plain(raw)


@pytest.mark.parametrize(
    "value",
    [
        "text/plain; charset=utf-8",
        "  text/plain  ;  charset = utf-8 ",
        'text/plain;\tcharset="utf-8"\t; format=flowed',
        'text/plain; charset=""; name="a b.txt"',
        "TEXT/HTML; CHARSET=ISO-8859-1; Charset=utf-8",
        'multipart/mixed; boundary="=_a.b(c)+d,e/f:g=h?i-j"; x=y',
        'application/pdf; name="INV 2026.pdf"',
        'attachment; filename="a.pdf"; size=12',
        "inline; filename=a.txt",
        "text/plain; charset=utf-8 ; ",
        'text/plain; charset="utf-8',
        "text/plain; charset=a=b",
    ],
)
def test_simple_parameters_read_as_the_standard_library_reads_them(value: str) -> None:
    """Where `_parameters` answers, its answer is `email.message`'s, whatever the header."""
    for name, first in (("Content-Type", _CONTENT_TYPE), ("Content-Disposition", _DISPOSITION)):
        parsed = _parameters(value, first)
        if parsed is None:
            continue
        msg = EmailMessage()
        msg[name] = value
        params = msg.get_params(header=name.lower()) or []
        assert [(k, v) for k, v in params[1:]] == list(parsed[1])
        if name == "Content-Type":
            assert msg.get_content_type() == parsed[0]
            assert msg.get_content_charset() == next(
                (v.lower() for k, v in parsed[1] if k == "charset"), None
            )
        else:
            assert msg.get_content_disposition() == parsed[0]
