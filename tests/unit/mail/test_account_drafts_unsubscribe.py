"""Drafts and unsubscribe mail in an inbox of several accounts.

A new draft is From the account the call names, else the first, and kept in that account's
Drafts; an account the inbox lacks is refused before any card. A reply draft is From the
account its message came to, and naming another is refused. The unsubscribe mail a list asks
for goes out from the account the list mail came to, never another one.
"""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.unit.conftest import drafts_in
from tests.unit.mail.two_accounts import (
    HOME,
    HOME_SMTP,
    WORK,
    WORK_SMTP,
    record_sends,
    two_accounts,
)
from tools.mail.inbox_tools import inbox_toolkit
from tools.mail.mailbox import MailboxEnv
from tools.mail.outgoing import compose_draft, plan_mail_action, send_refusal, store_draft
from tools.mail.sync import sync_source
from tools.mail.tools import mail_toolkit
from tools.mail.unsubscribe import unsubscribe
from tools.registry import ToolRegistry
from tools.toolkit import ToolFailure

LIST_MAIL = """\
From: Garden Club <news@garden.example>
To: {to}
Subject: {subject}
Date: Sat, 21 Nov 2026 10:15:00 +0100
Message-ID: <{mid}@garden.example>
List-Unsubscribe: <{link}>
Content-Type: text/plain; charset=utf-8

This week in the garden.
"""


def list_mail(to: str, subject: str, mid: str, link: str) -> str:
    return LIST_MAIL.format(to=to, subject=subject, mid=mid, link=link)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MailboxEnv:
    mailbox = two_accounts(
        tmp_path,
        monkeypatch,
        {"1.w": list_mail(WORK, "Work digest", "w1", "mailto:leave@garden.example")},
        {
            # Came to the personal account; its To names the work address, and its link asks
            # for a From and a Cc of its own: none of it moves the mail to another account.
            "1.h": list_mail(
                WORK,
                "Garden news",
                "h1",
                f"mailto:leave@garden.example?subject=stop&from={WORK}&cc=boss@work.example",
            ),
        },
    )
    sync_source(mailbox.db, mailbox.source)
    return mailbox


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, EmailMessage]]:
    return record_sends(monkeypatch)


def email_id(env: MailboxEnv, subject: str) -> str:
    [found] = [e for e in env.db.list_emails(source=env.source) if e.subject == subject]
    return found.id


def draft(account: str) -> dict[str, Any]:
    args = {"to": "sam@friends.example", "subject": "Plans", "body": "Saturday?"}
    return {**args, "account": account} if account else args


@pytest.mark.parametrize(
    ("named", "account", "address", "folder"),
    [
        ("", "work", WORK, "work"),
        ("personal", "personal", HOME, "home-mail"),
        ("Personal", "personal", HOME, "home-mail"),
    ],
)
def test_a_new_draft_is_from_the_account_named_else_the_first(
    env: MailboxEnv, tmp_path: Path, named: str, account: str, address: str, folder: str
) -> None:
    card = plan_mail_action(env, "save_draft", draft(named))
    assert card is not None and card.account == account and address in card.sender
    assert send_refusal(env, "save_draft", draft(named)) == ""

    message, _ = compose_draft(env, **draft(named))
    store_draft(env, message)

    assert address in str(message["From"])
    assert len(drafts_in(tmp_path / folder)) == 1
    other = "home-mail" if folder == "work" else "work"
    assert drafts_in(tmp_path / other) == []


@pytest.mark.parametrize("named", ["hobby", "work,personal", "*", "personal/"])
def test_a_draft_naming_an_account_the_inbox_lacks_is_refused_and_nothing_is_kept(
    env: MailboxEnv, tmp_path: Path, named: str
) -> None:
    why = send_refusal(env, "save_draft", draft(named))
    assert why.startswith(f"the inbox has no account {named!r} (its accounts: work, personal)")
    assert ToolRegistry.from_toolkits([mail_toolkit(env)]).refusal("save_draft", draft(named)) == (
        why
    )
    with pytest.raises(ToolFailure) as refused:
        compose_draft(env, **draft(named))
    assert str(refused.value) == why
    assert drafts_in(tmp_path / "work") == [] and drafts_in(tmp_path / "home-mail") == []


def test_a_reply_draft_is_from_the_account_its_mail_came_to_and_never_another(
    env: MailboxEnv, tmp_path: Path
) -> None:
    original = email_id(env, "Garden news")  # personal's, though its To is the work address
    same = {"in_reply_to_id": original, "body": "Thanks.", "account": "personal"}
    message, _ = compose_draft(env, **same)
    assert HOME in str(message["From"])
    other = {**same, "account": "work"}
    card = plan_mail_action(env, "save_draft", other)
    assert card is not None and card.notes[0].startswith("This will fail:")
    with pytest.raises(ToolFailure, match="came to the account 'personal'"):
        compose_draft(env, **other)
    assert drafts_in(tmp_path / "work") == [] and drafts_in(tmp_path / "home-mail") == []


def test_unsubscribe_mail_goes_from_the_account_the_list_mail_came_to(
    env: MailboxEnv, sent: list[tuple[str, EmailMessage]]
) -> None:
    unsubscribe(env, email_id(env, "Garden news"))
    unsubscribe(env, email_id(env, "Work digest"))

    [(home_server, home_mail), (work_server, work_mail)] = sent
    assert home_server == HOME_SMTP and str(home_mail["From"]) == HOME
    assert str(home_mail["To"]) == "leave@garden.example" and home_mail["Cc"] is None
    assert str(home_mail["Subject"]) == "stop"
    assert work_server == WORK_SMTP and WORK in str(work_mail["From"])


def test_unsubscribe_mail_of_an_account_removed_from_the_list_sends_nothing(
    env: MailboxEnv, tmp_path: Path, sent: list[tuple[str, EmailMessage]]
) -> None:
    garden = email_id(env, "Garden news")
    # The same list spec without the personal account: its mail must not leave from work.
    fewer = MailboxEnv(
        db=env.db,
        source=env.source,
        sender=env.sender,
        user_addresses=env.user_addresses,
        accounts={"work": env.accounts["work"]},
    )
    with pytest.raises(ToolFailure, match="not one of this inbox's accounts"):
        unsubscribe(fewer, garden)
    assert sent == []


def test_the_unsubscribe_card_names_the_account_the_mail_goes_from(env: MailboxEnv) -> None:
    garden = email_id(env, "Garden news")
    card = inbox_toolkit(env).preview("unsubscribe", {"message_id": garden})  # type: ignore[misc]
    assert card is not None
    assert f"The mail goes from {HOME} (account personal)" in " ".join(card.notes)
    fewer = MailboxEnv(db=env.db, source=env.source, accounts={"work": env.accounts["work"]})
    stale = inbox_toolkit(fewer).preview("unsubscribe", {"message_id": garden})  # type: ignore[misc]
    assert stale is not None
    assert any(n.startswith("Cannot unsubscribe by mail:") for n in stale.notes)
    assert WORK not in " ".join(stale.notes)
