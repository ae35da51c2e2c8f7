"""The agent on a Microsoft 365 inbox and Outlook calendar, through a local Graph: triage, a
cited answer, a reply approved and sent once, an archive, a meeting booked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.context import Context
from graph.grounding import citations_in, verify_answer
from graph.services import build_services
from memory.db import open_database
from memory.paths import app_database_url
from memory.vault import CredentialVault
from tests.fakes.graph_server import FakeGraph
from tests.unit.answer_fixtures import DANA, DEMO
from tests.unit.inbox.chat import Chat

pytestmark = pytest.mark.integration

SOFIA = "CAF9s0fia.Q1road.20261116@mail.northwind.example"
CHECKOUT_THREAD = "inc-checkout-500"


@pytest.fixture
def graph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGraph]:
    with FakeGraph(address=DANA) as server:
        for path in sorted(p for sub in ("cur", "new") for p in (DEMO / sub).iterdir()):
            server.deliver(path.read_bytes())
        monkeypatch.setenv("SMART_INBOX_GRAPH_API", server.base_url)
        monkeypatch.setenv("SMART_INBOX_CALENDAR", "outlook:work")
        for name in ("SMTP_URL", "SMTP_FROM", "CALDAV_URL"):
            monkeypatch.delenv(name, raising=False)
        yield server  # type: ignore[misc]


@pytest.fixture
def context(graph: FakeGraph, tmp_path: Path) -> Context:
    home = tmp_path / "home"
    home.mkdir()
    CredentialVault(open_database(app_database_url(home)), home).set(
        "outlook.token:work", graph.token
    )
    return Context(
        model="rules", inbox="outlook:work", home=str(home), max_steps=5, user_addresses=(DANA,)
    )


async def test_triage_and_a_cited_answer_come_from_the_outlook_inbox(
    graph: FakeGraph, context: Context
) -> None:
    chat = Chat(context)
    result = await chat.say("summarize the checkout incident")

    text = result["messages"][-1].text
    assert verify_answer(text, result["evidence"]).ok
    assert any(CHECKOUT_THREAD in cited for cited in citations_in(text))
    services = build_services(context)
    emails = services.db.list_emails(source="outlook:work", limit=100)
    assert len(emails) == len(graph.messages)
    assert len(services.db.triage_for([e.id for e in emails])) == len(emails)

    graph.requests.clear()
    await chat.say("what needs my attention today?")
    assert not [r for r in graph.requests if r.path.endswith("/$value")], "nothing read again"


async def test_a_reply_approved_is_sent_once_through_graph_in_its_thread(
    graph: FakeGraph, context: Context
) -> None:
    chat = Chat(context)
    await chat.say("reply to the meeting request from Sofia and say Thursday works")
    [card] = await chat.pending()
    assert card["action_request"]["action"] == "reply_to_email"
    assert "SMTP_URL" not in card["description"]
    assert "Sent through outlook:work, which keeps the copy in Sent." in card["description"]
    assert graph.sent == []

    done = await chat.decide({"type": "accept"})

    assert [(e["action"], e["status"]) for e in done["executed"]] == [("reply_to_email", "ok")]
    [sent] = graph.sent
    assert f"In-Reply-To: <{SOFIA}>".encode() in sent
    assert await chat.pending() == []
    await chat.say("who is waiting on a reply from me?")  # fetches Sent Items too
    assert len(graph.sent) == 1
    services = build_services(context)
    [copy] = services.db.list_emails(source="outlook:work", folder="Sent", limit=10)
    assert copy.in_reply_to == SOFIA


async def test_archive_moves_the_conversation_in_the_mailbox(
    graph: FakeGraph, context: Context
) -> None:
    chat = Chat(context)
    await chat.say("archive the meeting request from Sofia")
    [card] = await chat.pending()
    assert card["action_request"]["action"] == "archive_conversations"

    done = await chat.decide({"type": "accept"})

    assert [(e["action"], e["status"]) for e in done["executed"]] == [
        ("archive_conversations", "ok")
    ]
    services = build_services(context)
    email = services.db.get_email(SOFIA)
    assert email is not None and email.folder == "Archive"
    assert graph.folder_of(email.key) == "archive"


async def test_a_meeting_is_booked_on_the_outlook_calendar(
    graph: FakeGraph, context: Context
) -> None:
    chat = Chat(context)
    slots = await chat.say("find me a slot for the meeting Rafael asked for")
    assert "Slots to offer" in slots["messages"][-1].text
    assert graph.calls("POST", "/v1.0/me/calendar/getSchedule"), "free/busy asked of Outlook"
    await chat.say("book the first slot for Rafael")
    [card] = await chat.pending()
    assert card["action_request"]["action"] == "create_calendar_event"
    assert "Outlook calendar of work" in card["description"]

    done = await chat.decide({"type": "accept"})

    assert [(e["action"], e["status"]) for e in done["executed"]] == [
        ("create_calendar_event", "ok")
    ]
    [event] = graph.events
    assert [a["emailAddress"]["address"] for a in event.data["attendees"]] == [
        "rafael.ortiz@northwind.example"
    ]
    assert graph.sent == [], "Exchange invites the attendees; no mail of ours on top"
