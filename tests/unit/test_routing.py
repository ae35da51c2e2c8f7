"""The routing functions, on literal states."""

from __future__ import annotations

from typing import Any, get_args, get_type_hints

import pytest

from graph.routing import (
    after_act,
    after_approval,
    after_classify,
    after_fetch,
    after_select_tools,
)
from graph.state import State

CALL: dict[str, Any] = {
    "id": "call-1",
    "name": "search_emails",
    "args": {"query": "invoice"},
    "proposed_by": "rules",
}


def decision(kind: str) -> dict[str, Any]:
    return {
        "call_id": "call-1",
        "action": "save_draft",
        "args": {},
        "type": kind,
        "feedback": "",
        "by": "user",
        "level": 1,
    }


def test_after_classify_sends_triage_runs_to_select_tools() -> None:
    assert after_classify({"mode": "triage"}) == "select_tools"


def test_after_classify_sends_chat_turns_to_follow_up_detection() -> None:
    assert after_classify({"mode": "chat"}) == "detect_follow_up"


@pytest.mark.parametrize("state", [{"mode": "batch"}, {}], ids=["unknown", "missing"])
def test_after_classify_rejects_an_unknown_mode(state: Any) -> None:
    with pytest.raises(ValueError, match="unknown mode"):
        after_classify(state)


def test_after_select_tools_goes_to_approval_when_calls_are_proposed() -> None:
    state: Any = {"proposed_calls": [CALL]}
    assert after_select_tools(state) == "request_approval"


@pytest.mark.parametrize("state", [{"proposed_calls": []}, {}])
def test_after_select_tools_answers_when_nothing_is_proposed(state: State) -> None:
    assert after_select_tools(state) == "answer"


def test_after_approval_acts_on_approved_calls() -> None:
    state: Any = {"approved_calls": [CALL], "decisions": [decision("response")]}
    assert after_approval(state) == "act"


def test_after_approval_returns_feedback_to_select_tools() -> None:
    state: Any = {"approved_calls": [], "decisions": [decision("accept"), decision("response")]}
    assert after_approval(state) == "select_tools"


@pytest.mark.parametrize("kind", ["ignore", "accept", "edit", "auto"])
def test_after_approval_answers_when_nothing_runs_and_no_feedback(kind: str) -> None:
    state: Any = {"approved_calls": [], "decisions": [decision(kind)]}
    assert after_approval(state) == "answer"


def test_after_approval_answers_with_no_decisions() -> None:
    assert after_approval({}) == "answer"


def test_after_approval_only_looks_at_the_latest_decision() -> None:
    state: Any = {"approved_calls": [], "decisions": [decision("response"), decision("ignore")]}
    assert after_approval(state) == "answer"


def test_after_act_goes_round_again_when_calls_are_left_to_run() -> None:
    state: Any = {"approved_calls": [CALL]}
    assert after_act(state) == "act"


@pytest.mark.parametrize("state", [{"approved_calls": []}, {}])
def test_after_act_returns_to_the_engine_once_everything_ran(state: State) -> None:
    assert after_act(state) == "select_tools"


def test_every_edge_is_routed_on_the_event_loop_to_the_targets_its_function_names() -> None:
    from graph.builder import build_graph

    compiled = build_graph()
    routes = {
        "fetch": after_fetch,
        "classify": after_classify,
        "select_tools": after_select_tools,
        "request_approval": after_approval,
        "act": after_act,
    }
    for node, branches in compiled.builder.branches.items():
        ((name, spec),) = branches.items()
        # A plain function would be run in a thread pool: a trip off the loop per edge taken.
        assert spec.path.func is None, f"the edge after {node} runs off the event loop"
        assert name == routes[node].__name__
        targets = get_args(get_type_hints(routes[node])["return"])
        assert set(spec.ends or {}) == set(targets), node


async def test_a_route_on_the_loop_says_what_the_function_says() -> None:
    from graph.routing import on_the_loop

    routed = on_the_loop(after_classify)
    assert await routed({"mode": "chat"}) == after_classify({"mode": "chat"})
    with pytest.raises(ValueError, match="unknown mode"):
        await routed({"mode": "sideways"})  # type: ignore[typeddict-item]


def test_a_chat_turn_classifies_only_when_mail_waits_for_its_triage() -> None:
    assert after_fetch({"mode": "chat", "untriaged": False}) == "detect_follow_up"
    assert after_fetch({"mode": "chat", "untriaged": True}) == "classify"
    # A triage run always classifies; a state from before the flag classifies, as it did.
    assert after_fetch({"mode": "triage", "untriaged": False}) == "classify"
    assert after_fetch({"mode": "chat"}) == "classify"
