"""The triage list of an inbox of several accounts: each row names its account in a field of
its own (the list shows it as a column), not inside the sender's name."""

from __future__ import annotations

from dataclasses import replace

from tests.unit.mail.test_conversation_triage import ME_ADDRESS, mail, record
from tools.mail.conversation_triage import conversation_triage
from ui.chat.render import conversation_rows, triage_list_props
from ui.chat.triage_corrections import merged_row

ANA = "Ana Costa <ana@partner.example>"


def test_each_row_carries_its_account_apart_from_the_sender() -> None:
    work = replace(mail("w-1", "Contract", ANA, "18T09:00"), account="work")
    home = replace(mail("h-1", "Dinner", ANA, "18T10:00"), account="personal")
    # A sender whose name looks like a label stays a name: the account is never read from it.
    forged = replace(
        mail("h-2", "Hi", '"[work] Mallory" <m@evil.example>', "18T11:00"), account="personal"
    )
    emails = [work, home, forged]
    triage = {e.id: record(e, "normal", "notify") for e in emails}
    rows = conversation_rows(conversation_triage(emails, triage, [ME_ADDRESS]), None)

    by_subject = {row.subject: row for row in rows}
    assert by_subject["Contract"].account == "work" and by_subject["Contract"].sender == "Ana Costa"
    assert by_subject["Dinner"].account == "personal"
    assert by_subject["Hi"].account == "personal" and by_subject["Hi"].sender == "[work] Mallory"

    props = triage_list_props(rows, "element-1", ["work", "personal"])
    assert props["accounts"] == ["work", "personal"]
    assert {r["subject"]: r["account"] for r in props["rows"]} == {
        "Contract": "work",
        "Dinner": "personal",
        "Hi": "personal",
    }
    # A correction of a row keeps the row's account.
    row = next(r for r in props["rows"] if r["subject"] == "Contract")
    corrected = merged_row(row, {**row, "account": "personal", "priority": "low"})
    assert corrected["account"] == "work"


def test_one_source_has_no_accounts_and_no_account_on_its_rows() -> None:
    one = mail("o-1", "Hello", ANA, "18T09:00")
    rows = conversation_rows(
        conversation_triage([one], {one.id: record(one, "low", "notify")}, []), None
    )
    props = triage_list_props(rows, "element-1")
    assert props["accounts"] == [] and props["rows"][0]["account"] == ""
