"""Two real accounts in one inbox: a work IMAP account on Dovecot and a personal Maildir.

One triage across both with the account shown, a cited answer naming it, and each reply sent
exactly once, from the account the mail came to, by that account's own SMTP server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.imap_server import DovecotServer
from tests.fakes.smtp_server import SmtpSink, free_port
from tests.integration.cli_runner import run_cli
from tests.unit.conftest import write_maildir

# Each test runs the command several times (triage, ask, resume), a few seconds each.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

WORK, HOME = "dana@work.example", "dana@home.example"
SHARED_ID = "contract-9@partner.example"


def raw(sender: str, to: str, subject: str, message_id: str, day: int, body: str) -> str:
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Date: Mon, {day} Nov 2026 09:00:00 +0000\r\nMessage-ID: <{message_id}>\r\n\r\n{body}\r\n"
    )


WORK_MAIL = [
    raw(
        "Ops Alerts <alerts@ops.work.example>",
        WORK,
        "Production outage: checkout API down",
        "outage-1@ops.work.example",
        16,
        "The checkout API is down in production since 07:50 UTC. Customers cannot pay. "
        "On-call please join the bridge now.",
    ),
    raw("Lena <lena@partner.example>", WORK, "Contract", SHARED_ID, 17, "The signed contract."),
]
HOME_MAIL = {
    "1781000001.M1P1.host": raw(
        "Sam <sam@friends.example>",
        HOME,
        "Dinner Friday?",
        "dinner-1@friends.example",
        18,
        "Are you free for dinner on Friday?",
    ),
    "1781000002.M2P1.host": raw(
        "Lena <lena@partner.example>", HOME, "Contract", SHARED_ID, 17, "The signed contract."
    ),
    # Written to the work address, but it came to the personal account.
    "1781000003.M3P1.host": raw(
        "Mallory Quinn <mallory@evil.example>",
        WORK,
        "Wire the deposit",
        "wire-1@evil.example",
        19,
        "Please answer from your work address.",
    ),
}


@pytest.fixture
def sinks() -> Iterator[tuple[SmtpSink, SmtpSink]]:
    with SmtpSink() as work, SmtpSink() as personal:
        yield work, personal


def settings(dovecot: DovecotServer, sinks: tuple[SmtpSink, SmtpSink]) -> dict[str, str]:
    work, personal = sinks
    return {
        **dovecot.env(),
        "SMTP_URL_WORK": work.url,
        "SMTP_FROM_WORK": WORK,
        "SMTP_URL_PERSONAL": personal.url,
        "SMTP_FROM_PERSONAL": HOME,
        "SMART_INBOX_USER_EMAILS": f"{WORK},{HOME}",
    }


def test_one_triage_a_cited_answer_and_a_reply_from_each_account(
    dovecot: DovecotServer, sinks: tuple[SmtpSink, SmtpSink], tmp_path: Path
) -> None:
    for message in WORK_MAIL:
        dovecot.append(message.encode())
    personal = write_maildir(tmp_path / "personal", HOME_MAIL)
    inbox = f"work={dovecot.spec()}, personal=maildir:{personal}"
    env = settings(dovecot, sinks)
    work_sink, personal_sink = sinks

    def cli(*args: str) -> Any:
        result = run_cli(tmp_path / "home", *args, "--inbox", inbox, "--json", env=env)
        assert dovecot.password not in result.stdout + result.stderr
        return json.loads(result.stdout)

    rows = cli("triage", "--messages")
    assert len(rows) == 5 and len({r["id"] for r in rows}) == 5
    assert {(r["account"], r["subject"]) for r in rows} >= {
        ("work", "Production outage: checkout API down"),
        ("personal", "Dinner Friday?"),
    }
    assert sorted(r["account"] for r in rows if r["subject"] == "Contract") == [
        "personal",
        "work",
    ]
    table = run_cli(tmp_path / "home", "triage", "--inbox", inbox, env=env).stdout
    assert table.splitlines()[2].startswith("ACCOUNT"), table
    assert "personal" in table and "work" in table

    answer = cli("ask", "what needs my attention today?")
    outage = next(r["id"] for r in rows if r["subject"].startswith("Production outage"))
    assert outage in answer["citations"], answer["answer"]
    assert "[work]" in answer["answer"], answer["answer"]

    thread = answer["thread_id"]
    asked = cli("ask", "reply to the outage one saying on it", "--thread", thread)
    [card] = asked["pending"]
    assert card["action"] == "reply_to_email" and card["args"]["email_id"] == outage
    assert f"{WORK} (account work)" in card["description"]
    cli("resume", "--thread", thread, "--accept")
    [sent] = work_sink.messages
    assert str(sent.message["From"]) == WORK and sent.mail_from == WORK
    assert str(sent.message["In-Reply-To"]) == "<outage-1@ops.work.example>"
    assert personal_sink.messages == []
    assert len(dovecot.messages("Sent")) == 1, "the work account keeps its own Sent copy"

    wire = next(r["id"] for r in rows if r["subject"] == "Wire the deposit")
    asked = cli("ask", "reply to the mail from Mallory saying no", "--thread", "t-wire")
    [card] = asked["pending"]
    assert card["args"]["email_id"] == wire
    assert f"{HOME} (account personal)" in card["description"]
    cli("resume", "--thread", "t-wire", "--accept")
    [answered] = personal_sink.messages
    assert str(answered.message["From"]) == HOME
    assert answered.rcpt_tos == ["mallory@evil.example"]
    assert len(work_sink.messages) == 1, "nothing more went out from the work account"
    assert len(list((personal / ".Sent").rglob("*:2,*"))) == 1


def test_an_account_that_is_down_is_named_and_the_others_are_shown(
    sinks: tuple[SmtpSink, SmtpSink], tmp_path: Path
) -> None:
    personal = write_maildir(tmp_path / "personal", HOME_MAIL)
    dead = f"imap://dana@127.0.0.1:{free_port()}/INBOX"
    inbox = f"work={dead}, personal=maildir:{personal}"
    result = run_cli(
        tmp_path / "home",
        "triage",
        "--messages",
        "--json",
        "--inbox",
        inbox,
        env={"IMAP_PASSWORD": "x"},
        check=False,
    )
    assert result.returncode == 2, "an account that cannot be read is an error, not an empty part"
    assert f"could not fetch: account work ({dead}): inbox {dead}: connection refused" in (
        result.stderr
    )
    rows = json.loads(result.stdout)
    assert {r["account"] for r in rows} == {"personal"} and len(rows) == 3


GMAIL_TOKEN = "ya29.fake-gmail-token"


@pytest.fixture
def gmail_and_maildir(
    sinks: tuple[SmtpSink, SmtpSink], tmp_path: Path
) -> Iterator[tuple[Any, Path, dict[str, str]]]:
    """A work account on a local Gmail API and a personal Maildir, its token in the vault."""
    from tests.fakes.gmail_server import FakeGmail

    home = tmp_path / "home"
    personal = write_maildir(tmp_path / "personal", HOME_MAIL)
    gmail = FakeGmail(token=GMAIL_TOKEN, address=WORK)
    for message in WORK_MAIL:
        gmail.add(message.encode(), ("INBOX",))
    gmail.start()
    for name, value in (("google.token:work", GMAIL_TOKEN), ("google.address:work", WORK)):
        run_cli(home, "credentials", "set", name, "--stdin", stdin=value + "\n")
    env = {
        "INBOX": f"work=gmail:work\npersonal=maildir:{personal}",
        "SMART_INBOX_GMAIL_API": gmail.base_url,
        "SMTP_URL_PERSONAL": sinks[1].url,
        "SMTP_FROM_PERSONAL": HOME,
    }
    try:
        yield gmail, personal, env
    finally:
        gmail.stop()


def test_a_gmail_account_and_a_maildir_each_answer_from_their_own(
    gmail_and_maildir: tuple[Any, Path, dict[str, str]],
    sinks: tuple[SmtpSink, SmtpSink],
    tmp_path: Path,
) -> None:
    gmail, _, env = gmail_and_maildir

    def cli(*args: str) -> Any:
        return json.loads(run_cli(tmp_path / "home", *args, "--json", env=env).stdout)

    rows = cli("triage", "--messages")
    assert sorted(r["account"] for r in rows) == ["personal"] * 3 + ["work"] * 2
    contract = [r["id"] for r in rows if r["subject"] == "Contract"]
    assert len(set(contract)) == 2, "one Message-ID in both accounts: two messages, two ids"
    for who, account in (("Ops", "work"), ("Sam", "personal")):
        asked = cli("ask", f"reply to the mail from {who} saying received", "--thread", who)
        [card] = asked["pending"]
        assert f"(account {account})" in card["description"]
        cli("resume", "--thread", who, "--accept")
    [by_gmail] = gmail.sent
    assert f"From: {WORK}".encode() in by_gmail["raw"]
    [by_smtp] = sinks[1].messages
    assert str(by_smtp.message["From"]) == HOME


def test_a_revoked_gmail_account_is_named_and_the_maildir_still_read(
    gmail_and_maildir: tuple[Any, Path, dict[str, str]], tmp_path: Path
) -> None:
    _, personal, env = gmail_and_maildir
    home = tmp_path / "home"
    run_cli(home, "credentials", "set", "google.token:work", "--stdin", stdin="ya29.revoked\n")
    result = run_cli(home, "triage", "--messages", "--json", env=env, check=False)
    assert result.returncode == 2, "an account that cannot be read is an error"
    assert "could not fetch: account work (gmail:work):" in result.stderr, result.stderr
    assert GMAIL_TOKEN not in result.stderr and "ya29.revoked" not in result.stderr
    rows = json.loads(result.stdout)
    assert {r["account"] for r in rows} == {"personal"} and len(rows) == 3


def _two_maildirs(
    sinks: tuple[SmtpSink, SmtpSink], tmp_path: Path
) -> tuple[Path, Path, Path, dict[str, str]]:
    """The data directory, a work and a personal Maildir, and each account's SMTP settings."""
    work = write_maildir(tmp_path / "work", {"1781000010.M10P1.host": WORK_MAIL[0]})
    personal = write_maildir(tmp_path / "personal", HOME_MAIL)
    env = {
        "SMTP_URL_WORK": sinks[0].url,
        "SMTP_FROM_WORK": WORK,
        "SMTP_URL_PERSONAL": sinks[1].url,
        "SMTP_FROM_PERSONAL": HOME,
    }
    return tmp_path / "home", work, personal, env


def test_an_account_removed_before_approval_sends_nothing(
    sinks: tuple[SmtpSink, SmtpSink], tmp_path: Path
) -> None:
    home, work, personal, env = _two_maildirs(sinks, tmp_path)
    # The one-source settings: a reply must never fall back to them.
    env |= {"SMTP_URL": sinks[0].url, "SMTP_FROM": WORK}
    both = f"work=maildir:{work}, personal=maildir:{personal}"
    asked = run_cli(
        home, "ask", "reply to the mail from Sam saying yes", "--inbox", both, "--json", env=env
    )
    [card] = json.loads(asked.stdout)["pending"]
    assert f"{HOME} (account personal)" in card["description"]
    thread = json.loads(asked.stdout)["thread_id"]

    # The personal account is taken out of the list; the card is approved afterwards.
    only_work = f"work=maildir:{work}"
    done = run_cli(
        home,
        "resume",
        "--thread",
        thread,
        "--accept",
        "--inbox",
        only_work,
        "--json",
        env=env,
        check=False,
    )
    executed = json.loads(done.stdout)["executed"]
    assert [e["status"] for e in executed] == ["error"], executed
    assert "account 'personal', which is not one of this inbox's accounts" in executed[0]["error"]
    assert sinks[0].messages == [] and sinks[1].messages == [], "nothing was sent"
    assert not (personal / ".Sent").exists() and not (work / ".Sent").exists()


def test_new_mail_goes_once_from_the_account_the_user_names(
    sinks: tuple[SmtpSink, SmtpSink], tmp_path: Path
) -> None:
    home, work, personal, env = _two_maildirs(sinks, tmp_path)
    both = f"work=maildir:{work}, personal=maildir:{personal}"

    def cli(*args: str) -> Any:
        return json.loads(run_cli(home, *args, "--inbox", both, "--json", env=env).stdout)

    asked = cli("ask", "send an email to sam@friends.example from my personal account saying ok")
    [card] = asked["pending"]
    assert card["action"] == "send_email" and card["args"]["account"] == "personal"
    assert f"{HOME} (account personal)" in card["description"]
    cli("resume", "--thread", asked["thread_id"], "--accept")
    [sent] = sinks[1].messages
    assert str(sent.message["From"]) == HOME and sent.rcpt_tos == ["sam@friends.example"]
    assert sinks[0].messages == [], "nothing went out from the work account"
    assert len(list((personal / ".Sent").rglob("*:2,*"))) == 1 and not (work / ".Sent").exists()

    # An account the inbox does not have: no card to approve, one line, nothing sent.
    refused = cli("ask", "send an email to sam@friends.example from my hobby account saying hi")
    assert refused["pending"] == [], refused
    assert "the inbox has no account 'hobby' (its accounts: work, personal)" in refused["answer"]
    assert len(sinks[1].messages) == 1 and sinks[0].messages == []
