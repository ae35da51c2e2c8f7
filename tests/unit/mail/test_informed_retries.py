"""Informed retries: one Message-ID per message across attempts, its progress in the ledger,
where it can be seen afterwards, and the card that says so."""

from __future__ import annotations

import re
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest

from graph.approval import unknown_outcome_request
from memory.db import AppDatabase
from memory.ledger import SEND_STAGES, ClaimedCall, SideEffectLedger, running, running_call
from tests.unit.conftest import MESSAGES, write_maildir
from tools.mail.compose import new_message
from tools.mail.delivery import deliver
from tools.mail.mailbox import MailboxEnv
from tools.mail.maildir import INBOX, MaildirSource
from tools.mail.send_trace import SentTrace, trace_sends, traces_summary

ME = "me@acme.example"
LENA = "lena@partner.example"


@pytest.fixture
def db(tmp_path: Path) -> AppDatabase:
    return AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")


@pytest.fixture
def env(tmp_path: Path, db: AppDatabase) -> MailboxEnv:
    """A Maildir inbox whose mail goes to a local outbox (as the demo's does)."""
    inbox = write_maildir(tmp_path / "inbox", MESSAGES)
    return MailboxEnv(
        db=db, source=f"maildir:{inbox}", sender=ME, user_addresses=(ME,), outbox=tmp_path / "out"
    )


def note(subject: str = "Signed") -> Any:
    return new_message(sender=ME, to=[LENA], subject=subject, body="The contract is signed.")


def files(folder: Path) -> list[Path]:
    return sorted(folder.glob("cur/*")) + sorted(folder.glob("new/*"))


def header(path: Path, name: str) -> str:
    return str(message_from_bytes(path.read_bytes())[name])


# -- the ledger -------------------------------------------------------------------------------


def test_a_message_keeps_the_first_attempts_id_and_date(db: AppDatabase) -> None:
    ledger = SideEffectLedger(db)
    first = ledger.prepare_message(
        "t", "c", "", message_id="<one@x>", date="Mon, 1 Dec 2026 10:00:00 +0000", recipients=[LENA]
    )
    again = ledger.prepare_message(
        "t", "c", "", message_id="<two@x>", date="Tue, 2 Dec 2026 10:00:00 +0000", recipients=[]
    )
    assert (first.message_id, first.attempts, first.stage) == ("<one@x>", 1, "prepared")
    assert (again.message_id, again.date, again.attempts) == (
        "<one@x>",
        "Mon, 1 Dec 2026 10:00:00 +0000",
        2,
    )
    assert again.recipient_list() == [LENA]
    other = ledger.prepare_message(
        "t", "c", "invitation:b@x", message_id="<3@x>", date="d", recipients=[]
    )
    assert other.message_id == "<3@x>", "each part of a call is its own message"
    assert [m.part for m in ledger.messages("t", "c")] == ["", "invitation:b@x"]
    assert ledger.messages("t", "other") == []


def test_a_stage_never_replaces_a_further_one(db: AppDatabase) -> None:
    ledger = SideEffectLedger(db)
    ledger.prepare_message("t", "c", "", message_id="<m@x>", date="d", recipients=[LENA])
    ledger.reach("t", "c", "", "data_sent")
    ledger.reach("t", "c", "", "envelope")  # a later attempt that got less far
    [row] = ledger.messages("t", "c")
    assert row.stage == "data_sent"
    with pytest.raises(ValueError, match="unknown send stage"):
        ledger.reach("t", "c", "", "delivered")  # type: ignore[arg-type]
    with pytest.raises(LookupError, match="never prepared"):
        ledger.reach("t", "c", "invitation:b@x", "data")


def test_settling_keeps_the_messages_and_a_skip_keeps_what_was_found(db: AppDatabase) -> None:
    ledger = SideEffectLedger(db)
    assert ledger.begin("t", "c", "send_email", {"to": LENA}) is None
    ledger.prepare_message("t", "c", "", message_id="<m@x>", date="d", recipients=[LENA])
    ledger.settle_unknown("t", "c", retry=True)
    assert ledger.get("t", "c") is None
    assert [m.message_id for m in ledger.messages("t", "c")] == ["<m@x>"], "a retry sends it again"
    assert ledger.begin("t", "c", "send_email", {"to": LENA}) is None
    ledger.settle_unknown("t", "c", retry=False, found="<m@x> to lena: not sent")
    entry = ledger.get("t", "c")
    assert entry is not None and entry.status == "skipped"
    assert entry.result_dict() == {"found": "<m@x> to lena: not sent"}


# -- sending under a claim --------------------------------------------------------------------


def test_a_retry_sends_the_same_message_and_keeps_one_sent_copy(
    env: MailboxEnv, db: AppDatabase, tmp_path: Path
) -> None:
    ledger = SideEffectLedger(db)
    claim = ClaimedCall(ledger, "t", "c")
    assert running_call() is None
    with running(claim):
        assert running_call() is claim
        first = deliver(env, note())
        retry = note()  # composed anew: another Message-ID and Date
        del retry["Date"]
        retry["Date"] = "Tue, 01 Dec 2026 10:00:00 +0000"
        second = deliver(env, retry)
    assert running_call() is None
    assert second.receipt.message_id == first.receipt.message_id
    outbox = files(tmp_path / "out")
    assert len(outbox) == 2
    assert {header(p, "Message-ID") for p in outbox} == {first.receipt.message_id}
    dates = {header(p, "Date") for p in outbox}
    assert len(dates) == 1 and "Tue, 01 Dec 2026" not in dates, "the first attempt's Date"
    [sent] = files(tmp_path / "inbox" / ".Sent")
    assert header(sent, "Message-ID") == first.receipt.message_id
    assert "kept by an earlier attempt" in second.text and not second.sent_copy_key
    [row] = ledger.messages("t", "c")
    assert (row.message_id, row.stage, row.attempts) == (first.receipt.message_id, "copied", 2)


def test_a_sent_copy_whose_stage_was_not_recorded_is_found_not_doubled(
    env: MailboxEnv, db: AppDatabase, tmp_path: Path
) -> None:
    ledger = SideEffectLedger(db)
    message = note()
    # An earlier attempt kept its copy and died before recording it.
    ledger.prepare_message(
        "t",
        "c",
        "",
        message_id=str(message["Message-ID"]),
        date=str(message["Date"]),
        recipients=[LENA],
    )
    ledger.reach("t", "c", "", "accepted")
    MaildirSource(tmp_path / "inbox", env.source).save_sent(bytes(message))
    with running(ClaimedCall(ledger, "t", "c")):
        delivery = deliver(env, note())
    assert delivery.receipt.message_id == str(message["Message-ID"])
    assert len(files(tmp_path / "inbox" / ".Sent")) == 1


def test_without_a_claim_nothing_is_recorded(env: MailboxEnv, db: AppDatabase) -> None:
    message = note()
    delivery = deliver(env, message)
    assert delivery.receipt.message_id == str(message["Message-ID"])
    assert SideEffectLedger(db).messages("t", "c") == []


def test_each_stage_of_a_delivery_to_the_outbox_is_recorded_in_order(
    env: MailboxEnv, db: AppDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = SideEffectLedger(db)
    seen: list[str] = []
    reach = SideEffectLedger.reach

    def spy(self: SideEffectLedger, thread: str, call: str, part: str, stage: Any) -> None:
        seen.append(stage)
        reach(self, thread, call, part, stage)

    monkeypatch.setattr(SideEffectLedger, "reach", spy)
    with running(ClaimedCall(ledger, "t", "c")):
        deliver(env, note())
    assert seen == ["data", "accepted", "copied"]
    assert [s for s in SEND_STAGES if s in seen] == seen, "in the documented order"


# -- where a message can be seen afterwards ---------------------------------------------------


def test_maildir_finds_messages_by_message_id_in_sent_headers_only(tmp_path: Path) -> None:
    root = write_maildir(tmp_path / "m", MESSAGES)
    source = MaildirSource(root, f"maildir:{root}")
    assert source.find_sent(["<a@x>"]) == {}, "no Sent folder yet: nothing in it"
    kept = source.save_sent(b"Message-ID: <a@x>\r\nSubject: one\r\n\r\nbody\r\n")
    source.save_sent(b"Subject: two\n\nMessage-ID: <b@x> only in the body\n")
    assert source.find_sent(["<a@x>", "<b@x>", "<c@x>"]) == {"<a@x>": kept}
    assert source.find_sent(["a@x"]) == {"a@x": kept}, "with or without angle brackets"
    assert source.find_message_ids(INBOX, ["<meeting-7@acme.example>"]) != {}


def stored(db: AppDatabase, stage: Any, *, message_id: str = "<m@x>", attempts: int = 1) -> Any:
    ledger = SideEffectLedger(db)
    for _ in range(attempts):
        row = ledger.prepare_message(
            "t", "c", "", message_id=message_id, date="d", recipients=[LENA]
        )
    if stage != "prepared":
        ledger.reach("t", "c", "", stage)
    [row] = ledger.messages("t", "c")
    return row


@pytest.mark.parametrize(
    ("stage", "verdict", "says"),
    [
        (
            "prepared",
            "not_sent",
            "(while connecting or logging in at the latest): it was not sent.",
        ),
        ("envelope", "not_sent", "the server never had it, so it was not sent."),
        ("data", "maybe", "it may or may not have been delivered."),
        ("data_sent", "likely", "before its answer (250) was received: it was most likely"),
        ("accepted", "delivered", "The server accepted it (answered 250)"),
    ],
)
def test_without_a_copy_the_recorded_stage_decides(
    env: MailboxEnv, db: AppDatabase, stage: str, verdict: str, says: str
) -> None:
    smtp_env = MailboxEnv(db=db, source=env.source, sender=ME, smtp=None, outbox=None)
    [trace] = trace_sends(smtp_env, [stored(db, stage)])
    assert (trace.in_sent, trace.in_outbox, trace.verdict) == (False, None, verdict)
    assert trace.explain().startswith("No copy in Sent. ")
    assert says in trace.explain()


def test_a_copy_in_sent_means_delivered_whatever_the_stage(
    env: MailboxEnv, db: AppDatabase, tmp_path: Path
) -> None:
    smtp_env = MailboxEnv(db=db, source=env.source, sender=ME)
    MaildirSource(tmp_path / "inbox", env.source).save_sent(b"Message-ID: <m@x>\r\n\r\nhi\r\n")
    [trace] = trace_sends(smtp_env, [stored(db, "data", attempts=2)])
    assert (trace.in_sent, trace.verdict) == (True, "delivered")
    assert "is in your Sent folder" in trace.explain()
    assert "(2 attempts began" in trace.explain()


def test_the_outbox_answers_outright(env: MailboxEnv, db: AppDatabase, tmp_path: Path) -> None:
    [missing] = trace_sends(env, [stored(db, "data")])
    assert (missing.in_outbox, missing.verdict) == (False, "not_sent")
    assert "not in the local demo outbox" in missing.explain()
    with running(ClaimedCall(SideEffectLedger(db), "t", "c")):
        deliver(env, note())
    [found] = trace_sends(env, SideEffectLedger(db).messages("t", "c"))
    assert (found.in_outbox, found.verdict) == (True, "delivered")


def test_a_sent_folder_that_cannot_be_searched_is_named(db: AppDatabase, tmp_path: Path) -> None:
    broken = MailboxEnv(db=db, source=f"maildir:{tmp_path / 'nowhere'}", sender=ME)
    [trace] = trace_sends(broken, [stored(db, "data_sent")])
    assert (trace.in_sent, trace.verdict) == (None, "likely")
    assert trace.explain().startswith("Sent could not be searched. ")
    assert "Could not search: Sent: Maildir" in trace.explain()


# -- the card ---------------------------------------------------------------------------------

CALL: Any = {"id": "call-1", "name": "send_email", "args": {"to": LENA}, "proposed_by": "rules"}


def trace(verdict_stage: str, *, in_sent: bool = False, mid: str = "<m@x>") -> SentTrace:
    return SentTrace(mid, (LENA,), verdict_stage, "2026-12-01T10:00:00+00:00", 1, in_sent)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("traces", "heading", "decide"),
    [
        ([trace("envelope")], "Interrupted before its mail was sent", "**Accept** runs it now"),
        ([], "Interrupted before its mail was sent", "**Accept** runs it now"),
        ([trace("data", in_sent=True)], "Already sent before an interruption", "same Message-ID"),
        ([trace("data_sent")], "This may already have happened", "most mail systems keep only"),
        (
            [trace("accepted"), trace("prepared", mid="<n@x>")],
            "This may already have happened",
            "sent again with the same Message-ID",
        ),
    ],
)
def test_the_card_says_what_was_found_and_what_accepting_does(
    traces: list[SentTrace], heading: str, decide: str
) -> None:
    card = unknown_outcome_request(CALL, "2026-12-01T10:00:00+00:00", traces)
    text = card["description"]
    assert text.startswith(f"### {heading}: `send_email`")
    assert decide in text
    for item in traces:
        assert f"- Message-ID `{item.message_id}` to {LENA}: {item.explain()}" in text
    if not traces:
        assert "No message was prepared before the process stopped: nothing was sent." in text
    [flag] = card["flags"]
    assert flag["kind"] == "unknown_outcome"
    assert flag["reason"].startswith("started earlier; ")
    assert card["config"]["allow_accept"] and not card["config"]["allow_edit"]


def test_a_card_for_a_tool_that_sends_no_mail_stays_general() -> None:
    call = {**CALL, "name": "create_jira_issue"}
    text = unknown_outcome_request(call, "2026-12-01T10:00:00+00:00")["description"]
    assert text.startswith("### This may already have happened: `create_jira_issue`")
    assert "What was found" not in text
    assert "Check (for example in the service it acts on)" in text


def test_the_summary_names_each_message_and_its_verdict() -> None:
    summary = traces_summary([trace("accepted"), trace("envelope", mid="<n@x>")])
    assert summary == f"<m@x> to {LENA}: delivered; <n@x> to {LENA}: not sent"
    assert re.fullmatch(r"[^;]+; [^;]+", summary)
