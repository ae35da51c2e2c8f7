"""Several accounts read as one inbox: each account fetched into one cache, under its label.

Every message of an account is cached under the list's spec with the key `<label>/<its key>`
and `Email.account` set, so the triage, the search and the answers read one inbox while every
message still says which account it came to; ids stay unique across accounts as across any
cached mail (`memory.email_ids`). Each account keeps its own cursor. An account that cannot be
read does not stop the others: the fetch ends with an error naming it and why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

from sqlmodel import Session, col, select

from memory.mail_tables import StoredEmail
from memory.secrets import SecretLookup
from tools.mail.account_list import AccountSpec, account_key, source_key
from tools.mail.model import Email
from tools.mail.source_protocol import MailSource, MailSourceError, SyncResult

if TYPE_CHECKING:
    from memory.db import AppDatabase
    from memory.mail_tables import SyncCursor

logger = logging.getLogger(__name__)

Opener = Callable[[str, SecretLookup | None], MailSource]
"""Opens one account's own spec (`tools.mail.sources`): passed in, so no import goes in circles."""


class AccountsUnreadable(MailSourceError):
    """Some accounts of the list could not be read; `result` holds what the others brought."""

    def __init__(self, message: str, result: SyncResult) -> None:
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class AccountCache:
    """The mail cache as one account's source sees it: its own keys, cursor and messages.

    What a source's `sync` calls on the database (`known_keys`, `known_digests`, `add_emails`,
    `get_cursor`, `set_cursor`), answered for this account only.
    """

    db: AppDatabase
    inbox: str
    """The list's spec: the source every account's mail is cached under."""
    label: str

    def _mine(self) -> tuple[Any, ...]:
        """The conditions that select the account's cached messages."""
        prefix = account_key(self.label, "")
        return (StoredEmail.source == self.inbox, col(StoredEmail.key).startswith(prefix))

    def known_keys(self, source: str) -> set[str]:
        """The account's own keys of its cached messages."""
        with Session(self.db.engine) as session:
            keys = session.exec(select(StoredEmail.key).where(*self._mine())).all()
        return {source_key(self.label, key) for key in keys}

    def known_digests(self, source: str) -> dict[str, set[str]]:
        """The digests of the account's cached messages, by base id."""
        found: dict[str, set[str]] = {}
        with Session(self.db.engine) as session:
            stmt = select(StoredEmail.base_id, StoredEmail.digest).where(*self._mine())
            for base_id, digest in session.exec(stmt).all():
                found.setdefault(base_id, set()).add(digest)
        return found

    def add_emails(self, emails: Iterable[Email]) -> list[Email]:
        """Cache the account's messages under the list, their keys under its label."""
        return self.db.add_emails(
            replace(e, source=self.inbox, key=account_key(self.label, e.key), account=self.label)
            for e in emails
        )

    def _cursor_name(self) -> str:
        return f"{self.inbox}#{self.label}"

    def get_cursor(self, source: str) -> SyncCursor | None:
        """The account's own cursor within this list."""
        return self.db.get_cursor(self._cursor_name())

    def set_cursor(self, source: str, signature: str, message_count: int) -> None:
        """Remember where the account's fetch stopped."""
        self.db.set_cursor(self._cursor_name(), signature, message_count)


class MultiSource:
    """The accounts of an inbox list, fetched one after the other into one cache.

    It only reads: drafts, sent copies and sending go through the account a message belongs
    to (`tools.mail.mailbox.account_for`), never through the list, so its writes refuse.
    """

    def __init__(
        self, spec: str, accounts: Sequence[AccountSpec], opener: Opener, secrets: SecretLookup
    ) -> None:
        self._spec = spec
        self.accounts = list(accounts)
        self._opener = opener
        self._secrets = secrets

    @property
    def spec(self) -> str:
        """The list as written in one form: the key of its cache."""
        return self._spec

    def open_account(self, label: str) -> MailSource:
        """The source of one account of the list (`MailSourceError` when it has no such one)."""
        for account in self.accounts:
            if account.label == label:
                return self._opener(account.spec, self._secrets)
        raise MailSourceError(f"the inbox has no account {label!r}")

    def sync(self, db: AppDatabase) -> SyncResult:
        """Fetch every account into the cache, one after the other.

        Raises:
            AccountsUnreadable: naming each account that failed and why, after the others were
                fetched (their mail is cached, and in the error's `result`).

        """
        result = SyncResult(source=self._spec, skipped=True)
        failures: list[str] = []
        for account in self.accounts:
            cache = cast("AppDatabase", AccountCache(db, self._spec, account.label))
            try:
                part = self._opener(account.spec, self._secrets).sync(cache)
            except MailSourceError as err:
                logger.warning("account %s could not be read: %s", account.label, err)
                failures.append(f"account {account.label} ({account.spec}): {err}")
                continue
            result.new.extend(part.new)
            result.read_count += part.read_count
            result.skipped = result.skipped and part.skipped
        if failures:
            result.skipped = False
            raise AccountsUnreadable("; ".join(failures), result)
        return result

    def probe(self) -> str:
        """Check every account cheaply (blocking), as the health check does for one source.

        Raises:
            MailSourceError: naming each account whose check failed, and why.

        """
        said: list[str] = []
        failures: list[str] = []
        for account in self.accounts:
            try:
                source = self._opener(account.spec, self._secrets)
                probe = getattr(source, "probe", None)
                if callable(probe):
                    answer = probe()
                    said.append(f"{account.label}: {answer if isinstance(answer, str) else 'ok'}")
                else:  # a Maildir: opening it found it, and every folder of it can be listed
                    getattr(source, "signature", lambda: None)()
                    said.append(f"{account.label}: ok")
            except MailSourceError as err:
                failures.append(f"account {account.label} ({account.spec}): {err}")
        if failures:
            raise MailSourceError("; ".join(failures))
        return "; ".join(said)

    def find_sent(self, message_ids: Sequence[str]) -> dict[str, str]:
        """The messages of every account's Sent folder with these Message-IDs: id → labelled key."""
        found: dict[str, str] = {}
        for account in self.accounts:
            keys = self._opener(account.spec, self._secrets).find_sent(message_ids)
            found.update({mid: account_key(account.label, key) for mid, key in keys.items()})
        return found

    def save_draft(self, raw: bytes) -> str:
        """Refused: a draft is kept by the account it is written from."""
        raise MailSourceError(_NO_ACCOUNT)

    def save_sent(self, raw: bytes) -> str:
        """Refused: a sent copy is kept by the account that sent it."""
        raise MailSourceError(_NO_ACCOUNT)


_NO_ACCOUNT = "the inbox is several accounts: name the account the mail goes out from"
