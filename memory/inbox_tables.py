"""The tables of the inbox actions: snoozed conversations and the undo journal.

Table classes only, so that `memory.migrations` can create them without importing the store
(`memory.inbox_store` reads and writes them). Blocked senders are not here: a block is one of
the user's triage rules (`memory.triage_preferences`), so triage has one rule store.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Field, SQLModel


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class SnoozedConversation(SQLModel, table=True):
    """A conversation moved to Snoozed until `wake_at`, then back to the inbox."""

    __tablename__ = "snoozed_conversation"

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(index=True)
    """The mail source (its spec) the messages are in."""
    message_ids: str = "[]"
    """The ids of the snoozed messages, a JSON list."""
    wake_at: str = Field(index=True)
    """When it wakes: ISO 8601 in UTC, so text order is time order."""
    state: str = Field(default="snoozed", index=True)
    """`snoozed`, `woken` (back in the inbox, shown first) or `cancelled` (undone)."""
    thread_id: str = ""
    """The chat thread that snoozed it."""
    created_at: str = Field(default_factory=_now)
    woken_at: str = ""


class InboxJournalEntry(SQLModel, table=True):
    """One inbox action, with what it changed, so that it can be reversed."""

    __tablename__ = "inbox_journal"

    id: int | None = Field(default=None, primary_key=True)
    thread_id: str = Field(index=True)
    """The chat thread the action ran in; undo reverses the newest of its thread."""
    action: str
    """The tool that acted (`archive_conversations`, `snooze_conversations`, ...)."""
    source: str = ""
    entries: str = "[]"
    """What changed, a JSON list: per message its id, from and to folder, flags before."""
    extra: str = "{}"
    """What else undo needs (the snooze row, the blocking rule), a JSON object."""
    created_at: str = Field(default_factory=_now)
    undone_at: str = ""
    """When it was undone; '' while it stands."""
