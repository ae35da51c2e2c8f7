"""The triage list's rows without a browser: the decision, the phishing warning, the unsure mark,
the order a person works through them, and corrections from a row (stored, refused when wrong)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest

from graph.corrections import CorrectionError
from graph.services import Services
from memory.db import AppDatabase
from memory.mail_tables import TriageRecord
from memory.triage_preferences import TriagePreferences
from tools.mail.model import Email
from ui.chat.render import first_rows, triage_list_props, triage_row, triage_rows, triage_summary
from ui.chat.triage_corrections import corrected, with_corrected_row

BERLIN = ZoneInfo("Europe/Berlin")
SOURCE = "maildir:/inbox"


def _email(n: int, **fields: object) -> Email:
    values: dict[str, object] = {
        "id": f"m{n}@mail.example",
        "source": SOURCE,
        "folder": "INBOX",
        "key": f"k{n}",
        "from_name": f"Sender {n}",
        "from_addr": f"s{n}@Mail.Example",
        "subject": f"Subject {n}",
        "date": f"2026-11-{10 + n:02d}T09:00:00+01:00",
        "body": f"Body {n}",
    }
    values.update(fields)
    return Email(**values)  # type: ignore[arg-type]


def _triage(email: Email, decision: str, priority: str = "normal", **fields: Any) -> TriageRecord:
    values: dict[str, Any] = {
        "email_id": email.id,
        "priority": priority,
        "category": "meeting_request",
        "action": "reply",
        "reason": "asks you something",
        "decision": decision,
    }
    values.update(fields)
    return TriageRecord(**values)


def test_a_row_carries_its_decision_warning_unsure_mark_and_what_a_correction_needs() -> None:
    email = _email(1, headers={"List-Id": "<weekly.lists.example>"})
    row = triage_row(email, _triage(email, "respond", unsure=True), BERLIN).as_props()
    assert row["decision"] == "respond"
    assert row["unsure"] is True and row["warning"] == "" and row["byYou"] is False
    assert row["fix"] == {
        "priority": "normal",
        "category": "meeting_request",
        "address": "s1@mail.example",
        "domain": "mail.example",
        "list": "yes",
    }
    assert row["replyTo"] == "Sender 1" and row["action"] == "reply"


def test_a_suspicious_row_warns_and_offers_nothing_to_act_on() -> None:
    email = _email(2)
    for action, shown in [("reply", "—"), ("create_lead", "—"), ("create_ticket", "—")]:
        record = _triage(email, "respond", "high", action=action, suspicious="asks for a login")
        row = triage_row(email, record, BERLIN)
        assert row.warning == "asks for a login"
        assert row.reply_to == "", "no reply button on a suspicious row"
        assert row.action == shown
    archived = triage_row(email, _triage(email, "ignore", action="archive", suspicious="x"), BERLIN)
    assert archived.action == "archive"


def test_a_corrected_row_says_it_follows_the_users_rule() -> None:
    email = _email(3)
    row = triage_row(email, _triage(email, "ignore", engine="you"), BERLIN)
    assert row.as_props()["byYou"] is True


def test_rows_come_respond_then_notify_then_ignore_by_priority_within_each() -> None:
    emails = [_email(n) for n in range(1, 8)]
    plan = [
        ("ignore", "high"),
        ("notify", "low"),
        ("respond", "low"),
        ("notify", "high"),
        ("respond", "high"),
        ("ignore", "low"),
    ]
    pairs: list[tuple[Email, TriageRecord | None]] = [
        (email, _triage(email, decision, priority))
        for email, (decision, priority) in zip(emails, plan, strict=False)
    ]
    broken = _email(9, error="malformed MIME")
    rows = triage_rows([*pairs, (broken, None)], BERLIN)
    assert [(r.decision, r.priority) for r in rows] == [
        ("error", "error"),
        ("respond", "high"),
        ("respond", "low"),
        ("notify", "high"),
        ("notify", "low"),
        ("ignore", "high"),
        ("ignore", "low"),
    ]


def test_rows_triaged_before_the_decision_existed_read_as_notify() -> None:
    email = _email(4)
    old = TriageRecord(
        email_id=email.id, priority="low", category="other", action="none", reason="r"
    )
    assert triage_row(email, old, BERLIN).decision == "notify"


def test_show_more_keeps_every_row_to_respond_to_in_view() -> None:
    emails = [_email(n) for n in range(1, 21)]
    decisions = ["respond"] * 15 + ["notify"] * 3 + ["ignore"] * 2
    rows = triage_rows([(e, _triage(e, d)) for e, d in zip(emails, decisions, strict=True)], BERLIN)
    assert first_rows(rows) == 15
    few = triage_rows([(e, _triage(e, "ignore", "high")) for e in emails], BERLIN)
    assert first_rows(few) == 12, "a high ignore row is not urgent"


def test_the_summary_warns_about_phishing_and_the_props_carry_the_menus() -> None:
    email = _email(5)
    rows = triage_rows([(email, _triage(email, "ignore", suspicious="fake login page"))], BERLIN)
    assert "⚠ 1 look like phishing or fraud" in triage_summary(rows)
    props = triage_list_props(rows, "element-1")
    assert props["elementId"] == "element-1" and props["first"] == 1
    assert props["choices"]["decision"] == ["respond", "notify", "ignore"]
    assert "spam_or_cold" in props["choices"]["category"]
    assert props["rows"][0]["warning"] == "fake login page"


@pytest.fixture
def services(tmp_path: Path) -> Services:
    db = AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")
    db.add_emails([_email(1), _email(2, from_addr="s2@mail.example")])
    db.save_triage([_triage(_email(1), "respond"), _triage(_email(2), "respond")])
    context = SimpleNamespace(user_addresses=["me@mail.example"])
    return cast(Services, SimpleNamespace(db=db, source=SOURCE, context=context))


def test_a_correction_from_the_list_is_stored_and_the_row_reads_it(services: Services) -> None:
    row, _ = corrected(services, "m1@mail.example", {"decision": "ignore"}, "domain", BERLIN)
    assert row.decision == "ignore" and row.by_you
    [stored] = TriagePreferences(services.db).all()
    assert (stored.scope, stored.key, stored.origin) == ("domain", "mail.example", "view")
    # The other message of that domain is triaged again on the next run.
    assert "m2@mail.example" in services.db.untriaged_ids(SOURCE)


@pytest.mark.parametrize(
    ("email_id", "wanted", "scope", "says"),
    [
        ("m1@mail.example", {"decision": "urgent"}, "", "decision must be one of"),
        ("m1@mail.example", {"priority": "asap"}, "", "priority must be one of"),
        ("m1@mail.example", {}, "", "say what to change"),
        ("m1@mail.example", {"decision": "ignore"}, "everyone", "a rule covers"),
        ("nobody@mail.example", {"decision": "ignore"}, "", "not in this mailbox"),
    ],
)
def test_a_wrong_correction_is_refused_and_nothing_is_stored(
    services: Services, email_id: str, wanted: dict[str, str], scope: str, says: str
) -> None:
    with pytest.raises(CorrectionError, match=says):
        corrected(services, email_id, wanted, scope, BERLIN)
    assert TriagePreferences(services.db).all() == []
    record = services.db.triage_for(["m1@mail.example"])["m1@mail.example"]
    assert record.decision == "respond" and record.engine == "rules"


def test_a_corrected_row_moves_into_its_group_and_stays_in_view() -> None:
    rows = [
        {"id": "a", "decision": "respond", "priority": "high"},
        {"id": "b", "decision": "notify", "priority": "normal"},
        {"id": "c", "decision": "notify", "priority": "low"},
        {"id": "d", "decision": "ignore", "priority": "low"},
        {"id": "e", "decision": "ignore", "priority": "low"},
    ]
    props = {"rows": rows, "first": 2, "elementId": "x"}
    fixed = with_corrected_row(props, {"id": "b", "decision": "ignore", "priority": "low"}, False)
    assert [r["id"] for r in fixed["rows"]] == ["a", "c", "b", "d", "e"]
    assert fixed["first"] == 3 and fixed["elementId"] == "x"
    up = with_corrected_row(props, {"id": "e", "decision": "respond", "priority": "low"}, True)
    assert [r["id"] for r in up["rows"]] == ["a", "e", "b", "c", "d"]
    assert up["first"] == 5
    assert props["rows"][1]["decision"] == "notify", "the stored props are not changed in place"


def test_a_message_an_earlier_rule_set_aside_is_triaged_again_with_the_correction(
    services: Services,
) -> None:
    corrected(services, "m1@mail.example", {"decision": "ignore"}, "domain", BERLIN)
    assert services.db.triage_for(["m2@mail.example"]) == {}
    row, _ = corrected(services, "m2@mail.example", {"priority": "low"}, "", BERLIN)
    assert row.priority == "low"
    assert row.by_you and "next run" not in row.reason
    assert services.db.triage_for(["m2@mail.example"])["m2@mail.example"].priority == "low"


def test_a_correction_without_a_scope_makes_the_usual_rule_and_says_what_it_covers(
    tmp_path: Path,
) -> None:
    db = AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")
    alert = _email(
        1,
        from_addr="no-reply@ci.example",
        subject="[CI] Run #4471 passed on main",
        headers={"Auto-Submitted": "auto-generated"},
    )
    review = _email(
        2,
        from_addr="no-reply@ci.example",
        subject="[CI] Review requested on pull request #88",
        headers={"Auto-Submitted": "auto-generated"},
    )
    db.add_emails([alert, review])
    db.save_triage([_triage(alert, "notify"), _triage(review, "respond")])
    context = SimpleNamespace(user_addresses=["me@mail.example"])
    services = cast(Services, SimpleNamespace(db=db, source=SOURCE, context=context))

    row, note = corrected(services, alert.id, {"decision": "ignore"}, "", BERLIN)

    assert row.decision == "ignore"
    [stored] = TriagePreferences(db).all()
    # One sending system sends mail of several kinds: the rule is for this kind, not the sender.
    assert stored.scope == "template" and stored.key.startswith("no-reply@ci.example ")
    assert "no-reply@ci.example whose subject starts like" in note
    assert review.id not in db.untriaged_ids(SOURCE)
    # Asked for by name, the sender-wide rule is still there to choose.
    _, wide = corrected(services, review.id, {"decision": "ignore"}, "sender", BERLIN)
    assert "mail from the sender no-reply@ci.example" in wide
