"""`act`: run the approved calls concurrently, each once, and keep what they returned.

A side effect is claimed in the ledger before it runs and marked done after, so a resumed
graph or a re-run node never repeats one that completed. One that was started but never
finished (the process died mid-call) may have happened: the user is asked before it runs
again, told what was found of the mail it was sending (a copy in Sent, in the demo's outbox,
how far the exchange with the server got). A failed call becomes evidence with its error, so
the answer can report it honestly.
Results and errors are scrubbed of known secrets before anything keeps them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from datetime import UTC, datetime
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from graph.approval import read_responses, unknown_outcome_request
from graph.approval_audit import audit_outcomes
from graph.context import Context
from graph.evidence_bodies import keep_once
from graph.nodes.request_approval import current_thread_id
from graph.services import Services, forget_run_services, services_for
from graph.state import Evidence, Executed, State, ToolCallRequest
from memory.audit import AuditLog
from memory.audit_tables import LedgerEntry
from memory.ledger import ClaimedCall, SideEffectLedger, running
from memory.redaction import scrub, scrub_data
from tools.mail.send_trace import SentTrace, trace_sends, traces_summary
from tools.toolkit import ToolFailure

logger = logging.getLogger(__name__)

CRASH_AFTER_SIDE_EFFECT = "SMART_INBOX_CRASH_AFTER_SIDE_EFFECT"
"""Fault injection for the recovery tests: die right after a side effect is recorded as done,
before the graph can save its progress."""

Outcome = tuple[str, dict[str, Any], str]
"""(status, tool result, error) of one call."""


async def _invoke(services: Services, call: ToolCallRequest) -> Outcome:
    """Run one call; its result and error come back with every known secret masked.

    Masked here, before the ledger, the evidence, the audit log or a prompt can keep them: a
    service may repeat its credential in an answer or an error.
    """
    status, result, error = await _call_tool(services, call)
    return status, scrub_data(result), scrub(error)


async def _call_tool(services: Services, call: ToolCallRequest) -> Outcome:
    try:
        result = dict(await services.tools.invoke(call["name"], call["args"]))
    except TimeoutError:
        return "error", {}, f"{call['name']} timed out"
    except ToolFailure as err:
        # Written for the user (which integration, what failed, why): shown as it is.
        logger.warning("tool %s failed: %s", call["name"], err)
        return "error", {}, str(err)
    except Exception as err:  # noqa: BLE001 — any tool failure is recorded, never hidden
        logger.warning("tool %s failed: %s", call["name"], err)
        return "error", {}, f"{type(err).__name__}: {err}"
    return "ok", result, ""


async def _run_once(services: Services, thread: str, call: ToolCallRequest) -> Outcome:
    """Run a side-effecting call unless the ledger shows it was already run."""
    ledger = SideEffectLedger(services.db)
    entry = await asyncio.to_thread(ledger.begin, thread, call["id"], call["name"], call["args"])
    if entry is not None:
        return _recorded(entry)
    # The mail it sends records its Message-ID and progress under the claim (`deliver`).
    with running(ClaimedCall(ledger, thread, call["id"])):
        status, result, error = await _invoke(services, call)
    await asyncio.to_thread(
        ledger.finish,
        thread,
        call["id"],
        "done" if status == "ok" else "failed",
        result if status == "ok" else {"error": error},
    )
    if status == "ok" and os.environ.get(CRASH_AFTER_SIDE_EFFECT):
        os.kill(os.getpid(), signal.SIGKILL)
    return status, result, error


def _recorded(entry: LedgerEntry) -> Outcome:
    result = entry.result_dict()
    if entry.status == "done":
        content = str(result.get("content", ""))
        note = " (This was done earlier and is not repeated.)"
        return "ok", {**result, "content": content + note}, ""
    if entry.status == "failed":
        return "error", {}, str(result.get("error", "failed earlier"))
    if entry.status == "started":
        # Claimed by another run of this conversation (another chat server or command that
        # resumed the same request) that has not recorded its outcome yet.
        return (
            "unknown",
            {},
            f"another run of this conversation started it at {entry.started_at} and has not "
            "recorded its outcome yet (it may be running now), so it was not run a second time",
        )
    found = str(result.get("found", ""))
    if found:
        return (
            "unknown",
            {},
            f"it was interrupted earlier and its result was never recorded; what was found of "
            f"its mail: {found}; you chose not to run it again",
        )
    return (
        "unknown",
        {},
        "it was started earlier but its outcome was never recorded, so it may have happened; "
        "you chose not to run it again",
    )


def _evidence(call: ToolCallRequest, outcome: Outcome, turn: int, number: int) -> Evidence:
    status, result, error = outcome
    record: Evidence = {
        "id": f"ev-{turn}-{number}",
        "tool": call["name"],
        "args": call["args"],
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "turn": turn,
        "completeness": "PREVIEW" if result.get("completeness") == "PREVIEW" else "COMPLETE",
        "content": "" if error else str(result.get("content", "")),
        "messages": [] if error else list(result.get("messages", [])),
        "error": error,
    }
    if not error and isinstance(result.get("data"), dict):
        record["data"] = result["data"]
    return keep_once(record)


def _trace(
    services: Services, ledger: SideEffectLedger, thread: str, call_id: str
) -> list[SentTrace]:
    """Where the mail an interrupted call was sending can be seen (blocking)."""
    return trace_sends(services.mailbox, ledger.messages(thread, call_id))


async def _settle_unknown(services: Services, thread: str, calls: list[ToolCallRequest]) -> bool:
    """Ask about calls whose outcome is unknown, saying what was found; forget those to rerun.

    The mail of each is looked for first (its Sent folder, the demo's outbox, the stage the
    ledger recorded), so the card can say whether it was delivered. This node re-runs from its
    start on resume, so the search runs again then; its result only fills the cards. True when
    answers were recorded (then nothing may run in this pass: see `act`).
    """
    ledger = SideEffectLedger(services.db)
    entries = await asyncio.gather(*(asyncio.to_thread(ledger.get, thread, c["id"]) for c in calls))
    unknown = [(c, e) for c, e in zip(calls, entries, strict=True) if e and e.status == "started"]
    if not unknown:
        return False
    traces = await asyncio.gather(
        *(asyncio.to_thread(_trace, services, ledger, thread, c["id"]) for c, _ in unknown)
    )
    sends = {c["id"]: t for (c, _), t in zip(unknown, traces, strict=True)}
    pending, answers = unknown, {}
    while pending:
        value = interrupt(
            [unknown_outcome_request(c, e.started_at, sends[c["id"]]) for c, e in pending]
        )
        answers.update(read_responses(value, [c for c, _ in pending]))
        pending = [(c, e) for c, e in pending if c["id"] not in answers]
    for call, _ in unknown:
        run_again = answers[call["id"]]["type"] in ("accept", "edit")
        await asyncio.to_thread(
            ledger.settle_unknown,
            thread,
            call["id"],
            retry=run_again,
            found=traces_summary(sends[call["id"]]),
        )
    return True


async def act(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Execute every approved call (side effects at most once) and record each outcome."""
    services = await services_for(runtime)
    thread = current_thread_id()
    calls = state.get("approved_calls") or []
    side = [c for c in calls if not services.tools.is_read_only(c["name"])]
    if await _settle_unknown(services, thread, side):
        # The answers are in the ledger; the calls run in the next pass, once this one is
        # saved. Run here, a crash would leave the answered card pending, and the next answer
        # to it would decide about an attempt the card never described.
        return {}
    outcomes = await asyncio.gather(
        *(_invoke(services, c) if c not in side else _run_once(services, thread, c) for c in calls)
    )
    if side:
        # A side effect may change what the services come from (a credential, a webhook).
        forget_run_services(runtime)
    turn = state.get("turn", 0)
    evidence = list(state.get("evidence") or [])
    start = sum(1 for record in evidence if record["turn"] == turn)
    records = [
        _evidence(c, o, turn, start + n + 1)
        for n, (c, o) in enumerate(zip(calls, outcomes, strict=True))
    ]
    executed: list[Executed] = [
        {
            "call_id": c["id"],
            "action": c["name"],
            "args": c["args"],
            "status": o[0],  # type: ignore[typeddict-item]
            "evidence_id": r["id"],
            "error": o[2],
        }
        for c, o, r in zip(calls, outcomes, records, strict=True)
    ]
    auto = {d["call_id"]: d for d in state.get("decisions") or [] if d["type"] == "auto"}
    await asyncio.to_thread(
        audit_outcomes,
        AuditLog(services.db),
        thread,
        executed,
        records,
        auto,
        services.tools.is_read_only,
    )
    return {
        "evidence": evidence + records,
        "executed": (state.get("executed") or []) + executed,
        "approved_calls": [],
    }
