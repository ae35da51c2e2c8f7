"""One statement that inserts rows or, for a row whose key exists, replaces its other columns.

Written for each database's own `INSERT … ON CONFLICT … DO UPDATE` (SQLite and PostgreSQL):
unlike reading first and inserting after, it cannot fail when another process or thread
inserts the same row in between.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

_CHUNK = 500


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


def insert_new_then_upsert(
    session: Session,
    table: Any,
    rows: Sequence[dict[str, Any]],
    upsert: Callable[[list[dict[str, Any]]], None],
) -> None:
    """Insert the `rows` whose primary key is not in `table` yet, then `upsert` the others.

    SQLite's `INSERT … ON CONFLICT … DO UPDATE` costs twice a plain insert for each row, even
    when none conflicts (as in a first fetch). The caller's transaction must hold the write
    lock, so the rows found absent stay absent until it commits. A key given twice keeps its
    last row; the new rows go in key order, as an upsert of them all would insert them, so
    they get the same rowids.
    """
    keys = [column.name for column in table.primary_key.columns]
    latest = {tuple(row[k] for k in keys): row for row in rows}
    ordered = sorted(latest)
    found: set[tuple[Any, ...]] = set()
    *outer, inner = [table.c[k] for k in keys]
    # The last key column asked with `IN`, the others with `=`: the key's index is searched
    # (a list of whole keys would have SQLite scan the index for each chunk).
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for key in ordered:
        groups.setdefault(key[:-1], []).append(key[-1])
    for prefix, lasts in groups.items():
        same = [column == value for column, value in zip(outer, prefix, strict=True)]
        for start in range(0, len(lasts), _CHUNK):
            wanted = select(*outer, inner).where(*same, inner.in_(lasts[start : start + _CHUNK]))
            found.update(tuple(row) for row in session.execute(wanted))
    new = [latest[key] for key in ordered if key not in found]
    if new:
        session.execute(insert(table), new)
    upsert([latest[key] for key in ordered if key in found])
