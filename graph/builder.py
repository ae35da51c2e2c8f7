"""The agent graphs, exported without a checkpointer (the LangGraph server brings its own).

`graph` answers chat turns and runs triage; `triage_graph` is the same graph with an input that
only triggers a triage run, for scheduled runs and Studio. The command line and the chat UI
call `build_graph(checkpointer)` to compile with theirs.
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from graph.context import Context
from graph.nodes.act import act
from graph.nodes.answer import answer
from graph.nodes.classify import classify
from graph.nodes.detect_follow_up import detect_follow_up
from graph.nodes.fetch import fetch
from graph.nodes.request_approval import request_approval
from graph.nodes.select_tools import select_tools
from graph.routing import (
    after_act,
    after_approval,
    after_classify,
    after_fetch,
    after_select_tools,
    on_the_loop,
)
from graph.state import InputState, State, TriageInput


def build_graph(
    checkpointer: Any = None,
    store: Any = None,
    *,
    input_schema: type[Any] = InputState,
    name: str = "smart-inbox",
) -> CompiledStateGraph[State, Context, Any, State]:
    """Wire the seven nodes and compile, with the caller's checkpointer if any."""
    builder = StateGraph(State, input_schema=input_schema, context_schema=Context)
    builder.add_node(fetch)
    builder.add_node(classify)
    builder.add_node(detect_follow_up)
    builder.add_node(select_tools)
    builder.add_node(request_approval)
    builder.add_node(act)
    builder.add_node(answer)
    builder.add_edge(START, "fetch")
    builder.add_conditional_edges("fetch", on_the_loop(after_fetch))
    builder.add_conditional_edges("classify", on_the_loop(after_classify))
    builder.add_conditional_edges("select_tools", on_the_loop(after_select_tools))
    builder.add_conditional_edges("request_approval", on_the_loop(after_approval))
    # After acting, back to select_tools: for more calls of a chat turn, the events due after
    # what was done, and a triage run's proposals after its events. A pass of act that only
    # settled interrupted calls goes round once more to run them.
    builder.add_conditional_edges("act", on_the_loop(after_act))
    builder.add_edge("answer", END)
    return builder.compile(checkpointer=checkpointer, store=store, name=name)


graph = build_graph()
triage_graph = build_graph(input_schema=TriageInput, name="smart-inbox-triage")
