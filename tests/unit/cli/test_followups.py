"""`smart-inbox followups`: both reply lists, as text and as the JSON docs/cli.md describes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.mail.reply_mail import (
    BOB,
    CONTRACT,
    EXPORT,
    HELENA,
    ME,
    QUESTION_FOR_DANA,
    write_reply_mailbox,
)
from ui.cli import EXIT_USER_ERROR, main


@pytest.fixture
def inbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SMART_INBOX_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SMART_INBOX_USER_EMAILS", ME)
    for name in ("SMART_INBOX_AWAITING_DAYS", "SMTP_URL", "SMTP_FROM", "MODEL", "INBOX"):
        monkeypatch.delenv(name, raising=False)
    return f"maildir:{write_reply_mailbox(tmp_path / 'mbox')}"


def test_json_has_both_lists_with_age_sender_subject_and_ids(
    inbox: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["followups", "--inbox", inbox, "--model", "rules", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["awaiting_days"] == 3
    [needs] = data["needs_reply"]
    assert needs["id"] == needs["message_id"] == QUESTION_FOR_DANA
    assert needs["from"] == "Jonas Keller <jonas@fernhill.example>"
    assert (needs["subject"], needs["age_days"], needs["thread_size"]) == ("Budget 2027", 2, 1)
    assert "waiting_on" not in needs
    awaited = data["awaiting_reply"]
    assert [row["id"] for row in awaited] == [CONTRACT, EXPORT], "oldest question first"
    assert [row["waiting_on"] for row in awaited] == [[BOB], [HELENA]]
    assert [row["age_days"] for row in awaited] == [5, 4]
    assert awaited[0]["from"] == f"Dana Whitfield <{ME}>"
    assert set(awaited[0]) == {
        "id", "message_id", "conversation", "thread_size", "from", "subject", "date",
        "age_days", "waiting_on",
    }  # fmt: skip


def test_text_lists_each_under_its_heading(
    inbox: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMART_INBOX_AWAITING_DAYS", "5")
    assert main(["followups", "--inbox", inbox, "--model", "rules"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Needs your reply (1):"
    assert lines[2].split() == [
        "2d",
        "Jonas",
        "Keller",
        "<jonas@fernhill.example>",
        "Budget",
        "2027",
        QUESTION_FOR_DANA,
    ]
    awaited = lines.index("Awaiting their reply (1, asked 5 or more day(s) ago, no answer since):")
    assert lines[awaited + 2].split() == ["5d", BOB, "Signed", "contract", CONTRACT]
    assert EXPORT not in "\n".join(lines), "four days is not five"


def test_a_bad_waiting_time_is_one_line(
    inbox: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMART_INBOX_AWAITING_DAYS", "a week")
    assert main(["followups", "--inbox", inbox, "--model", "rules"]) == EXIT_USER_ERROR
    assert capsys.readouterr().err == (
        "smart-inbox: SMART_INBOX_AWAITING_DAYS must be a whole number of days (0 or more), "
        "not 'a week'\n"
    )
