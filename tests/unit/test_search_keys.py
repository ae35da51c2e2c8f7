"""SQLite's search index is keyed by date: `day << 32 | rowid`, kept by the triggers and step 13.

Both of its tables (`HEAD` and `BODY`) hold every message under the same key; step 14 turns
the one table of steps 11-13 into the two.

Each test reads the keys FTS5 holds for a word and compares them with the keys the rows of
`email` should have now, so an entry left under an old key (a date changed, a row deleted,
rowids moved by `VACUUM`) or a key computed differently on one path shows.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from memory.db import AppDatabase
from memory.mail_model import Email
from memory.migrations import STEPS, applied_versions, latest_version, migrate
from memory.search_rank import day_number
from memory.search_sqlite_index import (
    BODY,
    HEAD,
    KEY_SHIFT,
    TABLES,
    TOO_HIGH,
    TRIGGERS,
    day_keys,
    key,
    rebuild_index,
)
from tests.search_corpus import SOURCE, TODAY
from tests.search_entries import assert_index_exact

DATES = {
    "tie-1": "2026-11-20T08:00:00+00:00",
    "tie-2": "2026-11-20T17:30:00+01:00",
    "undated": "",
    "unreadable": "sometime in May",
    "month-13": "2026-13-02T09:00:00+00:00",
    "day-45": "2026-06-45T09:00:00+00:00",
}


def message(name: str, date: str, word: str = "kestrel") -> Email:
    return Email(
        id=name, source=SOURCE, folder="INBOX", key=name, subject=f"{word} {name}", date=date
    )


def found(db: AppDatabase, query: str) -> list[str]:
    return [e.id for e in db.list_emails(source=SOURCE, query=query, limit=50, today=TODAY)]


def keys(path: Path, word: str = "kestrel") -> list[int]:
    """The keys of the messages with `word` in the subject."""
    with sqlite3.connect(path) as raw:
        rows = raw.execute(f"SELECT rowid FROM {HEAD} WHERE {HEAD} MATCH ?", (word,))
        return sorted(row[0] for row in rows)


def every_key(path: Path) -> list[int]:
    """The keys of every entry, the same in both tables (each keeps one size row per entry)."""
    with sqlite3.connect(path) as raw:
        head, body = (
            sorted(row[0] for row in raw.execute(f"SELECT id FROM {table}_docsize"))
            for table in (HEAD, BODY)
        )
    assert head == body
    return head


def expected(path: Path, word: str = "kestrel") -> list[int]:
    """The keys the rows with `word` in the subject should have, computed here in Python."""
    with sqlite3.connect(path) as raw:
        rows = raw.execute("SELECT rowid, date FROM email WHERE subject LIKE ?", (f"%{word}%",))
        return sorted(_day(date) << KEY_SHIFT | rowid for rowid, date in rows)


def _day(date: str) -> int:
    head = date[:10]
    if len(head) < 10 or not (head[:4] + head[5:7] + head[8:10]).isdigit() or head[4::3] != "--":
        return 0
    return int(head[:4]) * 372 + int(head[5:7]) * 31 + int(head[8:10])


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "app.db"


@pytest.fixture
def db(path: Path) -> AppDatabase:
    return AppDatabase(f"sqlite:///{path}")


def test_every_message_has_the_key_of_its_day_and_rowid(db: AppDatabase, path: Path) -> None:
    db.add_emails([message(name, date) for name, date in DATES.items()])  # one bulk write
    db.add_emails([message("single", "2026-11-21T00:00:00+00:00")])
    held = keys(path)
    assert held == expected(path) == every_key(path) and len(held) == len(DATES) + 1
    assert sorted(found(db, "kestrel")) == sorted([*DATES, "single"])
    # Two messages of one day get two keys in that day's range; undated ones sort first.
    first, last = day_keys(day_number(TODAY.replace(day=20, month=11)), None)
    ties = [key for key in held if key >> KEY_SHIFT == _day(DATES["tie-1"])]
    assert len(ties) == 2 and all(first <= key <= last for key in ties)
    assert sum(key >> KEY_SHIFT == 0 for key in held) == 2  # no date, an unreadable one


def test_a_new_date_moves_the_key_and_a_delete_removes_it(db: AppDatabase, path: Path) -> None:
    db.add_emails([message(name, date) for name, date in DATES.items()])
    moved = message("tie-1", "2025-01-03T10:00:00+00:00")
    db.add_emails([moved])
    assert keys(path) == expected(path)
    assert found(db, "kestrel before:2025-02-01") == ["tie-1", "undated"]  # '' sorts first
    assert "tie-1" not in found(db, "kestrel after:2026-11-01")
    db.add_emails([replace(moved, subject="osprey", date="")])  # new words and no date
    assert keys(path) == expected(path) and keys(path, "osprey") == expected(path, "osprey")
    with sqlite3.connect(path) as raw:
        raw.execute("DELETE FROM email WHERE id IN ('tie-2', 'month-13')")
    assert keys(path) == expected(path) and len(keys(path)) == len(DATES) - 3
    assert every_key(path) == expected(path, "")
    assert found(db, "osprey") == ["tie-1"]


@pytest.mark.parametrize(
    ("date", "query"),
    [
        # Its text is after 2026-12-31, its day number (month 0) before that day's.
        ("2027-00-05T09:00:00+00:00", "kestrel after:2026-12-31"),
        # Its text is before 2026-06-10, its day number (day 99) after that day's.
        ("2026-05-99T09:00:00+00:00", "kestrel before:2026-06-10"),
        # Unreadable: key of day 0, text after any date.
        ("sometime in May", "kestrel after:2026-12-31"),
    ],
)
@pytest.mark.parametrize("plain", [0, 30])
def test_a_date_whose_text_and_key_sort_apart_is_found_by_its_text(
    db: AppDatabase, date: str, query: str, plain: int
) -> None:
    """`after:`/`before:` compare the text, whatever window of keys the walk reads."""
    others = [message(f"plain-{n}", f"2026-03-{n % 28 + 1:02d}T09:00") for n in range(plain)]
    db.add_emails([message("odd", date), *others])
    assert "odd" in found(db, query)


def test_after_vacuum_a_rebuild_gives_the_keys_of_the_rowids_then(
    db: AppDatabase, path: Path
) -> None:
    db.add_emails([message(name, date) for name, date in DATES.items()])
    with sqlite3.connect(path) as raw:
        raw.execute("DELETE FROM email WHERE id = 'tie-1'")
        raw.commit()
        raw.execute("VACUUM")
    with db.engine.begin() as conn:
        rebuild_index(conn)
    assert keys(path) == expected(path) == every_key(path)
    assert sorted(found(db, "kestrel")) == sorted(set(DATES) - {"tie-1"})


def test_a_database_of_step_12_gets_date_keys_when_opened(path: Path) -> None:
    engine = create_engine(f"sqlite:///{path}")
    migrate(engine, STEPS[:12])
    engine.dispose()
    with sqlite3.connect(path) as raw:
        for name, body in TRIGGERS.items():
            raw.execute(f"DROP TRIGGER email_fts_{name}")  # step 12's, keyed by rowid:
            body = body.replace(key("new"), "new.rowid").replace(key("old"), "old.rowid")
            raw.execute(f"CREATE TRIGGER email_fts_{name} {body}")
        for name, date in DATES.items():
            raw.execute(
                "INSERT INTO email (source, key, id, base_id, digest, folder, from_addr, "
                "from_name, subject, date, body, error, data, fetched_at) VALUES (?, ?, ?, ?, "
                "'', 'INBOX', '', '', ?, ?, '', '', ?, '')",
                (SOURCE, name, name, name, f"kestrel {name}", date,
                 json.dumps(message(name, date).to_dict())),
            )  # fmt: skip
    assert keys(path) == sorted(range(1, len(DATES) + 1))
    db = AppDatabase(f"sqlite:///{path}")
    assert applied_versions(db.engine)[-1] == latest_version() >= 13
    assert keys(path) == expected(path) == every_key(path)
    assert sorted(found(db, "kestrel")) == sorted(DATES)
    db.add_emails([message("day-45", "2026-11-30T09:00:00+00:00")])  # the new triggers
    with sqlite3.connect(path) as raw:
        raw.execute("DELETE FROM email WHERE id = 'undated'")
    assert keys(path) == expected(path) == every_key(path) and len(keys(path)) == len(DATES) - 1


def test_step_13_leaves_an_index_with_date_keys_alone(db: AppDatabase, path: Path) -> None:
    db.add_emails([message(name, date) for name, date in DATES.items()])
    with sqlite3.connect(path) as raw:
        raw.execute(f"INSERT INTO {HEAD}(rowid, subject) VALUES (7, 'marker')")
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        STEPS[12].apply(conn)
    engine.dispose()
    assert keys(path, "marker") == [7]  # not rebuilt: the insert trigger writes date keys


def _step_13_layout(raw: sqlite3.Connection) -> None:
    """The index as steps 11-13 made it: one table `email_fts` of four columns, its triggers."""
    columns = ", ".join(c for _, names, _ in TABLES for c in names)
    values = {
        row: ", ".join(e.format(r=row) for _, _, exprs in TABLES for e in exprs)
        for row in ("new", "old", "email")
    }
    add = f"INSERT INTO email_fts(rowid, {columns}) VALUES ({key('new')}, {values['new']});"
    remove = (
        f"INSERT INTO email_fts(email_fts, rowid, {columns}) "
        f"VALUES ('delete', {key('old')}, {values['old']});"
    )
    refuse = f"SELECT RAISE(ABORT, '{TOO_HIGH}') WHERE new.rowid > {(1 << KEY_SHIFT) - 1};"
    for name in TRIGGERS:
        raw.execute(f"DROP TRIGGER email_fts_{name}")
    raw.execute(f"DROP TABLE {HEAD}")
    raw.execute(f"DROP TABLE {BODY}")
    raw.execute(
        f"CREATE VIRTUAL TABLE email_fts USING fts5({columns}, content='', "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    raw.execute(f"CREATE TRIGGER email_fts_insert AFTER INSERT ON email BEGIN {refuse} {add} END")
    raw.execute(f"CREATE TRIGGER email_fts_delete AFTER DELETE ON email BEGIN {remove} END")
    raw.execute(
        f"CREATE TRIGGER email_fts_update AFTER UPDATE ON email BEGIN {refuse} {remove} {add} END"
    )
    raw.execute(f"INSERT INTO email_fts(rowid, {columns}) SELECT {key('email')}, "
                f"{values['email']} FROM email")  # fmt: skip


def test_a_database_of_step_13_gets_two_tables_when_opened(path: Path) -> None:
    engine = create_engine(f"sqlite:///{path}")
    migrate(engine, STEPS[:13])
    engine.dispose()
    with sqlite3.connect(path) as raw:
        raw.execute("DELETE FROM schema_version WHERE version > 13")
    AppDatabase(f"sqlite:///{path}").engine.dispose()  # nothing to do yet: at step 14 already
    with sqlite3.connect(path) as raw:
        raw.execute("DELETE FROM schema_version WHERE version >= 14")
        _step_13_layout(raw)
        for name, date in DATES.items():
            raw.execute(
                "INSERT INTO email (source, key, id, base_id, digest, folder, from_addr, "
                "from_name, subject, date, body, error, data, fetched_at) VALUES (?, ?, ?, ?, "
                "'', 'INBOX', 'x@osprey.example', '', ?, ?, ?, '', ?, '')",
                (SOURCE, name, name, name, f"kestrel {name}", date, f"harrier {name}",
                 json.dumps(message(name, date).to_dict())),
            )  # fmt: skip
        raw.execute("UPDATE email SET body = 'falcon' WHERE id = 'tie-2'")  # the old triggers
        raw.execute("DELETE FROM email WHERE id = 'day-45'")
        old = raw.execute("SELECT count(*) FROM email_fts WHERE email_fts MATCH 'harrier'")
        assert old.fetchone() == (len(DATES) - 2,)
    db = AppDatabase(f"sqlite:///{path}")
    assert applied_versions(db.engine)[-1] == latest_version() >= 14
    with sqlite3.connect(path) as raw:
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
        assert "email_fts" not in tables and {HEAD, BODY} <= tables
    assert keys(path) == expected(path) == every_key(path) and len(keys(path)) == len(DATES) - 1
    assert sorted(found(db, "harrier")) == sorted(set(DATES) - {"tie-2", "day-45"})
    assert found(db, "falcon") == ["tie-2"] and found(db, "from:harrier") == []
    assert len(found(db, "from:osprey kestrel")) == len(DATES) - 1
    # The new triggers: a change and a removal leave nothing behind in either table.
    db.add_emails([replace(message("tie-1", DATES["tie-1"], "merlin"), body="hobby")])
    with sqlite3.connect(path) as raw:
        raw.execute("DELETE FROM email WHERE id = 'undated'")
    gone = {"tie-1", "tie-2", "day-45", "undated"}
    assert sorted(found(db, "harrier")) == sorted(set(DATES) - gone)
    assert found(db, "hobby merlin") == ["tie-1"] and "tie-1" not in found(db, "kestrel")
    assert every_key(path) == expected(path, "") and len(every_key(path)) == len(DATES) - 2
    assert_index_exact(path)
    with db.engine.begin() as conn:  # step 14 again: nothing changes
        STEPS[13].apply(conn)
    assert_index_exact(path)
    assert every_key(path) == expected(path, "")


def test_a_rowid_too_high_for_a_key_is_refused(db: AppDatabase, path: Path) -> None:
    """SQLite never numbers a row so; a row written with one would share another's key."""
    db.add_emails([message("tie-1", DATES["tie-1"])])
    with sqlite3.connect(path) as raw, pytest.raises(sqlite3.IntegrityError, match="2\\*\\*32"):
        raw.execute(
            "INSERT INTO email (rowid, source, key, id, base_id, digest, folder, from_addr, "
            "from_name, subject, date, body, error, data, fetched_at) SELECT ?, source, 'k2', "
            "'big', base_id, digest, folder, from_addr, from_name, subject, date, body, error, "
            "data, fetched_at FROM email",
            ((1 << KEY_SHIFT) + 1,),
        )
    with sqlite3.connect(path) as raw, pytest.raises(sqlite3.IntegrityError, match="2\\*\\*32"):
        raw.execute("UPDATE email SET rowid = ?", ((1 << KEY_SHIFT) + 1,))
    held = keys(path)
    with sqlite3.connect(path) as raw:
        raw.execute("DROP TRIGGER email_fts_update")  # written behind the triggers' back
        raw.execute("UPDATE email SET rowid = ?", ((1 << KEY_SHIFT) + 1,))
    with pytest.raises(RuntimeError, match="2\\*\\*32"), db.engine.begin() as conn:
        rebuild_index(conn)
    assert keys(path) == held and len(held) == 1  # left as it was
