"""The audit log and the side-effect ledger: redaction, round trips, claims and durability."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from memory.audit import DETAIL_LIMIT, REDACTED, AuditLog, redact
from memory.audit_tables import LedgerEntry
from memory.db import AppDatabase
from memory.ledger import SideEffectLedger, args_digest

PASSWORD = "hunter2-correct-horse"
GROQ_KEY = "gsk_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "app.db"


@pytest.fixture
def db(db_path: Path) -> AppDatabase:
    return AppDatabase(f"sqlite:///{db_path}")


# -- redaction ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("smtp://mailer:s3cr3t-pass@smtp.example:587", "s3cr3t-pass"),
        ("postgresql://app:p@ss:w0rd@db.internal/app", "p@ss:w0rd"),
        ("redis://:only-a-password@cache:6379/0", "only-a-password"),
        ("Authorization: Bearer abc123.def456-ghi789", "abc123.def456-ghi789"),
        ("key=" + GROQ_KEY, GROQ_KEY),
        ("xoxb-1234567890-0987654321-AbCdEfGhIjKl", "xoxb-1234567890-0987654321-AbCdEfGhIjKl"),
        ("token ghp_" + "a" * 36, "ghp_" + "a" * 36),
        ("token github_pat_" + "B" * 30, "github_pat_" + "B" * 30),
        ("aws AKIAIOSFODNN7EXAMPLE here", "AKIAIOSFODNN7EXAMPLE"),
        ("OPENAI=sk-proj-abcdefghijklmnopqrstuv", "sk-proj-abcdefghijklmnopqrstuv"),
        (
            "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        ),
    ],
)
def test_redact_removes_each_pattern_from_text(text: str, secret: str) -> None:
    redacted = redact(text)
    assert secret not in redacted
    assert REDACTED in redacted


def test_redact_keeps_the_non_secret_parts_of_a_url_and_a_header() -> None:
    assert redact("smtp://mailer:pw123@smtp.example:587/x") == (
        f"smtp://mailer:{REDACTED}@smtp.example:587/x"
    )
    assert redact("Authorization: Bearer abcdefgh12345") == f"Authorization: Bearer {REDACTED}"


@pytest.mark.parametrize(
    "text",
    [
        "Please reply to bob@acme.example about https://acme.example/invoices?id=7",
        "ask the task-force about max_tokens and sk-short",
        "gsk_tooShort and AKIA123",
        "the bearer of bad news",
    ],
)
def test_redact_leaves_ordinary_text_alone(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "Password",
        "smtp_password",
        "passwd",
        "pwd",
        "secret",
        "client_secret",
        "clientSecret",
        "token",
        "access_token",
        "accessToken",
        "api_key",
        "apikey",
        "API-Key",
        "X-Api-Key",
        "Authorization",
        "Cookie",
        "Set-Cookie",
        "credential",
        "credentials",
        "private_key",
    ],
)
def test_redact_replaces_values_under_secret_keys(key: str) -> None:
    assert redact({key: "plain value", "to": "bob@acme.example"}) == {
        key: REDACTED,
        "to": "bob@acme.example",
    }


def test_redact_keeps_keys_that_only_look_alike() -> None:
    value = {"max_tokens": 512, "tokens_used": 3, "subject": "password reset"}
    assert redact(value) == value


def test_redact_walks_nested_structures_and_copies_them() -> None:
    value: dict[str, Any] = {
        "servers": [
            {"url": "imap://me:pw-1@imap.example", "auth": {"token": "t0k3n", "user": "me"}},
            ("note", "Bearer abcdefgh12345678", 42, None, 1.5, True),
        ],
        "credentials": {"user": "me", "pass": "pw"},
    }
    redacted = redact(value)
    assert redacted == {
        "servers": [
            {
                "url": f"imap://me:{REDACTED}@imap.example",
                "auth": {"token": REDACTED, "user": "me"},
            },
            ("note", f"Bearer {REDACTED}", 42, None, 1.5, True),
        ],
        "credentials": REDACTED,
    }
    assert value["servers"][0]["auth"]["token"] == "t0k3n"
    assert redacted["servers"] is not value["servers"]


def test_args_digest_ignores_key_order() -> None:
    assert args_digest({"to": "a@x", "n": 1}) == args_digest({"n": 1, "to": "a@x"})
    assert args_digest({"to": "a@x"}) != args_digest({"to": "b@x"})


# -- audit log ---------------------------------------------------------------


def _record(audit: AuditLog, thread: str, call: str, **overrides: Any) -> None:
    fields: dict[str, Any] = {
        "thread_id": thread,
        "call_id": call,
        "tool": "send_email",
        "args": {"to": ["bob@acme.example"], "subject": "Hi"},
        "level": 1,
        "flags": [],
        "decision": "pending",
        "decided_by": "",
        "outcome": "pending",
    }
    audit.record(**{**fields, **overrides})


def test_audit_round_trip_and_filter_by_thread(db: AppDatabase) -> None:
    audit = AuditLog(db)
    flag = {"arg": "to", "kind": "address", "value": "x@evil.example", "seen_in": "msg:1"}
    _record(audit, "t1", "c1", flags=[flag], decision="accept", decided_by="user", outcome="ok")
    _record(audit, "t2", "c2", tool="archive_email", level=2, decision="auto", outcome="pending")
    _record(audit, "t1", "c3", decision="ignore", decided_by="alice", outcome="not_run")

    first, second, third = audit.entries()
    assert (first["call_id"], second["call_id"], third["call_id"]) == ("c1", "c2", "c3")
    assert first["args"] == {"to": ["bob@acme.example"], "subject": "Hi"}
    assert first["flags"] == [flag]
    assert (first["level"], first["decision"], first["decided_by"]) == (1, "accept", "user")
    assert first["outcome"] == "ok"
    assert first["at"].endswith("+00:00")

    assert [e["call_id"] for e in audit.entries(thread_id="t1")] == ["c1", "c3"]
    assert [e["call_id"] for e in audit.entries(thread_id="t1", limit=1)] == ["c3"]
    assert [e["call_id"] for e in audit.entries(limit=2)] == ["c2", "c3"]
    assert audit.entries(thread_id="nobody") == []


def test_audit_rewrites_the_row_of_a_call(db: AppDatabase) -> None:
    audit = AuditLog(db)
    _record(audit, "t1", "c1")
    _record(audit, "t1", "c1")
    _record(audit, "t1", "c1", decision="accept", decided_by="user")
    assert audit.set_outcome(thread_id="t1", call_id="c1", outcome="error", detail="SMTP 550")

    (entry,) = audit.entries()
    assert (entry["decision"], entry["outcome"], entry["detail"]) == ("accept", "error", "SMTP 550")
    assert not audit.set_outcome(thread_id="t1", call_id="missing", outcome="ok")


def test_audit_redacts_the_detail_before_cutting_it(db: AppDatabase) -> None:
    audit = AuditLog(db)
    _record(audit, "t1", "c1", outcome="error", detail=f"login to smtp://me:{PASSWORD}@mx failed")
    assert audit.entries()[0]["detail"] == f"login to smtp://me:{REDACTED}@mx failed"

    # Cut first, the key would end at the limit too short for its pattern and leak in part.
    detail = " " * (DETAIL_LIMIT - 10) + GROQ_KEY + " " + "z" * 500
    audit.set_outcome(thread_id="t1", call_id="c1", outcome="error", detail=detail)
    (entry,) = audit.entries()
    assert len(entry["detail"]) == DETAIL_LIMIT
    assert entry["detail"].endswith(REDACTED)


@pytest.mark.parametrize(
    ("field", "value"), [("decision", "maybe"), ("outcome", "done"), ("level", 3)]
)
def test_audit_rejects_unknown_values(db: AppDatabase, field: str, value: Any) -> None:
    with pytest.raises(ValueError, match=field.replace("level", "policy level")):
        _record(AuditLog(db), "t1", "c1", **{field: value})


def test_secrets_never_reach_the_database_file(db: AppDatabase, db_path: Path) -> None:
    args = {
        "to": ["bob@acme.example"],
        "password": PASSWORD,
        "body": f"use {GROQ_KEY} and smtp://me:{PASSWORD}@smtp.example",
    }
    flags = [{"arg": "body", "kind": "url", "value": f"smtp://me:{PASSWORD}@smtp.example"}]
    audit, ledger = AuditLog(db), SideEffectLedger(db)
    _record(audit, "t1", "c1", args=args, flags=flags, detail=f"sent with key {GROQ_KEY}")
    assert ledger.begin("t1", "c1", "send_email", args) is None
    ledger.finish("t1", "c1", "done", {"content": "sent", "echo": args})

    (entry,) = audit.entries()
    assert entry["args"]["password"] == REDACTED
    assert entry["args"]["to"] == ["bob@acme.example"]
    assert entry["flags"][0]["value"] == f"smtp://me:{REDACTED}@smtp.example"
    files = [db_path, db_path.with_name(db_path.name + "-wal")]
    stored = b"".join(path.read_bytes() for path in files if path.exists())
    assert b"bob@acme.example" in stored  # the check can see what was written
    assert PASSWORD.encode() not in stored
    assert GROQ_KEY.encode() not in stored
    assert b"gsk_" not in stored


# -- ledger ------------------------------------------------------------------


def test_ledger_begin_finish_get(db: AppDatabase) -> None:
    ledger = SideEffectLedger(db)
    args = {"to": ["bob@acme.example"], "token": "t0k3n-value"}
    assert ledger.get("t1", "c1") is None
    assert ledger.begin("t1", "c1", "send_email", args) is None

    started = ledger.get("t1", "c1")
    assert started is not None
    assert (started.status, started.tool, started.finished_at) == ("started", "send_email", "")
    assert started.args_digest == args_digest(args)
    assert [e.call_id for e in ledger.unfinished("t1")] == ["c1"]

    ledger.finish("t1", "c1", "done", {"content": "sent", "token": "t0k3n-value"})
    done = ledger.get("t1", "c1")
    assert done is not None
    assert done.status == "done"
    assert done.finished_at
    assert done.result_dict() == {"content": "sent", "token": REDACTED}
    assert ledger.unfinished() == []


def test_second_begin_returns_the_existing_entry(db: AppDatabase) -> None:
    ledger = SideEffectLedger(db)
    assert ledger.begin("t1", "c1", "send_email", {"to": "a@x"}) is None
    again = ledger.begin("t1", "c1", "send_email", {"to": "a@x"})
    assert isinstance(again, LedgerEntry)
    assert again.status == "started"

    ledger.finish("t1", "c1", "failed", {"error": "SMTP 550"})
    after = ledger.begin("t1", "c1", "send_email", {"to": "a@x"})
    assert after is not None
    assert (after.status, after.result_dict()) == ("failed", {"error": "SMTP 550"})
    assert ledger.begin("t2", "c1", "send_email", {"to": "a@x"}) is None  # keyed per thread


def test_finish_requires_a_started_call(db: AppDatabase) -> None:
    ledger = SideEffectLedger(db)
    with pytest.raises(LookupError):
        ledger.finish("t1", "never", "done", {})
    ledger.begin("t1", "c1", "send_email", {})
    ledger.finish("t1", "c1", "done", {"content": "sent"})
    with pytest.raises(ValueError, match="is done"):
        ledger.finish("t1", "c1", "failed", {"error": "late"})
    assert ledger.get("t1", "c1").status == "done"  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="started"):
        ledger.finish("t1", "c1", "started", {})  # type: ignore[arg-type]


def test_settle_unknown_skips_or_releases_a_started_call(db: AppDatabase) -> None:
    ledger = SideEffectLedger(db)
    ledger.begin("t1", "skip-me", "send_email", {})
    ledger.begin("t1", "retry-me", "send_email", {})

    ledger.settle_unknown("t1", "skip-me", retry=False)
    skipped = ledger.begin("t1", "skip-me", "send_email", {})
    assert skipped is not None and skipped.status == "skipped"
    ledger.settle_unknown("t1", "skip-me", retry=False)  # already settled that way

    ledger.settle_unknown("t1", "retry-me", retry=True)
    assert ledger.get("t1", "retry-me") is None
    ledger.settle_unknown("t1", "retry-me", retry=True)  # already released
    assert ledger.begin("t1", "retry-me", "send_email", {}) is None


def test_settle_unknown_never_releases_a_finished_call(db: AppDatabase) -> None:
    ledger = SideEffectLedger(db)
    ledger.begin("t1", "c1", "send_email", {})
    ledger.finish("t1", "c1", "done", {"content": "sent"})
    with pytest.raises(ValueError, match="is done"):
        ledger.settle_unknown("t1", "c1", retry=True)
    with pytest.raises(ValueError, match="is done"):
        ledger.settle_unknown("t1", "c1", retry=False)
    with pytest.raises(LookupError):
        ledger.settle_unknown("t1", "never", retry=False)
    assert ledger.get("t1", "c1").status == "done"  # type: ignore[union-attr]


def _race_begin(databases: list[AppDatabase], call_id: str) -> list[LedgerEntry | None]:
    """`begin` the same call from one thread per database, all released at once."""
    barrier = threading.Barrier(len(databases))

    def claim(database: AppDatabase) -> LedgerEntry | None:
        barrier.wait(timeout=10)
        return SideEffectLedger(database).begin("t1", call_id, "send_email", {"to": "a@x"})

    with ThreadPoolExecutor(max_workers=len(databases)) as pool:
        return list(pool.map(claim, databases, timeout=30))


@pytest.mark.parametrize("shared", [True, False], ids=["one-engine", "two-engines"])
def test_racing_begins_claim_a_call_once(db_path: Path, shared: bool) -> None:
    first = AppDatabase(f"sqlite:///{db_path}")
    databases = [first, first if shared else AppDatabase(f"sqlite:///{db_path}")]
    for round_ in range(10):
        results = _race_begin(databases, f"c{round_}")
        assert sum(result is None for result in results) == 1
        (other,) = [result for result in results if result is not None]
        assert other.status == "started"


def test_started_entry_survives_reopening(db_path: Path) -> None:
    url = f"sqlite:///{db_path}"
    first = AppDatabase(url)
    assert SideEffectLedger(first).begin("t1", "c1", "send_email", {"to": "a@x"}) is None
    first.engine.dispose()

    reopened = SideEffectLedger(AppDatabase(url))
    entry = reopened.get("t1", "c1")
    assert entry is not None
    assert entry.status == "started"
    assert [e.call_id for e in reopened.unfinished()] == ["c1"]
    assert reopened.begin("t1", "c1", "send_email", {"to": "a@x"}) is not None
