"""The demo Maildir parses cleanly: only the deliberately broken message reports an error."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tools.mail.maildir import MaildirSource
from tools.mail.model import EMPTY_BODY_MARKER, QUOTE_START, SIGNATURE_START, Email

DEMO = Path(__file__).resolve().parents[3] / "data" / "demo-inbox"


@pytest.fixture(scope="module")
def labels() -> dict[str, dict[str, object]]:
    labels: dict[str, dict[str, object]] = json.loads((DEMO / "labels.json").read_text("utf-8"))
    return labels


@pytest.fixture(scope="module")
def emails() -> dict[str, Email]:
    result = MaildirSource(DEMO, "maildir:data/demo-inbox").fetch_new(set())
    assert result.read_count == len(result.seen_keys)
    return {e.key: e for e in result.emails}


def test_every_demo_file_parses(emails: dict[str, Email], labels: dict[str, dict]) -> None:
    files = [p for sub in ("cur", "new") for p in (DEMO / sub).iterdir()]
    inbox = {key: email for key, email in emails.items() if email.folder == "INBOX"}
    sent = {key: email for key, email in emails.items() if email.folder == "Sent"}
    assert len(inbox) == len(files) == len(labels)
    assert set(inbox) == set(labels)
    assert len(sent) == len(list((DEMO / ".Sent" / "cur").iterdir())) == 2
    assert {e.from_addr for e in sent.values()} == {"dana@northwind.example"}
    for email in emails.values():
        assert email.subject, email.key
        assert email.from_addr, email.key
        assert email.date, email.key


def test_only_the_malformed_messages_have_errors(
    emails: dict[str, Email], labels: dict[str, dict]
) -> None:
    broken = {key for key, label in labels.items() if label.get("error")}
    assert broken == {"1795162244.M42P4142.demo"}
    assert {key for key, email in emails.items() if email.error} == broken
    scanner = emails["1795162244.M42P4142.demo"]
    assert scanner.error.startswith("malformed MIME: multipart boundary")
    assert scanner.subject == "Scanned document from MFP-3F (3 pages)"
    assert scanner.id == "SCAN.20261120091044.0042@mfp-3f.northwind.example"


def test_ids_are_unique(emails: dict[str, Email]) -> None:
    ids = [e.id for e in emails.values()]
    assert len(set(ids)) == len(ids)
    assert not any(i.startswith("sha256:") for i in ids)


def test_latin1_message(emails: dict[str, Email]) -> None:
    email = emails["1794835357.M8P4108.demo"]
    assert email.from_name == "Jürgen Weiß"
    assert email.subject.startswith("Funktionswunsch: DATEV-Export für Rechnungen")
    for text in ("Jürgen Weiß", "Müller & Söhne", "Königstraße", "exposé", "Grüße"):
        assert text in email.body


def test_cp1252_message(emails: dict[str, Email]) -> None:
    email = emails["1795005478.M27P4127.demo"]
    assert email.from_name == "Léa Fontaine"
    assert email.subject == "Invoice LF-2026-031 – November design work (€3,600.00)"
    for text in ("“Checkout 2.0”", "I’ve", "– let me know", "€3,600.00", "“no-meetings Fridays”"):
        assert text in email.body


def test_iso_2022_jp_message(emails: dict[str, Email]) -> None:
    email = emails["1794994207.M24P4124.demo"]
    assert email.from_name == "佐藤 健司"
    assert email.subject.startswith("お見積りのお願い")
    for text in ("はじめてご連絡いたします。", "株式会社つばめシステムズ", "ライセンス数：50"):
        assert text in email.body
    assert email.date == "2026-11-18T18:30:07+09:00"


def test_other_encodings(emails: dict[str, Email]) -> None:
    assert "🧗" in emails["1794853802.M10P4110.demo"].subject
    assert "Dashboard → Developers" in emails["1794999619.M26P4126.demo"].body  # base64 UTF-8
    assert "ß" in emails["1795188605.M48P4148.demo"].body


def test_structure_of_special_messages(emails: dict[str, Email]) -> None:
    empty = emails["1795085300.M36P4136.demo"]
    assert empty.body_is_empty and empty.body == EMPTY_BODY_MARKER

    invoice = emails["1795017760.M30P4130.demo"]
    assert [(a.content_type, a.size) for a in invoice.attachments] == [
        ("application/pdf", 3715),
        ("image/png", 8198),
    ]

    html_only = emails["1795157112.M40P4140.demo"]
    # No markup is left: the only "<" are those around the link targets.
    text = re.sub(r" <https://[^\s<>]+>", "", html_only.body)
    assert "<" not in text and "{" not in text
    assert "our billing help <https://slatebox.example/help/billing>" in html_only.body
    assert "Amount paid | $1,180.00" in html_only.body

    thread = emails["1794988968.M22P4122.demo"]
    assert QUOTE_START in thread.body and SIGNATURE_START in thread.body
    assert thread.preview().startswith("Thanks Owen.")

    assert emails["1795054502.M31P4131.demo"].size > 300_000
