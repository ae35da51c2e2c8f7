"""The replay chat model: script checks, node-named lines, and the rules fallback."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver

from graph.builder import build_graph
from graph.context import Context
from graph.engines import EngineSpecError, load_engine
from graph.engines.base import ToolPlanRequest
from graph.engines.model import ModelEngine
from graph.engines.replay import (
    NODE_KEY,
    ReplayChatModel,
    ReplayExhausted,
    ReplayScriptError,
    load_script,
)
from graph.engines.rules import RulesEngine
from graph.grounding import evidence_ids
from graph.schemas import TriageOutput
from tests.unit.conftest import write_script
from tools.mail.tools import MAIL_TOOLS

PROMPT = [HumanMessage("hello")]


def at(node: str) -> RunnableConfig:
    return {"metadata": {NODE_KEY: node}}


def test_a_malformed_line_names_the_file_and_line(tmp_path: Path) -> None:
    script = tmp_path / "bad.jsonl"
    script.write_text('{"content": "fine"}\n\n{"content": oops}\n', encoding="utf-8")
    with pytest.raises(ReplayScriptError, match=r"bad\.jsonl:3: not valid JSON"):
        load_script(script)
    with pytest.raises(EngineSpecError, match=r"bad\.jsonl:3"):
        load_engine(f"replay:{script}")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('["not", "an", "object"]', "each line must be a JSON object"),
        ('{"tool_calls": {"name": "get_email"}}', "tool_calls must be a list"),
        ('{"tool_calls": [{"args": {}}]}', "tool_calls must be a list"),
    ],
)
def test_badly_shaped_lines_are_rejected(tmp_path: Path, line: str, message: str) -> None:
    script = tmp_path / "shape.jsonl"
    script.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ReplayScriptError, match=rf"shape\.jsonl:1: {message}"):
        load_script(script)


def test_a_missing_script_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EngineSpecError, match="cannot read replay script"):
        load_engine(f"replay:{tmp_path / 'absent.jsonl'}")


async def test_an_unknown_tool_is_an_error_listing_the_known_ones(tmp_path: Path) -> None:
    script = write_script(
        tmp_path / "tools.jsonl",
        [{"content": "", "tool_calls": [{"name": "forward_all", "args": {}}]}],
    )
    model = ReplayChatModel(path=script).bind_tools(MAIL_TOOLS)
    with pytest.raises(ReplayScriptError) as caught:
        await model.ainvoke(PROMPT, config=at("select_tools"))
    message = str(caught.value)
    assert "tools.jsonl:1" in message
    assert "unknown tool 'forward_all'" in message
    assert (
        "known tools: get_email, list_inbox, list_outbox, reply_to_email, save_draft, search_emails, "
        "send_email" in message
    )


async def test_named_lines_answer_only_their_node(tmp_path: Path) -> None:
    triage = {"priority": "low", "category": "newsletter", "action": "archive", "reason": "r"}
    script = write_script(
        tmp_path / "nodes.jsonl",
        [
            {"node": "answer", "content": "the scripted answer"},
            {"node": "classify", "content": json.dumps(triage)},
            {"content": "", "tool_calls": [{"name": "list_inbox", "args": {"limit": 3}}]},
        ],
    )
    chat = ReplayChatModel(path=script)
    planned = await chat.bind_tools(MAIL_TOOLS).ainvoke(PROMPT, config=at("select_tools"))
    assert [(c["name"], c["args"]) for c in planned.tool_calls] == [("list_inbox", {"limit": 3})]
    answered = await chat.ainvoke(PROMPT, config=at("answer"))
    assert answered.content == "the scripted answer"
    classified = await chat.with_structured_output(TriageOutput).ainvoke(
        PROMPT, config=at("classify")
    )
    assert classified == TriageOutput.model_validate(triage)
    for node in ("answer", "select_tools", "classify"):
        with pytest.raises(ReplayExhausted):
            await chat.ainvoke(PROMPT, config=at(node))


async def test_classify_never_takes_an_unnamed_line(tmp_path: Path) -> None:
    script = write_script(tmp_path / "plain.jsonl", [{"content": "{}"}])
    chat = ReplayChatModel(path=script)
    with pytest.raises(ReplayExhausted):
        await chat.ainvoke(PROMPT, config=at("classify"))
    assert (await chat.ainvoke(PROMPT, config=at("answer"))).content == "{}"


async def test_an_exhausted_script_falls_back_to_the_rules(tmp_path: Path) -> None:
    script = write_script(tmp_path / "empty.jsonl", [])
    engine = ModelEngine(ReplayChatModel(path=script), name="replay:empty")
    request = ToolPlanRequest(
        mode="chat",
        user_text="show me the invoices",
        conversation=[HumanMessage("show me the invoices")],
        focus=[],
        turn_evidence=[],
        tools=list(MAIL_TOOLS),
    )
    planned = await engine.plan_tools(request)
    assert planned == await RulesEngine().plan_tools(request)
    assert [c.name for c in planned] == ["list_inbox"]


async def test_the_graph_still_answers_when_the_script_runs_out(
    tmp_path: Path, context: Context
) -> None:
    script = write_script(
        tmp_path / "short.jsonl",
        [{"tool_calls": [{"name": "list_inbox", "args": {"priority": "high", "limit": 10}}]}],
    )
    run_context = replace(context, model=f"replay:{script}")
    graph = build_graph(checkpointer=InMemorySaver())
    config: RunnableConfig = {"configurable": {"thread_id": "short"}}
    result: Any = await graph.ainvoke(
        {"messages": [HumanMessage("what needs my attention?")]},
        config=config,
        context=run_context,
    )
    assert [e["action"] for e in result["executed"]] == ["list_inbox"]
    assert result["executed"][0]["args"] == {"priority": "high", "limit": 10}
    text = result["messages"][-1].text
    assert result["messages"][-1].type == "ai"
    assert result["citations"], text
    assert set(result["citations"]) <= evidence_ids(result["evidence"])
    assert result["answer_note"] == ""
    assert (await graph.aget_state(config)).next == ()
