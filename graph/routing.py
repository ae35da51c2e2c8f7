"""Where the graph goes after each node: pure functions of the state."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

from graph.events import may_make_events
from graph.state import State

T = TypeVar("T")


def on_the_loop(route: Callable[[State], T]) -> Callable[[State], Awaitable[T]]:
    """`route` as a coroutine function, for `add_conditional_edges`.

    LangGraph runs a plain function of an async graph in a thread pool: one trip off the event
    loop and back for every edge taken, for what is a look at a few fields. The wrapper keeps
    `route`'s name and return annotation, from which the graph's drawing learns the targets.
    """

    @functools.wraps(route)
    async def routed(state: State) -> T:
        return route(state)

    return routed


def after_fetch(state: State) -> Literal["classify", "detect_follow_up"]:
    """A triage run, or a chat turn with untriaged mail in the cache, classifies it first.

    A chat turn with nothing to triage goes straight to the follow-up check (the chat turn of
    the design: `detect_follow_up` onwards). A state without the flag classifies, as before.
    """
    if state.get("mode") == "chat" and not state.get("untriaged", True):
        return "detect_follow_up"
    return "classify"


def after_classify(state: State) -> Literal["select_tools", "detect_follow_up"]:
    """A triage run goes straight to proposals; a chat turn checks for a follow-up first."""
    mode = state.get("mode")
    if mode == "triage":
        return "select_tools"
    if mode == "chat":
        return "detect_follow_up"
    raise ValueError(f"unknown mode {mode!r}")


def after_select_tools(state: State) -> Literal["request_approval", "answer"]:
    """Proposals go to approval; none means the engine is done."""
    return "request_approval" if state.get("proposed_calls") else "answer"


def after_approval(state: State) -> Literal["act", "select_tools", "answer"]:
    """Run what was approved; feedback goes back to the engine; otherwise answer."""
    if state.get("approved_calls"):
        return "act"
    decisions = state.get("decisions") or []
    if decisions and decisions[-1]["type"] == "response":
        return "select_tools"
    return "answer"


def after_act(state: State) -> Literal["act", "select_tools", "answer"]:
    """Back to `act` when it only settled interrupted calls; else on to the engine.

    `act` leaves the approved calls in place when its pass only recorded the person's answers
    about calls that may already have happened: they run in the next pass, after the answers
    are saved, so a crash while they run is asked about afresh, never answered by a card
    from before. Straight to the answer when the engine said its round was the last and
    nothing done this turn can make a webhook delivery or an announcement due.
    """
    if state.get("approved_calls"):
        return "act"
    if state.get("last_round") and state.get("mode") == "chat" and not may_make_events(state):
        return "answer"
    return "select_tools"
