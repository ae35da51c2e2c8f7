"""The audit rows of reads on PostgreSQL: one statement that creates or replaces each row."""

from __future__ import annotations

from typing import Any

import pytest

from memory.audit import REDACTED, AuditLog, AuditRow
from memory.db import open_database

KEY = "gsk_" + "Q1w2E3r4T5y6U7i8O9p0A1s2D3f4"


def _read(call: str, **overrides: Any) -> AuditRow:
    values: dict[str, Any] = {
        "tool": "get_email",
        "args": {"email_id": "m1", "token": KEY},
        "level": 0,
        "flags": [],
        "decision": "auto",
        "decided_by": "policy",
        "outcome": "ok",
        "detail": "the message",
    }
    return {"call_id": call, "values": {**values, **overrides}}


def test_reads_are_written_redacted_and_rewritten_in_place(postgres_url: str) -> None:
    audit = AuditLog(open_database(postgres_url))
    audit.record(
        thread_id="t",
        call_id="c1",
        tool="get_email",
        args={},
        level=0,
        flags=[],
        decision="pending",
        decided_by="",
        outcome="pending",
    )
    audit.record_reads(thread_id="t", rows=[_read("c1"), _read("c2", outcome="error")])
    audit.record_reads(thread_id="t", rows=[_read("c2")])
    entries = audit.entries(thread_id="t")
    assert [(e["call_id"], e["decision"], e["outcome"]) for e in entries] == [
        ("c1", "auto", "ok"),
        ("c2", "auto", "ok"),
    ]
    assert entries[0]["args"] == {"email_id": "m1", "token": REDACTED}
    with pytest.raises(ValueError, match="outcome"):
        audit.record_reads(thread_id="t", rows=[_read("c3", outcome="done")])
    assert len(audit.entries(thread_id="t")) == 2
