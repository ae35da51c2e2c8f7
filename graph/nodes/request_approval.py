"""`request_approval`: read-only calls pass; anything with a side effect waits for a person.

No side effect happens here: the node re-runs from its start when the graph resumes.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from graph.approval import approval_request, read_responses
from graph.context import Context
from graph.services import services_for
from graph.state import Decision, State, ToolCallRequest


async def request_approval(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Decide each proposed call: auto for read-only, otherwise ask in one interrupt."""
    services = await services_for(runtime)
    proposed = state.get("proposed_calls") or []
    approved: list[ToolCallRequest] = []
    decisions: list[Decision] = []
    pending: list[ToolCallRequest] = []
    for call in proposed:
        if services.tools.is_read_only(call["name"]):
            approved.append(call)
            decisions.append(_decision(call, "auto", call["args"], "policy", 0))
        else:
            pending.append(call)
    if pending:
        answers = read_responses(interrupt([approval_request(c) for c in pending]), pending)
        for call in pending:
            answer = answers.get(call["id"])
            kind = answer["type"] if answer else "ignore"
            if kind == "accept":
                approved.append(call)
                decisions.append(_decision(call, "accept", call["args"], "user", 1))
            elif kind == "edit":
                edited = answer.get("args") if answer else None
                args = _edited_args(edited, call["args"])
                approved.append({**call, "args": args})
                decisions.append(_decision(call, "edit", args, "user", 1))
            elif kind == "response":
                text = str(answer.get("args") or "") if answer else ""
                decisions.append(_decision(call, "response", call["args"], "user", 1, text))
            else:
                decisions.append(_decision(call, "ignore", call["args"], "user", 1))
    return {
        "approved_calls": approved,
        "proposed_calls": [],
        "decisions": (state.get("decisions") or []) + decisions,
    }


def _edited_args(edited: Any, original: dict[str, Any]) -> dict[str, Any]:
    # Agent Inbox sends {"action": ..., "args": {...}}; a bare dict of arguments works too.
    if isinstance(edited, dict) and isinstance(edited.get("args"), dict):
        return dict(edited["args"])
    if isinstance(edited, dict):
        return dict(edited)
    return dict(original)


def _decision(
    call: ToolCallRequest,
    kind: Any,
    args: dict[str, Any],
    by: str,
    level: int,
    feedback: str = "",
) -> Decision:
    return {
        "call_id": call["id"],
        "action": call["name"],
        "args": args,
        "type": kind,
        "feedback": feedback,
        "by": by,
        "level": level,
    }
