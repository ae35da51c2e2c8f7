"""Versioned migrations of the app database, on SQLite and PostgreSQL.

Fresh databases, databases made before versioning (tables from `create_all`, no version table),
processes starting at the same moment, a database newer than the program, a failing step.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel

from memory.audit import AuditLog
from memory.audit_tables import AuditRecord, LedgerEntry
from memory.db import AppDatabase
from memory.email_ids import disambiguated_id
from memory.ledger import SideEffectLedger
from memory.mail_tables import StoredEmail, SyncCursor, TriageRecord
from memory.mcp_tools import McpToolRecord
from memory.migrations import (
    STEPS,
    SchemaVersionError,
    Step,
    add_column,
    applied_versions,
    create_tables,
    latest_version,
    migrate,
)
from tests.conftest import Backend
from tools.mail.model import Email

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
APP_TABLES = {
    "email",
    "sync_cursor",
    "triage",
    "audit",
    "ledger",
    "ledger_messages",
    "mcp_tool",
    "credential",
}
CHAT_TABLES = {"users", "threads", "steps", "elements", "feedbacks"}

EMAIL = Email(
    id="invoice-0412@billing.vendor.example",
    source="maildir:test",
    folder="INBOX",
    key="1",
    from_addr="billing@vendor.example",
    subject="Overdue invoice INV-2026-0412",
    date="2026-11-17T09:00:00+00:00",
    body="Invoice INV-2026-0412 is overdue.",
)


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_a_fresh_database_gets_every_step_once(backend: Backend) -> None:
    db = AppDatabase(backend.config.app_url)
    assert db.schema_version == latest_version() == len(STEPS)
    assert applied_versions(db.engine) == [step.version for step in STEPS]
    assert APP_TABLES | CHAT_TABLES | {"schema_version"} <= tables(backend.config.app_url)
    db.add_emails([EMAIL])
    db.engine.dispose()

    again = AppDatabase(backend.config.app_url)
    assert applied_versions(again.engine) == [step.version for step in STEPS]
    assert again.get_email(EMAIL.id) == EMAIL
    again.engine.dispose()


def _legacy_sqlite(path: Path) -> None:
    """An `app.db` as the code before versioning left it: create_all, then the chat tables."""
    engine = create_engine(f"sqlite:///{path}")
    legacy = [StoredEmail, SyncCursor, TriageRecord, AuditRecord, LedgerEntry, McpToolRecord]
    SQLModel.metadata.create_all(engine, tables=[m.__table__ for m in legacy])  # type: ignore[attr-defined]
    engine.dispose()
    with sqlite3.connect(path) as db:
        db.execute(
            'CREATE TABLE "users" ("id" TEXT PRIMARY KEY, "identifier" TEXT NOT NULL UNIQUE, '
            '"createdAt" TEXT, "metadata" TEXT NOT NULL DEFAULT \'{}\')'
        )
        db.execute(
            'CREATE TABLE "steps" ("id" TEXT PRIMARY KEY, "name" TEXT NOT NULL, "type" TEXT '
            'NOT NULL, "threadId" TEXT NOT NULL, "streaming" INTEGER NOT NULL DEFAULT 0, '
            '"output" TEXT)'
        )
        db.execute("INSERT INTO users (id, identifier) VALUES ('u1', 'alice')")
        db.execute("INSERT INTO steps VALUES ('s1', 'alice', 'user_message', 't1', 0, 'hi')")


def test_a_database_from_before_versioning_is_upgraded_without_losing_data(
    tmp_path: Path,
) -> None:
    path = tmp_path / "app.db"
    _legacy_sqlite(path)
    url = f"sqlite:///{path}"
    # Rows written through the old tables, with no version table yet.
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO email (source, key, id, folder, from_addr, from_name, subject, "
                "date, body, error, data, fetched_at) VALUES (:source, :key, :id, 'INBOX', "
                ":from_addr, '', :subject, :date, :body, '', :data, '2026-11-17')"
            ),
            {
                "source": EMAIL.source,
                "key": EMAIL.key,
                "id": EMAIL.id,
                "from_addr": EMAIL.from_addr,
                "subject": EMAIL.subject,
                "date": EMAIL.date,
                "body": EMAIL.body,
                "data": json.dumps(EMAIL.to_dict()),
            },
        )
        conn.execute(
            text(
                "INSERT INTO ledger (thread_id, call_id, tool, args_digest, status, started_at, "
                "finished_at, result) VALUES ('t1', 'c1', 'send_email', 'd', 'done', 'x', 'y', "
                "'{\"sent\": true}')"
            )
        )
    assert "schema_version" not in inspect(engine).get_table_names()
    engine.dispose()

    db = AppDatabase(url)
    assert applied_versions(db.engine) == [step.version for step in STEPS]
    assert db.get_email(EMAIL.id) == EMAIL
    entry = SideEffectLedger(db).get("t1", "c1")
    assert entry is not None and entry.result_dict() == {"sent": True}
    AuditLog(db).record(
        thread_id="t1",
        call_id="c2",
        tool="save_draft",
        args={},
        level=1,
        flags=[],
        decision="accept",
        decided_by="user",
        outcome="ok",
    )
    assert [row["call_id"] for row in AuditLog(db).entries()] == ["c2"]
    db.engine.dispose()
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT identifier FROM users").fetchall() == [("alice",)]
        assert raw.execute("SELECT output, modes FROM steps").fetchall() == [("hi", None)]
        columns = {row[1] for row in raw.execute("PRAGMA table_info(steps)")}
    assert {"modes", "generation", "defaultOpen"} <= columns
    assert CHAT_TABLES <= tables(url)


def test_a_database_newer_than_the_program_is_refused(backend: Backend) -> None:
    db = AppDatabase(backend.config.app_url)
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO schema_version (version, description, applied_at) "
                "VALUES (99, 'from the future', 'x')"
            )
        )
    db.engine.dispose()
    with pytest.raises(SchemaVersionError, match="schema version 99, newer than this program"):
        AppDatabase(backend.config.app_url)


def test_a_failing_step_leaves_nothing_half_done(backend: Backend) -> None:
    db = AppDatabase(backend.config.app_url)

    def half(conn: Any) -> None:
        conn.exec_driver_sql("CREATE TABLE test_half (id INTEGER PRIMARY KEY)")
        raise RuntimeError("disk on fire")

    steps = (*STEPS, Step(len(STEPS) + 1, "half a change", half))
    number = len(STEPS) + 1
    with pytest.raises(
        RuntimeError, match=rf"step {number} \(half a change\) failed: disk on fire"
    ):
        migrate(db.engine, steps)
    assert applied_versions(db.engine) == [step.version for step in STEPS]
    assert "test_half" not in tables(backend.config.app_url)
    db.engine.dispose()


class MigrationWidget(SQLModel, table=True):
    """A table that exists only for these tests."""

    __tablename__ = "test_widget"

    id: int | None = Field(default=None, primary_key=True)
    name: str = ""
    colour: str = "blue"
    weight: int | None = None


def test_new_tables_and_columns_are_one_step_each(backend: Backend) -> None:
    db = AppDatabase(backend.config.app_url)
    with db.engine.begin() as conn:
        # The table as an older release made it: no `colour`, no `weight`.
        conn.exec_driver_sql("CREATE TABLE test_widget (id INTEGER PRIMARY KEY, name TEXT)")
        conn.exec_driver_sql("INSERT INTO test_widget (id, name) VALUES (1, 'old')")
    n = len(STEPS)
    steps = (
        *STEPS,
        Step(n + 1, "widgets", create_tables(MigrationWidget)),
        Step(n + 2, "widget colour", add_column(MigrationWidget, "colour")),
        Step(n + 3, "widget weight", add_column(MigrationWidget, "weight")),
    )
    assert migrate(db.engine, steps) == n + 3
    assert migrate(db.engine, steps) == n + 3, "a second run has nothing to do"
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, name, colour, weight FROM test_widget")).all()
    assert [tuple(row) for row in rows] == [(1, "old", "blue", None)]
    assert applied_versions(db.engine) == list(range(1, n + 4))
    db.engine.dispose()


def test_a_fresh_database_passes_over_columns_its_tables_already_have(backend: Backend) -> None:
    db = AppDatabase(backend.config.app_url)
    n = len(STEPS)
    steps = (
        *STEPS,
        Step(n + 1, "widgets", create_tables(MigrationWidget)),
        Step(n + 2, "widget colour", add_column(MigrationWidget, "colour")),
    )
    assert migrate(db.engine, steps) == n + 2
    db.engine.dispose()


def test_a_not_null_column_without_a_default_is_refused_when_written() -> None:
    class Strict(SQLModel, table=True):
        __tablename__ = "test_strict"
        id: int | None = Field(default=None, primary_key=True)
        code: str

    with pytest.raises(ValueError, match="NOT NULL without a default"):
        add_column(Strict, "code")


# -- two processes at once --------------------------------------------------------------------

RACER = textwrap.dedent(
    """
    import json, os, sys, time
    from pathlib import Path
    from sqlalchemy import text
    from memory.migrations import STEPS, Step, migrate
    from memory.db import _engine

    url, go, mode = sys.argv[1], Path(sys.argv[2]), sys.argv[3]

    def slow_unguarded(conn):
        # Not idempotent on purpose: run twice, it fails (the table exists, the row is doubled).
        conn.exec_driver_sql("CREATE TABLE race_marker (pid INTEGER)")
        time.sleep(0.5)
        conn.execute(text("INSERT INTO race_marker VALUES (:pid)"), {"pid": os.getpid()})

    steps = STEPS if mode == "real" else (*STEPS, Step(len(STEPS) + 1, "slow", slow_unguarded))
    engine = _engine(url)
    while not go.exists():
        time.sleep(0.005)
    version = migrate(engine, steps)
    print(json.dumps({"pid": os.getpid(), "version": version}))
    """
)


def _race(url: str, tmp_path: Path, mode: str, processes: int = 3) -> list[dict[str, Any]]:
    go = tmp_path / f"go-{mode}"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, url, str(go), mode],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    time.sleep(2.0)  # every child has imported and waits on the signal
    go.touch()
    results = []
    for child in children:
        out, err = child.communicate(timeout=90)
        assert child.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def test_processes_starting_together_each_apply_a_step_once(
    backend: Backend, tmp_path: Path
) -> None:
    url = backend.config.app_url
    results = _race(url, tmp_path, "real")
    assert {r["version"] for r in results} == {len(STEPS)}
    results = _race(url, tmp_path, "slow")
    assert {r["version"] for r in results} == {len(STEPS) + 1}
    engine = create_engine(url)
    try:
        assert applied_versions(engine) == list(range(1, len(STEPS) + 2))
        with engine.connect() as conn:
            markers = conn.execute(text("SELECT pid FROM race_marker")).scalars().all()
    finally:
        engine.dispose()
    assert len(markers) == 1 and markers[0] in {r["pid"] for r in results}


SHARED_ID = "q4-invoice-7781@billing.vendor.example"


def _old_email_row(key: str, sender: str, fetched_at: str) -> dict[str, Any]:
    email = Email(
        id=SHARED_ID, source="maildir:old", folder="INBOX", key=key, from_addr=sender, body="x"
    )
    data = email.to_dict()
    for name in ("message_id", "digest"):  # fields the cache of that time did not have
        del data[name]
    return {"key": key, "sender": sender, "at": fetched_at, "data": json.dumps(data)}


def test_messages_that_shared_an_id_get_ids_of_their_own(backend: Backend) -> None:
    """Step 5 on a cache where a forged copy shared its id with the genuine message."""
    engine = create_engine(backend.config.app_url)
    with engine.begin() as conn:
        # The mail cache as releases before step 5 made it: no base id, no unique index.
        conn.exec_driver_sql(
            "CREATE TABLE email (source VARCHAR NOT NULL, key VARCHAR NOT NULL, "
            "id VARCHAR NOT NULL, folder VARCHAR NOT NULL, from_addr VARCHAR NOT NULL, "
            "from_name VARCHAR NOT NULL, subject VARCHAR NOT NULL, date VARCHAR NOT NULL, "
            "body VARCHAR NOT NULL, error VARCHAR NOT NULL, data VARCHAR NOT NULL, "
            "fetched_at VARCHAR NOT NULL, PRIMARY KEY (source, key))"
        )
        conn.exec_driver_sql("CREATE INDEX ix_email_id ON email (id)")
        TriageRecord.__table__.create(conn)  # type: ignore[attr-defined]
        for row in (
            _old_email_row("2-genuine", "billing@vendor.example", "2026-11-16T09:00:00+00:00"),
            _old_email_row(
                "1-forged", "billing@vendor-payments.example", "2026-11-20T09:00:00+00:00"
            ),
        ):
            conn.execute(
                text(
                    "INSERT INTO email VALUES ('maildir:old', :key, :id, 'INBOX', :sender, '', "
                    "'', '', 'x', '', :data, :at)"
                ),
                {**row, "id": SHARED_ID},
            )
        conn.execute(
            text(
                "INSERT INTO triage (email_id, priority, category, action, reason, confidence, "
                "engine, created_at) VALUES (:id, 'normal', 'billing', 'pay', 'r', 1.0, 'rules', "
                "'2026-11-20')"
            ),
            {"id": SHARED_ID},
        )
    engine.dispose()

    db = AppDatabase(backend.config.app_url)
    assert db.schema_version == latest_version()
    genuine = db.get_email(SHARED_ID)
    assert genuine is not None and genuine.from_addr == "billing@vendor.example"
    forged_id = disambiguated_id(SHARED_ID, "maildir:old", "1-forged")
    forged = db.get_email(forged_id)
    assert forged is not None and forged.from_addr == "billing@vendor-payments.example"
    assert genuine.message_id == forged.message_id == SHARED_ID
    # The shared triage belonged to either copy: both are triaged again.
    assert db.triage_for([SHARED_ID, forged_id]) == {}
    assert set(db.untriaged_ids("maildir:old")) == {SHARED_ID, forged_id}
    assert db.known_ids("maildir:old") == {SHARED_ID}
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO email (source, key, id, folder, from_addr, from_name, subject, date, "
                "body, error, data, fetched_at) VALUES ('maildir:old', '3', :id, 'INBOX', '', '', "
                "'', '', '', '', '{}', '')"
            ),
            {"id": SHARED_ID},
        )
    db.engine.dispose()


def test_triage_rows_from_before_the_decision_keep_their_values_and_read_notify(
    backend: Backend,
) -> None:
    """Steps 7 and 8 on a database whose triage table has no decision columns yet."""
    engine = create_engine(backend.config.app_url)
    migrate(engine, STEPS[:6])
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE triage")
        conn.exec_driver_sql(
            "CREATE TABLE triage (email_id VARCHAR NOT NULL PRIMARY KEY, priority VARCHAR NOT "
            "NULL, category VARCHAR NOT NULL, action VARCHAR NOT NULL, reason VARCHAR NOT NULL, "
            "confidence FLOAT NOT NULL, engine VARCHAR NOT NULL, created_at VARCHAR NOT NULL)"
        )
        conn.exec_driver_sql(
            "INSERT INTO triage VALUES ('old-1', 'low', 'newsletter', 'archive', 'bulk', 0.9, "
            "'rules', '2026-11-20')"
        )
    assert migrate(engine) == latest_version()
    engine.dispose()

    db = AppDatabase(backend.config.app_url)
    row = db.triage_for(["old-1"])["old-1"]
    assert (row.priority, row.category, row.decision, row.suspicious, row.unsure) == (
        "low",
        "newsletter",
        "notify",
        "",
        False,
    )
    assert "triage_preference" in set(inspect(db.engine).get_table_names())
    db.engine.dispose()
