"""The audit rows of a call's life: before it runs, as a person decided it, and what came of it.

One home for what `request_approval` and `act` write to the audit log (`memory.audit`), so
which call gets its row when is read in one place. Every function blocks (the database).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graph.approval import Review
from graph.state import Decision, Evidence, Executed
from memory.audit import AuditLog, AuditRow


def audit_pending(audit: AuditLog, thread: str, reviews: list[Review]) -> None:
    """A row for each call before anything runs, but a read the policy lets through.

    That one gets its row from `act`, decision and outcome in one write: it changes nothing,
    so nothing is lost if it never runs.
    """
    for review in reviews:
        auto = review.runs_without_asking
        if auto and not review.side_effect:
            continue
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


def audit_decisions(audit: AuditLog, thread: str, decisions: list[Decision]) -> None:
    """The rows of the calls a person decided (a call let through by policy has its own)."""
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


def audit_outcomes(
    audit: AuditLog,
    thread: str,
    executed: list[Executed],
    records: list[Evidence],
    auto: dict[str, Decision],
    read_only: Callable[[str], bool],
) -> None:
    """Each call's outcome; a call the policy let through gets its whole row here.

    `request_approval` writes no row for a read it let through (`audit_pending`): its
    decision and outcome go in together, one write instead of two, and the rows of all such
    reads of one pass go in one commit (`AuditLog.record_reads`). `read_only` tells a tool
    that only reads by its name.
    """
    reads: list[AuditRow] = []
    for done, record in zip(executed, records, strict=True):
        detail = done["error"] or record["content"][:500]
        decision = auto.get(done["call_id"])
        if decision is None:
            audit.set_outcome(
                thread_id=thread, call_id=done["call_id"], outcome=done["status"], detail=detail
            )
            continue
        values: dict[str, Any] = {
            "tool": done["action"],
            "args": decision["args"],
            "level": decision["level"],
            "flags": decision.get("flags") or [],
            "decision": "auto",
            "decided_by": decision["by"],
            "outcome": done["status"],
            "detail": detail,
        }
        if read_only(done["action"]):
            reads.append({"call_id": done["call_id"], "values": values})
        else:
            audit.record(thread_id=thread, call_id=done["call_id"], **values)
    audit.record_reads(thread_id=thread, rows=reads)
