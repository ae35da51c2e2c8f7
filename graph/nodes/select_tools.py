"""`select_tools`: the engine proposes tool calls for this step, or none (time to answer)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from langgraph.runtime import Runtime

from graph.context import Context
from graph.engines.base import ToolPlanRequest
from graph.nodes.detect_follow_up import last_user_text
from graph.services import services_for
from graph.state import Evidence, MessageRef, State, ToolCallRequest


def _signature(name: str, args: dict[str, Any]) -> str:
    return name + json.dumps(args, sort_keys=True, default=str)


def _focus_refs(state: State) -> list[MessageRef]:
    focus = state.get("focus") or []
    found: dict[str, MessageRef] = {}
    for record in reversed(state.get("evidence") or []):
        for message in record["messages"]:
            if message["id"] in focus and message["id"] not in found:
                found[message["id"]] = message
    return [found[i] for i in focus if i in found]


async def select_tools(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Ask the engine for calls; drop repeats of calls already made or decided this turn."""
    services = await services_for(runtime)
    steps = state.get("steps", 0)
    if steps >= services.context.max_steps:
        return {
            "proposed_calls": [],
            "answer_note": f"stopped after {steps} tool rounds (the step limit)",
        }
    requested = state.get("requested_calls") or []
    if requested:
        # The user asked for these themselves: they are proposed as asked, then approved as usual.
        known = set(services.tools.names())
        calls: list[ToolCallRequest] = [
            {
                "id": f"call-{uuid.uuid4().hex[:12]}",
                "name": str(item["name"]),
                "args": dict(item.get("args") or {}),
                "proposed_by": "user",
            }
            for item in requested
            if item.get("name") in known
        ]
        return {"proposed_calls": calls, "requested_calls": [], "steps": steps + 1}
    executed_ids = {e["evidence_id"] for e in state.get("executed") or []}
    turn_evidence: list[Evidence] = [
        e for e in state.get("evidence") or [] if e["id"] in executed_ids
    ]
    decisions = state.get("decisions") or []
    request = ToolPlanRequest(
        mode=state.get("mode", "chat"),
        user_text=last_user_text(state) if state.get("mode") != "triage" else "",
        conversation=list(state.get("messages") or []),
        focus=_focus_refs(state),
        turn_evidence=turn_evidence,
        tools=list(services.tools.tools),
        feedback=[d["feedback"] for d in decisions if d["type"] == "response" and d["feedback"]],
    )
    proposals = await services.engine.plan_tools(request)
    done = {_signature(e["tool"], e["args"]) for e in turn_evidence}
    done |= {_signature(d["action"], d["args"]) for d in decisions}
    calls = []
    for proposal in proposals:
        signature = _signature(proposal.name, proposal.args)
        if signature in done:
            continue
        done.add(signature)
        calls.append(
            {
                "id": f"call-{uuid.uuid4().hex[:12]}",
                "name": proposal.name,
                "args": proposal.args,
                "proposed_by": services.engine.name,
            }
        )
    return {"proposed_calls": calls, "steps": steps + 1}
