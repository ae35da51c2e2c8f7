"""A comment in an address header is part of the name people see, never of who wrote."""

from __future__ import annotations

import pytest

from tools.mail.mime import parse_email
from tools.mail.model import Email


def parsed(header: str) -> Email:
    raw = f"From: {header}\r\nTo: priya@lumenhive.example\r\nSubject: s\r\n\r\nbody\r\n"
    return parse_email(raw.encode(), source="test", folder="INBOX", key="k")


@pytest.mark.parametrize(
    ("header", "name", "address"),
    [
        (
            "Marco Bianchi (via SharePoint) <marco@files.example>",
            "Marco Bianchi (via SharePoint)",
            "marco@files.example",
        ),
        ("marco@files.example (Marco Bianchi)", "Marco Bianchi", "marco@files.example"),
        (
            '"Bianchi, Marco" (via Teams) <m@x.example>, Ann <a@y.example>',
            "Bianchi, Marco (via Teams)",
            "m@x.example",
        ),
        ("=?utf-8?q?J=C3=B6rg?= (via Jira) <jira@x.example>", "Jörg (via Jira)", "jira@x.example"),
        ("Marco <m@x.example> (work)", "Marco", "m@x.example"),
    ],
)
def test_a_comment_stays_in_the_display_name(header: str, name: str, address: str) -> None:
    email = parsed(header)
    assert (email.from_name, email.from_addr) == (name, address)


def test_a_name_in_raw_8_bit_text_with_a_comment_is_decoded() -> None:
    raw = (
        "From: Jörg Müller (via Jira) <jira@x.example>\r\nTo: priya@lumenhive.example\r\n"
        "Subject: s\r\n\r\nbody\r\n"
    ).encode()
    email = parse_email(raw, source="test", folder="INBOX", key="k")
    assert email.from_name == "Jörg Müller (via Jira)"


def test_a_comment_holding_an_address_never_changes_the_sender() -> None:
    # Walks around it: a comment that reads like the colleague's address. The address the
    # mail came from stays the one in angle brackets; the comment is only shown as a name.
    email = parsed("IT Desk (priya@lumenhive.example) <helpdesk@evil.example>")
    assert email.from_addr == "helpdesk@evil.example"
    assert email.from_name == "IT Desk (priya@lumenhive.example)"


def test_when_the_lenient_split_disagrees_on_the_addresses_the_parser_wins() -> None:
    # Two addresses in one mailbox: the lenient split reads them differently from the modern
    # parser, so its names are not taken at all.
    email = parsed("Evil (x) <a@b.example> <c@d.example>")
    assert email.from_addr == "a@b.example"
    assert email.from_name == "Evil"
