"""Full-text search on both databases: a corpus with known matches returns exactly them, ranked.

The same queries run on SQLite (FTS5) and PostgreSQL (`tsvector`); both must give the same ids
in the same order, and refuse the same bad queries with the same message.
"""

from __future__ import annotations

import pytest

from memory.db import AppDatabase
from memory.search_query import SearchQueryError
from tests.conftest import Backend
from tests.search_corpus import BAD_QUERIES, CORPUS, EXPECTED, SOURCE, TODAY

pytestmark = pytest.mark.integration


@pytest.fixture
def db(backend: Backend) -> AppDatabase:
    database = AppDatabase(backend.config.app_url)
    database.add_emails(CORPUS)
    return database


def ids(db: AppDatabase, query: str, **options: object) -> list[str]:
    found = db.list_emails(source=SOURCE, query=query, limit=50, today=TODAY, **options)  # type: ignore[arg-type]
    return [email.id for email in found]


def test_every_query_of_the_corpus_returns_exactly_its_matches_in_order(db: AppDatabase) -> None:
    got = {query: ids(db, query) for query in EXPECTED}
    assert got == EXPECTED


@pytest.mark.parametrize("query", sorted(BAD_QUERIES))
def test_a_bad_query_is_refused_with_the_reason(db: AppDatabase, query: str) -> None:
    with pytest.raises(SearchQueryError, match=BAD_QUERIES[query]):
        db.list_emails(source=SOURCE, query=query, today=TODAY)
