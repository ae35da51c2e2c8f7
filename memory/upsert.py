"""One statement that inserts rows or, for a row whose key exists, replaces its other columns.

Written for each database's own `INSERT … ON CONFLICT … DO UPDATE` (SQLite and PostgreSQL):
unlike reading first and inserting after, it cannot fail when another process or thread
inserts the same row in between.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any


def upsert_statement(
    table: Any, dialect: str, keys: Sequence[str], kept: Collection[str] = ()
) -> Any:
    """Insert into `table`; a row whose `keys` (a unique index) exist updates the rest.

    The columns in `keys` and `kept` keep the values the row has (`kept`: a surrogate id).
    """
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    else:
        raise NotImplementedError(f"no upsert for {dialect}")
    statement = insert(table)
    unchanged = {*keys, *kept}
    changes = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in unchanged}
    return statement.on_conflict_do_update(index_elements=list(keys), set_=changes)
