"""What every mail source is: the `MailSource` protocol, what a fetch brings, how it fails.

Maildir and IMAP implement it, the MCP mail source fills a `SyncResult` too, and
`tools.mail.sources` opens the right one from a spec; keeping the shared piece here lets each
of them import it without importing the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from memory.secrets import environment_secrets as env_lookup
from tools.mail.model import Email

if TYPE_CHECKING:
    from memory.db import AppDatabase


class MailSourceError(Exception):
    """A mailbox could not be opened or listed; the message says which and why."""


@dataclass
class SyncResult:
    """What one fetch of a source brought in."""

    source: str
    new: list[Email] = field(default_factory=list)
    """The messages stored, each with its unique id. A Maildir's come with only their id, where
    they are and the error of one that could not be read (the rest is in the cache), so a
    first fetch of any size holds little."""
    read_count: int = 0
    """Messages read in full by this fetch (0 for an unchanged mailbox)."""
    skipped: bool = False
    """True when the cursor showed the source unchanged, so nothing was even listed."""

    @property
    def errors(self) -> list[Email]:
        """New messages that could not be read."""
        return [e for e in self.new if e.error]


class MailSource(Protocol):
    """A mailbox the app fetches new mail from and keeps the user's drafts and sent mail in.

    Every method blocks (files, sockets): async callers use `asyncio.to_thread`.
    """

    @property
    def spec(self) -> str:
        """The spec the source was opened with: the key of its mail cache and cursor."""
        ...

    def sync(self, db: AppDatabase) -> SyncResult:
        """Read what is new since the cursor stored in `db` into its mail cache.

        Raises:
            MailSourceError: the mailbox cannot be reached or listed (a message that cannot
                be read is not an error here: it comes back with `error` set).

        """
        ...

    def save_draft(self, raw: bytes) -> str:
        """Keep `raw` in the Drafts folder, marked as a draft; return its key there."""
        ...

    def save_sent(self, raw: bytes) -> str:
        """Keep a copy of a message that was sent in the Sent folder; return its key there."""
        ...

    def find_sent(self, message_ids: Sequence[str]) -> dict[str, str]:
        """The messages of the Sent folder carrying these Message-IDs: id → key, found only.

        Raises:
            MailSourceError: the mailbox cannot be reached or searched.

        """
        ...


@runtime_checkable
class SendsMail(Protocol):
    """A source whose provider sends the user's mail itself and keeps the Sent copy."""

    def find_sent(self, message_ids: Sequence[str]) -> dict[str, str]:
        """The messages of the Sent folder carrying these Message-IDs: id → key, found only."""
        ...

    def save_sent(self, raw: bytes) -> str:
        """The key of the Sent copy the provider kept of `raw` ('' when not seen yet)."""
        ...

    def send(self, raw: bytes) -> None:
        """Send the composed message as it is.

        Raises:
            MailSourceError: the provider did not take it (the message says if it may have).

        """
        ...


def environment_secrets(name: str) -> str | None:
    """The credential `name` from the environment: `imap.password` is `IMAP_PASSWORD`."""
    return env_lookup()(name)
