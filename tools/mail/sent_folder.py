r"""The user's sent mail where the inbox source does not hold it: an IMAP account's Sent folder.

Who answered whom needs both sides of a conversation. A Maildir source reads every folder
(its `.Sent` included); an IMAP source reads one folder, so its Sent folder (SPECIAL-USE
`\Sent`, else "Sent") is fetched as a second source when reply tracking asks, read-only and
incrementally like the inbox. In an inbox of several accounts, each IMAP account's own.

The triage's profile (who the user knows) reads that folder too, without the network: a fetch
for the triage syncs it (`sync_sent_folders`, one cheap check when nothing changed) and records
which spec it is, under the inbox, in the sync cursors; `cached_sent_mail` reads what was cached.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from tools.mail.imap import ImapSource
from tools.mail.imap_wire import decode_mailbox
from tools.mail.mailbox import MailboxEnv
from tools.mail.model import SENT, Email
from tools.mail.source_protocol import MailSourceError
from tools.mail.sources import parse_source_spec
from tools.mail.sync import sync_source

if TYPE_CHECKING:
    from memory.db import AppDatabase

logger = logging.getLogger(__name__)

RECORD_PREFIX = "sent-folders-of:"
"""The sync cursor `<prefix><inbox spec>` records the inbox's Sent folder specs (JSON, by
account label; "" for an inbox of one source). No source spec starts with it."""


def sent_folder_spec(env: MailboxEnv) -> str | None:
    r"""The `imap://` spec of the account's Sent folder; None when the inbox already holds it.

    Blocking: asks the server which folder is marked `\Sent` (a `MailSourceError` when it
    cannot be reached).
    """
    if not env.source.startswith("imap"):
        return None
    source = parse_source_spec(env.source, secrets=env.secrets)
    if not isinstance(source, ImapSource):
        return None
    # The folder `save_sent` stores copies in: the same rule, so what is sent from here is found.
    with source._session() as conn:
        folder = decode_mailbox(source._special_folder(conn, "\\Sent", SENT))
    if folder == source.imap.folder:
        return None
    return replace(source.imap, folder=folder).spec


def sent_mail(env: MailboxEnv, limit: int) -> list[Email]:
    """The newest `limit` messages of the separate Sent folder, fetched first; [] without one.

    Blocking (network). Each comes back in the `Sent` folder, whatever the server calls it,
    so it reads as the user's own. In an inbox of several accounts, every IMAP account's own
    Sent folder is read (a Maildir account's is cached with its mail already), each message
    marked with its account so it threads with that account's mail.

    Raises:
        MailSourceError: a Sent folder cannot be read (naming its account, in a list).

    """
    if not env.accounts:
        return _sent_of(env, limit)
    found: list[Email] = []
    for label, account in env.accounts.items():
        try:
            found += [replace(e, account=label) for e in _sent_of(account, limit)]
        except MailSourceError as err:
            raise MailSourceError(f"account {label}: {err}") from err
    return found


def _sent_of(env: MailboxEnv, limit: int) -> list[Email]:
    spec = sent_folder_spec(env)
    if spec is None:
        return []
    sync_source(env.db, spec, secrets=env.secrets)
    emails = env.db.list_emails(source=spec, limit=limit)
    logger.debug("%d sent message(s) read from %s", len(emails), spec)
    return [replace(e, folder=SENT) for e in emails]


def sync_sent_folders(env: MailboxEnv) -> str:
    r"""Fetch what is new in the inbox's separate Sent folder(s), and record which they are.

    Blocking (network, for an IMAP inbox only; nothing for others). The recorded spec is
    synced directly (one SELECT when unchanged); the server is asked which folder is `\Sent`
    only the first time, or when the recorded one cannot be read. Returns '' or why a Sent
    folder could not be read: the other accounts' are fetched all the same, and what was
    cached of it before is kept for the profile.
    """
    recorded = recorded_sent_folders(env.db, env.source)
    accounts = dict(env.accounts) if env.accounts else {"": env}
    found: dict[str, str] = {}
    problems: list[str] = []
    for label, account in accounts.items():
        try:
            spec = _synced_sent(account, recorded.get(label))
        except MailSourceError as err:
            problems.append(f"account {label}: {err}" if label else str(err))
            spec = recorded.get(label)
        if spec:
            found[label] = spec
    if found != recorded:
        env.db.set_cursor(RECORD_PREFIX + env.source, json.dumps(found, sort_keys=True), len(found))
    return "; ".join(problems)


def _synced_sent(env: MailboxEnv, known: str | None) -> str | None:
    """The account's Sent folder spec, fetched first; None when its inbox holds its Sent."""
    if not env.source.startswith("imap"):
        return None
    if known:
        try:
            sync_source(env.db, known, secrets=env.secrets)
            return known
        except MailSourceError as err:  # renamed or gone: the server is asked again below
            logger.debug("the recorded Sent folder %s cannot be read: %s", known, err)
    spec = sent_folder_spec(env)
    if spec is not None:
        sync_source(env.db, spec, secrets=env.secrets)
    return spec


def recorded_sent_folders(db: AppDatabase, source: str) -> dict[str, str]:
    """The Sent folder specs a fetch recorded for the inbox `source`, by account label."""
    cursor = db.get_cursor(RECORD_PREFIX + source)
    if cursor is None:
        return {}
    try:
        found = json.loads(cursor.signature)
    except ValueError:
        return {}
    if not isinstance(found, dict):
        return {}
    return {str(k): v for k, v in found.items() if isinstance(v, str) and v}


def cached_sent_mail(db: AppDatabase, source: str, limit: int) -> list[Email]:
    """The cached messages of the inbox's recorded Sent folder(s), newest `limit` of each.

    No network (the database only). Each comes back in the `Sent` folder and, in an inbox of
    several accounts, marked with its account, as `sent_mail` gives them.
    """
    found: list[Email] = []
    for label, spec in recorded_sent_folders(db, source).items():
        emails = db.list_emails(source=spec, limit=limit)
        found += [replace(e, folder=SENT, account=label or e.account) for e in emails]
    return found
