"""A prefix asked as the words it begins finds what FTS5's own prefix query finds, in order.

SQLite only (`memory.search_prefixes`); each query runs three ways on the same file, by the
newest-first walk from a small first window (so later reads ask for some parts only): spelled
out (the product), as FTS5's prefix query (nothing spelled out), and with at most one word per
prefix (so most fall back to the prefix query), and the three lists must be equal.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Connection

from memory import search_prefixes, search_sqlite
from memory.db import AppDatabase
from memory.mail_model import Email
from memory.search import search_stored
from memory.search_prefixes import spelled_out, split_words
from memory.search_query import Term, parse_query
from tests.search_corpus import CORPUS, EXPECTED, SOURCE, TODAY

WORDS = ("invoice", "invoices", "invoiced", "inventory", "review", "reviewer", "rückmeldung")


def found(db: AppDatabase, query: str, limit: int = 50, first_window: int = 5) -> list[str]:
    """The ids found, by the newest-first walk from a small first window (0: rank all)."""
    parsed = parse_query(query)
    options = {"source": SOURCE, "limit": limit, "today": TODAY, "first_window": first_window}
    return [json.loads(data)["id"] for data in search_stored(db.engine, parsed, **options)]  # type: ignore[arg-type]


@pytest.fixture
def db(tmp_path: Path) -> AppDatabase:
    rng = random.Random(7)
    extra = [
        Email(id=f"p{n:03d}", source=SOURCE, folder="INBOX", key=f"p{n}",
              subject=" ".join(rng.sample(WORDS, 2)), from_name=rng.choice(("Inv Team", "Rev")),
              from_addr="team@invoicing.example", body=" ".join(rng.sample(WORDS, 3)),
              date=f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}T09:00:00+00:00")
        for n in range(120)
    ]  # fmt: skip
    database = AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")
    database.add_emails([*CORPUS, *extra])
    return database


def _three_ways(db: AppDatabase, query: str, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    lists = [found(db, query, limit) for limit in (3, 50)]
    with monkeypatch.context() as patched:
        patched.setattr(search_sqlite, "spelled_out", lambda conn, terms: {})
        lists += [found(db, query, limit) for limit in (3, 50)]
    with monkeypatch.context() as patched:
        patched.setattr(search_prefixes, "MAX_WORDS", 1)
        lists += [found(db, query, limit) for limit in (3, 50)]
    return lists


@pytest.mark.parametrize(
    "query",
    [*EXPECTED, "invo", "invoic", "review", "rev", "rück", "RUCKM", "inv rev",
     "from:invoicing", "from:inv", "attachment:inv", '"invoice" rev', "inv folder:inbox",
     "inbox", "inb"],
)  # fmt: skip
def test_spelled_out_prefixes_find_what_the_prefix_query_finds(
    db: AppDatabase, query: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    short, full, prefix_short, prefix_full, one_short, one_full = _three_ways(
        db, query, monkeypatch
    )
    assert full == prefix_full == one_full == found(db, query, first_window=0)
    assert short == prefix_short == one_short == full[:3]


def test_a_prefix_is_asked_as_the_words_of_the_index_it_begins(db: AppDatabase) -> None:
    terms = parse_query('inv "invoice" rück late fe zzzq').terms
    with db.engine.connect() as conn:
        phrases = spelled_out(conn, terms)
    by_text = {term.text: phrase for term, phrase in phrases.items()}
    assert by_text["inv"] == (
        '("inv" OR "inventory" OR "invoice" OR "invoiced" OR "invoices" OR "invoicing")'
    )
    assert by_text["rück"] == '("ruck" OR "ruckmeldung")'  # the prefix itself is always asked
    assert by_text["zzzq"] == '"zzzq"'  # begins no word: the exact word, which matches nothing
    assert "invoice" not in by_text  # quoted: asked as typed
    assert Term("late fe") not in phrases  # two terms here; a phrase keeps its other words:
    with db.engine.connect() as conn:
        (phrase,) = spelled_out(conn, [Term("late fe")]).values()
    assert phrase == '("late fe" OR "late fee")'


def test_a_prefix_beginning_too_many_words_keeps_the_prefix_query(
    db: AppDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    spelled = found(db, "inv")
    monkeypatch.setattr(search_prefixes, "MAX_WORDS", 3)
    with db.engine.connect() as conn:
        assert spelled_out(conn, [Term("inv")]) == {}  # six words begin it
        assert spelled_out(conn, [Term("invoiced")]) == {Term("invoiced"): '"invoiced"'}
    assert found(db, "inv") == spelled
    assert len(spelled) == 50  # as many as asked: the list is a real ranking


def test_words_come_from_fts5_itself_and_carry_no_query_syntax() -> None:
    assert split_words('Über-Weisung "fällig" NEAR(a b) {body}: x* ^anchor') == [
        "uber", "weisung", "fallig", "near", "a", "b", "body", "x", "anchor",
    ]  # fmt: skip
    assert split_words("会議の件") == ["会議の件"]
    assert split_words('*** "" -') == []


def test_a_word_cached_after_a_search_is_found_by_the_next(db: AppDatabase) -> None:
    assert found(db, "zebr") == ["twin-a", "twin-b", "twin-c"]
    newer = replace(CORPUS[0], id="zeb-1", key="zeb-1", subject="Zebrafish tank", body="")
    db.add_emails([newer])
    assert found(db, "zebr")[0] == "zeb-1"


def test_a_term_without_words_is_left_to_fts5(db: AppDatabase) -> None:
    with db.engine.connect() as conn:
        assert isinstance(conn, Connection)
        assert spelled_out(conn, [Term("***")]) == {}
