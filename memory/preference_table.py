"""The table of the user's triage corrections (`memory.triage_preferences` reads and writes it).

Table classes only, so that `memory.migrations` can create them without importing the store.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Field, SQLModel


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class TriagePreferenceRecord(SQLModel, table=True):
    """One correction the user made, as stored."""

    __tablename__ = "triage_preference"

    id: int | None = Field(default=None, primary_key=True)
    scope: str
    """`sender`, `domain`, `list` or `message` (that message only)."""
    key: str = Field(index=True)
    decision: str = ""
    priority: str = ""
    category: str = ""
    words: str = "[]"
    """The example's features, a JSON list."""
    email_id: str = ""
    origin: str = "cli"
    created_at: str = Field(default_factory=_now)
