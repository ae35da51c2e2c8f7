"""The whole inbox's list as small messages and compact triage rows (`memory.mail_listing`), and
the triage command writing it row by row (`ui.cli.triage.write_json`, `InboxRows`)."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path

import pytest

from memory.db import AppDatabase
from memory.mail_listing import (
    CompactTriage,
    Shared,
    inbox_order,
    listed_by_ids,
    listed_email,
    triaged_listing,
)
from memory.mail_model import Attachment, Email
from memory.mail_rows import email_json
from memory.mail_tables import TriageRecord
from ui.cli.triage import InboxRows, write_json

SOURCE = "maildir:/inbox"


def full_email(n: int, **fields: object) -> Email:
    values: dict[str, object] = {
        "id": f"m{n}@example.com",
        "source": SOURCE,
        "folder": "INBOX",
        "key": f"key-{n}",
        "from_name": "Dana",
        "from_addr": "dana@example.com",
        "to": ("me@example.com",),
        "cc": ("ops@example.com",),
        "reply_to": "desk@example.com",
        "subject": f"Subject {n % 3}",
        "date": f"2026-11-{1 + n % 28:02d}T09:00:00+00:00",
        "in_reply_to": "parent@example.com",
        "references": ("root@example.com", "parent@example.com"),
        "headers": {"List-Id": "<ops.example.com>"},
        "body": "the body, which no list shows",
        "attachments": (Attachment("a.pdf", "application/pdf", 10),),
        "size": 1234,
        "message_id": f"m{n}@example.com",
        "digest": "ab" * 16,
        "thread_id": "",
        "account": "",
    }
    values.update(fields)
    return Email(**values)  # type: ignore[arg-type]


def record(email_id: str, priority: str = "normal", **fields: object) -> TriageRecord:
    values: dict[str, object] = {
        "email_id": email_id,
        "priority": priority,
        "category": "other",
        "action": "read",
        "reason": "a reason many rows share",
        "decision": "notify",
    }
    values.update(fields)
    return TriageRecord(**values)  # type: ignore[arg-type]


def test_a_listed_message_keeps_what_the_lists_read_and_nothing_else() -> None:
    email = full_email(1, error="")
    listed = listed_email(email_json(email), Shared())
    assert listed == replace(
        email, key="", headers={}, body="", attachments=(), size=0, body_is_empty=False
    )
    assert listed.message_id is listed.id, "one object when the Message-ID is the id"


def test_listed_messages_share_one_empty_headers_map() -> None:
    shared = Shared()
    first, second = (listed_email(email_json(full_email(n)), shared) for n in (1, 2))
    assert first.headers == {} and first.headers is second.headers


def test_a_message_cached_before_message_ids_were_kept_gets_its_id_as_one() -> None:
    data = json.loads(email_json(full_email(2)))
    del data["message_id"]
    assert listed_email(json.dumps(data), Shared()).message_id == "m2@example.com"
    data["id"] = "sha256:" + "0" * 64  # a message that had no Message-ID has none still
    assert listed_email(json.dumps(data), Shared()).message_id == ""


def test_repeated_text_is_held_once_across_messages() -> None:
    shared = Shared()
    first = listed_email(email_json(full_email(1)), shared)
    second = listed_email(email_json(full_email(4)), shared)
    assert first.from_addr is second.from_addr and first.to[0] is second.to[0]
    assert first.subject is second.subject, "subject 1 of both"
    assert first.id is not second.id and first.id != second.id


def test_compact_triage_makes_the_record_it_was_given() -> None:
    saved = record("a@x", "high", suspicious="asks for a wire transfer", unsure=True)
    triage = CompactTriage()
    triage.add_record(saved)
    assert "a@x" in triage and "b@x" not in triage and len(triage) == 1
    assert list(triage) == ["a@x"]
    made = triage["a@x"]
    assert isinstance(made, TriageRecord) and made.as_dict() == saved.as_dict()
    assert made.created_at == saved.created_at
    assert triage.get("b@x") is None
    with pytest.raises(KeyError):
        triage["b@x"]


@pytest.fixture
def db(tmp_path: Path) -> AppDatabase:
    database = AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")
    emails = [full_email(n, key=f"k{n}") for n in range(12)]
    emails.append(full_email(99, id="same-date@x", message_id="same-date@x", date=emails[0].date))
    database.add_emails(emails)
    priorities = ["high", "low", "normal", "unknown"]
    database.save_triage(
        record(e.id, priorities[n % 4], category=["billing", "other"][n % 2])
        for n, e in enumerate(emails)
        if n != 5  # one message not triaged yet
    )
    return database


def test_the_whole_inbox_lists_in_the_order_the_triage_list_gives(db: AppDatabase) -> None:
    emails, triage = triaged_listing(db.engine, SOURCE)
    inbox_order(emails, triage)
    before = db.triaged_emails(SOURCE, bodies=False)
    assert [e.id for e in emails] == [e.id for e, _ in before]
    assert "m5@example.com" not in triage, "untriaged mail is not listed"
    for email, saved in before:
        assert triage[email.id].as_dict() == saved.as_dict()
        assert replace(email, key="", attachments=(), size=0) == next(
            e for e in emails if e.id == email.id
        )


def test_listing_some_ids_leaves_out_the_gone_and_the_untriaged(db: AppDatabase) -> None:
    wanted = ["m3@example.com", "gone@x", "m5@example.com", "m3@example.com", "m7@example.com"]
    emails, triage = triaged_listing(db.engine, SOURCE, wanted)
    assert sorted(e.id for e in emails) == ["m3@example.com", "m7@example.com"]
    assert sorted(triage) == ["m3@example.com", "m7@example.com"]
    by_ids = listed_by_ids(db.engine, wanted)
    assert sorted(e.id for e in by_ids) == ["m3@example.com", "m5@example.com", "m7@example.com"]


def test_listing_some_ids_leaves_out_the_mail_of_another_source(db: AppDatabase) -> None:
    other = full_email(50, source="maildir:/other", key="k50")
    db.add_emails([other])
    db.save_triage([record(other.id)])
    emails, triage = triaged_listing(db.engine, SOURCE, ["m3@example.com", other.id])
    assert [e.id for e in emails] == ["m3@example.com"]
    assert sorted(triage) == ["m3@example.com"]
    emails, _ = triaged_listing(db.engine, "maildir:/other", ["m3@example.com", other.id])
    assert [e.id for e in emails] == [other.id]


def test_the_listed_ids_are_the_strings_the_caller_asked_with(db: AppDatabase) -> None:
    # A triage run holds every new message's id while it lists them: not a second copy.
    wanted = ["".join(["m", "3@example.com"]), "".join(["m", "7@example.com"])]
    emails, _ = triaged_listing(db.engine, SOURCE, wanted)
    assert sorted(map(id, (e.id for e in emails))) == sorted(map(id, wanted))
    by_ids = listed_by_ids(db.engine, wanted)
    assert sorted(map(id, (e.id for e in by_ids))) == sorted(map(id, wanted))


@pytest.mark.parametrize(
    "rows",
    [
        [],
        [{"id": "a", "people": [], "nested": {"empty": {}, "list": [1, [2, {}]]}}],
        [
            {"subject": "two\nlines and  spaces", "from": 'Zoë «quoted» \\ "x"'},
            {"subject": "\u2028 and a tab\t", "people": ["me", "Dana"], "unsure": True},
        ],
    ],
)
def test_rows_written_one_at_a_time_read_as_json_dump_writes_them(rows: list[dict]) -> None:
    out = io.StringIO()
    write_json(iter(rows), out)
    expected = io.StringIO()
    json.dump(rows, expected, ensure_ascii=False, indent=2)
    assert out.getvalue() == expected.getvalue() + "\n"


def test_inbox_rows_make_each_row_when_it_is_read() -> None:
    made: list[int] = []

    def make(item: tuple[Email, int]) -> dict[str, object]:
        made.append(item[1])
        return {"n": item[1]}

    items = [(full_email(n, account="work" if n == 2 else ""), n) for n in range(4)]
    rows = InboxRows(items, make)
    assert made == [] and len(rows) == 4 and rows.accounts
    assert rows[1] == {"n": 1} and rows[-1] == {"n": 3} and rows[1:3] == [{"n": 1}, {"n": 2}]
    assert [r["n"] for r in rows] == [0, 1, 2, 3]
    assert not InboxRows(items[:2], make).accounts
