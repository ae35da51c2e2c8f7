"""The best matches of a search without ranking every match: newest first, until none can win.

A score (`memory.search_rank`) is bounded relevance plus a recency that only falls with age, so
the best `limit` are found by reading the matches day by day, newest first, in windows of a
growing number of messages. Once `limit` are held, a message not read yet scores at most its
points share plus the recency of the newest day not read; the points that would still be
enough tell which parts (subject and sender, ...) it must have been found in, and one last
read of the older mail found in those parts (indexed, so few messages) finishes the list.
When even a match only in the body could still win, or fewer than `limit` were found, the
next window is read; when a window holds no match (the query matches little) or none is left,
the last read ranks everything left, messages without a date included. The list is the one ranking
every match would give, in the same order (`tests/integration/test_search_walk.py` compares
the two).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from memory.search_rank import MAX_POINTS, PART_POINTS, RELEVANCE_SHARE, recency

WINDOWS = (400, 3200)
"""How many dated messages each window holds (after the mailbox's own filters), newest first."""
SCORE_SLACK = 1e-9
"""Room for the last bits of the databases' own arithmetic (PostgreSQL adds part of the score in
`numeric`): a bound this close to the last kept score counts as able to reach it."""


@dataclass(frozen=True)
class Window:
    """Which messages one read covers: days `since` <= day < `before`, maybe some parts only."""

    since: int | None = None
    """The oldest day read (a `day_number`); None: back to the oldest, undated mail included."""
    before: int | None = None
    """Days from this one on were read already; None: nothing was."""
    needs: tuple[tuple[str, ...], ...] | None = None
    """Only matches found in every part of one of these sets (`PART_POINTS` names): the
    least a match must have to score enough. None: every match."""


@dataclass(frozen=True)
class Hit:
    """One ranked match: what orders it, and its stored JSON."""

    score: float
    date: str
    id: str
    data: str


Read = Callable[[Window], list[Hit]]
"""The best `limit` matches within a window, as the database ranks them."""
DayAt = Callable[[int | None, int], int | None]
"""The day of the n-th newest dated message before a day (None: fewer than n are)."""


def best_matches(
    read: Read, day_at: DayAt, limit: int, today: int, windows: Sequence[int] = WINDOWS
) -> list[Hit]:
    """The best `limit` matches, best first, reading as few as the scores allow."""
    best: list[Hit] = []
    before: int | None = None
    for size in windows:
        since = day_at(before, size)
        if since is None:
            break
        found = read(Window(since, before))
        best = ranked(best + found, limit)
        before = since
        if not found:
            break  # a query that matches little: ranking all the rest costs little
        if len(best) < limit:
            continue
        needs = parts_needed(best[-1].score, recency(today, since - 1))
        if not needs:
            return best
        if ("body",) not in needs:
            return ranked(best + read(Window(None, before, needs)), limit)
    return ranked(best + read(Window(None, before)), limit)


def parts_needed(score: float, newest_recency: float) -> tuple[tuple[str, ...], ...]:
    """The sets of parts a match must be found in (all of one set) to reach `score`.

    `newest_recency` is the recency of the newest message not read. Each set is a fewest one:
    none of its parts can be left out. Empty: no match can reach `score`.
    """
    share = 1 - RELEVANCE_SHARE
    sets = [
        tuple(name for n, (name, _) in enumerate(PART_POINTS) if mask >> n & 1)
        for mask in range(1, 1 << len(PART_POINTS))
    ]
    enough = [
        parts
        for parts in sets
        if RELEVANCE_SHARE * _points(parts) / MAX_POINTS + share * newest_recency
        >= score - SCORE_SLACK
    ]
    return tuple(parts for parts in enough if not any(set(o) < set(parts) for o in enough))


def _points(parts: tuple[str, ...]) -> int:
    return sum(points for name, points in PART_POINTS if name in parts)


def ranked(hits: list[Hit], limit: int) -> list[Hit]:
    """The best `limit`: higher score first, then the newer date, then the id, byte for byte."""
    return sorted(hits, key=functools.cmp_to_key(_compare))[:limit]


def _compare(a: Hit, b: Hit) -> int:
    if a.score != b.score:
        return -1 if a.score > b.score else 1
    if a.date != b.date:
        return -1 if _bytes(a.date) > _bytes(b.date) else 1
    if a.id != b.id:
        return -1 if _bytes(a.id) < _bytes(b.id) else 1
    return 0


def _bytes(value: str) -> bytes:
    return value.encode("utf-8", "surrogatepass")
