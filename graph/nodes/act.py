"""`act`: run the approved calls concurrently, each with a timeout, and keep what they returned.

A failed call becomes evidence with its error, so the answer can report the failure
honestly instead of guessing what the tool would have said.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from langgraph.runtime import Runtime

from graph.context import Context
from graph.services import services_for
from graph.state import Evidence, Executed, State, ToolCallRequest
from tools.registry import ToolRegistry

logger = logging.getLogger(__name__)


async def _run(
    registry: ToolRegistry, call: ToolCallRequest, turn: int, number: int
) -> tuple[Evidence, Executed]:
    error = ""
    result: dict[str, Any] = {"completeness": "COMPLETE", "content": "", "messages": []}
    try:
        result = dict(await registry.invoke(call["name"], call["args"]))
    except TimeoutError:
        error = f"{call['name']} timed out"
    except Exception as err:  # noqa: BLE001 — any tool failure is recorded, never hidden
        logger.warning("tool %s failed: %s", call["name"], err)
        error = f"{type(err).__name__}: {err}"
    evidence: Evidence = {
        "id": f"ev-{turn}-{number}",
        "tool": call["name"],
        "args": call["args"],
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "turn": turn,
        "completeness": "PREVIEW" if result["completeness"] == "PREVIEW" else "COMPLETE",
        "content": "" if error else str(result["content"]),
        "messages": [] if error else list(result["messages"]),
        "error": error,
    }
    executed: Executed = {
        "call_id": call["id"],
        "action": call["name"],
        "args": call["args"],
        "status": "error" if error else "ok",
        "evidence_id": evidence["id"],
        "error": error,
    }
    return evidence, executed


async def act(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Execute every approved call and record each outcome as evidence."""
    services = await services_for(runtime)
    calls = state.get("approved_calls") or []
    turn = state.get("turn", 0)
    evidence = list(state.get("evidence") or [])
    start = sum(1 for record in evidence if record["turn"] == turn)
    outcomes = await asyncio.gather(
        *(_run(services.tools, call, turn, start + n + 1) for n, call in enumerate(calls))
    )
    return {
        "evidence": evidence + [record for record, _ in outcomes],
        "executed": (state.get("executed") or []) + [done for _, done in outcomes],
        "approved_calls": [],
    }
