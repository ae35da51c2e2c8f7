"""The user's triage corrections, kept with the mailbox's data: listed, removable, never lost.

Each row is one correction: what the user said a message should have been (decision,
priority, category), the rule it makes (a template of automated mail, a sender, a domain, a
mailing list or one message), and the
message's features, which the learner trains on (`graph.engines.triage.learning`). Where it
came from (`chat`, `view`, `cli`, `api`) is kept for the list.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from memory.preference_table import TriagePreferenceRecord

if TYPE_CHECKING:
    from memory.db import AppDatabase

SCOPES = ("template", "sender", "person", "domain", "list", "message")
"""What a stored rule may match; rows stored before templates existed use the other four."""
MAX_WORDS = 400
"""Features kept per example: enough for the classifier, small in the database."""


@dataclass(frozen=True)
class TriagePreference:
    """One stored correction, in plain values."""

    id: int
    scope: str
    key: str
    decision: str
    priority: str
    category: str
    words: tuple[str, ...]
    email_id: str
    origin: str
    created_at: str


def _plain(row: TriagePreferenceRecord) -> TriagePreference:
    return TriagePreference(
        id=row.id or 0,
        scope=row.scope,
        key=row.key,
        decision=row.decision,
        priority=row.priority,
        category=row.category,
        words=tuple(json.loads(row.words or "[]")),
        email_id=row.email_id,
        origin=row.origin,
        created_at=row.created_at,
    )


class TriagePreferences:
    """The user's corrections in the app database, oldest first."""

    def __init__(self, db: AppDatabase) -> None:
        self.engine = db.engine

    def add(
        self,
        *,
        scope: str,
        key: str,
        decision: str = "",
        priority: str = "",
        category: str = "",
        words: tuple[str, ...] = (),
        email_id: str = "",
        origin: str = "cli",
    ) -> TriagePreference:
        """Store one correction and return it with its id."""
        if scope not in SCOPES or not key:
            raise ValueError(
                "a correction needs a template, sender, domain, list or message to match, "
                f"not {scope!r}"
            )
        if not (decision or priority or category):
            raise ValueError("a correction must change the decision, the priority or the category")
        row = TriagePreferenceRecord(
            scope=scope,
            key=key.casefold(),
            decision=decision,
            priority=priority,
            category=category,
            words=json.dumps(list(words[:MAX_WORDS])),
            email_id=email_id,
            origin=origin,
        )
        with Session(self.engine) as session:
            session.add(row)
            session.commit()
            session.refresh(row)
            return _plain(row)

    def all(self) -> list[TriagePreference]:
        """Every correction, oldest first (later ones win)."""
        with Session(self.engine) as session:
            query = select(TriagePreferenceRecord).order_by(col(TriagePreferenceRecord.id))
            return [_plain(row) for row in session.exec(query).all()]

    def remove(self, preference_id: int) -> bool:
        """Delete one correction; False when there is none with that id."""
        with Session(self.engine) as session:
            row = session.get(TriagePreferenceRecord, preference_id)
            if row is None:
                return False
            session.delete(row)
            session.commit()
            return True

    def stamp(self) -> tuple[int, int]:
        """(count, highest id): changes whenever a correction is added or removed."""
        with Session(self.engine) as session:
            ids = session.exec(select(TriagePreferenceRecord.id)).all()
            return len(ids), max((i or 0 for i in ids), default=0)
