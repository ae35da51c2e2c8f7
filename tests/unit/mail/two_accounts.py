"""An inbox of two Maildir accounts, `work` and `personal`, each with its own SMTP route, and
a record of what would have gone out (nothing connects in a unit test)."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from memory.db import AppDatabase
from tests.unit.conftest import write_maildir
from tools.mail import delivery
from tools.mail.mailbox import MailboxEnv, open_mailbox_env
from tools.mail.smtp import SendReceipt
from tools.mail.smtp_settings import SmtpSettings

WORK, HOME = "dana@work.example", "dana@home.example"
WORK_SMTP, HOME_SMTP = "127.0.0.1:2525", "127.0.0.1:2526"
ROUTES = {"work": WORK_SMTP, "personal": HOME_SMTP}


def two_accounts(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    work_files: dict[str, str],
    home_files: dict[str, str],
) -> MailboxEnv:
    """The mailbox `work=maildir:…, personal=maildir:…` holding those files."""
    work = write_maildir(tmp_path / "work", work_files)
    home = write_maildir(tmp_path / "home-mail", home_files)
    monkeypatch.setenv("SMTP_FROM_WORK", f"Dana Whitfield <{WORK}>")
    monkeypatch.setenv("SMTP_FROM_PERSONAL", HOME)
    monkeypatch.setenv("SMTP_URL_WORK", f"smtp://{WORK_SMTP}")
    monkeypatch.setenv("SMTP_URL_PERSONAL", f"smtp://{HOME_SMTP}")
    monkeypatch.setenv("SMTP_URL", "smtp://127.0.0.1:2599")  # one source's: never used here
    return open_mailbox_env(
        AppDatabase(f"sqlite:///{tmp_path / 'app.db'}"),
        f"work=maildir:{work}, personal=maildir:{home}",
        tmp_path / "data",
        user_addresses=(),
        smtp=None,
    )


def record_sends(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, EmailMessage]]:
    """What would have gone out, by SMTP server."""
    log: list[tuple[str, EmailMessage]] = []

    def send(settings: SmtpSettings, message: EmailMessage, **_: Any) -> SendReceipt:
        log.append((f"{settings.host}:{settings.port}", message))
        return SendReceipt(message_id=str(message["Message-ID"]), recipients=[str(message["To"])])

    monkeypatch.setattr(delivery, "send_message", send)
    return log
