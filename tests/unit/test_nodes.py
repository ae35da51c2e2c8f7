"""Each node called directly with a literal state; the approval step through a compiled graph."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.runtime import Runtime
from langgraph.types import Command

from graph.builder import build_graph
from graph.context import Context
from graph.grounding import citations_in, evidence_ids
from graph.nodes.act import act
from graph.nodes.answer import answer
from graph.nodes.classify import classify
from graph.nodes.detect_follow_up import detect_follow_up
from graph.nodes.fetch import fetch
from graph.nodes.request_approval import request_approval
from graph.nodes.select_tools import select_tools
from graph.services import services_for
from memory.db import PRIORITY_ORDER
from memory.ledger import SideEffectLedger
from tests.unit.conftest import (
    INJECTION_ID,
    INVOICE_ID,
    MEETING_ID,
    NEWSLETTER_ID,
    OUTAGE_ID,
    drafts_in,
    write_script,
)

ALL_IDS = {OUTAGE_ID, INVOICE_ID, MEETING_ID, NEWSLETTER_ID, INJECTION_ID}


def ref(message_id: str, sender: str = "Someone <someone@example.com>", **extra: Any) -> Any:
    return {
        "id": message_id,
        "sender": sender,
        "subject": f"Subject of {message_id}",
        "date": "2026-11-17T09:00:00+00:00",
        "text": f"Text of {message_id}",
        **extra,
    }


def evidence(
    record_id: str,
    tool: str,
    messages: list[Any],
    *,
    completeness: str = "PREVIEW",
    turn: int = 1,
    args: dict[str, Any] | None = None,
    error: str = "",
) -> Any:
    return {
        "id": record_id,
        "tool": tool,
        "args": args or {},
        "at": "2026-11-20T10:00:00+00:00",
        "turn": turn,
        "completeness": completeness,
        "content": "rendered" if not error else "",
        "messages": messages,
        "error": error,
    }


def call(name: str, args: dict[str, Any], call_id: str = "call-1") -> Any:
    return {"id": call_id, "name": name, "args": args, "proposed_by": "test"}


LISTING = evidence(
    "ev-1-1",
    "search_emails",
    [ref("a@x"), ref("b@x", "Bob Stone <bob@acme.example>"), ref("c@x")],
)


# -- fetch ---------------------------------------------------------------------------------


async def test_fetch_reads_new_messages_and_resets_the_turn(runtime: Runtime[Context]) -> None:
    old = evidence("ev-2-1", "search_emails", [ref("a@x")], turn=2)
    state: Any = {
        "messages": [HumanMessage("what is new?")],
        "mode": "chat",
        "turn": 2,
        "steps": 4,
        "focus": ["a@x"],
        "proposed_calls": [call("get_email", {"email_id": "a@x"})],
        "approved_calls": [call("get_email", {"email_id": "a@x"})],
        "decisions": [{"call_id": "call-1", "type": "auto"}],
        "executed": [{"call_id": "call-1", "evidence_id": "ev-2-1"}],
        "triage": [{"id": "a@x"}],
        "answer_note": "stopped after 4 tool rounds",
        "evidence": [old],
    }
    update = await fetch(state, runtime)
    assert set(update["new_email_ids"]) == ALL_IDS
    assert update["fetch_errors"] == []
    assert update["mode"] == "chat"
    assert update["turn"] == 3
    assert update["steps"] == 0
    for key in ("focus", "proposed_calls", "approved_calls", "decisions", "executed", "triage"):
        assert update[key] == [], key
    assert update["answer_note"] == ""
    assert update["evidence"] == [old]


@pytest.mark.parametrize(
    ("state", "mode"),
    [
        ({}, "triage"),
        ({"mode": "triage", "messages": [HumanMessage("hi")]}, "triage"),
        ({"messages": [HumanMessage("hi"), AIMessage("hello")]}, "triage"),
        ({"mode": "chat", "messages": [HumanMessage("hi")]}, "chat"),
    ],
)
async def test_fetch_picks_the_mode(runtime: Runtime[Context], state: Any, mode: str) -> None:
    assert (await fetch(state, runtime))["mode"] == mode


async def test_fetch_twice_reads_nothing_new(runtime: Runtime[Context]) -> None:
    first = await fetch({"messages": [HumanMessage("hi")]}, runtime)
    assert len(first["new_email_ids"]) == len(ALL_IDS)
    second = await fetch({"messages": [HumanMessage("again")], "turn": first["turn"]}, runtime)
    assert second["new_email_ids"] == []
    assert second["fetch_errors"] == []
    assert second["turn"] == 2


async def test_fetch_reports_an_unreadable_message_and_keeps_the_rest(
    maildir: Path, runtime: Runtime[Context]
) -> None:
    (maildir / "new" / "1781000009.M9P1.testhost").write_bytes(b"")
    update = await fetch({"messages": [HumanMessage("hi")]}, runtime)
    assert ALL_IDS <= set(update["new_email_ids"])
    assert len(update["fetch_errors"]) == 1
    error = update["fetch_errors"][0]
    assert error["key"] == "1781000009.M9P1.testhost"
    assert error["id"].startswith("sha256:")
    assert error["id"] in update["new_email_ids"]
    assert "not an email" in error["error"]


async def test_fetch_of_a_missing_maildir_is_a_fetch_error(
    tmp_path: Path, context: Context
) -> None:
    missing = tmp_path / "no-such-mailbox"
    runtime = Runtime(context=replace(context, inbox=f"maildir:{missing}"))
    update = await fetch({"messages": [HumanMessage("hi")]}, runtime)
    assert update["new_email_ids"] == []
    assert len(update["fetch_errors"]) == 1
    assert "does not exist" in update["fetch_errors"][0]["error"]
    assert update["turn"] == 1


# -- classify ------------------------------------------------------------------------------


async def test_classify_triages_new_mail_into_one_evidence_record(
    runtime: Runtime[Context],
) -> None:
    started = await fetch({}, runtime)
    state: Any = {**started}
    update = await classify(state, runtime)
    rows = update["triage"]
    assert {row["id"] for row in rows} == ALL_IDS
    assert all(row["engine"] == "rules" for row in rows)
    ranks = [PRIORITY_ORDER[row["priority"]] for row in rows]
    assert ranks == sorted(ranks), "most important first"
    records = update["evidence"]
    assert len(records) == 1
    record = records[0]
    assert record["tool"] == "triage"
    assert record["id"] == f"ev-{started['turn']}-triage"
    assert record["completeness"] == "PREVIEW"
    assert record["error"] == ""
    assert [m["id"] for m in record["messages"]] == [row["id"] for row in rows]
    assert all(m.get("priority") for m in record["messages"])


BROKEN_SCAN = """\
From: Scanner <scanner@acme.example>
To: me@acme.example
Subject: Scanned document
Date: Sat, 21 Nov 2026 09:00:00 +0000
Message-ID: <scan-1@acme.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="declared"

--other
Content-Type: text/plain

page 1
"""


async def test_an_unreadable_message_is_an_error_row_after_the_high_ones(
    runtime: Runtime[Context], maildir: Path
) -> None:
    (maildir / "new" / "1781000009.M9P1.testhost").write_text(BROKEN_SCAN, encoding="utf-8")
    update = await classify(await fetch({}, runtime), runtime)
    rows = {row["id"]: row for row in update["triage"]}
    scan = rows["scan-1@acme.example"]
    assert "boundary" in scan["error"]
    assert (scan["priority"], scan["category"], scan["action"]) == ("unknown", "unreadable", "none")
    assert scan["reason"].startswith("unreadable: malformed MIME")
    services = await services_for(runtime)
    listed = [triage.priority for _, triage in services.db.triaged_emails(services.source)]
    for priorities in ([row["priority"] for row in update["triage"]], listed):
        assert "high" in priorities and "low" in priorities
        assert priorities == sorted(priorities, key=["high", "unknown", "normal", "low"].index)


async def test_classify_twice_classifies_nothing(runtime: Runtime[Context]) -> None:
    state: Any = await fetch({}, runtime)
    first = await classify(state, runtime)
    assert len(first["triage"]) == len(ALL_IDS)
    state = {**state, **first}
    second = await classify(state, runtime)
    assert second["triage"] == []
    assert "evidence" not in second


# -- detect_follow_up ----------------------------------------------------------------------


async def test_follow_up_with_a_complete_copy_goes_to_answer() -> None:
    full = evidence("ev-1-2", "get_email", [ref("b@x")], completeness="COMPLETE")
    state: Any = {
        "messages": [HumanMessage("what does the second one say?")],
        "evidence": [LISTING, full],
    }
    command = await detect_follow_up(state)
    assert isinstance(command, Command)
    assert command.goto == "answer"
    assert command.update == {"focus": ["b@x"]}


async def test_follow_up_with_only_a_preview_fetches_the_full_message() -> None:
    state: Any = {
        "messages": [HumanMessage("what does the second one say?")],
        "evidence": [LISTING],
    }
    command = await detect_follow_up(state)
    assert command.goto == "request_approval"
    update: Any = command.update
    assert update["focus"] == ["b@x"]
    [proposed] = update["proposed_calls"]
    assert proposed["name"] == "get_email"
    assert proposed["args"] == {"email_id": "b@x"}
    assert proposed["proposed_by"] == "detect_follow_up"
    assert proposed["id"].startswith("call-")


async def test_a_failed_full_fetch_is_not_a_full_copy() -> None:
    failed = evidence(
        "ev-1-2", "get_email", [ref("b@x")], completeness="COMPLETE", error="TimeoutError"
    )
    state: Any = {
        "messages": [HumanMessage("what does the second one say?")],
        "evidence": [LISTING, failed],
    }
    command = await detect_follow_up(state)
    assert command.goto == "request_approval"


@pytest.mark.parametrize(
    "text", ["what needs my attention today?", "anything from last week?"], ids=["new", "time"]
)
async def test_not_a_follow_up_goes_to_select_tools(text: str) -> None:
    state: Any = {"messages": [HumanMessage(text)], "evidence": [LISTING]}
    command = await detect_follow_up(state)
    assert command.goto == "select_tools"
    assert command.update == {"focus": []}


async def test_a_follow_up_asking_for_an_action_goes_to_select_tools_with_focus() -> None:
    full = evidence("ev-1-2", "get_email", [ref("b@x")], completeness="COMPLETE")
    state: Any = {
        "messages": [HumanMessage("draft a reply to the second one saying ok")],
        "evidence": [LISTING, full],
    }
    command = await detect_follow_up(state)
    assert command.goto == "select_tools"
    assert command.update == {"focus": ["b@x"]}


# -- select_tools --------------------------------------------------------------------------


async def test_select_tools_proposes_calls_and_counts_the_step(
    runtime: Runtime[Context],
) -> None:
    state: Any = {"mode": "chat", "messages": [HumanMessage("show me the invoices")], "steps": 0}
    update = await select_tools(state, runtime)
    [proposed] = update["proposed_calls"]
    assert proposed["name"] == "list_inbox"
    assert proposed["args"]["category"] == "billing"
    assert proposed["proposed_by"] == "rules"
    assert update["steps"] == 1


async def test_select_tools_stops_at_the_step_limit(context: Context) -> None:
    runtime = Runtime(context=replace(context, max_steps=2))
    state: Any = {"mode": "chat", "messages": [HumanMessage("show me the invoices")], "steps": 2}
    update = await select_tools(state, runtime)
    assert update["proposed_calls"] == []
    assert "step limit" in update["answer_note"]
    assert "steps" not in update


async def test_select_tools_drops_repeats_of_executed_and_decided_calls(
    tmp_path: Path, context: Context
) -> None:
    billing = {"category": "billing", "limit": 10}
    draft = {"to": "bob@acme.example", "subject": "Re: hi", "body": "ok"}
    search = {"query": "invoice", "limit": 5}
    script = write_script(
        tmp_path / "plan.jsonl",
        [
            {
                "node": "select_tools",
                "tool_calls": [
                    {"name": "list_inbox", "args": billing},
                    {"name": "save_draft", "args": draft},
                    {"name": "search_emails", "args": search},
                    {"name": "search_emails", "args": search},
                ],
            }
        ],
    )
    runtime = Runtime(context=replace(context, model=f"replay:{script}"))
    done = evidence("ev-1-1", "list_inbox", [ref("a@x")], args=billing)
    state: Any = {
        "mode": "chat",
        "messages": [HumanMessage("find the invoice")],
        "steps": 1,
        "evidence": [done],
        "executed": [
            {
                "call_id": "call-0",
                "action": "list_inbox",
                "args": billing,
                "status": "ok",
                "evidence_id": "ev-1-1",
                "error": "",
            }
        ],
        "decisions": [
            {
                "call_id": "call-9",
                "action": "save_draft",
                "args": draft,
                "type": "ignore",
                "feedback": "",
                "by": "user",
                "level": 1,
            }
        ],
    }
    update = await select_tools(state, runtime)
    assert [(c["name"], c["args"]) for c in update["proposed_calls"]] == [("search_emails", search)]
    assert update["steps"] == 2


# -- request_approval ----------------------------------------------------------------------


async def test_read_only_calls_are_approved_without_asking(runtime: Runtime[Context]) -> None:
    calls = [
        call("search_emails", {"query": "invoice"}, "call-1"),
        call("get_email", {"email_id": "a@x"}, "call-2"),
    ]
    state: Any = {"proposed_calls": calls, "decisions": []}
    update = await request_approval(state, runtime)  # an interrupt here would raise
    assert update["approved_calls"] == calls
    assert update["proposed_calls"] == []
    assert [(d["call_id"], d["type"], d["by"], d["level"]) for d in update["decisions"]] == [
        ("call-1", "auto", "policy", 0),
        ("call-2", "auto", "policy", 0),
    ]


DRAFT_REQUEST = "draft a reply to the one from Bob saying ok"


async def _run_until_approval(context: Context) -> tuple[Any, RunnableConfig]:
    graph = build_graph(checkpointer=InMemorySaver())
    config: RunnableConfig = {"configurable": {"thread_id": "approval"}}
    await graph.ainvoke({"messages": [HumanMessage(DRAFT_REQUEST)]}, config=config, context=context)
    return graph, config


async def test_a_draft_waits_for_approval_in_the_agent_inbox_shape(
    context: Context, maildir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SMART_INBOX_SIGNATURE", "SMART_INBOX_USER_NAME", "SMTP_FROM"):
        monkeypatch.delenv(name, raising=False)
    graph, config = await _run_until_approval(context)
    snapshot = await graph.aget_state(config)
    assert snapshot.next == ("request_approval",)
    [pending] = snapshot.interrupts
    [request] = pending.value
    assert set(request) >= {"action_request", "config", "description"}
    assert request["action_request"]["action"] == "save_draft"
    args = request["action_request"]["args"]
    # A reply names the message; the tool derives the recipient, and the card shows it. The
    # body is the whole mail: greeting, the user's words, a sign-off (no name configured).
    assert args == {"in_reply_to_id": MEETING_ID, "body": "Hi Bob,\n\nok.\n\nBest,"}
    assert request["flags"] == []
    assert request["config"] == {
        "allow_accept": True,
        "allow_edit": True,
        "allow_respond": True,
        "allow_ignore": True,
    }
    assert "Save a draft" in request["description"]
    assert "**To:** bob@acme.example" in request["description"]
    assert drafts_in(maildir) == []


async def test_accept_writes_the_draft(context: Context, maildir: Path) -> None:
    graph, config = await _run_until_approval(context)
    result = await graph.ainvoke(Command(resume={"type": "accept"}), config=config, context=context)
    [draft] = drafts_in(maildir)
    raw = draft.read_text(encoding="utf-8")
    assert "To: bob@acme.example" in raw
    assert f"In-Reply-To: <{MEETING_ID}>" in raw
    # "the one from Bob" resolves against the triage evidence, so no search is needed.
    assert [(e["action"], e["status"]) for e in result["executed"]] == [("save_draft", "ok")]
    assert "Draft saved" in result["messages"][-1].text
    assert (await graph.aget_state(config)).next == ()


async def test_ignore_writes_nothing_and_says_it_was_declined(
    context: Context, maildir: Path
) -> None:
    graph, config = await _run_until_approval(context)
    result = await graph.ainvoke(Command(resume={"type": "ignore"}), config=config, context=context)
    assert drafts_in(maildir) == []
    assert result["decisions"][-1]["type"] == "ignore"
    assert "save_draft" not in [e["action"] for e in result["executed"]]
    assert "declined" in result["messages"][-1].text


async def test_an_interrupted_call_is_asked_about_then_run_in_a_pass_of_its_own(
    context: Context, maildir: Path, runtime: Runtime[Context]
) -> None:
    graph, config = await _run_until_approval(context)
    [pending] = (await graph.aget_state(config)).interrupts
    [request] = pending.value
    services = await services_for(runtime)
    # A run before this one claimed the call and died without recording its outcome.
    ledger = SideEffectLedger(services.db)
    assert (
        ledger.begin(
            "approval", request["call_id"], "save_draft", request["action_request"]["args"]
        )
        is None
    )
    await graph.ainvoke(Command(resume={"type": "accept"}), config=config, context=context)
    [asked] = (await graph.aget_state(config)).interrupts
    [card] = asked.value
    assert card["description"].startswith("### This may already have happened: `save_draft`")
    assert drafts_in(maildir) == []
    passes = [
        update["act"]
        async for update in graph.astream(
            Command(resume={"type": "accept"}),
            config=config,
            context=context,
            stream_mode="updates",
        )
        if "act" in update
    ]
    # The answer is recorded in one pass (nothing runs), the call runs in the next.
    assert passes[0] in (None, {})
    assert [e["status"] for e in passes[1]["executed"]] == ["ok"]
    assert len(drafts_in(maildir)) == 1


EDITED = {
    "in_reply_to_id": MEETING_ID,
    "subject": "Re: roadmap",
    "body": "Thursday at 14:00 works.",
}


@pytest.mark.parametrize(
    "edit",
    [{"action": "save_draft", "args": EDITED}, EDITED],
    ids=["agent-inbox", "bare-args"],
)
async def test_edit_runs_the_edited_arguments(
    context: Context, maildir: Path, edit: dict[str, Any]
) -> None:
    graph, config = await _run_until_approval(context)
    result = await graph.ainvoke(
        Command(resume={"type": "edit", "args": edit}), config=config, context=context
    )
    [draft] = drafts_in(maildir)
    raw = draft.read_text(encoding="utf-8")
    assert "Subject: Re: roadmap" in raw
    assert "Thursday at 14:00 works." in raw
    assert f"In-Reply-To: <{MEETING_ID}>" in raw
    decision = result["decisions"][-1]
    assert decision["type"] == "edit"
    assert decision["args"]["body"] == "Thursday at 14:00 works."
    # The edit ends the turn: the proposal it replaced is not put on a new card.
    snapshot = await graph.aget_state(config)
    assert snapshot.interrupts == ()
    assert snapshot.next == ()
    assert "Draft saved" in result["messages"][-1].text


async def test_an_edit_that_brings_in_an_untrusted_address_is_asked_again(
    context: Context, maildir: Path
) -> None:
    graph, config = await _run_until_approval(context)
    edit = {"to": "bob@acme.example", "subject": "Re: roadmap", "body": "ok"}
    await graph.ainvoke(
        Command(resume={"type": "edit", "args": edit}), config=config, context=context
    )
    snapshot = await graph.aget_state(config)
    assert drafts_in(maildir) == [], "nothing runs while the new flag is unanswered"
    [pending] = snapshot.interrupts
    [request] = pending.value
    assert request["action_request"]["args"] == edit
    assert [(f["arg"], f["value"]) for f in request["flags"]] == [("to", "bob@acme.example")]
    assert "did not come from you" in request["description"]
    result = await graph.ainvoke(Command(resume={"type": "accept"}), config=config, context=context)
    [draft] = drafts_in(maildir)
    assert "To: bob@acme.example" in draft.read_text(encoding="utf-8")
    assert result["decisions"][-1]["flags"][0]["value"] == "bob@acme.example"


async def test_a_response_is_feedback_and_runs_nothing(context: Context, maildir: Path) -> None:
    graph, config = await _run_until_approval(context)
    result = await graph.ainvoke(
        Command(resume={"type": "response", "args": "make it friendlier"}),
        config=config,
        context=context,
    )
    assert drafts_in(maildir) == []
    responses = [d for d in result["decisions"] if d["type"] == "response"]
    assert [d["feedback"] for d in responses] == ["make it friendlier"]
    assert "save_draft" not in [e["action"] for e in result["executed"]]
    assert (await graph.aget_state(config)).next == ()


# -- act -----------------------------------------------------------------------------------


async def test_a_failing_tool_becomes_evidence_with_its_error(runtime: Runtime[Context]) -> None:
    state: Any = {
        "turn": 1,
        "approved_calls": [
            call("get_email", {"email_id": "nobody@nowhere.example"}, "call-1"),
            call("delete_everything", {}, "call-2"),
        ],
    }
    update = await act(state, runtime)
    records = update["evidence"]
    assert [r["tool"] for r in records] == ["get_email", "delete_everything"]
    assert "nobody@nowhere.example" in records[0]["error"]
    assert "unknown tool" in records[1]["error"]
    for record in records:
        assert record["content"] == ""
        assert record["messages"] == []
    assert [(e["call_id"], e["status"]) for e in update["executed"]] == [
        ("call-1", "error"),
        ("call-2", "error"),
    ]
    assert [e["evidence_id"] for e in update["executed"]] == [r["id"] for r in records]
    assert update["approved_calls"] == []


async def test_act_gives_every_result_a_unique_evidence_id(runtime: Runtime[Context]) -> None:
    started: Any = await fetch({}, runtime)
    turn = started["turn"]
    earlier = [
        evidence("ev-0-1", "search_emails", [], turn=0),
        evidence(f"ev-{turn}-triage", "triage", [], turn=turn),
        evidence(f"ev-{turn}-2", "list_inbox", [], turn=turn),
    ]
    state: Any = {
        "turn": turn,
        "evidence": earlier,
        "executed": [{"call_id": "call-0", "evidence_id": f"ev-{turn}-2"}],
        "approved_calls": [
            call("search_emails", {"query": "invoice"}, "call-1"),
            call("get_email", {"email_id": INVOICE_ID}, "call-2"),
            call("list_inbox", {}, "call-3"),
        ],
    }
    update = await act(state, runtime)
    ids = [r["id"] for r in update["evidence"]]
    assert len(ids) == len(set(ids)) == 6
    assert ids[:3] == [r["id"] for r in earlier]
    new = update["evidence"][3:]
    assert all(r["turn"] == turn and r["error"] == "" for r in new)
    assert new[1]["completeness"] == "COMPLETE"
    assert new[1]["messages"][0]["id"] == INVOICE_ID
    assert len(update["executed"]) == 4
    assert [e["status"] for e in update["executed"][1:]] == ["ok", "ok", "ok"]


# -- answer --------------------------------------------------------------------------------


async def test_the_rules_answer_cites_only_evidence(runtime: Runtime[Context]) -> None:
    listing = evidence(
        "ev-1-1",
        "search_emails",
        [ref("a@x"), ref("b@x")],
        args={"query": "invoice"},
    )
    stale = evidence("ev-0-1", "search_emails", [ref("old@x")], turn=-5)
    state: Any = {
        "mode": "chat",
        "turn": 1,
        "messages": [HumanMessage("find the invoice")],
        "evidence": [stale, listing],
        "executed": [
            {
                "call_id": "call-1",
                "action": "search_emails",
                "args": {"query": "invoice"},
                "status": "ok",
                "evidence_id": "ev-1-1",
                "error": "",
            }
        ],
    }
    update = await answer(state, runtime)
    [message] = update["messages"]
    assert isinstance(message, AIMessage)
    text = message.text
    assert update["citations"] == citations_in(text)
    assert update["citations"] == ["a@x", "b@x"]
    assert set(update["citations"]) <= evidence_ids([listing])
    assert update["answer_note"] == ""
    assert update["mode"] == "chat"


async def test_the_answer_carries_the_step_limit_note(runtime: Runtime[Context]) -> None:
    state: Any = {
        "mode": "chat",
        "turn": 1,
        "messages": [HumanMessage("hi")],
        "evidence": [],
        "answer_note": "stopped after 5 tool rounds (the step limit)",
    }
    update = await answer(state, runtime)
    assert "(stopped after 5 tool rounds (the step limit).)" in update["messages"][0].text
    assert update["citations"] == []


async def test_a_call_the_user_requested_is_proposed_as_asked_and_still_needs_approval(
    context: Context, maildir: Path
) -> None:
    graph = build_graph(checkpointer=InMemorySaver())
    config: RunnableConfig = {"configurable": {"thread_id": "requested"}}
    requested = [{"name": "save_draft", "args": {"in_reply_to_id": MEETING_ID, "body": "Yes."}}]
    await graph.ainvoke(
        {"messages": [HumanMessage("Reply: Yes.")], "requested_calls": requested},
        config=config,
        context=context,
    )
    snapshot = await graph.aget_state(config)
    [pending] = snapshot.interrupts
    [request] = pending.value
    assert request["action_request"] == {"action": "save_draft", "args": requested[0]["args"]}
    assert request["flags"] == [], "the user picked the message, so its sender is theirs to answer"
    assert "proposed by user" in request["description"]
    assert drafts_in(maildir) == []
    assert snapshot.values["requested_calls"] == []
    await graph.ainvoke(Command(resume={"type": "accept"}), config=config, context=context)
    assert len(drafts_in(maildir)) == 1
