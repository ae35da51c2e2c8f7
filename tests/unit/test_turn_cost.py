"""What a chat turn does only once: services looked up once per run, no idle second engine round.

And what it still does every time: a new run checks its services afresh, a side effect makes
the next node check them again, a turn that may owe an event or a step-limit note still asks
`select_tools`, and a checkpoint made before `last_round` existed loads and resumes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.runtime import Runtime
from langgraph.types import Command

import graph.services as services_module
from graph.builder import build_graph
from graph.context import Context
from graph.engines.base import ToolPlanRequest
from graph.engines.model import ModelEngine
from graph.engines.rules import RulesEngine
from graph.grounding import verify_answer
from graph.nodes.select_tools import select_tools
from graph.routing import after_act
from graph.services import forget_run_services, services_for
from graph.services.per_run import RunServices
from memory.db import open_database
from memory.paths import app_database_url
from tests.unit.conftest import INVOICE_ID, write_maildir

SEARCH = "find emails about invoice"
LATE_ID = "crane-0911@yard.example"
LATE = (
    "From: Yard Ops <ops@yard.example>\nTo: dana@northwind.example\nSubject: Crane 4 inspection\n"
    f"Message-ID: <{LATE_ID}>\nDate: Thu, 20 Nov 2026 09:00:00 +0000\n\n"
    "The crane inspection is booked for Friday.\n"
)


class Control:
    """Stands for the `RunControl` LangGraph makes per run."""


def _counting_lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = services_module.kept_services

    def counted(context: Context, hub: Any = None) -> Any:
        calls.append(context.home)
        return real(context, hub)

    monkeypatch.setattr(services_module, "kept_services", counted)
    return calls


async def _turn(graph: Any, thread: str, text: str, context: Context) -> tuple[dict, list[str]]:
    config: Any = {"configurable": {"thread_id": thread}}
    nodes: list[str] = []
    state: dict[str, Any] = {}
    async for chunk in graph.astream(
        {"messages": [HumanMessage(text)], "mode": "chat"},
        config=config,
        context=context,
        stream_mode=["updates", "values"],
    ):
        kind, data = chunk
        if kind == "updates":
            nodes.extend(data)
        else:
            state = data
    return state, nodes


async def test_a_search_turn_looks_its_services_up_once_and_asks_the_engine_once(
    context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookups = _counting_lookups(monkeypatch)
    graph = build_graph(checkpointer=InMemorySaver())
    state, nodes = await _turn(graph, "t", SEARCH, context)
    assert nodes == [
        "fetch",
        "classify",
        "detect_follow_up",
        "select_tools",
        "request_approval",
        "act",
        "answer",
    ]
    assert INVOICE_ID in state["citations"]
    assert len(lookups) == 1
    _, again = await _turn(graph, "t", SEARCH, context)
    assert again.count("select_tools") == 1
    assert len(lookups) == 2, "every run checks its services afresh"


async def test_a_turn_with_nothing_to_triage_skips_classify_and_new_mail_is_triaged_first(
    context: Context, maildir: Path
) -> None:
    graph = build_graph(checkpointer=InMemorySaver())
    _, first = await _turn(graph, "t", SEARCH, context)
    assert "classify" in first, "the first turn triages the whole new mailbox"
    _, idle = await _turn(graph, "t", SEARCH, context)
    assert idle[:2] == ["fetch", "detect_follow_up"]
    # Mail delivered between turns is fetched and triaged before the turn goes on.
    write_maildir(maildir, {"1764000000.late.host": LATE})
    state, late = await _turn(graph, "t", "find emails about crane", context)
    assert late[:3] == ["fetch", "classify", "detect_follow_up"]
    db = open_database(app_database_url(Path(context.home)))
    assert LATE_ID in db.triage_for([LATE_ID]), "the new message has its triage"
    assert LATE_ID in state["citations"]


async def test_a_turn_that_may_act_on_what_it_found_asks_the_engine_again(
    context: Context,
) -> None:
    graph = build_graph(checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "t"}}
    _, nodes = await _turn(graph, "t", "draft a reply to the one from Bob saying ok", context)
    assert nodes[-2:] == ["select_tools", "__interrupt__"]
    resumed = [
        node
        async for update in graph.astream(
            Command(resume={"type": "accept"}), config=config, context=context
        )
        for node in update
    ]
    assert resumed[-3:] == ["act", "select_tools", "answer"]


def test_after_act_answers_only_when_the_engine_was_sure_and_nothing_can_be_due() -> None:
    done: Any = {"action": "search_emails", "status": "ok"}
    state: Any = {"mode": "chat", "last_round": True, "executed": [done]}
    assert after_act(state) == "answer"
    assert after_act({**state, "last_round": False}) == "select_tools"
    assert after_act({**state, "mode": "triage"}) == "select_tools"
    # A meeting created or a reply sent may owe a webhook delivery or a Slack announcement.
    for action in ("reply_to_email", "create_calendar_event"):
        made = {**state, "executed": [done, {"action": action, "status": "ok"}]}
        assert after_act(made) == "select_tools", action


async def test_the_round_that_reaches_the_step_limit_is_never_the_last_round(
    context: Context,
) -> None:
    from dataclasses import replace

    limited = Runtime(context=replace(context, max_steps=1))
    state: Any = {"mode": "chat", "messages": [HumanMessage(SEARCH)], "steps": 0}
    update = await select_tools(state, limited)
    assert update["proposed_calls"]
    assert update["last_round"] is False, "the next step writes the step limit's note"
    update = await select_tools(state, Runtime(context=context))
    assert update["last_round"] is True


def test_only_the_rules_engine_is_ever_sure_and_only_for_one_round_intents() -> None:
    def request(text: str) -> ToolPlanRequest:
        return ToolPlanRequest(
            mode="chat", user_text=text, conversation=[], focus=[], turn_evidence=[], tools=[]
        )

    assert RulesEngine().last_round(request(SEARCH))
    assert not RulesEngine().last_round(request("archive the newsletter"))
    assert not ModelEngine.last_round(None, request(SEARCH))  # type: ignore[arg-type]


async def test_a_run_shares_its_services_until_a_side_effect(context: Context) -> None:
    control = Control()
    runtime = Runtime(context=context, control=control)  # type: ignore[arg-type]
    first = await services_for(runtime)
    policy = {"tools": {"search_emails": 1}}
    (Path(context.home) / "policy.json").write_text(json.dumps(policy))
    same = await services_for(runtime)
    assert same is first, "within the run, the policy is not read again"
    assert (await services_for(Runtime(context=context))).policy.level_for("search_emails") == 1
    forget_run_services(runtime)
    after = await services_for(runtime)
    assert after.policy.level_for("search_emails") == 1, "after a side effect, checked afresh"


def test_run_services_tell_runs_and_contexts_apart(context: Context) -> None:
    runs = RunServices(size=2)
    one, two, three = Control(), Control(), Control()
    marker: Any = object()
    runs.put(one, context, marker)
    assert runs.get(one, context) is marker
    assert runs.get(two, context) is None
    assert runs.get(None, context) is None
    other = Context(**{**vars(context), "max_steps": context.max_steps + 1})
    assert runs.get(one, other) is None, "another context is not this run's"
    runs.put(None, context, marker)
    runs.put(two, context, marker)
    runs.put(three, context, marker)
    assert len(runs) == 2 and runs.get(one, context) is None
    runs.forget(two)
    assert runs.get(two, context) is None and runs.get(three, context) is marker


async def test_a_checkpoint_made_before_last_round_existed_loads_and_resumes(
    context: Context,
) -> None:
    saver = InMemorySaver()
    graph = build_graph(checkpointer=saver)
    config: Any = {"configurable": {"thread_id": "old"}}
    await graph.ainvoke(
        {"messages": [HumanMessage("draft a reply to the one from Bob saying ok")]},
        config=config,
        context=context,
    )
    # Rewrite the paused checkpoint as an older version would have saved it.
    saved = await saver.aget_tuple(config)
    assert saved is not None
    checkpoint = dict(saved.checkpoint)
    checkpoint["channel_values"] = {
        k: v for k, v in checkpoint["channel_values"].items() if k != "last_round"
    }
    checkpoint["channel_versions"] = {
        k: v for k, v in checkpoint["channel_versions"].items() if k != "last_round"
    }
    assert "last_round" not in checkpoint["channel_values"]
    await saver.aput(saved.config, checkpoint, saved.metadata, {})  # type: ignore[arg-type]
    for task in saved.pending_writes or []:
        await saver.aput_writes(saved.config, [(task[1], task[2])], task[0])
    result = await graph.ainvoke(Command(resume={"type": "accept"}), config=config, context=context)
    assert [e["status"] for e in result["executed"]] == ["ok"]
    assert "Draft saved" in result["messages"][-1].content
    state, _ = await _turn(graph, "old", SEARCH, context)
    assert INVOICE_ID in state["citations"]


def _record(record_id: str, content: str) -> Any:
    return {
        "id": record_id,
        "tool": "search_emails",
        "args": {},
        "at": "2026-11-20T10:00:00+00:00",
        "turn": 1,
        "completeness": "PREVIEW",
        "content": content,
        "messages": [],
        "error": "",
    }


def test_remembered_evidence_facts_never_vouch_for_other_evidence() -> None:
    draft = 'The invoice "INV-2026-0412" for $4,250.00 is due on 19 November.'
    holding = [_record("ev-1-1", "INV-2026-0412 for $4,250.00, due 19 November 2026")]
    assert verify_answer(draft, holding).ok
    assert verify_answer(draft, holding).ok, "the remembered facts give the same verdict"
    lacking = [_record("ev-1-1", "INV-2026-0413 for $4,200.00, due 18 November 2026")]
    problems = " ".join(verify_answer(draft, lacking).problems)
    assert "amount" in problems and "names INV-2026-0412" in problems and "11-19" in problems


def test_a_figure_split_across_two_records_is_not_supported() -> None:
    draft = "It costs 300 USD."
    split = [_record("ev-1-1", "the total was 300"), _record("ev-1-2", "USD accounts only")]
    assert not verify_answer(draft, split).ok
