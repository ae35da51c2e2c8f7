"""IMAP inbox specs, folder-name encoding, response parsing and cursors, offline."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.mail.imap import ImapSource
from tools.mail.imap_spec import parse_imap_spec
from tools.mail.imap_wire import (
    cursor_signature,
    decode_mailbox,
    encode_mailbox,
    fetch_literals,
    parse_cursor,
    quoted,
    uid_set,
)
from tools.mail.mime import message_id_of
from tools.mail.source_protocol import MailSourceError, environment_secrets
from tools.mail.sources import parse_source_spec
from tools.mail.sync import canonical_spec


def test_defaults_are_tls_on_993_and_inbox() -> None:
    spec = parse_imap_spec("imap://dana@Mail.Example.COM")
    assert (spec.user, spec.host, spec.port, spec.folder, spec.tls) == (
        "dana",
        "mail.example.com",
        993,
        "INBOX",
        "implicit",
    )
    assert spec.spec == "imap://dana@mail.example.com:993/INBOX"


@pytest.mark.parametrize(
    ("text", "port", "tls", "canonical"),
    [
        (
            "imap://dana@host/INBOX?tls=starttls",
            143,
            "starttls",
            "imap://dana@host:143/INBOX?tls=starttls",
        ),
        (
            "imap://dana@host:1143/?tls=STARTTLS",
            1143,
            "starttls",
            "imap://dana@host:1143/INBOX?tls=starttls",
        ),
        (
            "imap://dana@127.0.0.1/INBOX?tls=none",
            143,
            "none",
            "imap://dana@127.0.0.1:143/INBOX?tls=none",
        ),
        (
            "imap://dana@localhost:2143?tls=none",
            2143,
            "none",
            "imap://dana@localhost:2143/INBOX?tls=none",
        ),
        ("imap://dana@[::1]:1993/inbox", 1993, "implicit", "imap://dana@[::1]:1993/INBOX"),
        ("IMAP://dana@host:993/INBOX?tls=implicit", 993, "implicit", "imap://dana@host:993/INBOX"),
    ],
)
def test_ports_and_tls_modes(text: str, port: int, tls: str, canonical: str) -> None:
    spec = parse_imap_spec(text)
    assert (spec.port, spec.tls, spec.spec) == (port, tls, canonical)
    assert parse_imap_spec(spec.spec) == spec  # the canonical form reads back the same


def test_user_and_folder_are_percent_decoded() -> None:
    spec = parse_imap_spec("imap://dana%40northwind.example@imap.example.com/Work%20Items/2026")
    assert spec.user == "dana@northwind.example"
    assert spec.folder == "Work Items/2026"
    assert spec.spec == "imap://dana%40northwind.example@imap.example.com:993/Work%20Items/2026"
    # An unencoded "@" in the user name works too: the host follows the last one.
    assert parse_imap_spec("imap://dana@northwind.example@imap.example.com").user == (
        "dana@northwind.example"
    )
    assert parse_imap_spec("imap://dana@host/Entw%C3%BCrfe").folder == "Entwürfe"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("imap://mail.example.com/INBOX", "has no user name"),
        ("imap://@mail.example.com/INBOX", "has no user name"),
        ("imap://dana@/INBOX", "has no usable host"),
        ("imap://dana@host:99999/INBOX", "bad host or port"),
        ("imap://dana@host:0/INBOX", "bad port"),
        ("imap://dana@host/INBOX?tls=ssl", "tls=ssl is not one of implicit, starttls, none"),
        ("imap://dana@mail.example.com/INBOX?tls=none", "tls=none is allowed only to 127.0.0.1"),
        ("imap://dana@10.0.0.5/INBOX?tls=none", "tls=none is allowed only to 127.0.0.1"),
        ("imap://dana@host/IN%0D%0ABOX", "folder name holds control characters"),
        ("imap://da%00na@host/INBOX", "user name holds control characters"),
        ("imap://dana@host/INBOX#x", "has a '#'"),
        ("imaps://dana@host/INBOX", "is not an IMAP spec"),
    ],
)
def test_malformed_specs(text: str, message: str) -> None:
    with pytest.raises(MailSourceError, match=message.replace("?", r"\?")):
        parse_imap_spec(text)


def test_a_password_in_the_spec_is_refused_without_echoing_it() -> None:
    with pytest.raises(MailSourceError) as info:
        parse_imap_spec("imap://dana:hunter2-secret@mail.example.com/INBOX")
    assert "must not hold a password" in str(info.value)
    assert "IMAP_PASSWORD" in str(info.value) and "imap.password" in str(info.value)
    assert "hunter2-secret" not in str(info.value)
    with pytest.raises(MailSourceError) as info:
        parse_imap_spec("imap://dana@host/INBOX?password=hunter2-secret")
    assert "unknown option(s) password" in str(info.value)
    assert "hunter2-secret" not in str(info.value)


def test_parse_source_spec_opens_imap_without_connecting() -> None:
    source = parse_source_spec("imap://dana@mail.example.com/Archive", secrets=lambda _: "pw")
    assert isinstance(source, ImapSource)
    assert source.spec == "imap://dana@mail.example.com:993/Archive"
    assert canonical_spec("imap://dana@MAIL.example.com:993/Archive") == source.spec


def test_ca_file_and_timeout_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = parse_imap_spec("imap://dana@host")
    monkeypatch.setenv("IMAP_TIMEOUT", "7.5")
    assert ImapSource.from_environment(spec).timeout == 7.5
    monkeypatch.setenv("IMAP_TIMEOUT", "soon")
    with pytest.raises(MailSourceError, match="IMAP_TIMEOUT must be a positive number"):
        ImapSource.from_environment(spec)
    monkeypatch.setenv("IMAP_TIMEOUT", "0")
    with pytest.raises(MailSourceError, match="IMAP_TIMEOUT must be a positive number"):
        ImapSource.from_environment(spec)
    monkeypatch.delenv("IMAP_TIMEOUT")
    monkeypatch.setenv("IMAP_CA_FILE", str(tmp_path / "missing.pem"))
    with pytest.raises(MailSourceError, match="does not exist"):
        canonical_spec("imap://dana@host")
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    monkeypatch.setenv("IMAP_CA_FILE", str(junk))
    with pytest.raises(MailSourceError, match="holds no usable PEM certificate"):
        ImapSource.from_environment(spec)


def test_environment_secrets_maps_credential_names_to_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IMAP_PASSWORD", "s3cret")
    assert environment_secrets("imap.password") == "s3cret"
    monkeypatch.setenv("IMAP_PASSWORD", "")
    assert environment_secrets("imap.password") is None
    monkeypatch.delenv("IMAP_PASSWORD")
    assert environment_secrets("imap.password") is None


@pytest.mark.parametrize(
    ("name", "encoded"),
    [
        ("INBOX", "INBOX"),
        ("Entwürfe", "Entw&APw-rfe"),
        ("Tom & Jerry", "Tom &- Jerry"),
        ("日本語", "&ZeVnLIqe-"),
        ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
    ],
)
def test_folder_names_in_modified_utf7(name: str, encoded: str) -> None:
    assert encode_mailbox(name) == encoded
    assert decode_mailbox(encoded) == name


def test_undecodable_folder_name_stays_as_it_is() -> None:
    assert decode_mailbox("Bad&!!!-Name") == "Bad&!!!-Name"


def test_quoting_and_uid_sets() -> None:
    assert quoted('My "Stuff"\\Old') == '"My \\"Stuff\\"\\\\Old"'
    assert uid_set([1, 2, 3, 5, 7, 8, 8]) == "1:3,5,7:8"
    assert uid_set([42]) == "42"


def test_fetch_literals_by_uid_wherever_the_server_puts_it() -> None:
    data = [
        (b"1 (UID 7 BODY[] {5}", b"hello"),
        b")",
        (b"2 (BODY[] {5}", b"world"),
        b" UID 9)",
        b"3 (FLAGS (\\Seen) UID 12)",  # another client's flag change: no literal
        (b"4 (UID 15 BODY[HEADER.FIELDS (MESSAGE-ID)] {0}", b""),
        b")",
    ]
    assert fetch_literals(data) == {7: b"hello", 9: b"world", 15: b""}


def test_cursor_round_trip() -> None:
    assert cursor_signature(1796157309, 42) == "uidvalidity=1796157309 uid=42"
    assert parse_cursor("uidvalidity=1796157309 uid=42") == (1796157309, 42)
    assert parse_cursor("3f0a9c1e2d") is None  # a Maildir signature
    assert parse_cursor("") is None


def test_message_id_from_headers_matches_parse_email() -> None:
    assert message_id_of(b"Message-ID: <Abc.123@Example.com>\r\n\r\n") == "Abc.123@Example.com"
    assert message_id_of(b"Message-ID:\r\n <folded@example.com>\r\n\r\n") == "folded@example.com"
    assert message_id_of(b"Subject: none\r\n\r\n") == ""
    assert message_id_of(b"") == ""
