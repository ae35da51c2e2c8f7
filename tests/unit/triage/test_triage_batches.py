"""A fetch and a triage in batches, in worker processes or not, decide as one pass would.

And a batch that fails loses nothing already stored: the next run goes on from there.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from langgraph.runtime import Runtime

from bench.mailgen import generate_maildir
from graph.context import Context
from graph.engines.triage import RuleTriage, pool, triage_by_rules
from graph.engines.triage.pool import rules_in_batches
from graph.nodes import classify as classify_module
from graph.nodes.classify import classify
from graph.nodes.fetch import fetch
from graph.services import services_for
from memory.db import AppDatabase
from memory.mail_rows import email_json
from tests.hostile_mime import SHAPES
from tools.mail.maildir import MaildirSource
from tools.mail.mime import parse_email
from tools.mail.model import Email
from tools.mail.parse_pool import can_parse_in_parallel

DEMO = Path(__file__).resolve().parents[3] / "data" / "demo-inbox"
OWNER = ("dana@northwind.example",)


async def _triage(home: Path, maildir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """A first fetch and triage; every saved triage row, and what the run put in state."""
    context = Context(model="rules", inbox=f"maildir:{maildir}", home=str(home))
    runtime = Runtime(context=context)
    update = await classify(await fetch({}, runtime), runtime)  # type: ignore[arg-type]
    services = await services_for(runtime)
    saved = {
        email.key: {k: v for k, v in record.as_dict().items() if k != "created_at"}
        for email, record in services.db.triaged_emails(services.source)
    }
    return saved, update


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    if not DEMO.exists():
        pytest.skip("the demo inbox is not present")
    root = tmp_path / "demo"
    shutil.copytree(DEMO, root, ignore=shutil.ignore_patterns("*.json", "*.md"))
    return root


async def test_small_batches_in_worker_processes_decide_as_one_pass(
    tmp_path: Path, demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMART_INBOX_USER_EMAILS", ",".join(OWNER))
    one_pass, one_update = await _triage(tmp_path / "one", demo)
    monkeypatch.setattr(MaildirSource, "write_batch", 7)
    monkeypatch.setattr(classify_module, "TRIAGE_BATCH", 5)
    monkeypatch.setattr(pool, "PARALLEL_FROM", 1)
    batched, batched_update = await _triage(tmp_path / "batched", demo)
    assert len(one_pass) > 20
    assert batched == one_pass
    assert batched_update["triage"] == one_update["triage"]
    assert [m["id"] for m in batched_update["evidence"][-1]["messages"]] == [
        m["id"] for m in one_update["evidence"][-1]["messages"]
    ]


def test_a_failed_write_keeps_the_batches_stored(tmp_path: Path) -> None:
    """The walk-around: the database refuses the second batch of a first fetch."""
    maildir = tmp_path / "Maildir"
    generate_maildir(maildir, 50, seed=3)
    db = AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")
    source = MaildirSource(maildir, f"maildir:{maildir}")
    source.write_batch = 20
    stored = db.add_emails
    calls = []

    def refuses_the_second(emails: list[Email]) -> list[Email]:
        calls.append(len(emails))
        if len(calls) == 2:
            raise OSError("disk full")
        return stored(emails)

    try:
        db.add_emails = refuses_the_second  # type: ignore[method-assign]
        with pytest.raises(OSError, match="disk full"):
            source.sync(db)
        assert len(db.known_keys(source.spec)) == 20
        assert db.get_cursor(source.spec) is None, "no cursor: the next fetch reads the rest"
        db.add_emails = stored  # type: ignore[method-assign]
        again = MaildirSource(maildir, source.spec).sync(db)
        assert (len(again.new), again.read_count) == (30, 30)
        assert len(db.known_keys(source.spec)) == 50
    finally:
        db.engine.dispose()


async def test_a_failed_triage_save_keeps_the_batches_saved(
    runtime: Runtime[Context], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(classify_module, "TRIAGE_BATCH", 2)
    services = await services_for(runtime)
    save = services.db.save_triage
    calls = []

    def refuses_the_second(records: Any) -> None:
        calls.append(records)
        if len(calls) == 2:
            raise OSError("disk full")
        save(records)

    monkeypatch.setattr(services.db, "save_triage", refuses_the_second)
    state: Any = await fetch({}, runtime)
    with pytest.raises(OSError, match="disk full"):
        await classify(state, runtime)
    assert len(services.db.untriaged_ids(services.source)) == 3
    monkeypatch.setattr(services.db, "save_triage", save)
    update = await classify(state, runtime)
    assert len(update["triage"]) == 3
    assert services.db.untriaged_ids(services.source) == []


def test_the_cache_json_is_what_to_dict_gives(tmp_path: Path) -> None:
    maildir = tmp_path / "Maildir"
    generate_maildir(maildir, 80, seed=11)
    raws = [p.read_bytes() for p in sorted((maildir / "cur").iterdir())]
    raws += [s.build() for s in SHAPES if "MB" not in s.name and "," not in s.name][:6]
    emails = [
        parse_email(raw, source="s", folder="INBOX", key=str(n)) for n, raw in enumerate(raws)
    ]
    assert any(e.attachments for e in emails) and any(e.error for e in emails)
    assert any(e.headers for e in emails) and any(e.references for e in emails)
    for email in emails:
        assert email_json(email) == json.dumps(email.to_dict(), ensure_ascii=False)


def _dies_in_a_worker(parent: int, email: Email) -> RuleTriage:
    if email.key == "die" and os.getpid() != parent:
        os._exit(9)  # a worker killed mid-triage (the memory limit, a signal)
    return triage_by_rules(email)


@pytest.mark.skipif(not can_parse_in_parallel(), reason="one core or no fork")
def test_a_triage_worker_killed_loses_nothing(tmp_path: Path) -> None:
    maildir = tmp_path / "Maildir"
    generate_maildir(maildir, 40, seed=5)
    emails = MaildirSource(maildir, "maildir:x").fetch_new(set()).emails
    emails[13] = Email(**{**emails[13].__dict__, "key": "die"})
    batches = [emails[:20], emails[20:]]
    rules = functools.partial(_dies_in_a_worker, os.getpid())
    found = list(rules_in_batches(rules, batches, messages=10**6))
    assert [batch for batch, _ in found] == batches
    assert [answers for _, answers in found] == [[rules(e) for e in b] for b in batches]


async def test_the_freed_memory_goes_back_once_the_run_s_conversations_are_let_go(
    tmp_path: Path, demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # After a first triage they are a whole inbox's; what follows should not grow on top.
    events: list[str] = []
    made, cited = classify_module.conversations_of_new_mail, classify_module.state_ref

    def conversations(*args: Any, **kwargs: Any) -> Any:
        events.append("conversations")
        return made(*args, **kwargs)

    def ref(state: Any) -> Any:
        events.append("ref")
        return cited(state)

    monkeypatch.setattr(classify_module, "conversations_of_new_mail", conversations)
    monkeypatch.setattr(classify_module, "state_ref", ref)
    monkeypatch.setattr(classify_module, "give_back_freed_memory", lambda: events.append("trim"))
    await _triage(tmp_path / "home", demo)
    assert events[0] == "conversations" and "ref" in events
    assert events[-1] == "trim" and events.count("trim") == 1
