"""What each MCP tool's definition looked like when the user last trusted it.

A server can change a tool behind the user's back (a new description that talks the model into
something, a new argument). A changed definition suspends that tool's auto-approval until the
user trusts the server again with `smart-inbox mcp trust NAME`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, select

if TYPE_CHECKING:
    from memory.db import AppDatabase


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class McpToolRecord(SQLModel, table=True):
    """One MCP tool's current and trusted definition fingerprints."""

    __tablename__ = "mcp_tool"

    server: str = Field(primary_key=True)
    tool: str = Field(primary_key=True)
    fingerprint: str
    """The definition as last seen."""
    trusted_fingerprint: str
    """The definition as last trusted (first seen, or `mcp trust`)."""
    seen_at: str = Field(default_factory=_now)
    trusted_at: str = Field(default_factory=_now)


class McpToolFingerprints:
    """Remembers tool definitions per server and says which changed since trusted."""

    def __init__(self, db: AppDatabase) -> None:
        self.engine = db.engine

    def observe(self, server: str, fingerprints: Mapping[str, str]) -> set[str]:
        """Record the definitions seen now; return the tools whose definition is not trusted.

        A tool seen for the first time is trusted as it is: approving the server's presence in
        `mcp.json` is the user's consent to what it offered then.
        """
        for attempt in range(2):
            try:
                return self._observe(server, fingerprints)
            except IntegrityError:
                # Another process recorded a first sighting at the same moment: read it again.
                if attempt:
                    raise
        raise AssertionError("not reached")

    def _observe(self, server: str, fingerprints: Mapping[str, str]) -> set[str]:
        changed: set[str] = set()
        with Session(self.engine) as session:
            for tool, fingerprint in fingerprints.items():
                row = session.get(McpToolRecord, (server, tool))
                if row is None:
                    row = McpToolRecord(
                        server=server,
                        tool=tool,
                        fingerprint=fingerprint,
                        trusted_fingerprint=fingerprint,
                    )
                elif row.fingerprint != fingerprint:
                    row.fingerprint = fingerprint
                    row.seen_at = _now()
                if row.fingerprint != row.trusted_fingerprint:
                    changed.add(tool)
                session.add(row)
            session.commit()
        return changed

    def trust(self, server: str) -> list[str]:
        """Trust every tool of `server` as last seen; return the tools whose trust changed."""
        updated = []
        with Session(self.engine) as session:
            rows = session.exec(select(McpToolRecord).where(McpToolRecord.server == server))
            for row in rows.all():
                if row.trusted_fingerprint != row.fingerprint:
                    row.trusted_fingerprint = row.fingerprint
                    row.trusted_at = _now()
                    session.add(row)
                    updated.append(row.tool)
            session.commit()
        return sorted(updated)

    def known_servers(self) -> set[str]:
        """Servers whose tools were ever seen."""
        with Session(self.engine) as session:
            return set(session.exec(select(McpToolRecord.server)).all())
