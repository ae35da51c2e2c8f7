"""The mail cache's tables: the cached messages, where each source's last fetch stopped, triage.

Table classes only, so that `memory.migrations` can create them without importing the
database's code; `memory.db` reads and writes them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class StoredEmail(SQLModel, table=True):
    """One cached, normalised message; `data` holds the whole `Email` as JSON.

    `id` is unique across the cache (the `uq_email_id` index): a lookup by id finds one message.
    `base_id` is the id the parser gave it (its Message-ID, or a hash of its bytes), which two
    messages may share; see `AppDatabase.add_emails` for how such messages get their ids.
    """

    __tablename__ = "email"
    __table_args__ = (Index("uq_email_id", "id", unique=True),)

    source: str = Field(primary_key=True)
    key: str = Field(primary_key=True)
    id: str
    base_id: str = Field(default="", index=True, sa_column_kwargs={"server_default": ""})
    digest: str = Field(default="", sa_column_kwargs={"server_default": ""})
    folder: str = "INBOX"
    from_addr: str = ""
    from_name: str = ""
    subject: str = ""
    date: str = Field(default="", index=True)
    body: str = ""
    error: str = ""
    data: str = "{}"
    fetched_at: str = Field(default_factory=_now)


class SyncCursor(SQLModel, table=True):
    """Where the last fetch of a source stopped: lets an unchanged mailbox be skipped."""

    __tablename__ = "sync_cursor"

    source: str = Field(primary_key=True)
    signature: str = ""
    message_count: int = 0
    fetched_at: str = Field(default_factory=_now)


class TriageRecord(SQLModel, table=True):
    """The triage of one message, cached by message id."""

    __tablename__ = "triage"

    email_id: str = Field(primary_key=True)
    priority: str
    category: str
    action: str
    reason: str
    confidence: float = 1.0
    engine: str = "rules"
    created_at: str = Field(default_factory=_now)
    # Server defaults too: a row written by an older program (or a tool that does not know
    # these columns) still fits, on a fresh database as on a migrated one.
    decision: str = Field(default="notify", sa_column_kwargs={"server_default": "notify"})
    """`respond`, `notify` or `ignore` (rows triaged before it existed say `notify`)."""
    suspicious: str = Field(default="", sa_column_kwargs={"server_default": ""})
    """Why it looks like phishing or fraud; '' when it does not."""
    unsure: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    """The engine was unsure: shown, never archived on its own."""

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for state and JSON output."""
        return {
            "email_id": self.email_id,
            "priority": self.priority,
            "category": self.category,
            "action": self.action,
            "reason": self.reason,
            "confidence": self.confidence,
            "engine": self.engine,
            "decision": self.decision,
            "suspicious": self.suspicious,
            "unsure": self.unsure,
        }
