"""The SQLite search index stays in step with the mail cache, and the tools report bad queries.

Runs offline on SQLite files; `tests/integration/test_search_backends.py` runs the corpus on
both databases.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from memory.db import AppDatabase
from memory.mail_model import Attachment, Email
from memory.migrations import STEPS, applied_versions, latest_version, migrate
from memory.search import create_search_index
from memory.search_query import SearchQueryError
from memory.search_sqlite_index import BODY, HEAD, rebuild_index
from tests.search_corpus import CORPUS, SOURCE, TODAY
from tests.search_entries import assert_index_exact
from tools.mail.mailbox import open_mailbox_env
from tools.mail.tools import search_emails
from tools.toolkit import ToolFailure

INVOICE = CORPUS[0]
OLD = Email(
    id="old-1",
    source=SOURCE,
    folder="INBOX",
    key="k",
    subject="Quarterly numbers",
    attachments=(Attachment("q3.xlsx", "application/vnd.ms-excel", 10),),
)


def found(db: AppDatabase, query: str) -> list[str]:
    return [e.id for e in db.list_emails(source=SOURCE, query=query, limit=50, today=TODAY)]


@pytest.fixture
def db(tmp_path: Path) -> AppDatabase:
    return AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")


def test_a_message_stored_again_is_found_by_its_new_words_only(db: AppDatabase) -> None:
    db.add_emails([INVOICE])
    assert found(db, "overdue") == [INVOICE.id]
    db.add_emails([replace(INVOICE, subject="Settled", body="Paid, thank you.", attachments=())])
    assert (found(db, "overdue"), found(db, "settled"), found(db, "attachment:pdf")) == (
        [],
        [INVOICE.id],
        [],
    )


def test_a_deleted_message_leaves_the_index(db: AppDatabase, tmp_path: Path) -> None:
    db.add_emails(CORPUS)
    with sqlite3.connect(tmp_path / "app.db") as raw:
        raw.execute("DELETE FROM email WHERE id = ?", (INVOICE.id,))
    assert found(db, "overdue") == []
    assert found(db, "receipt") == ["inv-2"]
    assert_index_exact(tmp_path / "app.db")


def test_every_write_leaves_both_tables_exactly_in_step(db: AppDatabase, tmp_path: Path) -> None:
    """Each way a row is written, changed or removed leaves no stale word in either table."""
    many = [
        replace(INVOICE, id=f"bulk-{n}", key=f"bulk-{n}", subject=f"Bulk {n}", body=f"body {n}",
                from_name="Bulk", from_addr="bulk@example.com")
        for n in range(250)
    ]  # fmt: skip
    db.add_emails(many)  # the bulk path: the insert trigger off, one statement per table
    db.add_emails(CORPUS)  # one at a time: the insert trigger
    assert_index_exact(tmp_path / "app.db")
    changed = replace(
        INVOICE, subject="Settled", from_name="Someone Else", body="Paid.", attachments=(),
        date="2025-02-03T10:00:00+00:00",
    )  # fmt: skip
    db.add_emails([changed, replace(many[7], body="only the body changed")])
    assert_index_exact(tmp_path / "app.db")
    with sqlite3.connect(tmp_path / "app.db") as raw:
        raw.execute("UPDATE email SET body = 'a new body' WHERE id = 'bulk-3'")
        raw.execute("UPDATE email SET subject = 'a new subject' WHERE id = 'bulk-4'")
        raw.execute("DELETE FROM email WHERE id IN ('bulk-5', 'inv-2')")
    assert_index_exact(tmp_path / "app.db")
    assert found(db, "overdue") == found(db, "receipt") == found(db, '"body 5"') == []
    assert found(db, "settled") == found(db, "from:someone") == [INVOICE.id]
    assert found(db, '"new body"') == ["bulk-3"] and found(db, 'from:bulk "new subject"') == [
        "bulk-4"
    ]


def test_a_database_from_before_the_index_is_indexed_when_opened(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    engine = create_engine(url)
    migrate(engine, STEPS[:10])
    engine.dispose()
    with sqlite3.connect(tmp_path / "app.db") as raw:
        raw.execute(
            "INSERT INTO email (source, key, id, base_id, digest, folder, from_addr, from_name, "
            "subject, date, body, error, data, fetched_at) VALUES (?, 'k', 'old-1', 'old-1', '', "
            "'INBOX', 'a@b.example', 'A', 'Quarterly numbers', '2026-11-01', 'Numbers inside', "
            "'', ?, '2026-11-01')",
            (SOURCE, json.dumps(OLD.to_dict())),
        )
    db = AppDatabase(url)
    assert applied_versions(db.engine)[-1] == latest_version()
    assert found(db, "quarterly") == found(db, "attachment:q3") == ["old-1"]


def test_the_step_runs_again_without_indexing_twice(db: AppDatabase, tmp_path: Path) -> None:
    db.add_emails(CORPUS)
    with db.engine.begin() as conn:
        create_search_index(conn)
    with sqlite3.connect(tmp_path / "app.db") as raw:
        for table in (HEAD, BODY):
            hits = raw.execute(f"SELECT count(*) FROM {table} WHERE {table} MATCH 'receipt'")
            assert hits.fetchone() == (1,), table
    assert found(db, "receipt") == ["inv-2"]
    assert_index_exact(tmp_path / "app.db")


def test_an_index_out_of_step_is_rebuilt_from_the_cache(db: AppDatabase, tmp_path: Path) -> None:
    db.add_emails(CORPUS)
    with sqlite3.connect(tmp_path / "app.db") as raw:
        raw.execute(f"INSERT INTO {BODY}({BODY}) VALUES ('delete-all')")
        raw.execute(f"INSERT INTO {HEAD}({HEAD}) VALUES ('delete-all')")
    assert found(db, "receipt") == []
    with db.engine.begin() as conn:
        rebuild_index(conn)
    assert found(db, "receipt") == ["inv-2"]
    assert_index_exact(tmp_path / "app.db")


@pytest.mark.parametrize(
    "data",
    ["{not json", '{"attachments": "x.pdf"}', '{"attachments": ["x.pdf", 3, {"filename": 7}]}'],
)
def test_stored_json_without_attachment_names_is_indexed_without_them(
    db: AppDatabase, tmp_path: Path, data: str
) -> None:
    """The names come from the JSON; JSON of another shape must not stop the row being written."""
    with sqlite3.connect(tmp_path / "app.db") as raw:
        raw.execute(
            "INSERT INTO email (source, key, id, base_id, digest, folder, from_addr, from_name, "
            "subject, date, body, error, data, fetched_at) VALUES (?, 'k', 'x-1', 'x-1', '', "
            "'INBOX', '', '', 'Broken data', '', '', '', ?, '')",
            (SOURCE, data),
        )
        rows = raw.execute(f"SELECT rowid FROM {HEAD} WHERE {HEAD} MATCH 'broken'")
        assert len(rows.fetchall()) == 1
        pdfs = raw.execute(f"SELECT rowid FROM {HEAD} WHERE {HEAD} MATCH 'pdf'")
        assert pdfs.fetchall() == []
    assert_index_exact(tmp_path / "app.db")


def test_search_reads_the_source_and_folder_it_is_given(db: AppDatabase) -> None:
    other = replace(INVOICE, source="maildir:other", key="elsewhere", id="elsewhere-1")
    db.add_emails([*CORPUS, other])
    assert found(db, "overdue") == [INVOICE.id]
    # Same words, same day: by id.
    assert [e.id for e in db.list_emails(query="overdue", today=TODAY)] == [
        "elsewhere-1",
        INVOICE.id,
    ]
    assert [e.id for e in db.list_emails(folder="Archive", query="invoice")] == ["inv-3"]


def test_an_empty_search_lists_the_newest_mail(db: AppDatabase) -> None:
    db.add_emails(CORPUS)
    newest = db.list_emails(source=SOURCE, limit=3)
    assert [e.id for e in newest] == ["draft-1", "inv-2", "spam-1"]


def test_a_bad_query_is_an_error_not_an_empty_list(db: AppDatabase) -> None:
    db.add_emails(CORPUS)
    with pytest.raises(SearchQueryError, match="is not a day"):
        db.list_emails(source=SOURCE, query="invoice after:last-week")


async def test_the_search_tool_reports_a_bad_query_as_a_failure(
    db: AppDatabase, tmp_path: Path
) -> None:
    db.add_emails(CORPUS)
    env = open_mailbox_env(db, SOURCE, tmp_path, user_addresses=(), smtp=None, environ={})
    with pytest.raises(ToolFailure, match=r"cannot search for that: after:soon is not a day"):
        await search_emails.ainvoke({"query": "after:soon", "env": env})
    result = await search_emails.ainvoke({"query": "from:anna after:2026-11-01", "env": env})
    assert [ref["id"] for ref in result["messages"]] == ["inv-1"]
