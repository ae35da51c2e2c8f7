"""PostgreSQL scores a message's parts with weight-restricted queries (`'invoice':*A`).

They are built from the text form of each query phrase; what they find must be exactly what
`ts_filter` to the same weight finds (the part indexes' condition), whatever the words hold.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from memory.db import AppDatabase
from memory.search_postgres import _found_in, _points
from memory.search_query import parse_query
from memory.search_rank import PART_POINTS
from tests.search_corpus import _mail

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

TEAM = ("Team", "team@acme.example")
MAIL = (
    _mail("a", ("O'Brien", "obrien@x.example"), "It's the Q3 invoice", "2026-11-02", "see it"),
    _mail("b", TEAM, "back\\slash and a:b", "2026-11-03", "It's the invoice, O'Brien"),
    _mail("c", TEAM, "x&y !not <-> 'quoted'", "2026-11-04", "a:b x y", files=("it's.pdf",)),
    _mail("d", ("Grüße Straße", "gruss@x.example"), "Rückmeldung", "2026-11-05", "grüßen"),
    _mail("e", TEAM, "security audit report", "2026-11-06", "audit security"),
)
QUERIES = (
    "invoice",
    "it's",
    "o'brien",
    "from:o'brien",
    "back\\slash",
    "a:b",
    "x&y",
    "!not",
    "x <-> y",
    "'quoted'",
    '"security audit"',
    "security audit",
    '"audit security"',
    "attachment:it's",
    "grüßen rückmeldung",
    "q3 invoice",
)


def _by_filter(ranked: list[tuple[str, object]]) -> str:
    found = [
        f"{value} * CAST({one} AS integer)"
        for part, value in PART_POINTS
        for one in _found_in(ranked, (part,))  # type: ignore[arg-type]
    ]
    return " + ".join(found) or "0"


@pytest.mark.parametrize("query", QUERIES)
def test_weighted_queries_find_what_ts_filter_finds(postgres_url: str, query: str) -> None:
    db = AppDatabase(postgres_url)
    db.add_emails(MAIL)
    ranked = [(f"t{n}", term) for n, term in enumerate(parse_query(query).terms)]
    params = {name: term.text for name, term in ranked}
    sql = f"SELECT e.id, {_points(ranked)}, {_by_filter(ranked)} FROM email e ORDER BY e.id"
    with db.engine.connect() as conn:
        rows = conn.execute(text(sql), params).all()
    assert [(id, weighted) for id, weighted, _ in rows] == [(id, old) for id, _, old in rows]


def test_the_points_are_not_all_zero(postgres_url: str) -> None:
    """The comparison above would pass if neither way found anything."""
    db = AppDatabase(postgres_url)
    db.add_emails(MAIL)
    ranked = [("t0", parse_query('"security audit"').terms[0])]
    sql = f"SELECT e.id, {_points(ranked)} FROM email e ORDER BY e.id"
    with db.engine.connect() as conn:
        rows = dict(conn.execute(text(sql), {"t0": "security audit"}).all())
    assert rows == {"a": 0, "b": 0, "c": 0, "d": 0, "e": 8}
