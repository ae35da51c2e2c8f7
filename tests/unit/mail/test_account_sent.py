"""The Sent folders of an inbox of several accounts: each IMAP account's own is read, and one
that cannot be read is an error naming its account, never a quietly shorter list."""

from __future__ import annotations

from pathlib import Path

import pytest

from memory.db import AppDatabase
from tests.fakes.smtp_server import free_port
from tests.unit.conftest import write_maildir
from tools.mail.mailbox import open_mailbox_env
from tools.mail.sent_folder import sent_mail
from tools.mail.source_protocol import MailSourceError


def test_an_unreadable_sent_folder_names_its_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAP_PASSWORD", "x")
    personal = write_maildir(tmp_path / "personal", {})
    dead = f"imap://dana@127.0.0.1:{free_port()}/INBOX"
    env = open_mailbox_env(
        AppDatabase(f"sqlite:///{tmp_path / 'app.db'}"),
        f"personal=maildir:{personal}, work={dead}",
        tmp_path / "data",
        user_addresses=(),
        smtp=None,
    )
    with pytest.raises(MailSourceError, match=r"^account work: .*connection refused"):
        sent_mail(env, 50)


def test_maildir_accounts_have_no_separate_sent_folder(tmp_path: Path) -> None:
    both = [write_maildir(tmp_path / name, {}) for name in ("a", "b")]
    env = open_mailbox_env(
        AppDatabase(f"sqlite:///{tmp_path / 'app.db'}"),
        f"a=maildir:{both[0]}, b=maildir:{both[1]}",
        tmp_path / "data",
        user_addresses=(),
        smtp=None,
    )
    assert sent_mail(env, 50) == []  # their .Sent is cached with the rest of their mail
