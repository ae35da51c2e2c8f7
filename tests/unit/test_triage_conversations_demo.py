"""The demo triaged by conversation: its checkout-500 incident and the update that followed are
one row in the triage view and one object of `smart-inbox triage --json`, cited by the update in
the triage summary; a reply of Dana's makes it answered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from graph.builder import build_graph
from graph.context import Context
from graph.services import build_services
from tests.unit.answer_fixtures import DANA, DEMO, context_for, copy_mailbox
from ui.chat.inbox_rows import inbox_conversations
from ui.chat.render import conversation_rows
from ui.cli.triage import listed_rows

ALARM = "CAM1ee7Lk.inc-checkout-500@mail.northwind.example"
UPDATE = "CAM1ee7Lk.inc-checkout-500.upd1@mail.northwind.example"
SAML = "CAH7pK2z1Qq8WvN+sso-timeline-2@mail.brightpath.example"
DANAS_REPLY = "dana-checkout-reply@northwind.example"


async def triage(context: Context) -> str:
    graph = build_graph(checkpointer=InMemorySaver())
    values: dict[str, Any] = await graph.ainvoke(
        {"mode": "triage", "messages": []},
        config={"configurable": {"thread_id": "triage"}},
        context=context,
    )
    return str(values["messages"][-1].content)


@pytest.fixture
def demo(tmp_path: Path) -> Context:
    return context_for(copy_mailbox(DEMO, tmp_path / "inbox"), tmp_path / "home", DANA)


async def test_the_demo_triage_view_and_json_have_a_row_per_conversation(demo: Context) -> None:
    answer = await triage(demo)
    services = build_services(demo)
    states, woken, note = inbox_conversations(services.mailbox)
    assert (woken, note) == ([], "")
    rows = conversation_rows(states, None)
    assert len(rows) == 47, "50 messages: a thread of 3, one of 2, Dana's own questions left out"
    incident = next(r for r in rows if r.id == UPDATE)
    assert incident.count == 2 and incident.people == ("Marcus Lee",)
    assert [m.id for m in incident.messages] == [UPDATE, ALARM]
    assert incident.triaged == UPDATE and incident.decision == "respond"
    assert not any(r.id == ALARM for r in rows), "the first alarm is not a row of its own"
    saml = next(r for r in rows if r.id == SAML)
    assert saml.count == 3 and saml.people == ("Helena Park", "Owen Gallagher")
    assert sum(1 for r in rows if r.priority == "error") == 1

    json_rows = listed_rows(services, None, False)
    assert len(json_rows) == 47
    row = next(r for r in json_rows if r["id"] == UPDATE)
    assert row["conversation"] == ALARM and row["thread_size"] == 2
    assert (row["state"], row["priority"], row["triaged"]) == ("respond", "high", UPDATE)
    assert row["people"] == ["Marcus Lee"] and row["answered"] is False
    assert len(listed_rows(services, None, True)) == 50, "--messages: one row per message"
    assert len(listed_rows(services, 5, False)) == 5

    assert answer.startswith("Triaged 50 new message(s) in 47 conversations: 6 high")
    assert "6 conversations need you:" in answer
    assert f"[msg:{UPDATE}]" in answer and f"[msg:{ALARM}]" not in answer
    assert "(2 messages)" in answer


async def test_dana_answering_the_incident_makes_it_answered(demo: Context) -> None:
    sent = Path(demo.inbox.removeprefix("maildir:")) / ".Sent" / "cur"
    (sent / "1795000000.dana-reply:2,S").write_text(
        f"Message-ID: <{DANAS_REPLY}>\n"
        "From: Dana Whitfield <dana@northwind.example>\n"
        "To: Marcus Lee <marcus.lee@northwind.example>\n"
        "Subject: Re: URGENT: checkout API returning 500s in production\n"
        "Date: Tue, 17 Nov 2026 11:45:00 +0100\n"
        f"In-Reply-To: <{UPDATE}>\n"
        f"References: <{ALARM}> <{UPDATE}>\n"
        "Content-Type: text/plain; charset=utf-8\n\n"
        "Roll back now, I'll tell the customers.\n",
        encoding="utf-8",
    )
    answer = await triage(demo)
    services = build_services(demo)
    states, _, _ = inbox_conversations(services.mailbox)
    incident = next(r for r in conversation_rows(states, None) if r.id == DANAS_REPLY)
    assert incident.answered and incident.count == 3 and incident.triaged == UPDATE
    assert incident.people == ("Marcus Lee", "me")
    row = next(r for r in listed_rows(services, None, False) if r["id"] == DANAS_REPLY)
    assert (row["state"], row["answered"], row["decision"]) == ("answered", True, "respond")
    assert "5 conversations need you:" in answer and "1 answered by you" in answer
    assert UPDATE not in answer and DANAS_REPLY not in answer
