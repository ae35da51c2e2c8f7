"""`smart-inbox triage` lists a generated inbox of 2,000 messages exactly as it did when it read
every message whole: its table and its JSON, by conversation and by message, and the
conversations a triage run reports, all made again here the way they were made before the list
read small messages and compact triage rows (`memory.mail_listing`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.mailgen import generate_maildir
from graph.context import Context
from graph.services import Services, build_services
from memory.inbox_store import InboxStore
from memory.mail_tables import TriageRecord
from tests.integration.cli_runner import run_cli
from tools.mail.conversation_tools import MAILBOX_WINDOW
from tools.mail.conversation_triage import (
    ConversationTriage,
    by_importance,
    conversations_of_new_mail,
    state_ref,
    triaged_conversations,
)
from tools.mail.conversations import sent_at
from tools.mail.mailbox import MailboxEnv
from tools.mail.model import Email
from ui.cli.triage import _importance, _table, conversation_json, message_row, warning_lines

MESSAGES = 2000

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("listing")
    maildir = root / "Maildir"
    generate_maildir(maildir, MESSAGES)
    return maildir, root / "home"


def command(inbox: tuple[Path, Path], *args: str) -> str:
    maildir, home = inbox
    return run_cli(home, "triage", *args, env={"INBOX": f"maildir:{maildir}"}).stdout


def services_of(inbox: tuple[Path, Path]) -> Services:
    maildir, home = inbox
    return build_services(Context(model="rules", inbox=f"maildir:{maildir}", home=str(home)))


def rows_as_before(services: Services, limit: int | None = None) -> list[dict[str, Any]]:
    """The conversation rows as the command made them from every message read whole."""
    pairs = services.db.triaged_emails(services.source, bodies=False)
    states, note = triaged_conversations(services.mailbox, pairs, with_sent=True)
    assert note == ""
    states.sort(key=lambda c: sent_at(c.latest), reverse=True)
    states.sort(key=_importance)
    return [conversation_json(state) for state in states[:limit]]


def text_as_before(rows: list[dict[str, Any]]) -> str:
    unreadable = "".join(f"\nunreadable: {r['id']}: {r['error']}\n" for r in rows if r.get("error"))
    return _table(rows) + "\n" + "\n".join(warning_lines(rows)) + "\n" + unreadable


def test_the_table_and_the_json_are_what_they_were(inbox: tuple[Path, Path]) -> None:
    table = command(inbox)  # the first run fetches and triages the 2,000 messages
    services = services_of(inbox)
    rows = rows_as_before(services)
    assert len(rows) > 1000 and any(r["thread_size"] > 1 for r in rows)
    assert any(r.get("error") for r in rows) and any(r.get("suspicious") for r in rows)
    assert table.startswith(f"{len(rows)} conversation(s) shown, 100 newly triaged.\n\n")
    assert text_as_before(rows) in table

    assert command(inbox, "--json") == json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    limited = rows_as_before(services, 30)
    assert text_as_before(limited) in command(inbox, "--limit", "30")

    pairs = services.db.triaged_emails(services.source, bodies=False)
    messages = [message_row(email, triage) for email, triage in pairs]
    assert len(messages) == MESSAGES
    by_message = command(inbox, "--json", "--messages")
    assert by_message == json.dumps(messages, ensure_ascii=False, indent=2) + "\n"


def around_as_before(
    env: MailboxEnv, pairs: list[tuple[Email, TriageRecord]]
) -> list[ConversationTriage]:
    """The conversations of a run's new mail as a run made them from the messages it kept."""
    emails = env.db.list_emails(source=env.source, limit=MAILBOX_WINDOW)
    triage = env.db.triage_for([e.id for e in emails])
    away = InboxStore(env.db).away_ids(env.source)
    near = [(e, triage[e.id]) for e in emails if e.id in triage and e.id not in away]
    states, _ = triaged_conversations(env, [*pairs, *near], with_sent=False)
    ids = {email.id for email, _ in pairs}
    return [s for s in states if any(e.id in ids for e in s.emails)]


def test_a_runs_conversations_are_what_they_were(inbox: tuple[Path, Path]) -> None:
    if not (inbox[1] / "app.db").exists():
        command(inbox, "--json")
    services = services_of(inbox)
    pairs = services.db.triaged_emails(services.source, bodies=False)
    pairs.sort(key=lambda pair: pair[0].date, reverse=True)  # as a run reads its new mail
    before = by_importance(around_as_before(services.mailbox, pairs))
    found, triaged = conversations_of_new_mail(services.mailbox, [e.id for e, _ in pairs])
    assert triaged == len(pairs) == MESSAGES
    assert [state_ref(s) for s in by_importance(found)] == [state_ref(s) for s in before]
