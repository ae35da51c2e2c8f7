"""The plain-header shortcuts give exactly what the modern header parser gives, or step aside."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest

from tools.mail.plain_headers import plain_addresses, plain_text

ROOT = Path(__file__).resolve().parents[3]


def _modern_text(name: str, value: str) -> str:
    return str(email.policy.default.header_factory(name, value))


def _modern_addresses(value: str) -> list[tuple[str, str]]:
    header = email.policy.default.header_factory("To", value)
    return [(a.display_name, a.addr_spec) for a in header.addresses]


PLAIN_TEXT = [
    ("Subject", "Invoice 2026-114 is due"),
    ("Subject", "Re: [ops]  two  spaces\tand a tab"),
    ("In-Reply-To", "<a.b@c.example>"),
    ("References", "<a@b.example> <c@d.example>"),
    ("List-Id", "Team news <news.example.com>"),
    ("Message-ID", "<1767225600.42@bench.example>"),
]
PLAIN_ADDRESSES = [
    "dana@northwind.example",
    "<dana@northwind.example>",
    "Dana Kim <dana@northwind.example>",
    '"Kim, Dana" <Dana.Kim@Northwind.example>',
    '"Dana K." <dana@northwind.example>',
    "Dana Kim <dana@northwind.example>, ops@northwind.example",
    'a@b.example,"X Y"<x.y@z.example>',
    " <dana@northwind.example> ",
]
# Each of these would be read differently by the shortcut's simple grammar: it must step aside.
WALK_AROUNDS_TEXT = [
    ("Subject", "=?utf-8?q?Rechnung_f=C3=BCr?="),
    ("Subject", "Rechnung f\udcfcr"),
    ("Subject", "bell\x07"),
    ("Subject", "caf\u00e9"),
    ("Date", "Thu, 03 Dec 2026 10:00:00 +0000"),
    ("Message-ID", "<a b@c.example>"),
    ("Message-ID", "<a@[127.0.0.1]>"),
    ("Message-ID", "a@b.example"),
    ("Message-ID", "<a@b.example> (comment)"),
]
WALK_AROUNDS_ADDRESSES = [
    "J. Smith <j@x.example>",
    "Dana (work) <dana@northwind.example>",
    '"Dana \\"DK\\" Kim" <dana@northwind.example>',
    "a..b@x.example",
    "a@localhost",
    "<a@b.example>,",
    "a@b.example,,c@d.example",
    "Team: a@b.example, c@d.example;",
    "=?utf-8?q?D=C3=A1na?= <dana@northwind.example>",
    "D\u00e1na <dana@northwind.example>",
    "dana@northwind.example (Dana)",
    "Dana  Kim <dana@northwind.example>",
    "",
]


@pytest.mark.parametrize(("name", "value"), PLAIN_TEXT)
def test_plain_text_matches_the_modern_parser(name: str, value: str) -> None:
    assert plain_text(name, value) == _modern_text(name, value)


@pytest.mark.parametrize("value", PLAIN_ADDRESSES)
def test_plain_addresses_match_the_modern_parser(value: str) -> None:
    assert plain_addresses(value) == _modern_addresses(value)


@pytest.mark.parametrize(("name", "value"), WALK_AROUNDS_TEXT)
def test_text_that_is_not_plain_goes_to_the_parser(name: str, value: str) -> None:
    assert plain_text(name, value) is None


@pytest.mark.parametrize("value", WALK_AROUNDS_ADDRESSES)
def test_addresses_that_are_not_simple_go_to_the_parser(value: str) -> None:
    assert plain_addresses(value) is None


def _corpus_headers() -> list[tuple[str, str]]:
    paths = [
        *sorted((ROOT / "data" / "demo-inbox").glob("*/*")),
        *sorted((ROOT / "data" / "triage-eval" / "dev").glob("*.eml")),
        *sorted((ROOT / "data" / "triage-eval" / "sent").glob("*.eml")),
        *sorted((ROOT / "tests").rglob("*.eml")),
    ]
    found = []
    for path in paths:
        if path.is_file():
            msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.compat32)
            found += [(name, "".join(str(v).splitlines())) for name, v in msg.items()]
    return found


def test_every_header_of_the_corpora_reads_as_the_parser_reads_it() -> None:
    headers = _corpus_headers()
    assert len(headers) > 2000
    shortcut = 0
    for name, value in headers:
        text = plain_text(name, value)
        if text is not None:
            shortcut += 1
            assert text == _modern_text(name, value), (name, value)
        if name.lower() in ("from", "to", "cc", "reply-to"):
            pairs = plain_addresses(value)
            if pairs is not None:
                shortcut += 1
                assert pairs == _modern_addresses(value), (name, value)
    assert shortcut > len(headers) // 4
