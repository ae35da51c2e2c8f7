"""The table of health check results (table class only, for `memory.migrations`)."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class HealthRecord(SQLModel, table=True):
    """One check of one part: its state, why, and how long the check took."""

    __tablename__ = "health_checks"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    part: str = Field(index=True)
    state: str
    """ok, degraded, down or not configured."""
    reason: str = ""
    latency_ms: float | None = None
    checked_at: str
    """ISO 8601, UTC, seconds."""
