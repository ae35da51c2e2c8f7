"""The `Email` type every part of the product reads mail through (as `tools.mail.model`).

An `Email` is already normalised: the body is clean text with quoted replies and
signatures marked, attachments are listed but not inlined, and a message that could
not be parsed carries an `error` instead of making the whole fetch fail. It lives in the
lowest layer because the mail cache (`memory.db`) stores and returns it; everything above
reads it through `tools.mail.model`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

EMPTY_BODY_MARKER = "[EMPTY — THIS EMAIL HAS NO BODY TEXT]"
QUOTE_START = "[QUOTED REPLY]"
QUOTE_END = "[END QUOTED REPLY]"
SIGNATURE_START = "[SIGNATURE]"
SIGNATURE_END = "[END SIGNATURE]"

DRAFTS = "Drafts"
"""The folder of the user's unsent drafts (a Maildir's `.Drafts`, what `save_draft` writes)."""
SENT = "Sent"
"""The folder of copies of mail the user sent."""
DRAFT_SENDER = "you (draft)"
"""How a draft's sender reads in lists and search results: it is the user's own mail, whatever
its From says, and a draft saved before an address was configured has no From at all."""


def without_quotes(body: str, gap: str = "") -> str:
    """The sender's own words of a normalised body: quoted replies and signature replaced by `gap`.

    The empty-body marker gives "". A newline as `gap` keeps the words on either side of a removed
    part from running into one sentence.
    """
    if body.strip() == EMPTY_BODY_MARKER:
        return ""
    for start, end in ((QUOTE_START, QUOTE_END), (SIGNATURE_START, SIGNATURE_END)):
        body = re.sub(re.escape(start) + r".*?(" + re.escape(end) + r"|\Z)", gap, body, flags=re.S)
    return body


@dataclass(frozen=True)
class Attachment:
    """A file attached to a message, described but never inlined."""

    filename: str
    content_type: str
    size: int
    """Decoded size in bytes."""


@dataclass(frozen=True)
class Email:
    """One normalised message from a mailbox."""

    id: str
    """The message's id in the product, unique among cached messages: its Message-ID without
    angle brackets (or `sha256:<hex>` of the raw bytes when it has none), unless another cached
    message had that id first; then `<that id>#<hash of source and key>` (`memory.email_ids`)."""
    source: str
    """The source spec it came from, e.g. `maildir:data/demo-inbox`."""
    folder: str
    """Folder inside the source (`INBOX` for a Maildir's top level)."""
    key: str
    """The source's own key for the message (the Maildir file's unique name)."""
    from_name: str = ""
    from_addr: str = ""
    """Lower-cased e-mail address of the sender, empty if none could be read."""
    to: tuple[str, ...] = ()
    """Recipient addresses (To), lower-cased."""
    cc: tuple[str, ...] = ()
    reply_to: str = ""
    """Reply-To address when the message has one, lower-cased."""
    subject: str = ""
    date: str = ""
    """ISO 8601 date-time with offset, empty when the Date header is missing or unreadable."""
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    """Headers the triage rules read (List-Unsubscribe, Precedence, Auto-Submitted, X-Mailer,
    List-Id, Return-Path, X-Priority, Importance), decoded; keys in their canonical case."""
    body: str = ""
    """Normalised text: HTML stripped, charsets decoded, quoted replies and signatures wrapped
    in the markers above; `EMPTY_BODY_MARKER` when there is no body text."""
    body_is_empty: bool = False
    attachments: tuple[Attachment, ...] = ()
    size: int = 0
    """Size of the raw message in bytes."""
    error: str = ""
    """Why the message could not be read; empty when it was read fine."""
    message_id: str = ""
    """The Message-ID header without angle brackets, '' when it has none: what a reply's
    In-Reply-To names. Another message may carry the same one; `id` never repeats."""
    digest: str = ""
    """SHA-256 (first 32 hex digits) of the raw bytes, '' when not read from raw bytes: tells
    two copies of one message from two messages that claim the same Message-ID."""
    thread_id: str = ""
    """The provider's own conversation id (Gmail `threadId`, Microsoft 365 `conversationId`),
    '' when the source gives none: messages of one source with the same one are one
    conversation, whatever their headers and subjects say."""
    account: str = ""
    """The label of the account it came to when the inbox is several accounts (`work`), ''
    for an inbox of one source (`tools.mail.account_list`); its `key` then starts `<label>/`."""

    @property
    def is_draft(self) -> bool:
        """Whether this is one of the user's own unsent drafts."""
        return self.folder == DRAFTS

    @property
    def reply_reference(self) -> str:
        """The Message-ID a reply to this message names (In-Reply-To), '' when it has none.

        `message_id`, or for an `Email` made without one (a test, a mail server's record) its
        `id`, unless that is the hash of a message that had no Message-ID.
        """
        if self.message_id:
            return self.message_id
        return "" if self.id.startswith("sha256:") else self.id

    @property
    def sender(self) -> str:
        """`Name <addr>` for display; a draft shows as `you (draft) <addr>`.

        A draft without From shows no address.
        """
        if self.is_draft:
            return f"{DRAFT_SENDER} <{self.from_addr}>" if self.from_addr else DRAFT_SENDER
        if self.from_name and self.from_addr:
            return f"{self.from_name} <{self.from_addr}>"
        return self.from_addr or self.from_name

    def preview(self, length: int = 200) -> str:
        """Return the first `length` characters of the body, outside quoted replies, on one line."""
        text = self.body.split(QUOTE_START, 1)[0]
        text = " ".join(text.split())
        return text if len(text) <= length else text[: length - 1].rstrip() + "…"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (lists, not tuples)."""
        data = asdict(self)
        for name in ("to", "cc", "references"):
            data[name] = list(data[name])
        data["attachments"] = [asdict(a) for a in self.attachments]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Email:
        """Inverse of `to_dict`."""
        values = dict(data)
        for name in ("to", "cc", "references"):
            values[name] = tuple(values.get(name) or ())
        values["attachments"] = tuple(Attachment(**a) for a in values.get("attachments") or ())
        values["headers"] = dict(values.get("headers") or {})
        if "message_id" not in values and not str(values.get("id", "")).startswith("sha256:"):
            # Cached before the field existed, when the id was always the Message-ID.
            values["message_id"] = values.get("id", "")
        return cls(**values)
