"""New mail in an inbox of several accounts: from the account the call names, else the first;
an account the inbox does not have is refused before any card, and nothing is sent."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from graph.engines.base import ToolPlanRequest
from graph.engines.intents.matcher import plan_from_intents
from memory.db import AppDatabase
from tests.unit.mail.two_accounts import HOME, ROUTES, WORK, record_sends, two_accounts
from tools.mail.delivery import deliver
from tools.mail.mailbox import MailboxEnv, chosen_account
from tools.mail.outgoing import compose_new, plan_mail_action, send_refusal
from tools.mail.tools import MAIL_TOOLS, mail_toolkit
from tools.registry import ToolRegistry
from tools.toolkit import ToolFailure


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MailboxEnv:
    return two_accounts(tmp_path, monkeypatch, {}, {})


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, EmailMessage]]:
    return record_sends(monkeypatch)


def new_mail(account: str) -> dict[str, Any]:
    args = {"to": "sam@friends.example", "subject": "Hello", "body": "Hi Sam."}
    return {**args, "account": account} if account else args


@pytest.mark.parametrize(
    ("named", "account", "address"),
    [("", "work", WORK), ("personal", "personal", HOME), ("PERSONAL", "personal", HOME)],
)
def test_new_mail_goes_once_from_the_account_named_else_the_first(
    env: MailboxEnv,
    sent: list[tuple[str, EmailMessage]],
    named: str,
    account: str,
    address: str,
) -> None:
    card = plan_mail_action(env, "send_email", new_mail(named))
    assert card is not None and card.account == account and address in card.sender
    assert card.notes == ()
    assert send_refusal(env, "send_email", new_mail(named)) == ""

    deliver(env, compose_new(env, **new_mail(named)))

    [(server, message)] = sent
    assert server == ROUTES[account]
    assert address in str(message["From"])


@pytest.mark.parametrize("named", ["hobby", "work,personal", "work personal", "*", "personal/"])
def test_an_account_the_inbox_lacks_is_refused_before_any_card_and_nothing_sent(
    env: MailboxEnv, sent: list[tuple[str, EmailMessage]], named: str
) -> None:
    why = send_refusal(env, "send_email", new_mail(named))
    assert why.startswith(f"the inbox has no account {named!r} (its accounts: work, personal)")
    registry = ToolRegistry.from_toolkits([mail_toolkit(env)])
    assert registry.refusal("send_email", new_mail(named)) == why
    # Run anyway (an edited card, a stale plan): the tool refuses with the same line.
    with pytest.raises(ToolFailure) as refused:
        compose_new(env, **new_mail(named))
    assert str(refused.value) == why
    assert sent == []


def test_a_reply_or_a_draft_is_never_refused_for_an_account_argument(env: MailboxEnv) -> None:
    registry = ToolRegistry.from_toolkits([mail_toolkit(env)])
    assert registry.refusal("reply_to_email", {"email_id": "x", "account": "hobby"}) == ""
    assert registry.refusal("send_email", new_mail("work")) == ""


def test_an_inbox_of_one_source_refuses_a_named_account(tmp_path: Path) -> None:
    one = MailboxEnv(
        db=AppDatabase(f"sqlite:///{tmp_path / 'app.db'}"),
        source=f"maildir:{tmp_path}",
        sender=WORK,
    )
    assert chosen_account(one, "") is one
    assert chosen_account(one, "  ") is one
    why = send_refusal(one, "send_email", new_mail("work"))
    assert why.startswith("the inbox is one source, not several accounts")
    card = plan_mail_action(one, "send_email", new_mail("work"))
    assert card is not None and card.notes[0].startswith("This will fail:")


def plan(text: str) -> list[tuple[str, dict[str, object]]]:
    request = ToolPlanRequest(
        mode="chat", user_text=text, conversation=[], focus=[], turn_evidence=[], tools=MAIL_TOOLS
    )
    _, calls = plan_from_intents(request)
    return [(c.name, c.args) for c in calls]


def test_the_user_names_the_account_in_their_words() -> None:
    [(tool, args)] = plan("send an email to sam@friends.example from my personal account saying hi")
    assert tool == "send_email" and args["account"] == "personal" and args["body"] == "hi"
    [(_, args)] = plan("write to sam@friends.example from the work account saying ok")
    assert args["account"] == "work"


def test_a_new_draft_is_written_from_the_account_named_when_sending_is_off() -> None:
    drafting = [t for t in MAIL_TOOLS if t.name != "send_email"]
    request = ToolPlanRequest(
        mode="chat",
        user_text="send an email to sam@friends.example from my personal account saying hi",
        conversation=[], focus=[], turn_evidence=[], tools=drafting,
    )  # fmt: skip
    [call] = plan_from_intents(request)[1]
    assert call.name == "save_draft" and call.args["account"] == "personal"
    assert call.args["to"] == "sam@friends.example" and call.args["body"] == "hi"


def test_words_of_the_mail_itself_name_no_account() -> None:
    # "from my work account" is what the mail says, not where it goes from.
    [(tool, args)] = plan(
        "send an email to sam@friends.example saying I wrote from my work account"
    )
    assert tool == "send_email" and "account" not in args
    assert args["body"] == "I wrote from my work account"


@pytest.mark.parametrize(
    "text",
    [
        "send an email to sam@friends.example from my account saying hi",
        "send an email to sam@friends.example from the account saying hi",
        "send an email to sam@friends.example from the same account saying hi",
    ],
)
def test_a_word_like_my_is_never_taken_for_an_account(text: str) -> None:
    [(tool, args)] = plan(text)
    assert tool == "send_email" and "account" not in args, "the first account, not one called 'my'"
