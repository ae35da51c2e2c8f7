"""The tables of the audit log, of the side-effect ledger and of the messages its calls send.

Table classes only, so that `memory.migrations` can create them without importing the code that
writes them (`memory.audit`, `memory.ledger`). Their values are redacted before they are written.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class AuditRecord(SQLModel, table=True):
    """One tool call: what was proposed, how it was decided and what came of it."""

    __tablename__ = "audit"
    __table_args__ = (
        UniqueConstraint("thread_id", "call_id"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    at: str = Field(default_factory=_now)
    """When the row was last written (ISO 8601, UTC, seconds)."""
    thread_id: str = Field(index=True)
    call_id: str = Field(index=True)
    tool: str
    args: str = "{}"
    """JSON of the redacted arguments."""
    level: int
    """The policy level: 0 read-only, 1 confirm, 2 autonomous."""
    flags: str = "[]"
    """JSON list of the (redacted) provenance flags."""
    decision: str
    """auto, accept, edit, response, ignore or pending."""
    decided_by: str = ""
    """`policy`, `user` or a user's name; empty while pending."""
    outcome: str
    """ok, error, not_run, unknown or pending."""
    detail: str = ""
    """Error text or a short result summary, redacted."""


class LedgerEntry(SQLModel, table=True):
    """The claim on one side-effecting call, written before it runs and closed after."""

    __tablename__ = "ledger"

    thread_id: str = Field(primary_key=True)
    call_id: str = Field(primary_key=True)
    tool: str
    args_digest: str
    status: str = "started"
    """started (outcome unknown until closed), done, failed or skipped."""
    started_at: str = Field(default_factory=_now)
    finished_at: str = ""
    result: str = "{}"
    """JSON of the tool's result (redacted), replayed instead of running the call again."""

    def result_dict(self) -> dict[str, Any]:
        """The recorded result of the call."""
        value = json.loads(self.result or "{}")
        return value if isinstance(value, dict) else {"result": value}


class OutgoingMessage(SQLModel, table=True):
    """A message a claimed call sends: one Message-ID and Date for all attempts, and its progress.

    Written before the first attempt connects anywhere and kept when a call is settled to run
    again, so a retry sends the very same message (a receiving system can drop the copy) and
    the card after a crash can say how far every attempt got.
    """

    __tablename__ = "ledger_messages"

    thread_id: str = Field(primary_key=True)
    call_id: str = Field(primary_key=True)
    part: str = Field(default="", primary_key=True)
    """Which of the call's messages: '' for its only one, `invitation:ADDRESS` for an invitation."""
    message_id: str
    """The Message-ID header, with its angle brackets."""
    date: str
    """The Date header of the first attempt, sent again by every retry."""
    recipients: str = "[]"
    """JSON list of the envelope recipients."""
    stage: str = "prepared"
    """The furthest `memory.ledger.SendStage` any attempt reached."""
    stage_at: str = Field(default_factory=_now)
    """When `stage` was reached (ISO 8601, UTC, seconds)."""
    attempts: int = 1
    """How many attempts began (the first and each retry)."""

    def recipient_list(self) -> list[str]:
        """The envelope recipients."""
        value = json.loads(self.recipients or "[]")
        return [str(address) for address in value] if isinstance(value, list) else []
