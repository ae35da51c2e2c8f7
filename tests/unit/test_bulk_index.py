"""A large cache write indexed for search in one statement finds what the per-row trigger finds."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from bench.mailgen import generate_maildir
from memory import db as db_module
from memory.db import BULK_INDEX_FROM, AppDatabase
from tools.mail.maildir import MaildirSource
from tools.mail.model import Email

WORDS = ("invoice", "meeting", "outage", "newsletter", "renewal", "Grüße", "deploy", "pdf")


@pytest.fixture(scope="module")
def mail(tmp_path_factory: pytest.TempPathFactory) -> list[Email]:
    root = tmp_path_factory.mktemp("mail") / "Maildir"
    generate_maildir(root, BULK_INDEX_FROM + 60, seed=9)
    return MaildirSource(root, "maildir:bulk").fetch_new(set()).emails


def _found(db: AppDatabase) -> dict[str, list[str]]:
    return {w: sorted(e.id for e in db.list_emails(query=w, limit=10_000)) for w in WORDS}


def _rowids(path: Path) -> list[tuple[int, str, str]]:
    with sqlite3.connect(path) as raw:
        return list(raw.execute("SELECT rowid, key, id FROM email ORDER BY rowid"))


def _triggers(path: Path) -> list[str]:
    with sqlite3.connect(path) as raw:
        rows = raw.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
        return [name for (name,) in rows]


def test_one_statement_indexes_as_the_trigger_does(
    mail: list[Email], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bulk = AppDatabase(f"sqlite:///{tmp_path / 'bulk.db'}")
    bulk.add_emails(mail[:30])  # row by row: the fast path must index only what it adds
    bulk.add_emails(mail[30:])
    changed = [replace(e, subject="renewal notice", body="renewal") for e in mail[:40]]
    bulk.add_emails([*changed, *mail[40:]])  # a large write replacing rows: the update trigger
    monkeypatch.setattr(db_module, "BULK_INDEX_FROM", 10**9)
    rows = AppDatabase(f"sqlite:///{tmp_path / 'rows.db'}")
    rows.add_emails(mail[:30])
    rows.add_emails(mail[30:])
    rows.add_emails([*changed, *mail[40:]])
    expected = _found(rows)
    assert sum(map(len, expected.values())) > 100 and len(expected["renewal"]) >= 40
    assert _found(bulk) == expected
    # New rows inserted apart from the replaced ones get the rowids (and index keys) an
    # upsert of them all gives.
    assert _rowids(tmp_path / "bulk.db") == _rowids(tmp_path / "rows.db")
    assert _triggers(tmp_path / "bulk.db") == _triggers(tmp_path / "rows.db")
    assert len(_triggers(tmp_path / "bulk.db")) == 3
    bulk.engine.dispose()
    rows.engine.dispose()


def test_a_failed_large_write_leaves_the_trigger_and_no_rows(
    mail: list[Email], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk-around: the write fails after the trigger was dropped; all of it rolls back."""
    db = AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")

    def fails(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(db_module, "_upsert", fails)
    with pytest.raises(OSError, match="disk full"):
        db.add_emails(mail)
    monkeypatch.undo()
    assert len(_triggers(tmp_path / "app.db")) == 3
    assert db.known_keys("maildir:bulk") == set()
    db.add_emails(mail[:1])  # one row, by the trigger
    assert db.list_emails(query=mail[0].subject.split()[0], limit=500)
    db.engine.dispose()
