"""The vault's table: one row per credential, its name in the clear and its value encrypted.

The table class only, so that `memory.migrations` can create it without importing the vault
(`memory.vault`), which reads and writes it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Field, SQLModel

MAX_NAME_LENGTH = 255
"""Characters of a credential name."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class StoredCredential(SQLModel, table=True):
    """One credential: its name in the clear, its value as a Fernet token."""

    __tablename__ = "credential"

    name: str = Field(primary_key=True, max_length=MAX_NAME_LENGTH)
    """`SERVICE.FIELD[:ACCOUNT]`; not secret."""
    token: str
    """Fernet token of the JSON `{"name": …, "value": …}` (the name inside binds the value to
    its row: a token copied into another row does not decrypt as that credential)."""
    key_id: str = Field(max_length=32)
    """Fingerprint of the key that encrypted it (`key_id`): says which key is needed, never
    the key."""
    created_at: str = Field(default_factory=_now)
    updated_at: str = Field(default_factory=_now)
    """When the value was last set (a rotation re-encrypts, it does not update)."""
