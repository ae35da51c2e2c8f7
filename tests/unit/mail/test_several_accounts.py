"""An inbox of several accounts: one triage across them, each message naming its account, and
every reply, draft and inbox action going through the account the mail came to, or refused."""

from __future__ import annotations

import shutil
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from langgraph.runtime import Runtime

from graph.context import Context
from graph.nodes.classify import classify
from graph.nodes.fetch import fetch
from graph.services import build_services
from memory.db import AppDatabase
from tests.unit.conftest import write_maildir
from tools.mail import delivery
from tools.mail.account_list import is_account_list, parse_account_list
from tools.mail.delivery import deliver
from tools.mail.inbox_actions import open_operations
from tools.mail.mailbox import MailboxEnv, open_mailbox_env
from tools.mail.message_refs import render_refs, with_triage
from tools.mail.outgoing import compose_draft, compose_reply, plan_mail_action, store_draft
from tools.mail.smtp import SendReceipt
from tools.mail.smtp_settings import SmtpSettings
from tools.mail.source_protocol import MailSourceError
from tools.mail.sources import parse_source_spec
from tools.toolkit import ToolFailure

WORK, HOME = "dana@work.example", "dana@home.example"
SHARED_ID = "shared-1@partner.example"


def raw(sender: str, to: str, subject: str, message_id: str, body: str) -> str:
    return (
        f"From: {sender}\nTo: {to}\nSubject: {subject}\n"
        f"Date: Mon, 16 Nov 2026 09:00:00 +0000\nMessage-ID: <{message_id}>\n\n{body}\n"
    )


WORK_MAIL = {
    "1781000001.M1P1.host": raw(
        "Ops <alerts@ops.work.example>", WORK, "Production outage", "outage@ops", "Down now."
    ),
    "1781000002.M2P1.host": raw(
        "Lena <lena@partner.example>", WORK, "Contract", SHARED_ID, "Signed copy for work."
    ),
}
HOME_MAIL = {
    # The same file name as a work message: keys are per account, so they never meet.
    "1781000001.M1P1.host": raw(
        "Sam <sam@friends.example>", HOME, "Dinner Friday?", "dinner@friends", "Are you free?"
    ),
    "1781000003.M3P1.host": raw(
        "Lena <lena@partner.example>", HOME, "Contract", SHARED_ID, "Signed copy, personal."
    ),
    # Written to the work address, but it came to the personal account.
    "1781000004.M4P1.host": raw(
        "Mallory <m@evil.example>", WORK, "Wire today", "wire@evil", "Reply from work please."
    ),
}


@pytest.fixture
def accounts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Context:
    work = write_maildir(tmp_path / "work", WORK_MAIL)
    home = write_maildir(tmp_path / "home-mail", HOME_MAIL)
    monkeypatch.setenv("SMTP_FROM_WORK", f"Dana Whitfield <{WORK}>")
    monkeypatch.setenv("SMTP_FROM_PERSONAL", HOME)
    monkeypatch.setenv("SMTP_URL_WORK", "smtp://127.0.0.1:2525")
    monkeypatch.setenv("SMTP_URL_PERSONAL", "smtp://127.0.0.1:2526")
    monkeypatch.setenv("SMTP_URL", "smtp://127.0.0.1:2599")  # one source's: never used here
    monkeypatch.setenv("SMTP_FROM", "wrong@nowhere.example")
    return Context(
        model="rules",
        inbox=f"work=maildir:{work},\npersonal=maildir:{home}",
        home=str(tmp_path / "data"),
        max_steps=5,
    )


async def fetched(context: Context) -> dict[str, Any]:
    runtime = Runtime(context=context)
    update = await fetch({}, runtime)
    await classify({**update}, runtime)  # type: ignore[typeddict-item]
    return update


def test_a_list_is_read_and_a_single_spec_is_not_one() -> None:
    listed = parse_account_list("work=imap://dana@mail.example/INBOX,\n personal=maildir:/m,a")
    assert [(a.label, a.spec) for a in listed] == [
        ("work", "imap://dana@mail.example/INBOX"),
        ("personal", "maildir:/m,a"),
    ]
    assert not is_account_list("maildir:/mail/a=b")
    assert not is_account_list("imap://dana@mail.example/INBOX?tls=none&account=work")
    for bad, why in [
        ("work=maildir:/a, Work=maildir:/b", "twice"),
        ("work=mcp:gmail", "an account of a list is"),
        ("work=maildir:/a, personal=", "an account of a list is"),
        ("work=other=maildir:/a", "an account of a list is"),
    ]:
        with pytest.raises(MailSourceError, match=why):
            parse_account_list(bad)


async def test_one_triage_across_accounts_each_message_naming_its_account(
    accounts: Context,
) -> None:
    update = await fetched(accounts)
    assert not update["fetch_errors"]
    services = build_services(accounts)
    pairs = services.db.triaged_emails(services.source)
    assert len(pairs) == 5, "every message of both accounts is triaged"
    by_account = {(e.account, e.subject) for e, _ in pairs}
    assert ("work", "Production outage") in by_account
    assert ("personal", "Dinner Friday?") in by_account
    ids = [e.id for e, _ in pairs]
    assert len(set(ids)) == 5, "ids never collide across accounts"
    copies = services.db.emails_with_message_id(SHARED_ID)
    assert {e.account for e in copies} == {"work", "personal"}
    assert len({e.id for e in copies}) == 2
    assert all(e.key.startswith(f"{e.account}/") for e, _ in pairs)

    refs = with_triage(services.tools.env, [e for e, _ in pairs], full=False)
    assert {r["account"] for r in refs} == {"work", "personal"}
    assert "   account: personal" in render_refs(refs, full=False)

    again = await fetched(accounts)
    assert again["new_email_ids"] == [], "each account keeps its own cursor"


async def test_an_account_that_cannot_be_read_is_named_and_the_others_are_triaged(
    accounts: Context, tmp_path: Path
) -> None:
    shutil.rmtree(tmp_path / "work")
    update = await fetched(accounts)
    [failure] = update["fetch_errors"]
    assert failure["error"].startswith("account work (maildir:"), failure
    services = build_services(accounts)
    pairs = services.db.triaged_emails(services.source)
    assert {e.account for e, _ in pairs} == {"personal"}
    assert len(pairs) == 3


def sent_log(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, EmailMessage]]:
    """What would have gone out, by SMTP server (nothing connects in a unit test)."""
    sent: list[tuple[str, EmailMessage]] = []

    def send(settings: SmtpSettings, message: EmailMessage, **_: Any) -> SendReceipt:
        sent.append((f"{settings.host}:{settings.port}", message))
        return SendReceipt(message_id=str(message["Message-ID"]), recipients=[str(message["To"])])

    monkeypatch.setattr(delivery, "send_message", send)
    return sent


def email_of(env: MailboxEnv, account: str, subject: str) -> str:
    [email] = [
        e
        for e in env.db.list_emails(source=env.source, limit=50)
        if e.account == account and e.subject == subject
    ]
    return email.id


async def test_a_reply_goes_out_from_the_account_the_mail_came_to(
    accounts: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    await fetched(accounts)
    env = build_services(accounts).tools.env
    sent = sent_log(monkeypatch)
    cases = [
        ("work", "Production outage", WORK, "127.0.0.1:2525"),
        ("personal", "Dinner Friday?", HOME, "127.0.0.1:2526"),
        # Addressed to the work address, came to the personal account: answered from there.
        ("personal", "Wire today", HOME, "127.0.0.1:2526"),
    ]
    for account, subject, address, server in cases:
        email_id = email_of(env, account, subject)
        card = plan_mail_action(env, "reply_to_email", {"email_id": email_id, "body": "Ok."})
        assert card is not None and address in card.sender and card.account == account
        assert card.notes == ()
        message = compose_reply(env, email_id=email_id, body="Ok.", reply_all=False)
        deliver(env, message)
        assert sent[-1][0] == server
        assert address in str(sent[-1][1]["From"])
    assert len(sent) == 3, "each reply went out exactly once"


async def test_the_same_message_id_in_both_accounts_answers_from_each_own(
    accounts: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    await fetched(accounts)
    env = build_services(accounts).tools.env
    sent = sent_log(monkeypatch)
    for copy in env.db.emails_with_message_id(SHARED_ID):
        deliver(env, compose_reply(env, email_id=copy.id, body="Thanks.", reply_all=False))
        expected = WORK if copy.account == "work" else HOME
        assert expected in str(sent[-1][1]["From"])
        assert str(sent[-1][1]["In-Reply-To"]) == f"<{SHARED_ID}>"


async def test_a_removed_account_refuses_at_approval_and_sends_nothing(
    accounts: Context, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    await fetched(accounts)
    before = build_services(accounts).tools.env
    email_id = email_of(before, "personal", "Dinner Friday?")
    card = plan_mail_action(before, "reply_to_email", {"email_id": email_id, "body": "Yes."})
    assert card is not None and card.account == "personal"
    # The personal account is taken out of the list before the card is approved.
    after = open_mailbox_env(
        before.db,
        f"work=maildir:{tmp_path / 'work'}",
        tmp_path / "data",
        user_addresses=(),
        smtp=None,
    )
    sent = sent_log(monkeypatch)
    with pytest.raises(ToolFailure, match="not one of this inbox's accounts"):
        compose_reply(after, email_id=email_id, body="Yes.", reply_all=False)
    stale = plan_mail_action(after, "reply_to_email", {"email_id": email_id, "body": "Yes."})
    assert stale is not None and stale.notes[0].startswith("This will fail:")
    assert sent == []


async def test_a_from_no_account_or_two_accounts_have_sends_nothing(
    accounts: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    await fetched(accounts)
    env = build_services(accounts).tools.env
    sent = sent_log(monkeypatch)
    message = compose_reply(
        env, email_id=email_of(env, "work", "Production outage"), body="x", reply_all=False
    )
    message.replace_header("From", "wrong@nowhere.example")  # the one-source SMTP_FROM
    with pytest.raises(ToolFailure, match="no account of this inbox has"):
        deliver(env, message)
    monkeypatch.setenv("SMTP_FROM_PERSONAL", WORK)
    twins = build_services(accounts).tools.env
    message.replace_header("From", WORK)
    with pytest.raises(ToolFailure, match="more than one account has"):
        deliver(twins, message)
    assert sent == []


async def test_drafts_and_inbox_actions_go_through_the_account(
    accounts: Context, tmp_path: Path
) -> None:
    await fetched(accounts)
    env = build_services(accounts).tools.env
    email_id = email_of(env, "personal", "Dinner Friday?")
    message, _ = compose_draft(env, body="Maybe.", in_reply_to_id=email_id)
    store_draft(env, message)
    assert len(list((tmp_path / "home-mail" / ".Drafts" / "cur").iterdir())) == 1
    assert not (tmp_path / "work" / ".Drafts").exists()

    ops = open_operations(env)
    email = env.db.get_email(email_id)
    assert email is not None
    [outcome] = ops.move([email], ops.folder_for("archive"))
    assert outcome.status == "moved" and outcome.key.startswith("personal/")
    archived = [p for p in (tmp_path / "home-mail" / ".Archive").rglob("*") if p.is_file()]
    assert len(archived) == 1
    assert not (tmp_path / "work" / ".Archive").exists()
    with pytest.raises(MailSourceError, match="name the account"):
        parse_source_spec(env.source).save_draft(bytes(message))


def test_the_account_field_defaults_for_mail_cached_before_it(tmp_path: Path) -> None:
    from tools.mail.model import Email

    db = AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")
    try:
        [stored] = db.add_emails([Email(id="a@b", source="maildir:/x", folder="INBOX", key="k")])
        assert stored.account == ""
        data = stored.to_dict()
        del data["account"]
        assert Email.from_dict(data).account == ""
    finally:
        db.engine.dispose()


async def test_the_health_check_probes_every_account_and_names_the_one_down(
    accounts: Context, tmp_path: Path
) -> None:
    from tools.mail.multi_source import MultiSource

    source = parse_source_spec(build_services(accounts).source)
    assert isinstance(source, MultiSource)
    assert source.probe() == "work: ok; personal: ok"
    shutil.rmtree(tmp_path / "home-mail")
    with pytest.raises(MailSourceError, match=r"^account personal \(maildir:"):
        source.probe()
