"""A whole body is kept once in a thread's evidence, read back exactly, and still grounds answers.

Also: a checkpoint written before (refs holding whole bodies) loads and resumes, and a read the
policy lets through is audited in one row with its outcome.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langgraph.runtime import Runtime

from graph.builder import build_graph
from graph.context import Context
from graph.evidence_bodies import PREVIEW_CHARS, keep_once, whole_evidence, whole_message
from graph.grounding import verify_answer
from graph.nodes.request_approval import request_approval
from graph.services import services_for
from memory.audit import AuditLog
from memory.checkpointer import open_checkpointer
from tests.unit.conftest import write_maildir

WIRE_ID = "wire-9@treasury.example"
DEEP = "The wire reference is WX-88213 for $7,340.15, due on 3 December."
"""A sentence far past the first 200 characters of the body."""
FILLER = "Our treasury team reviewed the quarterly statements line by line this week.\n"
BODY = "Hello,\n\n" + FILLER * 6 + DEEP + "\nThanks, Carla\n"
WIRE_MAIL = f"""\
From: Carla Treasury <carla@treasury.example>
To: me@acme.example
Subject: Wire transfer details
Date: Mon, 30 Nov 2026 09:00:00 +0000
Message-ID: <{WIRE_ID}>

{BODY}"""


@pytest.fixture
def wire_context(tmp_path: Path) -> Context:
    mailbox = write_maildir(tmp_path / "Maildir", {"1781000009.M9P1.testhost:2,S": WIRE_MAIL})
    return Context(
        model="rules",
        inbox=f"maildir:{mailbox}",
        home=str(tmp_path / "home"),
        max_steps=5,
        user_addresses=("me@acme.example",),
    )


def _record(content: str, text: str, completeness: str = "COMPLETE") -> Any:
    return {
        "id": "ev-2-1",
        "tool": "get_email",
        "args": {"email_id": WIRE_ID},
        "at": "2026-11-30T10:00:00+00:00",
        "turn": 2,
        "completeness": completeness,
        "content": content,
        "messages": [
            {"id": WIRE_ID, "sender": "Carla", "subject": "Wire", "date": "", "text": text}
        ],
        "error": "",
    }


async def _say(graph: Any, thread: str, text: str, context: Context) -> dict[str, Any]:
    config: Any = {"configurable": {"thread_id": thread}}
    return dict(await graph.ainvoke({"messages": [HumanMessage(text)]}, config, context=context))


# -- kept once ------------------------------------------------------------------------------


def test_a_body_the_content_shows_is_cut_to_a_preview_and_read_back_exactly() -> None:
    content = f"1. id: {WIRE_ID}\n   body: {BODY}"
    kept = keep_once(_record(content, BODY))
    (ref,) = kept["messages"]
    assert len(ref["text"]) <= PREVIEW_CHARS + 1 and DEEP not in ref["text"]
    assert content[ref["body_at"] :].startswith(BODY)
    assert whole_message(kept, ref)["text"] == BODY
    assert "body_at" not in whole_message(kept, ref)
    assert whole_evidence([kept])[0]["messages"][0]["text"] == BODY
    assert keep_once(kept) == kept, "cutting twice changes nothing"


def test_a_body_the_content_does_not_show_is_kept_whole() -> None:
    # A tool that renders its messages its own way: the ref's text is the only copy.
    summary = _record("Carla asked about a wire transfer.", BODY)
    assert keep_once(summary) == summary
    previews = _record(f"body: {BODY}", BODY, completeness="PREVIEW")
    assert keep_once(previews) == previews
    short = _record("body: Hello", "Hello")
    assert keep_once(short) == short


def test_a_reference_that_points_at_other_text_gives_only_the_preview() -> None:
    content = f"1. id: {WIRE_ID}\n   body: {BODY}"
    kept = keep_once(_record(content, BODY))
    ref = kept["messages"][0]
    elsewhere = {**ref, "body_at": 0}
    assert whole_message(kept, elsewhere) == elsewhere, "the text there is not the body"
    past_the_end = {**ref, "body_chars": len(content)}
    assert whole_message(kept, past_the_end) == past_the_end


def test_a_preview_cut_inside_a_figure_supports_nothing() -> None:
    # The preview ends in "$1,2" of "$1,250.00": read as text, it would vouch for "$12".
    body = "x" * (PREVIEW_CHARS - 4) + "$1,250.00 is due.\n" + FILLER * 3
    kept = keep_once(_record(f"body: {body}", body))
    assert kept["messages"][0]["text"].endswith("$1,2…")
    assert verify_answer("It costs $1,250.00.", [kept]).ok
    assert not verify_answer("It costs $12.", [kept]).ok
    assert not verify_answer("It costs $12.", whole_evidence([kept])).ok


# -- through the graph ----------------------------------------------------------------------


async def test_a_message_read_in_full_is_kept_once_and_its_answer_is_grounded(
    wire_context: Context, tmp_path: Path
) -> None:
    async with open_checkpointer(tmp_path / "checkpoints.db") as saver:
        graph = build_graph(checkpointer=saver)
        await _say(graph, "t", "find emails about wire transfer", wire_context)
        state = await _say(graph, "t", "what does the first one say?", wire_context)
        config: Any = {"configurable": {"thread_id": "t"}}
        saved = await saver.aget_tuple(config)
    assert [e["action"] for e in state["executed"]] == ["get_email"]
    assert state["answer_note"] == "" and WIRE_ID in state["citations"]
    assert "WX-88213" in state["messages"][-1].content, "the answer reads the whole body"
    full = next(r for r in state["evidence"] if r["tool"] == "get_email")
    assert DEEP in full["content"] and "body_at" in full["messages"][0]
    assert json.dumps(state["evidence"]).count("WX-88213") == 1, "one copy of the body"
    assert saved is not None
    stored = json.dumps(saved.checkpoint["channel_values"]["evidence"])
    assert stored.count("WX-88213") == 1
    # Grounding checks quotes from deep in the body against the text the tool returned.
    assert verify_answer(f'Carla wrote: "{DEEP}"', whole_evidence(state["evidence"])).ok
    assert not verify_answer('Carla wrote: "The wire reference is WX-88214"', [full]).ok


async def test_a_checkpoint_with_whole_bodies_in_its_refs_loads_and_resumes(
    wire_context: Context, tmp_path: Path
) -> None:
    # The evidence record as the code before this change wrote it: the body twice.
    old_record = {
        "id": "ev-1-1",
        "tool": "get_email",
        "args": {"email_id": WIRE_ID},
        "at": "2026-11-30T10:00:00+00:00",
        "turn": 1,
        "completeness": "COMPLETE",
        "content": (
            f"1. id: {WIRE_ID}\n   from: Carla Treasury <carla@treasury.example>\n"
            "   subject: Wire transfer details\n   date: 2026-11-30T09:00:00+00:00\n"
            f"   body: {BODY.strip()}"
        ),
        "messages": [
            {
                "id": WIRE_ID,
                "sender": "Carla Treasury <carla@treasury.example>",
                "subject": "Wire transfer details",
                "date": "2026-11-30T09:00:00+00:00",
                "text": BODY.strip(),
            }
        ],
        "error": "",
    }
    config: Any = {"configurable": {"thread_id": "old"}}
    async with open_checkpointer(tmp_path / "checkpoints.db") as saver:
        graph = build_graph(checkpointer=saver)
        await graph.aupdate_state(
            config,
            {
                "messages": [HumanMessage("show me the wire transfer mail in full")],
                "evidence": [old_record],
                "turn": 1,
                "citations": [WIRE_ID],
            },
            as_node="answer",
        )
    async with open_checkpointer(tmp_path / "checkpoints.db") as saver:
        graph = build_graph(checkpointer=saver)
        state = await _say(graph, "old", "what does it say?", wire_context)
        assert state["evidence"][0] == old_record, "the old record is read as it is"
        assert state["answer_note"] == "" and "WX-88213" in state["messages"][-1].content
        drafted = await _say(graph, "old", "draft a reply to it saying thanks", wire_context)
    (card,) = drafted["__interrupt__"][0].value
    assert card["action_request"]["args"]["in_reply_to_id"] == WIRE_ID, "the turn goes on"


# -- audit ----------------------------------------------------------------------------------


async def test_a_read_the_policy_lets_through_is_audited_once_with_its_outcome(
    wire_context: Context,
) -> None:
    graph = build_graph()
    services = await services_for(Runtime(context=wire_context))
    config: Any = {"configurable": {"thread_id": "audited"}}
    await graph.ainvoke(
        {"messages": [HumanMessage("find emails about wire transfer")]},
        config,
        context=wire_context,
    )
    (row,) = AuditLog(services.db).entries()
    assert (row["tool"], row["decision"], row["decided_by"]) == ("search_emails", "auto", "policy")
    assert row["outcome"] == "ok" and "Wire transfer details" in row["detail"]


async def test_a_side_effect_the_policy_lets_through_is_audited_before_it_runs(
    wire_context: Context,
) -> None:
    # Only reads wait for their outcome: a level-2 call still gets its row before `act`.
    home = Path(wire_context.home)
    home.mkdir(parents=True, exist_ok=True)
    (home / "policy.json").write_text(json.dumps({"tools": {"save_draft": 2}}))
    runtime = Runtime(context=wire_context)
    proposed = [
        {"id": "read-1", "name": "search_emails", "args": {"query": "wire"}, "proposed_by": "t"},
        {
            "id": "draft-1",
            "name": "save_draft",
            "args": {"to": "carla@treasury.example", "subject": "Re: Wire", "body": "Thanks"},
            "proposed_by": "t",
        },
    ]
    asked = "save a draft to carla@treasury.example with subject Re: Wire saying Thanks"
    state: Any = {"mode": "chat", "messages": [HumanMessage(asked)], "proposed_calls": proposed}
    update = await request_approval(state, runtime)
    assert [d["type"] for d in update["decisions"]] == ["auto", "auto"]
    services = await services_for(runtime)
    rows = AuditLog(services.db).entries()
    assert [(r["call_id"], r["outcome"]) for r in rows] == [("draft-1", "pending")]
