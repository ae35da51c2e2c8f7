"""The shapes of our MCP server's mail results (`structuredContent`), as a client sees them.

Pydantic needs `typing_extensions.TypedDict` before Python 3.12, and the functional form where
a key is a keyword ("from").
"""

from __future__ import annotations

from typing import NotRequired

from typing_extensions import TypedDict

MessageSummary = TypedDict(
    "MessageSummary",
    {
        "id": str,
        "from": str,
        "subject": str,
        "date": str,
        "folder": str,
        "preview": str,
        "priority": NotRequired[str],
        "category": NotRequired[str],
        "action": NotRequired[str],
        "reason": NotRequired[str],
        "decision": NotRequired[str],
        "suspicious": NotRequired[str],
        "unsure": NotRequired[bool],
        "error": NotRequired[str],
    },
)


class MessageList(TypedDict):
    """Messages found, as previews."""

    messages: list[MessageSummary]


class AttachmentInfo(TypedDict):
    """A file attached to a message (listed, never inlined)."""

    filename: str
    content_type: str
    size: int


MessageDetail = TypedDict(
    "MessageDetail",
    {
        "id": str,
        "from": str,
        "to": list[str],
        "cc": list[str],
        "reply_to": str,
        "subject": str,
        "date": str,
        "folder": str,
        "body": str,
        "attachments": list[AttachmentInfo],
        "headers": dict[str, str],
        "priority": NotRequired[str],
        "category": NotRequired[str],
        "action": NotRequired[str],
        "reason": NotRequired[str],
        "decision": NotRequired[str],
        "suspicious": NotRequired[str],
        "unsure": NotRequired[bool],
        "error": NotRequired[str],
    },
)


class FolderCount(TypedDict):
    """One folder of the mailbox and how many messages it holds."""

    name: str
    messages: int


class FolderList(TypedDict):
    """The folders of the mailbox."""

    folders: list[FolderCount]


class DraftSaved(TypedDict):
    """Where a draft was stored and what it says on the envelope."""

    folder: str
    key: str
    to: str
    subject: str
    in_reply_to: str
    """The id of the message it answers, empty for a new message."""


class MailSent(TypedDict):
    """What the SMTP server accepted."""

    message_id: str
    recipients: list[str]
    refused: dict[str, str]
    """Recipients the server refused while accepting others: address → its reply."""
    subject: str
    sent_copy_key: str
    """Key of the copy kept in Sent, empty when none could be kept."""
