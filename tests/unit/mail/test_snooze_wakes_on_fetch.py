"""Every fetch (a chat turn, a scheduled triage run) wakes the snoozed mail that is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from graph.context import Context
from graph.services import build_services
from memory.inbox_store import InboxStore
from tests.unit.answer_fixtures import ask
from tests.unit.conftest import MEETING_ID, NEWSLETTER_ID
from tools.mail import inbox_moves as moves


async def test_a_chat_turn_brings_back_what_is_due_and_only_that(context: Context) -> None:
    await ask(context, "what is new?")
    mailbox = build_services(context).mailbox
    now = datetime.now(UTC)
    moves.snooze(
        mailbox,
        [MEETING_ID],
        (now - timedelta(minutes=1)).isoformat(),
        now=now - timedelta(hours=1),
    )
    moves.snooze(mailbox, [NEWSLETTER_ID], (now + timedelta(days=1)).isoformat(), now=now)
    assert {mailbox.db.get_email(i).folder for i in (MEETING_ID, NEWSLETTER_ID)} == {"Snoozed"}

    await ask(context, "what is new?", thread="t2")

    assert mailbox.db.get_email(MEETING_ID).folder == "INBOX"
    assert mailbox.db.get_email(NEWSLETTER_ID).folder == "Snoozed"
    assert InboxStore(mailbox.db).woken_ids(mailbox.source) == [MEETING_ID]
    assert Path(mailbox.source.removeprefix("maildir:"), ".Snoozed").is_dir()
