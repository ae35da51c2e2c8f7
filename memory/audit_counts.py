"""Counts over the audit log for the server's metrics: calls by outcome, pending approvals."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from memory.audit_tables import AuditRecord
from memory.db import AppDatabase


def tool_call_counts(db: AppDatabase) -> list[tuple[str, str, int]]:
    """(tool, outcome, calls) for every pair in the audit log, by tool. Blocking."""
    query = (
        select(AuditRecord.tool, AuditRecord.outcome, func.count())
        .group_by(col(AuditRecord.tool), col(AuditRecord.outcome))
        .order_by(col(AuditRecord.tool), col(AuditRecord.outcome))
    )
    with Session(db.engine) as session:
        return [(tool, outcome, int(n)) for tool, outcome, n in session.exec(query)]


def pending_approvals(db: AppDatabase) -> int:
    """Calls whose card waits for a decision. Blocking."""
    query = select(func.count()).where(AuditRecord.decision == "pending")
    with Session(db.engine) as session:
        return int(session.exec(query).one())
