"""The date conditions of a search's windows, written once for SQLite and PostgreSQL.

Each database spells a message's day number and the test for a date that does not exist in its
own SQL (`DAY` in `memory.search_sqlite_index` and `ODD` in `memory.search_sqlite`; both in
`memory.search_postgres`: the expressions of their indexes); what is asked with them is the
same, and lives here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from memory.search_query import SearchQuery
from memory.search_rank import day_number
from memory.search_walk import Window


@dataclass(frozen=True)
class DaySql:
    """One database's day expressions on the row `e`, and what the walk asks with them."""

    day: str
    """The message's day number (NULL without a date), as its index spells it."""
    odd: str
    """The condition that the message's date does not exist."""
    ordered_from: str = "email e"
    """The FROM of `day_at` (SQLite names the day index, or it may walk another one)."""

    def any_odd(self, conn: Connection) -> bool:
        """Whether any message has a date that does not exist (its partial index is tiny)."""
        sql = f"SELECT 1 FROM email e WHERE {self.odd} LIMIT 1"
        return conn.execute(text(sql)).first() is not None

    def window(self, window: Window, params: dict[str, Any]) -> list[str]:
        """The conditions of a window's days; their values go in `params`."""
        where = [self.odd] if window.odd else []
        if window.since is not None:
            where.append(f"{self.day} >= :day_since")
            params["day_since"] = window.since
        if window.before is not None:
            before = f"{self.day} < :day_before"
            where.append(
                before if window.since is not None else f"({before} OR {self.day} IS NULL)"
            )
            params["day_before"] = window.before
        return where

    def day_at(
        self,
        conn: Connection,
        query: SearchQuery,
        filters: dict[str, Any],
        before: int | None,
        count: int,
    ) -> int | None:
        """The day of the `count`-th newest dated message before `before`.

        Of the mailbox searched and within the query's dates; folders are left to the reads
        (a window of a folder would walk the whole index to find its messages).
        """
        params: dict[str, Any] = {"skip": count - 1, "source": filters.get("source")}
        where = [f"{self.day} IS NOT NULL"]
        if params["source"]:
            where.append("e.source = :source")
        last = [day for day in (before, query.before and day_number(query.before)) if day]
        if last:
            where.append(f"{self.day} < :day_before")
            params["day_before"] = min(last)
        if query.after:
            where.append(f"{self.day} >= :day_after")
            params["day_after"] = day_number(query.after)
        sql = (
            f"SELECT {self.day} FROM {self.ordered_from} WHERE {' AND '.join(where)} "
            f"ORDER BY {self.day} DESC LIMIT 1 OFFSET :skip"
        )
        day = conn.execute(text(sql), params).scalar()
        return None if day is None else int(day)
