"""The history of health checks, a bounded number of rows per part, and what it tells.

The background watch records every round here; a state that differs from the part's last
recorded one is a change (alerted once, whichever process saw it first). Rounds the database
itself missed are not here; the outage is, as one `down` row written when it is back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, delete, select

from memory.db import AppDatabase
from memory.health_tables import HealthRecord

KEEP_PER_PART = 500
"""Rows kept per part: at the default minute, more than eight hours of history."""


@dataclass(frozen=True)
class HealthRow:
    """One result to record."""

    part: str
    state: str
    reason: str
    latency_ms: float | None
    checked_at: datetime


@dataclass(frozen=True)
class PartPast:
    """What the history says of one part."""

    state: str
    """Its last recorded state."""
    since: datetime
    """When it entered that state (the oldest kept row, if it never left it)."""
    last_success: datetime | None
    last_error: str
    """The reason of its last degraded or down check."""


class HealthHistory:
    """Health results of one app database; every method blocks."""

    def __init__(self, db: AppDatabase, keep: int = KEEP_PER_PART) -> None:
        self.engine = db.engine
        self.keep = keep

    def record(self, rows: Sequence[HealthRow]) -> dict[str, str]:
        """Store `rows`; return each part's state before them (parts seen before only)."""
        with Session(self.engine) as session:
            before = {part: past.state for part, past in self._pasts(session, rows).items()}
            for row in rows:
                session.add(_record(row))
            session.flush()
            for row in rows:
                self._prune(session, row.part)
            session.commit()
        return before

    def newest_id(self, part: str) -> int | None:
        """The id of the part's newest row, None when it has none."""
        with Session(self.engine) as session:
            newest = self._newest(session, part)
            return None if newest is None else newest.id

    def record_outage(self, row: HealthRow, seen: int | None = None) -> bool:
        """Write `row` (a part down while it could not be recorded) unless another process did.

        The row is written when the part's newest row is older than it (to the second), or is
        `seen`, the one this process last read: nothing was recorded for the part since the
        outage began. So of two processes that saw one outage, only the first back writes it
        (and alerts the way back). Whether it was written.
        """
        with Session(self.engine) as session:
            newest = self._newest(session, row.part)
            start = row.checked_at.replace(microsecond=0)  # as the rows keep it
            fresh = (
                newest is None
                or (seen is not None and newest.id == seen)
                or datetime.fromisoformat(newest.checked_at) < start
            )
            if not fresh:
                return False
            session.add(_record(row))
            session.flush()
            self._prune(session, row.part)
            session.commit()
        return True

    def pasts(self, parts: Sequence[str]) -> dict[str, PartPast]:
        """What the history says of each of `parts` that has one."""
        with Session(self.engine) as session:
            return self._pasts(session, parts)

    def _pasts(
        self, session: Session, parts: Sequence[HealthRow] | Sequence[str]
    ) -> dict[str, PartPast]:
        names = {p if isinstance(p, str) else p.part for p in parts}
        found: dict[str, PartPast] = {}
        for name in names:
            query = (
                select(HealthRecord)
                .where(HealthRecord.part == name)
                .order_by(col(HealthRecord.id).desc())
            )
            rows = list(session.exec(query))
            if rows:
                found[name] = _past(rows)
        return found

    def _newest(self, session: Session, part: str) -> HealthRecord | None:
        query = select(HealthRecord).where(HealthRecord.part == part)
        return session.exec(query.order_by(col(HealthRecord.id).desc()).limit(1)).first()

    def _prune(self, session: Session, part: str) -> None:
        ids = select(HealthRecord.id).where(HealthRecord.part == part)
        kept = ids.order_by(col(HealthRecord.id).desc()).limit(self.keep)
        session.exec(  # type: ignore[call-overload]
            delete(HealthRecord).where(
                col(HealthRecord.part) == part, col(HealthRecord.id).not_in(kept.scalar_subquery())
            )
        )


def _record(row: HealthRow) -> HealthRecord:
    return HealthRecord(
        part=row.part,
        state=row.state,
        reason=row.reason,
        latency_ms=row.latency_ms,
        checked_at=row.checked_at.isoformat(timespec="seconds"),
    )


def _past(newest_first: list[HealthRecord]) -> PartPast:
    state = newest_first[0].state
    since = newest_first[0].checked_at
    for row in newest_first:
        if row.state != state:
            break
        since = row.checked_at
    success = next((r.checked_at for r in newest_first if r.state == "ok"), None)
    error = next((r.reason for r in newest_first if r.state in ("degraded", "down")), "")
    return PartPast(
        state=state,
        since=datetime.fromisoformat(since),
        last_success=datetime.fromisoformat(success) if success else None,
        last_error=error,
    )
