"""An inbox of several accounts: `INBOX=work=imap://…, personal=gmail:home`, read and checked.

A value whose first entry starts `LABEL=` is a list of labelled specs (separated by commas or
line breaks); any other value is one source, exactly as before. Only parsing lives here, so
the source table, the cache and the send routes can all read a list without importing each
other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tools.mail.source_protocol import MailSourceError

LABEL_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}"
_ENTRY = re.compile(rf"\s*({LABEL_PATTERN})=(.*)", re.DOTALL)
_SPLIT = re.compile(rf"\s*[,\n]\s*(?={LABEL_PATTERN}=)")
"""A comma or line break before the next `LABEL=`: a comma inside a path stays in it."""

LIST_FORM = "LABEL=SPEC, LABEL=SPEC (e.g. work=imap://me@mail.example, personal=gmail:home)"
LIST_SCHEMES = ("maildir:", "imap:", "gmail:", "outlook:")
"""The kinds of source an account of a list can be: the ones this app reads and sends through."""


@dataclass(frozen=True)
class AccountSpec:
    """One account of a list: the label it is shown with, and its own source spec."""

    label: str
    spec: str


def is_account_list(value: str) -> bool:
    """Whether an inbox value is a list of labelled accounts rather than one spec."""
    return _ENTRY.match(value.strip()) is not None


def parse_account_list(value: str) -> list[AccountSpec]:
    """The accounts of a list, in its order; `MailSourceError` when an entry cannot be one.

    Labels are unique (whatever their case), each spec is one of `LIST_SCHEMES` (an `mcp:`
    inbox or a list inside a list cannot be an account), and no entry is empty.
    """
    accounts: list[AccountSpec] = []
    seen: set[str] = set()
    for entry in _SPLIT.split(value.strip()):
        match = _ENTRY.fullmatch(entry.strip().rstrip(","))
        if match is None:
            shown = entry.strip()
            raise MailSourceError(f"inbox list entry {shown!r} is not LABEL=SPEC: use {LIST_FORM}")
        label, spec = match.group(1), match.group(2).strip()
        if label.lower() in seen:
            raise MailSourceError(f"inbox list names the account {label!r} twice")
        if not spec.lower().startswith(LIST_SCHEMES) or is_account_list(spec):
            raise MailSourceError(
                f"inbox list account {label!r} has the spec {spec!r}: an account of a list is "
                "maildir:PATH, imap://…, gmail:ACCOUNT or outlook:ACCOUNT"
            )
        seen.add(label.lower())
        accounts.append(AccountSpec(label, spec))
    return accounts


def account_list_spec(accounts: list[AccountSpec]) -> str:
    """The list written back in one form: `work=imap://…,personal=maildir:/…`."""
    return ",".join(f"{account.label}={account.spec}" for account in accounts)


def setting_suffix(label: str) -> str:
    """The suffix of an account's own settings: `work-mail` → `WORK_MAIL` (`SMTP_URL_WORK_MAIL`)."""
    return re.sub(r"[^A-Za-z0-9]", "_", label).upper()


def account_key(label: str, key: str) -> str:
    """The cache key of an account's message: its source's key under the account's label."""
    return f"{label}/{key}"


def source_key(label: str, key: str) -> str:
    """The account's own key of a cached message (`account_key` undone); refuses another's."""
    prefix = f"{label}/"
    if not key.startswith(prefix):
        raise MailSourceError(f"the message {key!r} is not one of the account {label!r}")
    return key[len(prefix) :]
