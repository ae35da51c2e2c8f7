"""The rows of reads the policy let through: one commit that does not wait for the disk.

Only those: a call with a side effect keeps a commit that waits (`synchronous=FULL`), and a
connection never goes back to the pool still skipping the disk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from graph.approval_audit import audit_outcomes
from memory.audit import REDACTED, AuditLog, AuditRow
from memory.db import AppDatabase

NORMAL, FULL = 1, 2
KEY = "gsk_" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6"


@pytest.fixture
def db(tmp_path: Path) -> AppDatabase:
    database = AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")
    yield database  # type: ignore[misc]
    database.engine.dispose()


def _read(call: str, **overrides: Any) -> AuditRow:
    values: dict[str, Any] = {
        "tool": "search_emails",
        "args": {"query": "invoice"},
        "level": 0,
        "flags": [],
        "decision": "auto",
        "decided_by": "policy",
        "outcome": "ok",
        "detail": "1. Invoice INV-1",
    }
    return {"call_id": call, "values": {**values, **overrides}}


def _sync_of_audit_writes(db: AppDatabase) -> list[int]:
    """`synchronous` of the connection at every write to the audit table, in order."""
    seen: list[int] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith(("INSERT INTO AUDIT", "UPDATE AUDIT")):
            raw = conn.connection.dbapi_connection
            seen.append(raw.execute("PRAGMA synchronous").fetchone()[0])

    event.listen(db.engine, "before_cursor_execute", before)
    return seen


def _sync_now(db: AppDatabase) -> int:
    with db.engine.connect() as conn:
        return int(conn.exec_driver_sql("PRAGMA synchronous").scalar_one())


def test_the_reads_of_a_pass_are_written_in_one_commit_that_skips_the_disk(
    db: AppDatabase,
) -> None:
    audit = AuditLog(db)
    seen = _sync_of_audit_writes(db)
    commits: list[object] = []
    event.listen(db.engine, "commit", commits.append)
    audit.record_reads(thread_id="t", rows=[_read("c1"), _read("c2", args={"api_key": KEY})])
    assert seen == [NORMAL], "one statement for both rows, written without waiting"
    assert len(commits) == 2, "the rows' commit, then the setting's restore"
    assert _sync_now(db) == FULL
    first, second = audit.entries(thread_id="t")
    assert (first["call_id"], first["decision"], first["outcome"]) == ("c1", "auto", "ok")
    assert second["args"] == {"api_key": REDACTED}


def test_a_read_written_again_replaces_its_row(db: AppDatabase) -> None:
    audit = AuditLog(db)
    audit.record_reads(thread_id="t", rows=[_read("c1", outcome="error", detail="timed out")])
    audit.record_reads(thread_id="t", rows=[_read("c1")])
    (entry,) = audit.entries()
    assert (entry["outcome"], entry["detail"]) == ("ok", "1. Invoice INV-1")


def test_a_bad_row_writes_none_of_them(db: AppDatabase) -> None:
    audit = AuditLog(db)
    with pytest.raises(ValueError, match="decision"):
        audit.record_reads(thread_id="t", rows=[_read("c1"), _read("c2", decision="maybe")])
    assert audit.entries() == []


def test_a_failed_write_leaves_no_connection_skipping_the_disk(db: AppDatabase) -> None:
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE audit"))
    with pytest.raises(Exception, match="audit"):
        AuditLog(db).record_reads(thread_id="t", rows=[_read("c1")])
    assert _sync_now(db) == FULL


def test_a_call_with_a_side_effect_let_through_by_policy_waits_for_the_disk(
    db: AppDatabase,
) -> None:
    seen = _sync_of_audit_writes(db)
    decisions: dict[str, Any] = {
        call: {"call_id": call, "args": {"id": "m1"}, "level": 2, "by": "policy", "type": "auto"}
        for call in ("c-read", "c-archive")
    }
    executed: list[Any] = [
        {"call_id": "c-archive", "action": "archive_email", "status": "ok", "error": ""},
        {"call_id": "c-read", "action": "get_email", "status": "ok", "error": ""},
    ]
    records: list[Any] = [{"content": "archived"}, {"content": "the message"}]
    audit = AuditLog(db)
    audit_outcomes(audit, "t", executed, records, decisions, lambda name: name == "get_email")
    # The archive's row is looked up, then written; the read's goes in without waiting.
    assert seen == [FULL, NORMAL]
    by_call = {e["call_id"]: e for e in audit.entries()}
    assert by_call["c-archive"]["detail"] == "archived"
    assert by_call["c-read"]["outcome"] == "ok"
