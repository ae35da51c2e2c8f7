"""The inbox flows of the chat on a copy of the demo, with the real tools on its Maildir.

"archive the newsletters" is one card listing them all; approved, they leave the triage view
and sit in the Archive folder; "undo" brings them back. An Edit drops rows and can never add
one. "snooze the invoice from Vireo until tomorrow 9am" hides it until the clock (passed in)
reaches that time; then it leads the triage view, marked.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage

from graph.context import Context
from graph.services import build_services
from tests.unit.answer_fixtures import DANA, DEMO, context_for, copy_mailbox
from tests.unit.inbox.chat import Chat, in_view
from tools.calendar.settings import user_time_zone
from tools.mail.inbox_actions import open_operations
from tools.mail.inbox_ops import MailboxOperations
from tools.mail.snoozes import wake_snoozed
from ui.chat.inbox_rows import inbox_pairs

NEWSLETTERS = {
    "20261121080000.9c1a7e.news@updates.cloudhost.example",
    "digest-87.d9a71c55@lists.dedigest.example",
    "212.8f2c41d0.20261116060211@mail.backendweekly.example",
}


@pytest.fixture
def demo(tmp_path: Path) -> Context:
    return context_for(copy_mailbox(DEMO, tmp_path / "inbox"), tmp_path / "home", DANA)


def folder_of(context: Context, message_id: str) -> str:
    email = build_services(context).db.get_email(message_id)
    assert email is not None
    return email.folder


def files_in(mailbox: Path, folder: str) -> set[str]:
    root = mailbox / f".{folder}" if folder != "INBOX" else mailbox
    return {p.name.split(":")[0] for sub in ("cur", "new") for p in (root / sub).glob("*")}


async def test_archive_the_newsletters_is_one_card_and_undo_brings_them_back(
    demo: Context,
) -> None:
    chat = Chat(demo)
    await chat.say("archive the newsletters")
    [card] = await chat.pending()
    assert card["action_request"]["action"] == "archive_conversations"
    assert set(card["action_request"]["args"]["message_ids"]) == NEWSLETTERS
    assert card["description"].startswith("### Archive 3 conversations")
    assert {row["id"] for row in card["conversations"]} == NEWSLETTERS
    for subject in ("CloudHost", "DE Digest #87", "The Pragmatic Backend #212"):
        assert subject in card["description"]
    assert NEWSLETTERS <= set(in_view(demo))

    done = await chat.decide({"type": "accept"})
    assert [(e["action"], e["status"]) for e in done["executed"]][-1] == (
        "archive_conversations",
        "ok",
    )
    # The card listed them: the answer says what happened, not the search again.
    assert done["messages"][-1].text.startswith("Archived 3 of 3 message")
    assert not NEWSLETTERS & set(in_view(demo)), "archived mail leaves the triage view"
    assert {folder_of(demo, i) for i in NEWSLETTERS} == {"Archive"}
    assert len(files_in(Path(demo.inbox.removeprefix("maildir:")), "Archive")) == 3

    await chat.say("undo")
    [undo] = await chat.pending()
    assert undo["action_request"]["action"] == "undo_inbox_action"
    assert "It reverses:** Archive 3 conversations" in undo["description"]
    await chat.decide({"type": "accept"})
    assert {folder_of(demo, i) for i in NEWSLETTERS} == {"INBOX"}
    assert NEWSLETTERS <= set(in_view(demo))


async def test_edit_drops_a_row_and_cannot_add_one(demo: Context) -> None:
    chat = Chat(demo)
    await chat.say("archive the newsletters")
    [card] = await chat.pending()
    ids = card["action_request"]["args"]["message_ids"]
    kept, dropped = ids[:2], ids[2]
    stranger = "CAF9s0fia.Q1road.20261116@mail.northwind.example"
    result = await chat.decide({"type": "edit", "args": {"message_ids": [*kept, stranger]}})
    [decision] = [d for d in result["decisions"] if d["action"] == "archive_conversations"]
    assert decision["args"]["message_ids"] == kept
    assert {folder_of(demo, i) for i in kept} == {"Archive"}
    assert folder_of(demo, dropped) == "INBOX"
    assert folder_of(demo, stranger) == "INBOX", "an id the card did not list is never acted on"


async def test_dropping_every_row_runs_nothing(demo: Context) -> None:
    chat = Chat(demo)
    await chat.say("archive the newsletters")
    result = await chat.decide({"type": "edit", "args": {"message_ids": []}})
    assert [d["type"] for d in result["decisions"] if d["action"] == "archive_conversations"] == [
        "ignore"
    ]
    assert {folder_of(demo, i) for i in NEWSLETTERS} == {"INBOX"}


async def test_snoozed_invoice_hides_until_its_time_then_leads_the_triage_view(
    demo: Context,
) -> None:
    chat = Chat(demo)
    await chat.say("snooze the invoice from Vireo until tomorrow 9am")
    [card] = await chat.pending()
    assert card["action_request"]["action"] == "snooze_conversations"
    [invoice] = card["action_request"]["args"]["message_ids"]
    until = datetime.fromisoformat(card["action_request"]["args"]["until"])
    now = datetime.now(user_time_zone())
    assert until.utcoffset() == until.astimezone(user_time_zone()).utcoffset(), "the user's zone"
    assert (until.hour, until.minute) == (9, 0)
    assert until.date() == (now + timedelta(days=1)).date()
    assert "Overdue" in card["description"] or "overdue" in card["description"]
    await chat.decide({"type": "accept"})
    assert folder_of(demo, invoice) == "Snoozed"
    assert invoice not in in_view(demo)

    services = build_services(demo)

    def opened() -> MailboxOperations:
        return open_operations(services.tools.env)

    assert wake_snoozed(services.db, services.source, opened, until - timedelta(minutes=1)) == []
    assert invoice not in in_view(demo), "not before its time"
    woken = wake_snoozed(services.db, services.source, opened, until)
    assert [o.id for o in woken if o.ok]
    assert folder_of(demo, invoice) == "INBOX"
    assert in_view(demo)[0] == invoice, "a woken conversation comes back at the top"
    assert in_view(demo, until + timedelta(hours=23))[0] == invoice
    later = in_view(demo, until + timedelta(days=2))
    assert invoice in later and later[0] != invoice, "a day later it sorts like any other"


async def test_unsubscribe_is_never_offered_for_a_suspicious_mail(demo: Context) -> None:
    chat = Chat(demo, "suspicious")
    await chat.say("show me the newsletters")  # fetches and triages the demo
    services = build_services(demo)
    pairs, _ = inbox_pairs(services.db, services.source)
    [lure, *_] = [email for email, triage in pairs if triage.suspicious]
    await chat.say(f"unsubscribe from the mail from {lure.from_addr}")
    assert await chat.pending() == [], "the offline engine proposes no unsubscribe"
    # A model might: the card then says why not to approve.
    result = await chat.graph.ainvoke(
        {
            "messages": [HumanMessage("unsubscribe me")],
            "requested_calls": [{"name": "unsubscribe", "args": {"message_id": lure.id}}],
        },
        config=chat.config,
        context=demo,
    )
    assert result is not None
    [card] = await chat.pending()
    assert any(flag["kind"] == "suspicious" for flag in card["flags"])
    assert "its unsubscribe link is the attack" in card["description"]


async def test_archived_newsletters_are_not_proposed_again(demo: Context) -> None:
    chat = Chat(demo, "twice")
    await chat.say("archive the newsletters")
    await chat.decide({"type": "accept"})
    await chat.say("archive the newsletters")
    assert await chat.pending() == [], "nothing of that kind is left in the inbox"
    result = await chat.say("show me everything from CloudHost")
    found = [r for r in result["evidence"] if r["tool"] == "search_emails"][-1]
    archived = [m for m in found["messages"] if m["id"] in NEWSLETTERS]
    assert archived and all(m.get("folder") == "Archive" for m in archived)
    assert "folder: Archive (out of the inbox)" in found["content"]


async def test_a_model_calls_the_same_tool_and_gets_the_same_card(
    demo: Context, tmp_path: Path
) -> None:
    ids = sorted(NEWSLETTERS)
    script = tmp_path / "model.jsonl"
    line = {
        "node": "select_tools",
        "content": "",
        "tool_calls": [{"name": "archive_conversations", "args": {"message_ids": ids}}],
    }
    script.write_text(json.dumps(line) + "\n")
    chat = Chat(replace(demo, model=f"replay:{script}"), "model")
    await chat.say("clear out the mailing-list mail")
    [card] = await chat.pending()
    assert card["action_request"] == {
        "action": "archive_conversations",
        "args": {"message_ids": ids},
    }
    assert card["description"].startswith("### Archive 3 conversations")
    assert {row["id"] for row in card["conversations"]} == NEWSLETTERS


async def test_a_snooze_without_a_time_is_tomorrow_morning_and_a_reply_changes_it(
    demo: Context,
) -> None:
    chat = Chat(demo, "snooze-reply")
    await chat.say("snooze the invoice from Vireo")
    [card] = await chat.pending()
    until = datetime.fromisoformat(card["action_request"]["args"]["until"])
    assert (until.hour, until.minute) == (9, 0)
    assert "Comes back:" in card["description"]
    await chat.decide({"type": "response", "args": "monday afternoon"})
    [again] = await chat.pending()
    later = datetime.fromisoformat(again["action_request"]["args"]["until"])
    assert (later.weekday(), later.hour) == (0, 14)
    assert (
        again["action_request"]["args"]["message_ids"]
        == card["action_request"]["args"]["message_ids"]
    )


async def test_an_archived_conversation_no_longer_waits_on_the_user(demo: Context) -> None:
    from graph.grounding import citations_in

    chat = Chat(demo)
    before = await chat.say("who is waiting on a reply from me?")
    waiting = citations_in(before["messages"][-1].text)
    [first, *_] = waiting
    await chat.say("archive the first one")
    [card] = await chat.pending()
    assert card["action_request"]["action"] == "archive_conversations"
    assert first in card["action_request"]["args"]["message_ids"]
    await chat.decide({"type": "accept"})
    after = await Chat(demo, thread="later").say("who is waiting on a reply from me?")
    assert first not in citations_in(after["messages"][-1].text), "cleared: not waiting"
    counted = [
        re.search(r"\((\d+) conversations\)", r["messages"][-1].text) for r in (before, after)
    ]
    was, now = (int(m.group(1)) for m in counted if m)
    assert now == was - 1
