"""Incremental fetch of a source into the mail cache, with a cursor per source.

The cursor is the source's cheap signature (directory mtimes for a Maildir): when it has not
changed, nothing is listed or read; otherwise only messages whose keys are new are read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from memory.db import AppDatabase
from tools.mail.model import Email
from tools.mail.sources import parse_source_spec

logger = logging.getLogger(__name__)


@dataclass
class SyncResult:
    """What one fetch of a source brought in."""

    source: str
    new: list[Email] = field(default_factory=list)
    read_count: int = 0
    """Message files opened by this fetch (0 for an unchanged mailbox)."""
    skipped: bool = False
    """True when the cursor showed the source unchanged, so nothing was even listed."""

    @property
    def errors(self) -> list[Email]:
        """New messages that could not be read."""
        return [e for e in self.new if e.error]


def canonical_spec(spec: str) -> str:
    """The spec with its path made absolute, so one mailbox has one cursor whatever the cwd.

    An `mcp:` spec is checked and kept as it is (its server is named, not located).
    """
    if spec.strip().lower().startswith("mcp:"):
        from tools.mail.mcp_source import parse_mcp_spec

        return parse_mcp_spec(spec).source
    source = parse_source_spec(spec)
    return f"maildir:{source.path.resolve()}"


def sync_source(db: AppDatabase, spec: str) -> SyncResult:
    """Fetch what is new in `spec` into the cache; raises `MailSourceError` if it cannot be read."""
    source = parse_source_spec(spec)
    signature = source.signature()
    cursor = db.get_cursor(spec)
    if cursor is not None and cursor.signature == signature:
        return SyncResult(source=spec, skipped=True)
    fetched = source.fetch_new(db.known_keys(spec))
    db.add_emails(fetched.emails)
    db.set_cursor(spec, signature, len(fetched.seen_keys))
    if fetched.emails:
        logger.info("fetched %d new message(s) from %s", len(fetched.emails), spec)
    return SyncResult(source=spec, new=list(fetched.emails), read_count=fetched.read_count)
