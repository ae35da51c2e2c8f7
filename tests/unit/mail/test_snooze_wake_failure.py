"""Snoozed mail that cannot be woken is said as that, not as a fetch that failed.

The fetch itself went through, so `smart-inbox triage` still exits 0 and shows the inbox; the
chat answer says what could not be done. A source that really cannot be read is still "could
not fetch" with a failing exit status (the walk-around: the two must not be told apart by luck).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from graph.context import Context
from graph.services import build_services
from tests.unit.answer_fixtures import ask
from tests.unit.conftest import MEETING_ID
from tools.mail import inbox_moves as moves
from tools.mail.source_protocol import MailSourceError
from ui.cli import EXIT_USER_ERROR, main

UNREACHABLE = "the mailbox's server refused the connection"


def _snooze_due(context: Context) -> None:
    mailbox = build_services(context).mailbox
    now = datetime.now(UTC)
    due = (now - timedelta(minutes=1)).isoformat()
    moves.snooze(mailbox, [MEETING_ID], due, now=now - timedelta(hours=1))


def _operations_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(mailbox: object) -> object:
        raise MailSourceError(UNREACHABLE)

    monkeypatch.setattr("graph.nodes.fetch.open_operations", refused)


async def test_the_chat_answer_says_the_snooze_stays_and_the_mail_was_fetched(
    context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    await ask(context, "what is new?")
    _snooze_due(context)
    _operations_fail(monkeypatch)

    result = await ask(context, "what is new?", thread="t2")

    [failure] = result["fetch_errors"]
    assert failure["stage"] == "wake" and UNREACHABLE in failure["error"]
    answer = result["messages"][-1].content
    assert f"The mail was fetched, but snoozed mail could not be woken: {UNREACHABLE}" in answer
    assert "could not be read" not in answer
    assert build_services(context).db.get_email(MEETING_ID).folder == "Snoozed", "kept"


def test_triage_reports_the_wake_and_still_succeeds(
    context: Context, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SMART_INBOX_HOME", context.home or "")
    args = ["triage", "--inbox", context.inbox, "--model", "rules", "--json"]
    assert main(args) == 0
    _snooze_due(context)
    _operations_fail(monkeypatch)
    capsys.readouterr()

    assert main(args) == 0
    err = capsys.readouterr().err
    assert f"smart-inbox: snoozed mail could not be woken: {UNREACHABLE}" in err
    assert "could not fetch" not in err


def test_a_source_that_cannot_be_read_still_fails_the_command(
    context: Context, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SMART_INBOX_HOME", context.home or "")
    args = ["triage", "--inbox", context.inbox, "--model", "rules"]
    assert main(args) == 0

    def unreachable(*args: object, **kwargs: object) -> object:
        raise MailSourceError(UNREACHABLE)

    monkeypatch.setattr("graph.nodes.fetch.sync_source", unreachable)
    capsys.readouterr()

    assert main(args) == EXIT_USER_ERROR
    assert f"smart-inbox: could not fetch: {UNREACHABLE}" in capsys.readouterr().err
