"""Every hostile shape, parsed, goes into the mail cache and comes back unchanged.

On SQLite and on PostgreSQL, which refuses NUL characters in text: a header that carried one
must not cost the whole fetch its transaction.
"""

from __future__ import annotations

import pytest

from memory.db import AppDatabase
from tests.conftest import Backend
from tests.hostile_mime import SHAPES
from tools.mail.mime import parse_email

pytestmark = pytest.mark.integration


def test_every_hostile_shape_is_cached_and_read_back(backend: Backend) -> None:
    emails = [
        parse_email(
            shape.build().replace(b"hostile@evil.example", f"h{n}@evil.example".encode()),
            source="maildir:hostile",
            folder="INBOX",
            key=f"k{n}",
        )
        for n, shape in enumerate(SHAPES)
    ]
    db = AppDatabase(backend.config.app_url)
    try:
        stored = db.add_emails(emails)
        assert [e.id for e in stored] == [e.id for e in emails], "no two shapes share an id"
        for email in emails:
            assert db.get_email(email.id) == email
        assert len(db.untriaged_ids("maildir:hostile")) == len(SHAPES)
    finally:
        db.engine.dispose()
