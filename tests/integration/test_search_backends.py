"""Full-text search on both databases: a corpus with known matches returns exactly them, ranked.

The same queries run on SQLite (FTS5) and PostgreSQL (`tsvector`); both must give the same ids
in the same order, and refuse the same bad queries with the same message.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session

from memory.database_url import sqlalchemy_url
from memory.db import AppDatabase
from memory.mail_model import Attachment, Email
from memory.mail_tables import StoredEmail
from memory.migrations import STEPS, latest_version, migrate
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


@pytest.mark.postgres
@pytest.mark.parametrize(
    "data",
    ["{not json", '{"attachments": "x.pdf"}', '{"a": "\\u0000"}', '{"attachments": [1, "x.pdf"]}'],
)
def test_postgres_writes_a_row_whose_json_has_no_attachment_names(
    postgres_url: str, data: str
) -> None:
    """The generated column reads the JSON; JSON of another shape must not refuse the row."""
    db = AppDatabase(postgres_url)
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO email (source, key, id, base_id, digest, folder, from_addr, "
                "from_name, subject, date, body, error, data, fetched_at) VALUES ('s', 'k', "
                "'x-1', 'x-1', '', 'INBOX', '', '', 'Broken data', '', '', '', :data, '')"
            ),
            {"data": data},
        )
        words = conn.execute(text("SELECT search_doc::text FROM email")).scalar_one()
    assert words == "'broken':1A 'data':2A"


def test_a_database_from_before_the_index_finds_its_old_mail(backend: Backend) -> None:
    engine = create_engine(sqlalchemy_url(backend.config.app_url))
    migrate(engine, STEPS[:10])
    with Session(engine) as session:
        session.add_all(
            StoredEmail(
                source=e.source,
                key=e.key,
                id=e.id,
                base_id=e.id,
                folder=e.folder,
                from_addr=e.from_addr,
                from_name=e.from_name,
                subject=e.subject,
                date=e.date,
                body=e.body,
                data=json.dumps(e.to_dict()),
            )
            for e in CORPUS
        )
        session.commit()
    engine.dispose()
    db = AppDatabase(backend.config.app_url)
    assert db.schema_version == latest_version()
    assert ids(db, "attachment:pdf") == EXPECTED["attachment:pdf"]
    assert ids(db, "invoice") == EXPECTED["invoice"]


def test_a_message_too_big_to_index_whole_is_cached_and_found(backend: Backend) -> None:
    """A source may deliver what the parser's limits never would: the index takes a part of it.

    A PostgreSQL `tsvector` holds at most 1 MB; a document over it would refuse the write.
    """
    words = " ".join(chr(0x4E00 + n) for n in range(20_000))  # 20,000 distinct one-letter words
    huge = Email(
        id="huge-1",
        source=SOURCE,
        folder="INBOX",
        key="huge-1",
        subject="Megabyte " + words,
        from_name=words,
        body=(words + " ") * 20 + " needle",
        attachments=tuple(
            Attachment(f"file-{n}-{'x' * 200}.bin", "application/octet-stream", 1)
            for n in range(1000)
        ),
        date="2026-11-30T10:00:00+00:00",
    )
    db = AppDatabase(backend.config.app_url)
    db.add_emails([huge, *CORPUS])
    assert ids(db, "megabyte") == ["huge-1"]
    assert ids(db, "attachment:file-0") == ["huge-1"]
    assert ids(db, "needle") == []  # past the indexed part of the body
