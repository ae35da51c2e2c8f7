"""How search results are ordered: one formula, written out once for each database.

    score = RELEVANCE_SHARE * (points of the parts a query word was found in) / MAX_POINTS
          + (1 - RELEVANCE_SHARE) * RECENCY_DAYS / (RECENCY_DAYS + age in days)

The parts are worth `PART_POINTS`: a word in the subject 8, in the sender 4, in an attachment's
name 2, in the body 1 (so a subject match outranks anything found only further down). Each
database's index tells which parts a match was found in: on SQLite the matches of the query's
phrases within one FTS5 column (`subject : ("a" * OR "b")`; what `bm25` weighted on that
column alone tells too, at the cost of a pass over every match of each phrase), on PostgreSQL
the query restricted to that part's weight (`'invoice':*A`; a part's index finds its messages
by `ts_filter` to that weight, which gives the same answer). The age is counted from the day
the message's Date header names to today (`day_number`; no time zones, so both databases
compute it from the same characters); a message without a readable date has recency 0. Equal
scores go newest first, then by id, byte for byte.

Why not the bm25 and ts_rank_cd scores themselves: they are different functions (bm25 weighs
rare words up and normalises by each column's length; ts_rank_cd rewards words close together
and knows no word frequencies), and mixed with recency they ordered 8 to 10 of 77 queries on the
test corpus differently, whatever the normalisation. Points per part are computed the same on
both, so the same query gives the same messages in the same order on either database; and in
mail, where the newest message about something is usually the one wanted, a part-and-recency
order is what people expect.
"""

from __future__ import annotations

from datetime import date

RELEVANCE_SHARE = 0.7
RECENCY_DAYS = 30
"""A message this many days old has half the recency of one from today."""
PART_POINTS = (("subject", 8), ("sender", 4), ("attachments", 2), ("body", 1))
"""What a match in each part of a message is worth (FTS5 columns; PostgreSQL weights A-D)."""
MAX_POINTS = sum(points for _, points in PART_POINTS)
BODY_CHARS = 60_000
"""How much of a body is indexed: a PostgreSQL `tsvector` holds at most 1 MB (a message whose
document is larger could not be written at all), and a message longer than this is an
attachment pasted inline, not something one searches by its end."""
PART_CHARS = 4_000
"""How much of the subject, the sender and the attachment names (all of them together) is
indexed, for the same reason: a source may deliver a subject of a megabyte, or a thousand
attachments."""


def day_number(day: date) -> int:
    """The number both databases compute from a `YYYY-MM-DD` prefix: 372 * y + 31 * m + d.

    Not a calendar day count (every month has 31 days here), but increasing with the date and
    free of calendar arithmetic the two databases might disagree on (or fail on) for a
    malformed date; for ages of days and weeks it is exact within a month.
    """
    return day.year * 372 + day.month * 31 + day.day


def recency(today: int, day: int) -> float:
    """The recency of a message of `day` on `today` (both `day_number`s), as SQL computes it.

    1.0 for today and later days, 0.5 at `RECENCY_DAYS` old.
    """
    return float(RECENCY_DAYS) / (float(RECENCY_DAYS) + max(0, today - day))
