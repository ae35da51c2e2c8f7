"""Gmail's labels as the folders the rest of the product knows, and the `gmail:` spec.

A Gmail message carries several labels; the product files each message in one folder, picked
in this order: Drafts, Sent, Trash, Spam, INBOX, a label of the user's own (its name), else
Archive (All Mail). The inbox actions work the other way round: archiving removes INBOX,
moving to a folder adds its label and removes INBOX.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tools.google.account import checked_account
from tools.mail.inbox_ops import Role
from tools.mail.model import DRAFTS, SENT
from tools.mail.source_protocol import MailSourceError

GMAIL_API_VARIABLE = "SMART_INBOX_GMAIL_API"
DEFAULT_GMAIL_API = "https://gmail.googleapis.com"
ARCHIVE = "Archive"
TRASH = "Trash"
SPAM = "Spam"
SYSTEM_FOLDERS: tuple[tuple[str, str], ...] = (
    ("DRAFT", DRAFTS),
    ("SENT", SENT),
    ("TRASH", TRASH),
    ("SPAM", SPAM),
    ("INBOX", "INBOX"),
)
"""Gmail's system labels that are folders here, in the order a message is filed by them."""
FOLDER_LABELS = {folder: label for label, folder in SYSTEM_FOLDERS}
"""Folder → the system label that puts a message there."""
ROLE_FOLDERS: dict[Role, str] = {
    "inbox": "INBOX",
    "archive": ARCHIVE,
    "trash": TRASH,
    "snoozed": "Snoozed",
}
"""The folder of each role; Snoozed is a label of the user's own, made when first needed."""
FLAG_LABELS = {"seen": "UNREAD", "flagged": "STARRED"}
"""The label behind each flag (`seen` is the absence of UNREAD)."""


@dataclass(frozen=True)
class GmailSpec:
    """Which connected account a `gmail:ACCOUNT` inbox reads."""

    source: str
    """`gmail:ACCOUNT`: the key of the mail cache and cursor."""
    account: str


def parse_gmail_spec(spec: str) -> GmailSpec:
    """Read `gmail:ACCOUNT`; `MailSourceError` when the account name cannot be one."""
    scheme, _, account = spec.strip().partition(":")
    if scheme.lower() != "gmail":
        raise MailSourceError(f"inbox spec '{spec}' is not a gmail:ACCOUNT spec")
    try:
        name = checked_account(account, spec)
    except ValueError as err:
        raise MailSourceError(f"inbox spec {err}") from None
    return GmailSpec(source=f"gmail:{name}", account=name)


def gmail_api_url(environ: Mapping[str, str] | None = None) -> str:
    """`SMART_INBOX_GMAIL_API`, else Google's own."""
    env = os.environ if environ is None else environ
    return env.get(GMAIL_API_VARIABLE, "").strip() or DEFAULT_GMAIL_API


def folder_of(label_ids: Iterable[str], names: Mapping[str, str]) -> str:
    """The folder a message with these labels is filed in (see the module doc).

    `names` maps the ids of the user's own labels to their names.
    """
    labels = set(label_ids)
    for label, folder in SYSTEM_FOLDERS:
        if label in labels:
            return folder
    own = sorted(names[label] for label in labels if label in names)
    return own[0] if own else ARCHIVE


def flags_of(label_ids: Iterable[str]) -> tuple[str, ...]:
    """The product's flags (`seen`, `flagged`) of a message with these labels."""
    labels = set(label_ids)
    flags = [] if "UNREAD" in labels else ["seen"]
    if "STARRED" in labels:
        flags.append("flagged")
    return tuple(flags)
