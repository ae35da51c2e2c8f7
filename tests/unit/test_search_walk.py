"""What an unread message must have to make the list, and how hits are ordered and merged."""

from __future__ import annotations

import pytest

from memory.search_rank import MAX_POINTS, PART_POINTS, RELEVANCE_SHARE
from memory.search_walk import Hit, Window, best_matches, parts_needed, ranked, rarest_parts


def score(points: int, recency: float) -> float:
    return RELEVANCE_SHARE * points / MAX_POINTS + (1 - RELEVANCE_SHARE) * recency


def test_a_low_last_score_lets_any_match_in() -> None:
    assert ("body",) in parts_needed(score(1, 0.5), 0.9)


def test_a_subject_match_of_today_needs_a_subject_match_to_be_beaten() -> None:
    assert parts_needed(score(9, 1.0), 0.9) == (("subject", "sender"), ("subject", "attachments"))
    assert parts_needed(score(8, 1.0), 0.9) == (
        ("subject", "sender"),
        ("subject", "attachments"),
        ("subject", "body"),
    )


def test_nothing_unread_can_beat_a_match_everywhere_of_today() -> None:
    assert parts_needed(score(15, 1.0), 0.99) == ()


def test_an_equal_bound_still_counts_as_able_to_reach() -> None:
    """Ties go to the newer message, which may be unread: equal must be read."""
    assert parts_needed(score(15, 0.5), 0.5) == (("subject", "sender", "attachments", "body"),)


def test_each_needed_set_is_a_fewest_one() -> None:
    for needs in (parts_needed(score(p, 0.7), 0.6) for p in range(1, 16)):
        assert all(not set(a) < set(b) for a in needs for b in needs)


def test_ranked_orders_by_score_then_newer_date_then_id_and_counts_a_message_once() -> None:
    hits = [
        Hit(0.5, "2026-01-01", "b", "{}"),
        Hit(0.5, "2026-01-02", "c", "{}"),
        Hit(0.5, "2026-01-01", "a", "{}"),
        Hit(0.9, "", "z", "{}"),
        Hit(0.5, "2026-01-01", "a", "{}"),
    ]
    assert [hit.id for hit in ranked(hits, 10)] == ["z", "c", "a", "b"]
    assert [hit.id for hit in ranked(hits, 2)] == ["z", "c"]


def _walk(
    rest_once_full: bool, first_hits: int, points: int = 8, by_matches: bool = False
) -> list[Window]:
    """The windows a walk reads when the first window holds `first_hits` matches of today."""
    reads: list[Window] = []
    today = 1000

    def read(window: Window) -> list[Hit]:
        reads.append(window)
        if window.odd or window.since != 990:
            return []
        return [Hit(score(points, 1.0), f"d{n}", f"m{n}", "{}") for n in range(first_hits)]

    def day_at(before: int | None, count: int) -> int | None:
        return 990 if count > 1 else today

    best_matches(
        read, day_at, 2, today, first=5, rest_once_full=rest_once_full, by_matches=by_matches
    )
    return reads


def test_once_the_list_is_full_the_rest_is_read_at_once_if_asked() -> None:
    windowed = _walk(False, 2)
    assert [(w.since, w.before) for w in windowed[2:]] == [
        (902, 990),  # 11 days read, the next 8 times as many
        (198, 902),
        (-5434, 198),
        (None, -5434),
    ]
    at_once = _walk(True, 2)
    assert [(w.since, w.before) for w in at_once[2:]] == [(None, 990)]
    assert at_once[-1].needs is not None  # only the parts that can still win
    assert min(map(len, at_once[-1].needs)) == 2


def test_a_need_of_one_part_still_widens_the_windows() -> None:
    """Matches in the subject alone can be thousands: wider windows first raise the bar."""
    reads = _walk(True, 2, points=4)
    assert reads[2].needs is not None and min(map(len, reads[2].needs)) == 1
    # One window wider; older than it, a match needs two parts: the rest at once.
    assert [(w.since, w.before) for w in reads[2:]] == [(902, 990), (None, 902)]
    assert reads[3].needs is not None and min(map(len, reads[3].needs)) == 2


def test_a_list_not_full_still_widens_the_windows() -> None:
    """Reading the rest without a list to beat would rank every match."""
    reads = _walk(True, 1)
    assert [(w.since, w.before, w.needs) for w in reads[2:4]] == [
        (902, 990, None),
        (198, 902, None),
    ]


def test_a_list_not_full_widens_by_the_matches_found_if_asked() -> None:
    """One match in the 11 days read, one missing: twice that, 22 days, not 8 times 11."""
    reads = _walk(True, 1, by_matches=True)
    assert [(w.since, w.before, w.needs) for w in reads[2:]] == [
        (968, 990, None),
        (902, 968, None),  # none in 33 days: 66 more
        (704, 902, None),
        (None, 704, None),
    ]
    assert [(w.since, w.before) for w in _walk(True, 2, by_matches=True)[2:]] == [(None, 990)]


def test_a_later_read_asks_for_one_part_of_each_needed_set_the_rarest() -> None:
    assert rarest_parts((("subject", "sender"), ("subject", "attachments"))) == (
        "attachments",
        "sender",
    )
    assert rarest_parts((("subject",), ("sender", "body"))) == ("sender", "subject")
    assert rarest_parts((("body", "subject"),)) == ("subject",)


@pytest.mark.parametrize("score", [0.3, 0.45, 0.55, 0.65, 0.8, 0.95])
def test_every_match_that_can_score_enough_is_in_a_rarest_part(score: float) -> None:
    names = [name for name, _ in PART_POINTS]
    for recency_left in (0.0, 0.2, 0.5, 0.9):
        needs = parts_needed(score, recency_left)
        if not needs:
            continue
        asked = set(rarest_parts(needs))
        for mask in range(1, 1 << len(names)):
            found = {name for n, name in enumerate(names) if mask >> n & 1}
            if any(set(parts) <= found for parts in needs):  # it fills a needed set ...
                assert found & asked, (needs, found)  # ... so the read finds it
