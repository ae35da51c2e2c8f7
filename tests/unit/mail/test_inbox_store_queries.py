"""The lookups every chat turn makes: due snoozes, and a search result's triage and folders.

Each answer is compared with the broader query it stands for (`snoozes`, `triage_for`,
`away_ids`), including the cases a shortcut could get wrong: a folder only the journal names,
an undone move, another source's mail, a snooze not due yet or already woken.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from memory.db import AppDatabase
from memory.inbox_store import InboxStore, TriageView
from memory.mail_model import Email
from memory.mail_tables import TriageRecord
from tools.mail.mailbox import MailboxEnv
from tools.mail.message_refs import render_refs, with_triage

SOURCE = "maildir:inbox"
OTHER_SOURCE = "maildir:other"
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> AppDatabase:
    return AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")


def _email(n: int, folder: str, source: str = SOURCE) -> Email:
    return Email(
        id=f"m{n}@acme.example",
        source=source,
        folder=folder,
        key=f"key-{n}",
        from_addr="bob@acme.example",
        subject=f"Subject {n}",
        body=f"Body {n}",
    )


def _triage(email_id: str, *, suspicious: str = "") -> TriageRecord:
    return TriageRecord(
        email_id=email_id,
        priority="high",
        category="billing",
        action="reply",
        reason="an invoice",
        suspicious=suspicious,
    )


def _answer_of_the_broad_queries(
    db: AppDatabase, ids: list[str]
) -> tuple[dict[str, TriageView], set[str]]:
    triage = {
        i: TriageView(r.priority, r.category, r.action, r.reason, r.suspicious)
        for i, r in db.triage_for(ids).items()
    }
    return triage, InboxStore(db).away_ids(SOURCE) & set(ids)


def test_triage_and_away_says_what_the_broad_queries_say(db: AppDatabase) -> None:
    emails = db.add_emails(
        [
            _email(1, "INBOX"),
            _email(2, "Archive"),
            _email(3, "Projects"),  # moved there by an action: the journal names the folder
            _email(4, "Receipts"),  # filed there by the user's own client: no action did it
            _email(5, "Archive", OTHER_SOURCE),  # another source's archive
            _email(6, "Later"),  # moved there, then the move was undone (the file stayed)
        ]
    )
    ids = [e.id for e in emails]
    db.save_triage([_triage(ids[0]), _triage(ids[2], suspicious="a lookalike domain")])
    store = InboxStore(db)
    store.record("t", "move_to_folder", SOURCE, [{"id": ids[2], "from": "INBOX", "to": "Projects"}])
    undone = store.record("t", "move_to_folder", SOURCE, [{"id": ids[5], "to": "Later"}])
    store.mark_undone(undone.id)

    triage, away = store.triage_and_away(SOURCE, ids)

    assert (triage, away) == _answer_of_the_broad_queries(db, ids)
    assert away == {ids[1], ids[2]}
    assert set(triage) == {ids[0], ids[2]}
    assert triage[ids[2]].suspicious == "a lookalike domain"


def test_a_folder_only_the_journal_names_is_found_without_an_away_folder_beside_it(
    db: AppDatabase,
) -> None:
    """The journal is asked when a message sits outside the inbox and the known away folders."""
    (email,) = db.add_emails([_email(1, "Projects")])
    store = InboxStore(db)
    assert store.triage_and_away(SOURCE, [email.id]) == ({}, set())
    store.record("t", "archive_conversations", SOURCE, [{"id": email.id, "to": "Projects"}])
    assert store.triage_and_away(SOURCE, [email.id]) == ({}, {email.id})


def test_nothing_asked_nothing_found(db: AppDatabase) -> None:
    db.add_emails([_email(1, "Archive")])
    assert InboxStore(db).triage_and_away(SOURCE, []) == ({}, set())
    assert InboxStore(db).triage_and_away(SOURCE, ["not-cached@acme.example"]) == ({}, set())


def test_search_results_show_their_triage_and_where_moved_mail_is(db: AppDatabase) -> None:
    emails = db.add_emails([_email(1, "INBOX"), _email(2, "Trash")])
    db.save_triage([_triage(emails[0].id)])
    env = MailboxEnv(db=db, source=SOURCE)

    refs = with_triage(env, emails, full=False)

    assert refs[0]["priority"] == "high" and "folder" not in refs[0]
    assert refs[1]["folder"] == "Trash" and "priority" not in refs[1]
    text = render_refs(refs, full=False)
    assert "triage: high / billing / reply — an invoice" in text
    assert "folder: Trash (out of the inbox)" in text


def test_due_is_what_the_full_listing_says_is_due(db: AppDatabase) -> None:
    store = InboxStore(db)
    late = store.snooze(SOURCE, ["a"], NOW - timedelta(hours=1))
    soon = store.snooze(SOURCE, ["b"], NOW - timedelta(hours=2))
    exactly = store.snooze(SOURCE, ["c"], NOW)
    store.snooze(SOURCE, ["d"], NOW + timedelta(seconds=1))  # not yet
    store.snooze(OTHER_SOURCE, ["e"], NOW - timedelta(days=1))  # another source
    woken = store.snooze(SOURCE, ["f"], NOW - timedelta(days=2))
    store.set_state(woken.id, "woken", at=NOW)
    cancelled = store.snooze(SOURCE, ["g"], NOW - timedelta(days=3))
    store.set_state(cancelled.id, "cancelled")

    due = store.due(SOURCE, NOW)

    assert due == [soon, late, exactly]
    listed = [s for s in store.snoozes(SOURCE) if s.wake_at <= NOW.isoformat()]
    assert due == listed
    assert store.due(SOURCE, NOW - timedelta(days=4)) == []


def test_due_compares_times_in_utc_whatever_the_offset(db: AppDatabase) -> None:
    store = InboxStore(db)
    snooze = store.snooze(SOURCE, ["a"], NOW)
    # 11:30 an hour west of UTC is 12:30 UTC: due, though "11:30" sorts before "12:00".
    an_hour_west = datetime(2026, 12, 3, 11, 30, tzinfo=timezone(timedelta(hours=-1)))
    assert store.due(SOURCE, an_hour_west) == [snooze]
    with pytest.raises(ValueError, match="ambiguous"):
        store.due(SOURCE, datetime(2026, 12, 3, 12, 0))  # noqa: DTZ001
