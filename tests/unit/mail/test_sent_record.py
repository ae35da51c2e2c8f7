"""Which Sent folders the triage's profile reads: recorded by a triage fetch, kept when unreadable."""

from __future__ import annotations

from pathlib import Path

import pytest

from memory.db import AppDatabase
from tests.fakes.smtp_server import free_port
from tests.unit.conftest import write_maildir
from tools.mail.mailbox import open_mailbox_env
from tools.mail.sent_folder import (
    RECORD_PREFIX,
    cached_sent_mail,
    recorded_sent_folders,
    sync_sent_folders,
)


def test_an_unreadable_sent_folder_is_said_and_its_record_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAP_PASSWORD", "x")
    personal = write_maildir(tmp_path / "personal", {})
    dead = f"imap://dana@127.0.0.1:{free_port()}/INBOX"
    db = AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")
    inbox = f"personal=maildir:{personal}, work={dead}"
    env = open_mailbox_env(db, inbox, tmp_path / "data", user_addresses=(), smtp=None)
    was = dead.replace("/INBOX", "/Sent")
    db.set_cursor(RECORD_PREFIX + env.source, f'{{"work": "{was}"}}', 1)

    problem = sync_sent_folders(env)

    assert problem.startswith("account work: ") and "connection refused" in problem
    assert recorded_sent_folders(db, env.source) == {"work": was}, "what was cached still counts"


def test_a_maildir_inbox_records_nothing_and_asks_no_server(tmp_path: Path) -> None:
    inbox = write_maildir(tmp_path / "inbox", {})
    db = AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")
    env = open_mailbox_env(db, f"maildir:{inbox}", tmp_path / "data", user_addresses=(), smtp=None)
    assert sync_sent_folders(env) == ""
    assert recorded_sent_folders(db, env.source) == {}
    assert cached_sent_mail(db, env.source, 50) == []


@pytest.mark.parametrize("signature", ["", "not json", "[1, 2]", '{"work": 3}', '{"": ""}'])
def test_a_damaged_record_reads_as_no_record(tmp_path: Path, signature: str) -> None:
    db = AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")
    db.set_cursor(RECORD_PREFIX + "imap://dana@host/INBOX", signature, 0)
    assert recorded_sent_folders(db, "imap://dana@host/INBOX") == {}
