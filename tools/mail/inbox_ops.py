"""What every mail source does to clear an inbox: move, flag, and how each message fared.

Maildir (`tools.mail.maildir_ops`) and IMAP (`tools.mail.imap_ops`) implement
`MailboxOperations`; the inbox tools (`tools.mail.inbox_tools`) only talk to this protocol.
Every operation answers per message (moved, already there, failed with why), so a partial
failure is reported as such and nothing is lost.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from tools.mail.model import Email

Role = Literal["archive", "trash", "snoozed", "inbox"]
"""The folders the inbox actions move mail to, whatever a source calls them."""
Flag = Literal["seen", "flagged"]
Status = Literal["moved", "changed", "already", "failed"]
"""`moved` to another folder, `changed` flags, `already` as asked (nothing to do), `failed`."""
STATUS_WORDS = {"moved": "moved", "changed": "changed", "already": "already so", "failed": "failed"}
MAILDIR_FOLDERS: dict[Role, str] = {
    "inbox": "INBOX",
    "archive": "Archive",
    "trash": "Trash",
    "snoozed": "Snoozed",
}
"""Folder names for each role where the server marks none (and Maildir++ `.Archive` etc.)."""
GONE = "the message is no longer in the mailbox (moved or deleted elsewhere)"
"""Why a message could not be acted on when it is not where the cache said, nor where it went."""
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\"\\*%]")


class FolderError(ValueError):
    """A folder name that cannot be used (unsafe, or one that does not exist)."""


@dataclass(frozen=True)
class MessageOutcome:
    """What happened to one message."""

    id: str
    status: Status
    detail: str = ""
    """Why it failed, or where it went."""
    from_folder: str = ""
    to_folder: str = ""
    flags_before: tuple[str, ...] = ()
    """The message's flags (`seen`, `flagged`) before the action: what undo restores."""
    key: str = ""
    """The message's key at the source after the action (what the cache keeps)."""

    @property
    def ok(self) -> bool:
        """Whether the message is now as asked."""
        return self.status != "failed"

    def line(self) -> str:
        """One line for a person: `<id>: moved INBOX → Archive`, `<id>: failed: why`."""
        if self.status == "failed":
            return f"{self.id}: failed: {self.detail}"
        if self.status == "moved":
            note = f" ({self.detail})" if self.detail else ""
            return f"{self.id}: moved {self.from_folder} → {self.to_folder}{note}"
        return f"{self.id}: {STATUS_WORDS[self.status]}" + (
            f" ({self.detail})" if self.detail else ""
        )

    def as_dict(self) -> dict[str, object]:
        """Plain form for tool results and the journal."""
        return {
            "id": self.id,
            "status": self.status,
            "detail": self.detail,
            "from": self.from_folder,
            "to": self.to_folder,
            "flags_before": list(self.flags_before),
            "key": self.key,
        }


@dataclass
class Outcomes:
    """Every message's outcome of one action, in the order asked."""

    items: list[MessageOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[MessageOutcome]:
        """The messages that are not as asked."""
        return [o for o in self.items if not o.ok]


def checked_folder(name: str) -> str:
    r"""A folder name the user or the model gave, refused when it could escape or inject.

    No path steps (`..`, a leading `/` or `.`), no control characters, no IMAP quoting or
    wildcards (`"`, `\`, `*`, `%`); `INBOX` in any case is INBOX.

    Raises:
        FolderError: the name is one of those.

    """
    text = name.strip()
    if not text:
        raise FolderError("no folder named")
    if text.upper() == "INBOX":
        return "INBOX"
    parts = re.split(r"[./]", text)
    if _UNSAFE.search(text) or text.startswith(("/", ".")) or ".." in parts or "" in parts:
        raise FolderError(f"{name!r} is not a folder name that can be used")
    return text


class MailboxOperations(Protocol):
    """A mailbox's folders and flags, changed message by message. Every method blocks."""

    def folder_for(self, role: Role, *, create: bool = True) -> str:
        """The folder of a role (SPECIAL-USE where marked), created when missing if `create`."""
        ...

    def folder_exists(self, folder: str) -> bool:
        """Whether `folder` exists in the mailbox."""
        ...

    def move(
        self, emails: Sequence[Email], folder: str, *, create: bool = False
    ) -> list[MessageOutcome]:
        """Move each message to `folder`; `FolderError` when it does not exist and not `create`."""
        ...

    def set_flag(self, emails: Sequence[Email], flag: Flag, on: bool) -> list[MessageOutcome]:
        """Set or clear one flag on each message."""
        ...
