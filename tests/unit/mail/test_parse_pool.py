"""A first fetch parsed by a pool of processes gives what the one-by-one fetch gives."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from bench.mailgen import generate_maildir
from memory.db import AppDatabase
from memory.mail_rows import email_row
from memory.mail_tables import StoredEmail
from tests.hostile_mime import SHAPES
from tools.mail import parse_pool
from tools.mail.maildir import MaildirSource
from tools.mail.model import Email
from tools.mail.parse_pool import can_parse_in_parallel, parse_batch

pytestmark = pytest.mark.skipif(not can_parse_in_parallel(), reason="one core or no fork")


@pytest.fixture
def mailbox(tmp_path: Path) -> Path:
    root = tmp_path / "Maildir"
    generate_maildir(root, 60, seed=7)
    small = [s for s in SHAPES if "MB" not in s.name and "," not in s.name][:4]
    for number, shape in enumerate(small):
        (root / "cur" / f"hostile{number}:2,S").write_bytes(shape.build())
    return root


def _fetch(root: Path, parallel_from: int) -> tuple[list[Email], int]:
    source = MaildirSource(root, f"maildir:{root}")
    source.parallel_from = parallel_from
    result = source.fetch_new(set())
    return result.emails, result.read_count


def test_the_pool_parses_as_the_single_process_does(mailbox: Path) -> None:
    one_by_one, opened = _fetch(mailbox, parallel_from=10**9)
    pooled, pooled_opened = _fetch(mailbox, parallel_from=1)
    assert len(one_by_one) == 64
    assert [e.to_dict() for e in pooled] == [e.to_dict() for e in one_by_one]
    assert pooled_opened == opened == 64
    assert any(e.error for e in pooled)


def test_a_file_gone_before_the_worker_reads_it_is_left_to_the_caller(mailbox: Path) -> None:
    """The walk-around: a file listed, then renamed (a flag change) before it is read."""
    name = sorted(os.listdir(mailbox / "cur"))[0]
    os.rename(mailbox / "cur" / name, mailbox / "cur" / (name + "F"))
    parsed = parse_batch(str(mailbox), "maildir:x", [("k", "INBOX", f"cur/{name}")])
    assert parsed == [None]
    emails, _ = _fetch(mailbox, parallel_from=1)
    assert len(emails) == 64
    assert not [e for e in emails if e.error == "message file disappeared"]


def test_a_cache_row_names_every_column(tmp_path: Path) -> None:
    """The bulk insert writes dicts: one missing a column would store a default silently."""
    email = Email(id="a@b", source="s", folder="INBOX", key="k", subject="hi")
    row = email_row(email, "a@b", "2026-12-03T10:00:00+00:00")
    assert set(row) == {c.name for c in StoredEmail.__table__.columns}  # type: ignore[attr-defined]
    db = AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")
    try:
        db.add_emails([email])
        stored = db.get_email("a@b")
        assert stored is not None and stored.subject == "hi"
    finally:
        db.engine.dispose()


def _dies_on_the_second_batch(root: str, spec: str, items: list[tuple[str, str, str]]) -> object:
    if any(key == "die" for key, _, _ in items):
        os._exit(9)  # a worker killed mid-fetch (the memory limit, a signal)
    return parse_batch(root, spec, items)


def test_a_worker_killed_mid_fetch_loses_nothing(
    mailbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool breaks; every message not handed back yet is read in this process instead."""
    one_by_one, _ = _fetch(mailbox, parallel_from=10**9)
    monkeypatch.setattr(parse_pool, "BATCH", 20)
    monkeypatch.setattr(parse_pool, "parse_batch", _dies_on_the_second_batch)
    original = MaildirSource._parsed

    def marked(self: MaildirSource, keys: list[str], listing: dict[str, tuple[str, str]]) -> Any:
        # The second batch of twenty holds a key the worker dies on.
        listing = {**listing, "die": listing[keys[25]]}
        keys = [*keys[:25], "die", *keys[25:]]
        for key, email in original(self, keys, listing):
            if key != "die":
                yield key, email

    monkeypatch.setattr(MaildirSource, "_parsed", marked)
    pooled, opened = _fetch(mailbox, parallel_from=1)
    assert [e.to_dict() for e in pooled] == [e.to_dict() for e in one_by_one]
    assert opened >= 64
