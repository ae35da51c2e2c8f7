"""Persistence on both backends: the SQLite files and a real PostgreSQL server.

Checkpoints round-trip (plain and encrypted), an approval waits across a restart and runs
exactly once (a real SMTP server counts the mail), the audit log and the side-effect ledger
(claims racing from two engines), and encrypted checkpoints hide mail text from anyone
reading the database without the key.
"""

from __future__ import annotations

import json
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.types import Command

from graph.builder import build_graph
from graph.context import Context
from memory.audit import REDACTED, AuditLog
from memory.audit_tables import LedgerEntry
from memory.checkpointer import open_checkpointer
from memory.db import AppDatabase, close_databases
from memory.keys import generate_key
from memory.ledger import SideEffectLedger
from tests.conftest import Backend
from tests.fakes.smtp_server import SmtpSink
from tests.integration.cli_runner import DEMO, run_cli
from tests.postgres_server import PostgresServer, database_name

pytestmark = pytest.mark.integration

ME = "dana@northwind.example"
SOFIA = "sofia.marchetti@northwind.example"
REPLY = "reply to the meeting request from Sofia and say Thursday works"
PHRASE = "idle in transaction"
"""Words of the demo message "what does the first one say?" opens (the checkout incident)."""
CONFIG: RunnableConfig = {"configurable": {"thread_id": "round-trip"}}


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    """A private copy of the demo inbox."""
    path = tmp_path / "inbox"
    shutil.copytree(DEMO, path, ignore=shutil.ignore_patterns(".Drafts", ".Sent"))
    return path


def drafts(inbox: Path) -> list[Path]:
    folder = inbox / ".Drafts" / "cur"
    return sorted(folder.iterdir()) if folder.is_dir() else []


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    value = generate_key().decode()
    monkeypatch.setenv("SMART_INBOX_KEY", value)
    return value


# -- checkpoints in the process ----------------------------------------------------------------


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
async def test_a_thread_round_trips_through_a_fresh_checkpointer(
    backend: Backend, inbox: Path, key: str, encrypted: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if encrypted:
        monkeypatch.setenv("SMART_INBOX_ENCRYPT_STATE", "1")
    context = Context(model="rules", inbox=f"maildir:{inbox}", home=str(backend.home))
    async with open_checkpointer(backend.config) as saver:
        graph = build_graph(checkpointer=saver)
        for text in (
            "what needs my attention today?",
            "what does the first one say?",
            "draft a reply to the first one saying we are on it",
        ):
            await graph.ainvoke({"messages": [HumanMessage(text)]}, config=CONFIG, context=context)
        before = await graph.aget_state(CONFIG)
    assert before.next == ("request_approval",)
    assert any(PHRASE in str(e["content"]) for e in before.values["evidence"])
    close_databases()  # everything closed: the next part is a new start

    async with open_checkpointer(backend.config) as fresh:
        graph = build_graph(checkpointer=fresh)
        after = await graph.aget_state(CONFIG)
        assert after.values == before.values
        assert after.next == before.next
        assert [i.value for i in after.interrupts] == [i.value for i in before.interrupts]
        history = [state async for state in graph.aget_state_history(CONFIG)]
        assert len(history) > 10
        result = await graph.ainvoke(
            Command(resume={"type": "accept"}), config=CONFIG, context=context
        )
    assert [e["status"] for e in result["executed"]] == ["ok"]
    assert len(drafts(inbox)) == 1


# -- an approval across a restart, in separate processes ---------------------------------------


def ask(backend: Backend, text: str, env: dict[str, str], *extra: str) -> dict[str, Any]:
    done = run_cli(backend.home, "ask", text, "--json", *extra, env={**backend.env, **env})
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_an_approval_survives_a_restart_and_runs_once(
    backend: Backend, smtp_sink: SmtpSink
) -> None:
    env = {"SMTP_URL": smtp_sink.url, "SMART_INBOX_USER_EMAILS": ME, **backend.env}
    first = ask(backend, REPLY, env)
    [request] = first["pending"]
    assert request["action"] == "reply_to_email"
    thread = first["thread_id"]
    assert smtp_sink.messages == []  # the process has exited with the request pending

    resumed = run_cli(backend.home, "resume", "--thread", thread, "--accept", "--json", env=env)
    done = json.loads(resumed.stdout)
    assert [(e["action"], e["status"]) for e in done["executed"]] == [("reply_to_email", "ok")]
    [received] = smtp_sink.wait_for(1)
    assert received.rcpt_tos == [SOFIA]

    again = run_cli(
        backend.home, "resume", "--thread", thread, "--accept", "--json", env=env, check=False
    )
    assert again.returncode == 2
    assert "has no pending approval request" in again.stderr
    assert len(smtp_sink.messages) == 1

    rows = json.loads(run_cli(backend.home, "audit", "--thread", thread, "--json", env=env).stdout)
    assert [(r["tool"], r["decision"], r["outcome"]) for r in rows] == [
        ("reply_to_email", "accept", "ok")
    ]
    if backend.url:
        assert not (backend.home / "checkpoints.db").exists()
        assert not (backend.home / "app.db").exists()
    else:
        assert (backend.home / "checkpoints.db").exists()


# -- audit log and ledger ----------------------------------------------------------------------


def test_the_audit_log_keeps_one_redacted_row_per_call(backend: Backend) -> None:
    log = AuditLog(AppDatabase(backend.config.app_url))
    common: dict[str, Any] = {
        "thread_id": "t1",
        "tool": "send_email",
        "args": {"to": "a@example.com", "api_key": "gsk_live1234567890abcdefghij"},
        "level": 1,
        "flags": [],
    }
    log.record(call_id="c1", decision="pending", decided_by="", outcome="pending", **common)
    log.record(call_id="c1", decision="accept", decided_by="user", outcome="pending", **common)
    assert log.set_outcome(thread_id="t1", call_id="c1", outcome="ok", detail="sent")
    assert not log.set_outcome(thread_id="t1", call_id="nope", outcome="ok")
    log.record(call_id="c2", decision="ignore", decided_by="user", outcome="not_run", **common)
    rows = log.entries(thread_id="t1")
    assert [(r["call_id"], r["decision"], r["outcome"]) for r in rows] == [
        ("c1", "accept", "ok"),
        ("c2", "ignore", "not_run"),
    ]
    assert rows[0]["args"]["api_key"] == REDACTED
    assert [r["call_id"] for r in log.entries(limit=1)] == ["c2"]


def _race_begin(databases: list[AppDatabase], call_id: str) -> list[LedgerEntry | None]:
    barrier = threading.Barrier(len(databases))

    def claim(database: AppDatabase) -> LedgerEntry | None:
        barrier.wait(timeout=10)
        return SideEffectLedger(database).begin("t1", call_id, "send_email", {"to": "a@x"})

    with ThreadPoolExecutor(max_workers=len(databases)) as pool:
        return list(pool.map(claim, databases, timeout=30))


def test_the_ledger_lets_one_of_many_engines_claim_a_call(backend: Backend) -> None:
    # Separate engines, as separate processes or machines would have.
    databases = [AppDatabase(backend.config.app_url) for _ in range(4)]
    try:
        for round_ in range(10):
            results = _race_begin(databases, f"c{round_}")
            assert sum(result is None for result in results) == 1
            assert {r.status for r in results if r is not None} == {"started"}
        ledger = SideEffectLedger(databases[0])
        ledger.finish("t1", "c0", "done", {"message_id": "<m1@x>"})
        assert ledger.get("t1", "c0").result_dict() == {"message_id": "<m1@x>"}  # type: ignore[union-attr]
        assert len(ledger.unfinished("t1")) == 9
        ledger.settle_unknown("t1", "c1", retry=True)
        ledger.settle_unknown("t1", "c2", retry=False)
        assert ledger.get("t1", "c1") is None
        assert ledger.get("t1", "c2").status == "skipped"  # type: ignore[union-attr]
    finally:
        for database in databases:
            database.engine.dispose()


# -- encrypted checkpoints ---------------------------------------------------------------------


def stored_checkpoint_bytes(backend: Backend, request: pytest.FixtureRequest) -> bytes:
    """Everything the checkpointer stored, as raw bytes, read past the program."""
    if backend.url is None:
        return b"".join(p.read_bytes() for p in sorted(backend.home.glob("checkpoints.db*")))
    chunks: list[bytes] = []
    with psycopg.connect(backend.url) as conn:
        for table, columns in (
            ("checkpoints", "checkpoint::text, metadata::text, type"),
            ("checkpoint_blobs", "blob, type"),
            ("checkpoint_writes", "blob, type"),
        ):
            for row in conn.execute(f"SELECT {columns} FROM {table}"):
                for value in row:
                    if value is not None:
                        chunks.append(value if isinstance(value, bytes) else str(value).encode())
    server: PostgresServer = request.getfixturevalue("postgres_server")
    dump = server.dump(
        database_name(backend.url), "checkpoints", "checkpoint_blobs", "checkpoint_writes"
    )
    # pg_dump writes bytea as hex: the phrase would show as its hex digits there.
    return b"".join(chunks) + b"\n" + dump


async def turns(backend: Backend, inbox: Path, thread: str, *texts: str) -> dict[str, Any]:
    """Chat turns on `thread` in this process, with a checkpointer opened and closed for them."""
    context = Context(model="rules", inbox=f"maildir:{inbox}", home=str(backend.home))
    config: RunnableConfig = {"configurable": {"thread_id": thread}}
    async with open_checkpointer(backend.config) as saver:
        graph = build_graph(checkpointer=saver)
        for text in texts:
            await graph.ainvoke({"messages": [HumanMessage(text)]}, config=config, context=context)
        values: dict[str, Any] = (await graph.aget_state(config)).values
    return values


async def read_thread(backend: Backend, thread: str) -> dict[str, Any]:
    async with open_checkpointer(backend.config) as saver:
        snapshot = await build_graph(checkpointer=saver).aget_state(
            {"configurable": {"thread_id": thread}}
        )
    values: dict[str, Any] = snapshot.values
    return values


OPEN_FIRST = ("what needs my attention today?", "what does the first one say?")


@pytest.mark.parametrize("encrypted", [True, False], ids=["encrypted", "plain"])
async def test_mail_text_is_unreadable_in_the_database_without_the_key(
    backend: Backend,
    inbox: Path,
    request: pytest.FixtureRequest,
    key: str,
    encrypted: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMART_INBOX_ENCRYPT_STATE", "1" if encrypted else "0")
    values = await turns(backend, inbox, "t1", *OPEN_FIRST)
    assert PHRASE in values["messages"][-1].text, "the phrase is in the conversation state"

    stored = stored_checkpoint_bytes(backend, request)
    assert len(stored) > 10_000
    found = PHRASE.encode() in stored or PHRASE.encode().hex().encode() in stored
    assert found is not encrypted, "encrypted: absent; plain: present (so this check can fail)"
    if encrypted:
        assert b"what does the first one say" not in stored
        assert b"Marcus" not in stored
    if backend.url:
        # PostgreSQL keeps text and numbers of the state inline in JSONB unless encrypting.
        with psycopg.connect(backend.url) as conn:
            inline = conn.execute(
                "SELECT count(*) FROM checkpoints, jsonb_each(checkpoint -> 'channel_values') v "
                "WHERE v.value <> 'null'::jsonb"
            ).fetchone()
        assert inline is not None
        assert (inline[0] == 0) is encrypted


async def test_encrypted_threads_need_their_key_and_refuse_plaintext(
    backend: Backend, inbox: Path, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from memory.state_encryption import StateEncryptionError

    monkeypatch.setenv("SMART_INBOX_ENCRYPT_STATE", "1")
    await turns(backend, inbox, "secret", *OPEN_FIRST)
    assert PHRASE in (await read_thread(backend, "secret"))["messages"][-1].text
    monkeypatch.setenv("SMART_INBOX_ENCRYPT_STATE", "0")
    await turns(backend, inbox, "plain", OPEN_FIRST[0])

    monkeypatch.setenv("SMART_INBOX_ENCRYPT_STATE", "1")
    with pytest.raises(StateEncryptionError, match="refusing to read a checkpoint"):
        await read_thread(backend, "plain")
    monkeypatch.setenv("SMART_INBOX_KEY", generate_key().decode())
    with pytest.raises(StateEncryptionError, match="key that is not configured"):
        await read_thread(backend, "secret")

    # The command says so in one line, without a trace of the state.
    wrong = run_cli(backend.home, "history", "--thread", "secret", env=backend.env, check=False)
    assert wrong.returncode == 2
    assert wrong.stderr.startswith("smart-inbox: a checkpoint is encrypted with a key that is")
    assert len(wrong.stderr.strip().splitlines()) == 1
    assert PHRASE not in wrong.stdout + wrong.stderr

    # Turned off again, both threads read (the encrypted one with its key at hand).
    monkeypatch.setenv("SMART_INBOX_ENCRYPT_STATE", "0")
    monkeypatch.setenv("SMART_INBOX_KEY", key)
    assert PHRASE in (await read_thread(backend, "secret"))["messages"][-1].text
    assert (await read_thread(backend, "plain"))["messages"]


@pytest.mark.postgres
async def test_a_postgresql_restart_between_turns_loses_nothing(
    postgres_server: PostgresServer,
    postgres_url: str,
    tmp_path: Path,
    inbox: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if postgres_server.folder is None:
        pytest.skip("the server is not ours to restart")
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    from memory.database_url import database_config

    home = tmp_path / "home"
    home.mkdir()
    where = database_config(home)
    context = Context(model="rules", inbox=f"maildir:{inbox}", home=str(home))
    config: RunnableConfig = {"configurable": {"thread_id": "restart"}}
    async with open_checkpointer(where) as saver:
        graph = build_graph(checkpointer=saver)
        await graph.ainvoke(
            {"messages": [HumanMessage(OPEN_FIRST[0])]}, config=config, context=context
        )
        # Every pooled connection (checkpoints and app database) is cut by the restart.
        postgres_server.restart()
        await graph.ainvoke(
            {"messages": [HumanMessage(OPEN_FIRST[1])]}, config=config, context=context
        )
        values = (await graph.aget_state(config)).values
    assert [m.type for m in values["messages"]] == ["human", "ai", "human", "ai"]
    assert PHRASE in values["messages"][-1].text


# -- the credential vault ----------------------------------------------------------------------


def test_the_vault_keeps_credentials_encrypted_and_rotates_on_both_databases(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    from memory.credential_cipher import VaultKeyError
    from memory.vault import CredentialVault

    monkeypatch.delenv("SMART_INBOX_KEY", raising=False)  # the key file of the data directory
    token = "xoxb-backend-test-7731-secret"
    vault = CredentialVault(AppDatabase(backend.config.app_url), backend.home)
    vault.set("slack.bot_token", token)
    vault.set("imap.password:dana@imap.northwind.example", "Pässwörd ✓")
    close_databases()

    # A new process (new engine) reads them back; the stored rows never hold the value.
    reopened = CredentialVault(AppDatabase(backend.config.app_url), backend.home)
    assert reopened.get("slack.bot_token") == token
    assert [c.name for c in reopened.names()] == [
        "imap.password:dana@imap.northwind.example",
        "slack.bot_token",
    ]
    with reopened.engine.connect() as conn:
        from sqlalchemy import text

        stored = " ".join(
            str(v) for row in conn.execute(text("SELECT * FROM credential")) for v in row
        )
    assert token not in stored and "Pässwörd" not in stored

    report = reopened.rotate_key()
    assert report is not None
    assert reopened.get("slack.bot_token") == token
    # An instance with another key cannot read them, and nothing is lost by trying.
    monkeypatch.setenv("SMART_INBOX_KEY", generate_key().decode())
    with pytest.raises(VaultKeyError):
        reopened.get("slack.bot_token")
    monkeypatch.delenv("SMART_INBOX_KEY")
    assert reopened.get("slack.bot_token") == token
