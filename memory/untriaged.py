"""Whether any cached message of a source still waits for its triage (asked every chat turn).

The same question as `AppDatabase.untriaged_ids`, answered by one plain statement that stops
at the first such message: no ORM session, whose own work costs more than this query.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Engine

from memory.db import NOT_TRIAGED_FOLDERS

_FOLDERS = {f"folder{n}": name for n, name in enumerate(NOT_TRIAGED_FOLDERS)}
_ANY_UNTRIAGED = text(
    "SELECT 1 FROM email WHERE source = :source AND id NOT IN (SELECT email_id FROM triage) "
    f"AND folder NOT IN ({', '.join(':' + name for name in _FOLDERS)}) LIMIT 1"
)


def has_untriaged(engine: Engine, source: str) -> bool:
    """Whether `untriaged_ids(source)` would name at least one message (blocking)."""
    with engine.connect() as conn:
        return conn.execute(_ANY_UNTRIAGED, {"source": source, **_FOLDERS}).first() is not None
