r"""The user's sent mail where the inbox source does not hold it: an IMAP account's Sent folder.

Who answered whom needs both sides of a conversation. A Maildir source reads every folder
(its `.Sent` included); an IMAP source reads one folder, so its Sent folder (SPECIAL-USE
`\Sent`, else "Sent") is fetched as a second source when reply tracking asks, read-only and
incrementally like the inbox. In an inbox of several accounts, each IMAP account's own.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from tools.mail.imap import ImapSource
from tools.mail.imap_wire import decode_mailbox
from tools.mail.mailbox import MailboxEnv
from tools.mail.model import SENT, Email
from tools.mail.source_protocol import MailSourceError
from tools.mail.sources import parse_source_spec
from tools.mail.sync import sync_source

logger = logging.getLogger(__name__)


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
