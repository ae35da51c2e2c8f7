"""`triage correct`, `rules list|remove` and the triage table: parsing, formatting, storing."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from graph.context import Context
from graph.corrections import CorrectionError
from graph.services import Services, build_services
from memory.mail_tables import TriageRecord
from memory.triage_preferences import TriagePreference, TriagePreferences
from tests.unit.conftest import MEETING_ID, MESSAGES, NEWSLETTER_ID, write_maildir
from tools.mail.model import Email
from tools.mail.sync import sync_source
from ui.cli import command_name
from ui.cli.errors import EXIT_USER_ERROR, UserError
from ui.cli.parser import build_parser
from ui.cli.rules import (
    CorrectionDone,
    _correct,
    correction_json,
    correction_lines,
    remove_rule,
    rule_text,
    rules_table,
)
from ui.cli.triage import LEGEND, _table, decision_cell, warning_lines
from ui.mcp_server.served_mailbox import triage_new_mail

SECOND_MEETING_ID = "meeting-8@acme.example"
SECOND_MEETING = f"""\
From: Bob Stone <bob@acme.example>
To: me@acme.example
Subject: Re: roadmap review
Date: Thu, 19 Nov 2026 11:00:00 +0000
Message-ID: <{SECOND_MEETING_ID}>

Thanks, Thursday works. I'll bring the numbers.
"""


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def rule(**fields: Any) -> TriagePreference:
    values: dict[str, Any] = {
        "id": 3,
        "scope": "sender",
        "key": "x@y.z",
        "decision": "ignore",
        "priority": "",
        "category": "",
        "words": ("w:hello",),
        "email_id": "m1@y.z",
        "origin": "cli",
        "created_at": "2026-11-20T10:00:00+00:00",
    }
    return TriagePreference(**{**values, **fields})


def test_triage_alone_still_triages_and_correct_is_its_own_command() -> None:
    plain = parse("triage", "--limit", "5", "--json")
    assert (plain.triage_command, plain.limit, plain.json) == (None, 5, True)
    assert command_name(plain) == "triage"
    args = parse("triage", "correct", "m1@y.z", "--decision", "ignore", "--scope", "domain")
    assert (args.triage_command, args.id, args.decision, args.scope) == (
        "correct",
        "m1@y.z",
        "ignore",
        "domain",
    )
    assert (args.priority, args.category) == (None, None)
    assert command_name(args) == "triage correct"


def test_inbox_and_json_may_come_before_or_after_correct() -> None:
    before = parse("triage", "--inbox", "maildir:/a", "--json", "correct", "m1")
    after = parse("triage", "correct", "m1", "--inbox", "maildir:/b", "--json")
    assert (before.inbox, before.json) == ("maildir:/a", True)
    assert (after.inbox, after.json) == ("maildir:/b", True)
    assert parse("triage", "correct", "m1").inbox is None


def test_rules_commands_parse() -> None:
    listed = parse("rules", "list", "--json")
    assert (listed.rules_command, listed.json, command_name(listed)) == ("list", True, "rules")
    removed = parse("rules", "remove", "7")
    assert (removed.rules_command, removed.id, removed.inbox) == ("remove", 7, None)


@pytest.mark.parametrize(
    "argv",
    [
        ("triage", "correct", "m1", "--scope", "everyone"),
        ("triage", "correct"),
        ("rules", "remove", "seven"),
        ("rules",),
    ],
)
def test_bad_arguments_exit_2(argv: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse(*argv)
    assert exited.value.code == EXIT_USER_ERROR
    assert capsys.readouterr().err.startswith("smart-inbox: ")


def test_a_rule_reads_as_what_it_sets() -> None:
    assert rule_text(rule()) == "mail from the sender x@y.z: decision ignore"
    both = rule(scope="domain", key="y.z", decision="", priority="low", category="newsletter")
    assert rule_text(both) == "mail from the domain y.z: priority low, category newsletter"


def test_rules_table_lists_each_rule_or_says_how_to_make_one() -> None:
    assert rules_table([]).startswith("no rules yet: smart-inbox triage correct ID")
    lines = rules_table([rule(), rule(id=12, origin="chat")]).splitlines()
    assert lines[0].split() == ["ID", "MADE", "AT", "IN", "RULE"]
    assert lines[1].split()[:3] == ["3", "2026-11-20T10:00:00+00:00", "cli"]
    assert lines[2].endswith("chat  mail from the sender x@y.z: decision ignore")


def record(**fields: Any) -> TriageRecord:
    values: dict[str, Any] = {
        "email_id": "m1@y.z",
        "priority": "low",
        "category": "newsletter",
        "action": "archive",
        "reason": "bulk mail",
        "decision": "notify",
    }
    return TriageRecord(**{**values, **fields})


def test_a_correction_prints_each_field_before_and_after_and_its_rule() -> None:
    email = Email(
        id="m1@y.z",
        source="maildir:/m",
        folder="INBOX",
        key="k1",
        from_name="X",
        from_addr="x@y.z",
        subject="News",
    )
    done = CorrectionDone(
        email, record(), record(decision="ignore", engine="you"), rule(), ["m2@y.z"]
    )
    lines = correction_lines(done)
    assert lines[0] == "corrected m1@y.z: X <x@y.z>: News"
    assert "  decision: notify -> ignore" in lines
    assert "  priority: low (unchanged)" in lines
    assert "rule 3: mail from the sender x@y.z: decision ignore" in lines
    assert any(line.startswith("1 other message(s) it covers") for line in lines)
    assert lines[-1] == "(undo: smart-inbox rules remove 3)"
    data = correction_json(done)
    assert (data["before"]["decision"], data["after"]["decision"]) == ("notify", "ignore")
    assert data["after"]["engine"] == "you"
    assert data["rule"]["text"] == "mail from the sender x@y.z: decision ignore"
    assert "words" not in data["rule"] and data["triaged_again"] == ["m2@y.z"]


def row(**fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": "m1@y.z",
        "from": "X <x@y.z>",
        "subject": "News",
        "priority": "low",
        "category": "newsletter",
        "action": "archive",
        "decision": "ignore",
        "suspicious": "",
        "unsure": False,
    }
    return {**values, **fields}


def test_the_table_puts_the_decision_first_and_marks_phishing_and_doubt() -> None:
    rows = [
        row(),
        row(
            id="p1@evil.example", decision="ignore", suspicious="asks to pay into new bank details"
        ),
        row(id="u1@y.z", decision="respond", unsure=True),
    ]
    table = _table(rows).splitlines()
    assert table[0].startswith("DECISION  ") and "PRIORITY" in table[0]
    assert [line.split()[0] for line in table[1:]] == ["ignore", "ignore!", "respond?"]
    assert decision_cell(row(suspicious="x", unsure=True)) == "ignore!?"
    warnings = warning_lines(rows)
    assert LEGEND in warnings
    assert [w for w in warnings if w.startswith("WARNING")] == [
        "WARNING p1@evil.example (X <x@y.z>): asks to pay into new bank details; "
        "do not reply, click its links or pay"
    ]
    assert warning_lines([row()]) == []


@pytest.fixture
def services(tmp_path: Path, context: Context) -> Services:
    write_maildir(tmp_path / "mbox", {"1781000006.M6P1.testhost:2,S": SECOND_MEETING})
    built = build_services(context)
    sync_source(built.db, built.source)
    triage_new_mail(built.db, built.source, owner_addresses=context.user_addresses)
    return built


def correct_args(email_id: str, **values: str | None) -> argparse.Namespace:
    fields = {"decision": None, "priority": None, "category": None, "scope": None}
    return argparse.Namespace(id=email_id, **{**fields, **values})


def test_a_correction_is_stored_applied_and_re_triages_the_senders_other_mail(
    services: Services,
) -> None:
    assert len(MESSAGES) == 5  # plus Bob's second message
    done = _correct(
        services, correct_args(MEETING_ID, decision="ignore", priority="low", scope="sender")
    )
    assert done.after is not None and (done.after.decision, done.after.engine) == ("ignore", "you")
    assert done.after.priority == "low"
    assert (
        rule_text(done.rule)
        == "mail from the sender bob@acme.example: decision ignore, priority low"
    )
    assert done.rule.origin == "cli"
    assert done.again == [SECOND_MEETING_ID]
    db = services.db
    assert SECOND_MEETING_ID in db.untriaged_ids(services.source)
    triage_new_mail(db, services.source, owner_addresses=services.context.user_addresses)
    other = db.triage_for([SECOND_MEETING_ID])[SECOND_MEETING_ID]
    assert (other.decision, other.priority) == ("ignore", "low")

    again = remove_rule(services, done.rule.id)
    assert again is not None and set(again) == {MEETING_ID, SECOND_MEETING_ID}
    assert TriagePreferences(db).all() == []
    assert remove_rule(services, done.rule.id) is None


@pytest.mark.parametrize(
    ("email_id", "values", "error"),
    [
        ("nobody@nowhere.example", {"decision": "ignore"}, UserError),
        (NEWSLETTER_ID, {"decision": "maybe"}, CorrectionError),
        (NEWSLETTER_ID, {"priority": "urgent"}, CorrectionError),
        (NEWSLETTER_ID, {}, CorrectionError),
    ],
)
def test_bad_corrections_store_nothing(
    services: Services, email_id: str, values: dict[str, str], error: type[Exception]
) -> None:
    before = services.db.triage_for([NEWSLETTER_ID])[NEWSLETTER_ID]
    with pytest.raises(error):
        _correct(services, correct_args(email_id, **values))
    assert TriagePreferences(services.db).all() == []
    assert services.db.triage_for([NEWSLETTER_ID])[NEWSLETTER_ID].decision == before.decision
