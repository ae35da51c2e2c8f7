"""The best matches of a search without ranking every match: newest first, until none can win.

A score (`memory.search_rank`) is bounded relevance plus a recency that only falls with age, so
the best `limit` are found by reading the matches newest first: the newest `FIRST_WINDOW`
messages, then windows of days `GROWTH` times wider each, then the rest. Once `limit` are
held, a message not read yet scores at most its points share plus the recency of the newest
day not read; the points that would still be enough tell which parts it must have been found
in (the subject and the sender, ...), and every later read asks only for those (indexed, so
few messages). The walk stops when no unread message can make the list. A first window without
any match means the query matches little: the rest is ranked in one read. Messages without a
date (recency 0) are in the last read; those whose date names a month or day that does not
exist are read first (`Window.odd`). The list is the one ranking every match would give, in
the same order (`tests/integration/test_search_walk.py` compares the two).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

from memory.search_rank import MAX_POINTS, PART_POINTS, RELEVANCE_SHARE, recency

FIRST_WINDOW = 400
"""How many dated messages the first read takes (of those the search's filters keep)."""
GROWTH = 8
"""Each further window spans this many times the days of the one before."""
WINDOWS = 3
"""Further windows before the rest is read at once. Both databases stop the windows sooner once
only matches in two parts can win (`rest_once_full`): a read of SQLite's FTS5 costs the merge
of a prefix's words whatever the days, and on PostgreSQL each such read looks the word up
again in a part's GIN index."""
MATCH_MARGIN = 2
"""A window sized by matches (`best_matches(by_matches=True)`) spans the days that should hold
this many times the matches still missing."""
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
    odd: bool = False
    """Only messages whose date names a month or day that does not exist (`2026-13-45`):
    their day number can be later than that of a date whose text sorts after theirs, so they
    are read at the start, whatever their day."""


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
    read: Read,
    day_at: DayAt,
    limit: int,
    today: int,
    first: int = FIRST_WINDOW,
    top: int | None = None,
    windows: int = WINDOWS,
    narrowed: bool = False,
    rest_once_full: bool = False,
    by_matches: bool = False,
) -> list[Hit]:
    """The best `limit` matches, best first, reading as few as the scores allow.

    `first` is how many messages the first window holds; 0 ranks every match at once. `top`
    is the day the search's `before:` names: no match of a real date is of that day or later.
    `windows` is how many windows of days follow the first before the rest is read.
    `narrowed`: the reads keep fewer messages than the windows count (a folder's), so a first
    window without a match does not mean the query matches little. `rest_once_full`: once
    `limit` are held and only matches found in two parts or more can still win, read the rest
    at once (where a read costs about the same whatever its days, as on SQLite; a need of one
    part, the subject say, can be thousands of old matches, and wider windows first raise the
    score to beat). `by_matches`: while fewer than `limit` are held, the next window spans the
    days that should hold `MATCH_MARGIN` times the matches missing, at the rate of matches per
    day read so far (at most `GROWTH` times the last window, at least as many days), where a
    read costs every row of its days (PostgreSQL tests each); SQLite reads its matches from
    a range of index keys, a few more days costing little.
    """
    since = day_at(None, first) if first > 0 else None
    if since is None:
        return ranked(read(Window()), limit)
    best = ranked(read(Window(odd=True)) + read(Window(since, top)), limit)
    if not best and not narrowed:
        return ranked(read(Window(None, since)), limit)  # matches little: rank all the rest
    newest = day_at(None, 1) or since
    width = max(1, newest - since + 1)
    before = since
    for _ in range(windows):
        needs = _needs(best, limit, today, before)
        if needs == ():
            return best
        if rest_once_full and needs is not None and min(map(len, needs)) > 1:
            break  # only matches in two parts or more can still win: few, whatever the days
        if by_matches and 0 < len(best) < limit:
            wanted = MATCH_MARGIN * (limit - len(best)) * (newest - before + 1) / len(best)
            width = min(width * GROWTH, max(width, math.ceil(wanted)))
        else:
            width *= GROWTH
        best = ranked(best + read(Window(before - width, before, needs)), limit)
        before -= width
    needs = _needs(best, limit, today, before)
    if needs == ():
        return best
    return ranked(best + read(Window(None, before, needs)), limit)


def _needs(
    best: list[Hit], limit: int, today: int, before: int
) -> tuple[tuple[str, ...], ...] | None:
    """What an unread match (of a day before `before`) needs to make the list.

    None: nothing (any match could); empty: nothing suffices (no match could).
    """
    if len(best) < limit:
        return None
    needs = parts_needed(best[-1].score, recency(today, before - 1))
    return None if ("body",) in needs else needs  # a match is found in some part


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


RARITY = ("attachments", "sender", "subject", "body")
"""The parts from the one a word is least often found in to the one it most often is."""


def rarest_parts(needs: tuple[tuple[str, ...], ...]) -> tuple[str, ...]:
    """Of each set of parts a later read needs, the one a match is least likely found in.

    A match found in every part of one set is found in that set's rarest part, so the
    matches found in any of these parts hold every match that can score enough, and a few
    that cannot, whose points the read computes and ranks like the others. Both indexes pay
    for each part a condition names (FTS5 a pass over each phrase's matches per column, a
    GIN index a look-up per part), so one part per set costs less than the exact sets.
    """
    rarest = {min(parts, key=RARITY.index) for parts in needs}
    return tuple(part for part in RARITY if part in rarest)


def _points(parts: tuple[str, ...]) -> int:
    return sum(points for name, points in PART_POINTS if name in parts)


def ranked(hits: list[Hit], limit: int) -> list[Hit]:
    """The best `limit`: higher score first, then the newer date, then the id, byte for byte.

    A message read twice (one of odd date, in the first read and a later one) counts once.
    """
    unique = {hit.id: hit for hit in hits}.values()
    return sorted(unique, key=functools.cmp_to_key(_compare))[:limit]


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
