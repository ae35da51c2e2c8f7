"""A first triage threads the whole inbox once: the run cites its conversations and keeps them,
and `smart-inbox triage` lists those (`KeptListing`) instead of threading the inbox again, but
only while they are still what the database holds, and only for the inbox they were made of."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

import tools.mail.conversation_triage as conversation_module
from graph.builder import build_graph
from graph.context import Context
from graph.services import build_services
from tests.unit.answer_fixtures import DANA, DEMO, context_for, copy_mailbox
from tools.mail.conversation_triage import KeptListing, keeping_listing
from ui.cli.triage import listed_rows

UPDATE = "CAM1ee7Lk.inc-checkout-500.upd1@mail.northwind.example"


async def triage(context: Context, thread: str = "triage") -> dict[str, Any]:
    graph = build_graph(checkpointer=InMemorySaver())
    values: dict[str, Any] = await graph.ainvoke(
        {"mode": "triage", "messages": []},
        config={"configurable": {"thread_id": thread}},
        context=context,
    )
    return values


@pytest.fixture
def demo(tmp_path: Path) -> Context:
    return context_for(copy_mailbox(DEMO, tmp_path / "inbox"), tmp_path / "home", DANA)


@pytest.fixture
def threadings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many messages each threading of conversations was given, in order."""
    calls: list[int] = []
    real = conversation_module.conversation_triage

    def counted(emails: Any, *args: Any, **kwargs: Any) -> Any:
        emails = list(emails)
        calls.append(len(emails))
        return real(emails, *args, **kwargs)

    monkeypatch.setattr(conversation_module, "conversation_triage", counted)
    return calls


async def test_a_first_triage_lists_the_conversations_its_run_threaded(
    demo: Context, threadings: list[int]
) -> None:
    with keeping_listing() as kept:
        values = await triage(demo)
    assert len(values["triage"]) == 50 and len(threadings) == 1
    assert kept.states is not None and len(kept.states) == 47

    services = build_services(demo)
    rows = list(listed_rows(services, None, False, kept=kept))
    assert len(threadings) == 1, "the table did not thread the inbox again"
    assert kept.states is None, "handed over once, then let go"
    assert rows == list(listed_rows(services, None, False)), "the same rows as made afresh"
    assert len(threadings) == 2 and len(rows) == 47


async def test_a_listing_kept_before_a_change_is_not_used(
    demo: Context, threadings: list[int]
) -> None:
    with keeping_listing() as kept:
        await triage(demo)
    services = build_services(demo)
    # The walk-around: the listing was right when kept; a correction saved since (here the
    # incident's update made low) must show, so the kept conversations are not listed.
    record = services.db.triage_for([UPDATE])[UPDATE]
    assert record.priority == "high"
    services.db.save_triage([record.model_copy(update={"priority": "low"})])
    rows = list(listed_rows(services, None, False, kept=kept))
    assert len(threadings) == 2 and kept.states is None
    assert next(r for r in rows if r["id"] == UPDATE)["priority"] == "low"


async def test_only_a_first_triage_keeps_the_inbox(
    demo: Context, tmp_path: Path, threadings: list[int]
) -> None:
    await triage(demo)
    mailbox = Path(demo.inbox.removeprefix("maildir:"))
    new = next((mailbox / "cur").iterdir())
    shutil.copy(new, mailbox / "new" / "copy-of-one-message:2,")
    (mailbox / "new" / "copy-of-one-message:2,").write_bytes(
        new.read_bytes().replace(b"Message-ID: <", b"Message-ID: <again-", 1)
    )
    with keeping_listing() as kept:
        values = await triage(demo, "second")
    assert len(values["triage"]) == 1, "the second run triaged the one new message"
    assert kept.states is None, "the run did not thread the whole inbox, nor keep it"


def test_a_kept_listing_is_for_its_own_inbox_and_its_sent_mail(demo: Context) -> None:
    mailbox = build_services(demo).mailbox
    states: list[conversation_module.ConversationTriage] = []

    def kept() -> KeptListing:
        listing = KeptListing()
        listing.keep(mailbox.source, states)
        return listing

    assert kept().take(mailbox, with_sent=True) is states
    assert kept().take(replace(mailbox, source="maildir:/elsewhere"), with_sent=True) is None
    imap = replace(mailbox, source="imap://dana@imap.northwind.example/INBOX")
    listing = KeptListing()
    listing.keep(imap.source, states)
    assert listing.take(imap, with_sent=True) is None, "its Sent folder is read apart"
    listing.keep(imap.source, states)
    assert listing.take(imap, with_sent=False) is states
    assert listing.take(imap, with_sent=False) is None, "taken once"
    assert KeptListing().take(mailbox, with_sent=False) is None
