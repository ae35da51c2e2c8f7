"""The chat's inbox flows against a real Dovecot: bulk archive and undo, snooze and wake.

The demo's messages are put in the server's INBOX; the chat runs on `imap://` with the real
tools, and what the server holds afterwards is read back with a connection of the test's own.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from graph.context import Context
from graph.services import build_services
from tests.fakes.imap_server import DovecotServer
from tests.unit.answer_fixtures import DANA, DEMO
from tests.unit.inbox.chat import Chat, in_view
from tools.mail.inbox_actions import open_operations
from tools.mail.inbox_ops import MailboxOperations
from tools.mail.snoozes import wake_snoozed

pytestmark = pytest.mark.integration

NEWSLETTER_IDS = {
    "20261121080000.9c1a7e.news@updates.cloudhost.example",
    "digest-87.d9a71c55@lists.dedigest.example",
    "212.8f2c41d0.20261116060211@mail.backendweekly.example",
}


@pytest.fixture
def imap_demo(dovecot: DovecotServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Context:
    """The demo's inbox on Dovecot, and a context reading it over IMAP."""
    for name, value in dovecot.env().items():
        monkeypatch.setenv(name, value)
    for path in sorted(p for sub in ("cur", "new") for p in (DEMO / sub).iterdir()):
        dovecot.append(path.read_bytes())
    return Context(
        model="rules",
        inbox=dovecot.spec(),
        home=str(tmp_path / "home"),
        max_steps=5,
        user_addresses=(DANA,),
    )


def ids_in(server: DovecotServer, folder: str) -> set[str]:
    found = set()
    for _, _, raw in server.messages(folder):
        for line in raw.decode("utf-8", "replace").splitlines():
            if line.lower().startswith("message-id:"):
                found.add(line.split(":", 1)[1].strip().strip("<>"))
                break
    return found


async def test_archive_the_newsletters_and_undo_over_imap(
    imap_demo: Context, dovecot: DovecotServer
) -> None:
    chat = Chat(imap_demo)
    await chat.say("archive the newsletters")
    [card] = await chat.pending()
    assert card["action_request"]["action"] == "archive_conversations"
    assert set(card["action_request"]["args"]["message_ids"]) == NEWSLETTER_IDS
    assert card["description"].startswith("### Archive 3 conversations")

    await chat.decide({"type": "accept"})
    archive = next(f for f in dovecot.folders() if "archive" in f.lower())
    assert NEWSLETTER_IDS <= ids_in(dovecot, archive)
    assert not NEWSLETTER_IDS & ids_in(dovecot, "INBOX")
    assert not NEWSLETTER_IDS & set(in_view(imap_demo)), "archived mail leaves the triage view"

    await chat.say("undo")
    [undo] = await chat.pending()
    assert "It reverses:** Archive 3 conversations" in undo["description"]
    await chat.decide({"type": "accept"})
    assert NEWSLETTER_IDS <= ids_in(dovecot, "INBOX")
    assert not NEWSLETTER_IDS & ids_in(dovecot, archive)
    assert NEWSLETTER_IDS <= set(in_view(imap_demo))


async def test_snooze_the_invoice_from_vireo_over_imap_then_wake_it(
    imap_demo: Context, dovecot: DovecotServer
) -> None:
    chat = Chat(imap_demo)
    await chat.say("snooze the invoice from Vireo until tomorrow 9am")
    [card] = await chat.pending()
    [invoice] = card["action_request"]["args"]["message_ids"]
    until = datetime.fromisoformat(card["action_request"]["args"]["until"])
    await chat.decide({"type": "accept"})
    assert invoice in ids_in(dovecot, "Snoozed") and invoice not in ids_in(dovecot, "INBOX")
    assert invoice not in in_view(imap_demo)

    services = build_services(imap_demo)

    def opened() -> MailboxOperations:
        return open_operations(services.tools.env)

    assert wake_snoozed(services.db, services.source, opened, until - timedelta(seconds=1)) == []
    assert invoice not in in_view(imap_demo)
    wake_snoozed(services.db, services.source, opened, until)
    assert invoice in ids_in(dovecot, "INBOX")
    assert in_view(imap_demo)[0] == invoice, "the woken conversation leads the triage view"
