"""`request_approval`: the policy clears what it may; a person decides everything else.

No side effect happens here: the node re-runs from its start when the graph resumes, so
everything before an `interrupt()` is recomputed the same way (the audit rows it writes
are keyed by call and simply rewritten).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from langchain_core.messages import HumanMessage
from langgraph.config import get_config
from langgraph.runtime import Runtime
from langgraph.types import interrupt

from graph.approval import Review, approval_request, edited_args, read_responses
from graph.context import Context
from graph.provenance import Flag, ReplyTarget, Trust, flags_for, reply_flags, user_chose
from graph.reply_checks import reply_notes_now
from graph.services import Services, services_for
from graph.state import Decision, State, ToolCallRequest
from memory.audit import AuditLog
from tools.mail.model import Email
from tools.mailbox import plan_mail_action

MAX_EDIT_ROUNDS = 5
"""How often one call may be edited into new flags and asked about again in one step."""


def current_thread_id() -> str:
    """The thread of the running graph ('' when it runs without a checkpointer)."""
    try:
        return str(get_config().get("configurable", {}).get("thread_id") or "")
    except RuntimeError:
        return ""


def trust_of(services: Services, state: State) -> Trust:
    """What counts as the user's: their words in this thread and their configuration."""
    texts = tuple(str(m.text) for m in state.get("messages") or [] if isinstance(m, HumanMessage))
    return Trust(
        user_texts=texts,
        addresses=frozenset(services.context.user_addresses) | services.policy.trusted_addresses,
        domains=services.policy.trusted_domains,
    )


def review_call(services: Services, state: State, call: ToolCallRequest) -> Review:
    """Level, flags and the resolved mail action of one call (reads the database)."""
    tools = services.tools
    side_effect = not tools.is_read_only(call["name"])
    level = services.policy.level_for(
        call["name"],
        default=tools.default_level(call["name"]),
        server=tools.server_of(call["name"]),
    )
    held: list[Flag] = []
    if tools.suspended(call["name"]):
        held = [
            {
                "arg": "",
                "kind": "changed_definition",
                "value": call["name"],
                "seen_in": f"mcp:{tools.server_of(call['name'])}",
                "reason": tools.suspended(call["name"]),
            }
        ]
    unavailable = tools.unavailable.get(call["name"], "")
    if unavailable:
        return Review(call, level, side_effect, flags=[], unavailable=unavailable)
    if not side_effect:
        return Review(call=call, level=level, side_effect=False, flags=held)
    trust = trust_of(services, state)
    focus = state.get("focus") or []
    action = plan_mail_action(services.tools.env, call["name"], call["args"])
    preview = tools.preview(call["name"], call["args"]) if action is None else None
    original = action.reply_of if action else answered_message(services, call)
    flags: list[Flag] = []
    if original is not None:
        target = ReplyTarget(
            id=original.id,
            from_addr=original.from_addr,
            from_name=original.from_name,
            reply_to=original.reply_to,
            subject=original.subject,
        )
        if call["proposed_by"] == "user":
            focus = [*focus, original.id]  # the user picked this message themselves
        if user_chose(target, trust, focus):
            # The sender of a message the user pointed to is theirs to answer (or invite).
            trust = replace(trust, addresses=trust.addresses | {original.from_addr.lower()})
        if action is not None and not call["args"].get("to"):
            # A reply's recipient comes from the message itself, so the message is checked.
            arg = "email_id" if call["name"] == "reply_to_email" else "in_reply_to_id"
            flags += reply_flags(arg, target, trust, focus)
    flags = held + flags_for(call["args"], trust, state.get("evidence") or []) + flags
    notes: tuple[str, ...] = ()
    if action is not None and action.reply_of is not None:
        notes = tuple(reply_notes_now(action.reply_of, str(call["args"].get("body") or "")))
    return Review(
        call=call,
        level=level,
        side_effect=True,
        flags=flags,
        action=action,
        preview=preview,
        notes=notes,
    )


def answered_message(services: Services, call: ToolCallRequest) -> Email | None:
    """The mail a non-mail call answers (an event's meeting request), when it names one."""
    arg = services.tools.answered_message_arg(call["name"])
    email_id = str(call["args"].get(arg) or "") if arg else ""
    return services.db.get_email(email_id) if email_id else None


def _decision(review: Review, kind: Any, args: dict[str, Any], by: str, text: str = "") -> Decision:
    call = review.call
    return {
        "call_id": call["id"],
        "action": call["name"],
        "args": args,
        "type": kind,
        "feedback": text,
        "by": by,
        "level": review.level,
        "flags": [dict(flag) for flag in review.flags],
    }


def _new_flags(review: Review, shown: list[Flag]) -> bool:
    seen = {(f["arg"], f["value"]) for f in shown}
    return any((f["arg"], f["value"]) not in seen for f in review.flags)


async def request_approval(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Clear calls by policy; ask about the rest together, one interrupt per round."""
    services = await services_for(runtime)
    audit, thread = AuditLog(services.db), current_thread_id()
    proposed = state.get("proposed_calls") or []
    reviews = await asyncio.gather(
        *(asyncio.to_thread(review_call, services, state, c) for c in proposed)
    )
    decided: dict[str, tuple[Decision, ToolCallRequest | None]] = {}
    proposed_by_id = {c["id"]: c for c in proposed}
    pending = [r for r in reviews if not r.runs_without_asking]
    for review in reviews:
        if review.runs_without_asking:
            decided[review.call["id"]] = (
                _decision(review, "auto", review.call["args"], "policy"),
                review.call,
            )
    await asyncio.to_thread(_audit_pending, audit, thread, reviews, decided)
    rounds = 0
    while pending:
        answers = read_responses(
            interrupt([approval_request(r) for r in pending]), [r.call for r in pending]
        )
        still: list[Review] = []
        for review in pending:
            answer = answers.get(review.call["id"])
            if answer is None:
                still.append(review)
                continue
            kind, call = answer["type"], review.call
            if kind == "edit":
                call = {**call, "args": edited_args(answer.get("args"), call["args"])}
                again = await asyncio.to_thread(review_call, services, state, call)
                if _new_flags(again, review.flags) and rounds < MAX_EDIT_ROUNDS:
                    still.append(again)  # an edit that brings in an untrusted value is asked again
                    continue
                review = again
            text = str(answer.get("args") or "") if kind == "response" else ""
            runs = call if kind in ("accept", "edit") else None
            decision = _decision(review, kind, call["args"], "user", text)
            if kind == "edit":
                decision["proposed_args"] = dict(proposed_by_id[call["id"]]["args"])
            decided[call["id"]] = (decision, runs)
        pending, rounds = still, rounds + 1
    decisions = [decided[c["id"]][0] for c in proposed if c["id"] in decided]
    approved = [run for c in proposed if c["id"] in decided and (run := decided[c["id"]][1])]
    await asyncio.to_thread(_audit_decisions, audit, thread, decisions)
    return {
        "approved_calls": approved,
        "proposed_calls": [],
        "decisions": (state.get("decisions") or []) + decisions,
    }


def _audit_pending(
    audit: AuditLog, thread: str, reviews: list[Review], decided: dict[str, Any]
) -> None:
    for review in reviews:
        auto = review.call["id"] in decided
        audit.record(
            thread_id=thread,
            call_id=review.call["id"],
            tool=review.call["name"],
            args=review.call["args"],
            level=review.level,
            flags=list(review.flags),
            decision="auto" if auto else "pending",
            decided_by="policy" if auto else "",
            outcome="pending",
        )


def _audit_decisions(audit: AuditLog, thread: str, decisions: list[Decision]) -> None:
    for decision in decisions:
        if decision["type"] in ("auto",):
            continue
        audit.record(
            thread_id=thread,
            call_id=decision["call_id"],
            tool=decision["action"],
            args=decision["args"],
            level=decision["level"],
            flags=decision["flags"],
            decision=decision["type"],
            decided_by=decision["by"],
            outcome="pending" if decision["type"] in ("accept", "edit") else "not_run",
        )
