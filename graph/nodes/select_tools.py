"""`select_tools`: the engine proposes tool calls for this step, or none (time to answer).

Code proposes some calls itself, before the engine: webhook deliveries of events that
happened and Slack announcements of scheduled meetings (`graph/events.py`), and in a triage
run the actions the triage suggests (`graph/triage_actions.py`); a triage run never asks the
engine. Code-made calls get ids derived from the turn and the call, so a call already decided
is not proposed again.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import uuid
from dataclasses import replace
from datetime import datetime, tzinfo
from typing import Any

from langgraph.runtime import Runtime

from graph.context import Context
from graph.engines.base import ProposedCall, ToolPlanRequest
from graph.events import due_announcements, due_events
from graph.evidence_bodies import whole_evidence, whole_message
from graph.nodes.detect_follow_up import last_user_text
from graph.nodes.request_approval import current_thread_id
from graph.services import Services, services_for
from graph.state import Decision, Evidence, MessageRef, State, ToolCallRequest
from graph.triage_actions import MAX_PROPOSALS, triage_proposals
from tools.calendar.settings import user_time_zone


def _signature(name: str, args: dict[str, Any]) -> str:
    return name + json.dumps(args, sort_keys=True, default=str)


def _code_calls(state: State, proposals: list[ProposedCall], by: str) -> list[ToolCallRequest]:
    """Code-made calls with stable ids, minus the ones already decided in this turn."""
    decided = {d["call_id"] for d in state.get("decisions") or []}
    calls: list[ToolCallRequest] = []
    for proposal in proposals:
        key = f"{state.get('turn', 0)}|{_signature(proposal.name, proposal.args)}"
        call_id = "call-" + hashlib.sha256(key.encode()).hexdigest()[:12]
        if call_id not in decided and call_id not in {c["id"] for c in calls}:
            calls.append(
                {"id": call_id, "name": proposal.name, "args": proposal.args, "proposed_by": by}
            )
    return calls


def _triage_actions(
    services: Services, state: State
) -> tuple[list[ProposedCall], list[ProposedCall], int]:
    """The triage's reads and cards (blocking: reads the mail), and how many cards were left out.

    The reads (a meeting request's slots) run first, alone, so that every card of the run,
    including the events those slots lead to, is shown together in one step.
    """
    rows = state.get("triage") or []
    emails = {e.id: e for e in services.db.emails_by_ids([r["id"] for r in rows])}
    turn = state.get("turn", 0)
    evidence = whole_evidence(e for e in state.get("evidence") or [] if e["turn"] == turn)
    proposals = triage_proposals(rows, emails, services.tools, evidence)
    reads = [p for p in proposals if services.tools.is_read_only(p.name)]
    cards = [p for p in proposals if not services.tools.is_read_only(p.name)]
    return reads, cards[:MAX_PROPOSALS], max(0, len(cards) - MAX_PROPOSALS)


def _mail_sender(services: Services) -> str:
    """The From of the user's mail (the demo's owner on the demo), '' without a mailbox."""
    kit = services.tools.toolkit("mail")
    return str(getattr(kit.env, "sender", "") or "") if kit is not None else ""


def _focus_refs(state: State) -> list[MessageRef]:
    focus = state.get("focus") or []
    found: dict[str, MessageRef] = {}
    for record in reversed(state.get("evidence") or []):
        for message in record["messages"]:
            if message["id"] in focus and message["id"] not in found:
                found[message["id"]] = whole_message(record, message)
    return [found[i] for i in focus if i in found]


async def select_tools(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Ask the engine for calls; drop repeats of calls already made or decided this turn."""
    services = await services_for(runtime)
    code_made = await _code_made_calls(state, services)
    if code_made is not None:
        return code_made
    steps = state.get("steps", 0)
    if steps >= services.context.max_steps:
        return {
            "proposed_calls": [],
            "answer_note": f"stopped after {steps} tool rounds (the step limit)",
        }
    requested = state.get("requested_calls") or []
    if requested:
        calls = _requested_calls(services, requested)
        return {"proposed_calls": calls, "requested_calls": [], "steps": steps + 1}
    calls, last = await _engine_calls(state, services)
    # Skipping the next step must not hide the step limit's note that step would write.
    return {
        "proposed_calls": calls,
        "steps": steps + 1,
        "last_round": last and steps + 1 < services.context.max_steps,
    }


async def _code_made_calls(state: State, services: Services) -> dict[str, Any] | None:
    """The update proposing what code proposes before the engine, or None when it has nothing.

    Deliveries of due events come first, then announcements (so a card never holds a
    delivery back); a triage run proposes the triage's actions and never asks the engine.
    """
    thread = current_thread_id()
    events = _code_calls(state, due_events(state, services.tools, thread), "events")
    if events:
        return {"proposed_calls": events}
    posts = _code_calls(state, due_announcements(state, services.tools, thread), "events")
    if posts:
        return {"proposed_calls": posts}
    if state.get("mode") == "triage":
        return await _triage_calls(state, services)
    return None


async def _triage_calls(state: State, services: Services) -> dict[str, Any]:
    """The triage's reads first, alone; then its cards, saying how many were left out."""
    reads, cards, left_out = await asyncio.to_thread(_triage_actions, services, state)
    first = _code_calls(state, reads, "triage")
    if first:
        return {"proposed_calls": first}
    update: dict[str, Any] = {"proposed_calls": _code_calls(state, cards, "triage")}
    if left_out:
        update["answer_note"] = (
            f"{left_out} more suggested action(s) of this triage were not proposed "
            f"(at most {MAX_PROPOSALS} per run); ask for them in the chat"
        )
    return update


def _requested_calls(services: Services, requested: list[dict[str, Any]]) -> list[ToolCallRequest]:
    """Calls the user asked for themselves, proposed as asked (then approved as usual).

    A name that is not one of the tools is dropped.
    """
    known = set(services.tools.names())
    return [
        {
            "id": f"call-{uuid.uuid4().hex[:12]}",
            "name": str(item["name"]),
            "args": dict(item.get("args") or {}),
            "proposed_by": "user",
        }
        for item in requested
        if item.get("name") in known
    ]


async def _engine_calls(state: State, services: Services) -> tuple[list[ToolCallRequest], bool]:
    """The engine's calls for this step, minus repeats and the tools only code may propose.

    And whether the engine is sure the step after would propose nothing (`last_round`).
    """
    executed_ids = {e["evidence_id"] for e in state.get("executed") or []}
    turn_evidence: list[Evidence] = whole_evidence(
        e for e in state.get("evidence") or [] if e["id"] in executed_ids
    )
    request = _plan_request(state, services, turn_evidence, executed_ids)
    request = replace(request, now=await user_now())
    proposals = await services.engine.plan_tools(request)
    done = _made_or_decided(turn_evidence, state.get("decisions") or [])
    calls: list[ToolCallRequest] = []
    for proposal in proposals:
        signature = _signature(proposal.name, proposal.args)
        if signature in done or services.tools.is_hidden(proposal.name):
            continue  # a repeat, or a tool only code may propose (a webhook delivery)
        done.add(signature)
        calls.append(
            {
                "id": f"call-{uuid.uuid4().hex[:12]}",
                "name": proposal.name,
                "args": proposal.args,
                "proposed_by": services.engine.name,
            }
        )
    return calls, services.engine.last_round(request)


_ZONES: dict[tuple[str, str], tzinfo] = {}
"""The user's zone by the variables that name it; the machine's own is read once a process."""


async def user_now() -> datetime:
    """The current time in the user's zone (its file is read off the event loop, once)."""
    key = (os.environ.get("SMART_INBOX_TZ", ""), os.environ.get("TZ", ""))
    zone = _ZONES.get(key)
    if zone is None:
        zone = _ZONES[key] = await asyncio.to_thread(user_time_zone)
    return datetime.now(zone)


def _plan_request(
    state: State, services: Services, turn_evidence: list[Evidence], executed_ids: set[str]
) -> ToolPlanRequest:
    """What the engine plans from: the user's words, what this turn found, the tools."""
    decisions = state.get("decisions") or []
    return ToolPlanRequest(
        mode=state.get("mode", "chat"),
        user_text=last_user_text(state) if state.get("mode") != "triage" else "",
        conversation=list(state.get("messages") or []),
        focus=_focus_refs(state),
        turn_evidence=turn_evidence,
        tools=list(services.tools.tools),
        feedback=[d["feedback"] for d in decisions if d["type"] == "response" and d["feedback"]],
        unavailable=dict(services.tools.unavailable),
        evidence=whole_evidence(
            e for e in state.get("evidence") or [] if e["id"] not in executed_ids
        ),
        sender=_mail_sender(services),
    )


def _made_or_decided(turn_evidence: list[Evidence], decisions: list[Decision]) -> set[str]:
    """Signatures of the calls made or decided this turn, as proposed and as edited."""
    done = {_signature(e["tool"], e["args"]) for e in turn_evidence}
    done |= {_signature(d["action"], d["args"]) for d in decisions}
    done |= {_signature(d["action"], d["proposed_args"]) for d in decisions if "proposed_args" in d}
    return done
