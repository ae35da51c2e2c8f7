"""A reply reads like a mail (greeting, words, sign-off) and its card points out times that do not fit."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from graph.approval import Review, describe_call
from graph.reply_checks import (
    owner_name,
    reply_body,
    reply_notes_now,
    reply_signature,
    reply_time_notes,
)
from tests.unit.answer_fixtures import DEMO
from tools.mail.compose import greeting_for, reply_text
from tools.mail.maildir import message_key
from tools.mail.mime import parse_email
from tools.mail.model import Email
from tools.mail.outgoing import MailAction

BERLIN = ZoneInfo("Europe/Berlin")
SOFIA_FILE = "cur/1794817822.M4P4104.demo:2,S"
"""Sofia proposes Tue 24 Nov 10:00-10:30, or Wed 25 Nov after 14:00 (sent Mon 16 Nov)."""
INVOICE_FILE = "cur/1795098789.M38P4138.demo:2,"


def demo_mail(name: str) -> Email:
    path = DEMO / name
    return parse_email(
        path.read_bytes(), source="maildir:demo", folder="INBOX", key=message_key(path.name)
    )


@pytest.mark.parametrize(
    ("sender", "greeting"),
    [
        ("Sofia Marchetti <sofia.marchetti@northwind.example>", "Hi Sofia,"),
        ("Jürgen Weiß <j.weiss@mueller-soehne.example>", "Hi Jürgen,"),
        ('"Whitfield, Dana" <dana@northwind.example>', "Hi Dana,"),
        ("Vireo Data Centers - Credit Control <ar@vireo-dc.example>", "Hello,"),
        ("Petra Schulz <billing@vireo-dc.example>", "Hello,"),
        ("lukas.brenner@alpenrail.example", "Hello,"),
        ("R. <rafael@northwind.example>", "Hello,"),
        ("佐藤 健司 <k.sato@tsubame-sys.example>", "佐藤 健司 様"),
    ],
)
def test_the_greeting_uses_a_persons_first_name_only(sender: str, greeting: str) -> None:
    assert greeting_for(sender) == greeting


def test_a_reply_gets_greeting_and_sign_off_once() -> None:
    assert (
        reply_text("Thursday works", greeting="Hi Sofia,", signature="Best,\nDana")
        == "Hi Sofia,\n\nThursday works.\n\nBest,\nDana"
    )
    written = "Hello Sofia,\n\nThursday works for me!\n\nThanks,\nDana"
    assert reply_text(written, greeting="Hi Sofia,", signature="Best,\nDana") == written
    assert reply_text("  ", greeting="Hi Sofia,", signature="Best,") == ""


def test_the_signature_is_configurable_and_falls_back_to_no_name() -> None:
    assert reply_signature({"SMART_INBOX_SIGNATURE": "Cheers,\\nD."}) == "Cheers,\nD."
    assert reply_signature({"SMART_INBOX_USER_NAME": "Dana Whitfield"}) == "Best,\nDana"
    from_smtp = {"SMTP_FROM": "Dana Whitfield <dana@northwind.example>"}
    assert owner_name(from_smtp) == "Dana Whitfield"
    assert reply_signature(from_smtp) == "Best,\nDana"
    assert reply_signature({}) == "Best,"
    # The mailbox's own From (the bundled demo's owner) names the user when nothing else does.
    assert reply_signature({}, "Dana Whitfield <dana@northwind.example>") == "Best,\nDana"
    assert reply_signature({"SMART_INBOX_USER_NAME": "D. W."}, "Dana <d@x.example>") == "Best,\nD."
    assert reply_body("Sofia Marchetti <sofia@x.example>", "ok", {}) == "Hi Sofia,\n\nok.\n\nBest,"


def test_a_day_the_sender_did_not_propose_and_the_past_are_pointed_out() -> None:
    sofia = demo_mail(SOFIA_FILE)
    notes = reply_time_notes(
        sofia,
        "Hi Sofia,\n\nThursday works.",
        now=datetime(2026, 12, 2, 15, tzinfo=UTC),
        zone=BERLIN,
    )
    assert len(notes) == 3, notes
    past, other, which = notes
    assert past.startswith("Every time Sofia proposed is already past:")
    assert "“Tue 24 Nov 10:00-10:30”" in past and "Wed 2 Dec 2026" in past
    assert other.startswith("Your reply names “Thursday”, which Sofia did not propose")
    assert "is Thu 19 Nov 2026, already past; the next one is Thu 3 Dec 2026" in which


def test_a_proposed_day_or_a_time_inside_a_proposed_window_needs_no_note() -> None:
    sofia = demo_mail(SOFIA_FILE)
    before = datetime(2026, 11, 17, 9, tzinfo=UTC)
    assert reply_time_notes(sofia, "Tuesday works", now=before, zone=BERLIN) == []
    assert reply_time_notes(sofia, "Wed 25 Nov at 15:00 is good", now=before, zone=BERLIN) == []
    [note] = reply_time_notes(sofia, "Thursday is fine", now=before, zone=BERLIN)
    assert note.startswith("Your reply names “Thursday”")


def test_a_reply_to_mail_that_proposes_no_time_gets_no_time_note() -> None:
    invoice = demo_mail(INVOICE_FILE)
    now = datetime(2026, 12, 2, 15, tzinfo=UTC)
    assert reply_time_notes(invoice, "We paid on Friday", now=now, zone=BERLIN) == []


def test_the_card_of_a_reply_carries_the_notes_above_its_content() -> None:
    sofia = demo_mail(SOFIA_FILE)
    body = "Hi Sofia,\n\nThursday works.\n\nBest,\nDana"
    call = {
        "id": "call-1",
        "name": "save_draft",
        "args": {"in_reply_to_id": sofia.id, "body": body},
        "proposed_by": "rules",
    }
    action = MailAction(to=[sofia.from_addr], cc=[], subject="Re: x", body=body, reply_of=sofia)
    notes = tuple(reply_notes_now(sofia, body))
    review = Review(call=call, level=1, side_effect=True, flags=[], action=action, notes=notes)  # type: ignore[arg-type]
    card = describe_call(review)
    note = "- **Note:** Your reply names “Thursday”, which Sofia did not propose"
    assert note in card
    assert card.index(note) < card.index("**Content:**")
    assert "> Hi Sofia,\n>\n> Thursday works.\n>\n> Best,\n> Dana" in card
