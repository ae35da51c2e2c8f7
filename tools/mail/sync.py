"""Incremental fetch of a source into the mail cache, with a cursor per source.

Each source keeps its own cursor: a Maildir its directory mtimes (unchanged means nothing is
listed or read), an IMAP folder its UIDVALIDITY and the highest UID read (only higher UIDs
are read). Either way a message already in the cache is never read again.
"""

from __future__ import annotations

import logging

from memory.db import AppDatabase
from memory.secrets import SecretLookup
from tools.mail.account_list import (
    AccountSpec,
    account_list_spec,
    is_account_list,
    parse_account_list,
)
from tools.mail.gmail.labels import parse_gmail_spec
from tools.mail.maildir import MaildirSource
from tools.mail.mcp_source import parse_mcp_spec
from tools.mail.source_protocol import MailSourceError, SyncResult
from tools.mail.sources import parse_source_spec

logger = logging.getLogger(__name__)

__all__ = ["SyncResult", "canonical_spec", "sync_source"]


def canonical_spec(spec: str) -> str:
    """The spec with its path made absolute, so one mailbox has one cursor whatever the cwd.

    An `mcp:` spec is checked and kept as it is (its server is named, not located), a
    `gmail:` spec is checked and kept (its account is named); an
    `imap://` spec is checked and written in one form (host lower-case, port and folder
    spelled out) without connecting. A list of accounts is written in one form, each
    account's spec as above (as given when it cannot be opened: fetching it says why).
    """
    if is_account_list(spec):
        return account_list_spec(
            [AccountSpec(a.label, _account_spec(a.spec)) for a in parse_account_list(spec)]
        )
    lowered = spec.strip().lower()
    if lowered.startswith("mcp:"):
        return parse_mcp_spec(spec).source
    if lowered.startswith("gmail:"):
        return parse_gmail_spec(spec).source
    if lowered.startswith(("imap:", "outlook:")):
        # Opened, not only parsed, so a bad IMAP_CA_FILE or IMAP_TIMEOUT fails here too.
        return parse_source_spec(spec).spec
    source = parse_source_spec(spec)
    if not isinstance(source, MaildirSource):  # the scheme table and this function disagree
        raise MailSourceError(f"inbox spec '{spec}' names no Maildir")
    return f"maildir:{source.path.resolve()}"


def _account_spec(spec: str) -> str:
    try:
        return canonical_spec(spec)
    except MailSourceError:
        return spec


def sync_source(db: AppDatabase, spec: str, *, secrets: SecretLookup | None = None) -> SyncResult:
    """Fetch what is new in `spec` into the cache; raises `MailSourceError` if it cannot be read.

    Blocking (files, sockets): the graph runs it through `asyncio.to_thread`. `secrets` looks
    up the credentials a source logs in with (the environment by default). A large fetch's
    mail is indexed for search once the fetch is over, beside what follows
    (`memory.search_catch_up`), failed or not (the batches stored stay); a fetch that found
    nothing new starts nothing.
    """
    try:
        result = parse_source_spec(spec, secrets=secrets).sync(db)
    except BaseException:
        db.search_index.start()
        raise
    if result.new:
        db.search_index.start()
        logger.info("fetched %d new message(s) from %s", len(result.new), result.source)
    return result
