"""The triage list's conversation rows without a browser: one row per conversation in the state
its newest message from someone else left it, answered when the user wrote last, warned when any
message is suspicious, opening onto its messages; a correction lands in its row."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from tests.unit.mail.test_conversation_triage import ME_ADDRESS, mail, record
from tools.mail.conversation_triage import ConversationTriage, conversation_triage
from ui.chat.inbox_rows import woken_first
from ui.chat.render import conversation_rows, first_rows, triage_summary
from ui.chat.triage_corrections import merged_row, with_corrected_row

BERLIN = ZoneInfo("Europe/Berlin")
MARCUS = "Marcus Lee <marcus@northwind.example>"
TOMAS = "Tomás Rivera <tomas@northwind.example>"


def _inbox() -> list[ConversationTriage]:
    alarm = mail("inc-1", "URGENT: checkout 500s", MARCUS, "20T10:00")
    fixed = mail("inc-2", "Re: URGENT: checkout 500s", MARCUS, "20T11:00", answers="inc-1")
    asked = mail("q-1", "Pilot figures?", TOMAS, "19T09:00")
    replied = mail(
        "q-2", "Re: Pilot figures?", f"Dana Whitfield <{ME_ADDRESS}>", "19T10:00",
        answers="q-1", folder="Sent",
    )  # fmt: skip
    invoice = mail("p-1", "Invoice CL-1187", "Copperleaf <accounts@copperleaf.example>", "18T09:00")
    fraud = mail(
        "p-2", "Re: Invoice CL-1187", "Copperleaf <accounts@copperleaf.example>", "18T12:00",
        answers="p-1",
    )  # fmt: skip
    triage = {
        alarm.id: record(alarm, "high", "respond"),
        fixed.id: record(fixed, "low", "notify", reason="resolved"),
        asked.id: record(asked, "high", "respond", action="reply"),
        invoice.id: record(invoice, "normal", "respond", action="reply"),
        fraud.id: record(fraud, "low", "ignore", suspicious="asks to pay into new bank details"),
    }
    emails = [alarm, fixed, asked, replied, invoice, fraud]
    return conversation_triage(emails, triage, [ME_ADDRESS])


def test_one_row_per_conversation_in_the_state_it_is_in_now() -> None:
    rows = conversation_rows(_inbox(), BERLIN)
    by_subject = {row.subject: row for row in rows}
    assert len(rows) == 3
    incident = by_subject["Re: URGENT: checkout 500s"]
    assert incident.id == "inc-2@mail.example" and incident.triaged == "inc-2@mail.example"
    assert (incident.priority, incident.decision, incident.reason) == ("low", "notify", "resolved")
    assert incident.count == 2 and incident.people == ("Marcus Lee",)
    assert incident.conversation == "inc-1@mail.example"
    assert [m.id for m in incident.messages] == ["inc-2@mail.example", "inc-1@mail.example"]
    assert incident.messages[1].priority == "high", "the alarm's own row keeps its triage"


def test_answered_and_suspicious_conversations() -> None:
    rows = conversation_rows(_inbox(), BERLIN)
    by_subject = {row.subject: row for row in rows}
    answered = by_subject["Re: Pilot figures?"]
    assert answered.answered and answered.group == "answered"
    assert answered.id == "q-2@mail.example", "the latest message, the user's reply"
    assert answered.triaged == "q-1@mail.example", "a correction goes to Tomás's message"
    assert answered.people == ("Tomás Rivera", "me") and answered.count == 2
    assert answered.reply_to == "", "nothing to reply to"
    assert [m.id for m in answered.messages] == ["q-1@mail.example"], "the user's own not listed"
    fraud = by_subject["Re: Invoice CL-1187"]
    assert fraud.warning == "asks to pay into new bank details"
    assert fraud.reply_to == ""
    # Respond and notify first, then answered, then ignore.
    assert [r.group for r in rows] == ["notify", "answered", "ignore"]
    assert first_rows(rows) == 3
    summary = triage_summary(rows)
    assert summary.startswith("**5 messages triaged** in 3 conversations: 0 high, 0 normal, 2 low")
    assert "1 answered" in summary and "⚠ 1 look like phishing" in summary


def test_a_conversation_woken_from_a_snooze_leads_by_any_of_its_messages() -> None:
    rows = conversation_rows(_inbox(), BERLIN)
    woken = woken_first(rows, ["inc-1@mail.example"])
    assert woken[0].subject == "Re: URGENT: checkout 500s" and woken[0].woken
    assert [r.woken for r in woken[1:]] == [False, False]


def test_a_correction_of_a_message_lands_in_its_conversations_row() -> None:
    [incident, *_] = conversation_rows(_inbox(), BERLIN)
    row = incident.as_props()
    standing = {**row["messages"][0], "decision": "ignore", "byYou": True, "note": "x"}
    merged = merged_row(row, standing)
    assert merged["decision"] == "ignore" and merged["byYou"] is True
    assert merged["messages"][0]["decision"] == "ignore" and "note" not in merged["messages"][0]
    assert merged["id"] == row["id"] and merged["count"] == 2
    older = {**row["messages"][1], "priority": "low"}
    kept = merged_row(row, older)
    assert kept["priority"] == row["priority"], "an older message does not set the state"
    assert kept["messages"][1]["priority"] == "low"
    props = {"rows": [row, {"id": "b", "decision": "notify", "priority": "normal"}], "first": 1}
    moved = with_corrected_row(props, merged, False)
    assert [r["id"] for r in moved["rows"]] == ["b", row["id"]] and moved["first"] == 2
