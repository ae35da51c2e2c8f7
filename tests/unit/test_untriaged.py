"""`memory.untriaged.has_untriaged` says what `AppDatabase.untriaged_ids` says, in every case."""

from __future__ import annotations

from pathlib import Path

from memory.db import AppDatabase, open_database
from memory.mail_tables import TriageRecord
from memory.untriaged import has_untriaged
from tools.mail.model import Email


def _email(id_: str, folder: str = "INBOX", source: str = "maildir:/m") -> Email:
    return Email(id=id_, source=source, folder=folder, key=id_, subject=id_, body="x")


def _agree(db: AppDatabase, source: str) -> bool:
    answer = has_untriaged(db.engine, source)
    assert answer == bool(db.untriaged_ids(source)), source
    return answer


def test_it_answers_as_the_list_of_untriaged_ids_does(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'app.db'}")
    assert not _agree(db, "maildir:/m"), "an empty cache"
    # The user's own mail (drafts, sent, trash) and another source's mail never count.
    db.add_emails(
        [
            _email("d", "Drafts"),
            _email("s", "Sent"),
            _email("t", "Trash"),
            _email("o", source="maildir:/other"),
        ]
    )
    assert not _agree(db, "maildir:/m")
    assert _agree(db, "maildir:/other")
    db.add_emails([_email("new")])
    assert _agree(db, "maildir:/m")
    db.save_triage(
        [TriageRecord(email_id="new", priority="low", category="other", action="none", reason="")]
    )
    assert not _agree(db, "maildir:/m"), "once triaged, nothing waits"
