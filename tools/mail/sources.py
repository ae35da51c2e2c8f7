"""Open a mailbox from the inbox spec string the user configures (e.g. `maildir:~/Mail`).

Every kind of mailbox the app can read new mail from and keep drafts and sent copies in
(a Maildir, an IMAP folder) is a `MailSource`; keeping the spec parsing in one small table
means a new kind plugs in without touching the callers. (An `mcp:` inbox is only read, through
the MCP server's own tools: see `tools.mail.mcp_source`.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from memory.secrets import SecretLookup
from memory.secrets import environment_secrets as env_lookup
from tools.mail.model import Email

if TYPE_CHECKING:
    from memory.db import AppDatabase

logger = logging.getLogger(__name__)


SPEC_FORMS = "maildir:PATH, imap://user@host[:port][/FOLDER] or mcp:NAME"


class MailSourceError(Exception):
    """A mailbox could not be opened or listed; the message says which and why."""


@dataclass
class SyncResult:
    """What one fetch of a source brought in."""

    source: str
    new: list[Email] = field(default_factory=list)
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


def environment_secrets(name: str) -> str | None:
    """The credential `name` from the environment: `imap.password` is `IMAP_PASSWORD`."""
    return env_lookup()(name)


def _open_maildir(location: str, spec: str, secrets: SecretLookup) -> MailSource:
    # Imported here because maildir.py imports MailSourceError from this module.
    from tools.mail.maildir import MaildirSource

    if not location.strip():
        raise MailSourceError(f"inbox spec '{spec}' has no path: use maildir:PATH")
    path = Path(location).expanduser()
    if not path.is_absolute():
        path = Path.cwd() / path
    return MaildirSource(path, spec)


def _open_imap(location: str, spec: str, secrets: SecretLookup) -> MailSource:
    from tools.mail.imap import ImapSource, parse_imap_spec

    return ImapSource.from_environment(parse_imap_spec(spec), secrets=secrets)


# Scheme → opener taking (the text after "scheme:", the whole spec, the secret lookup).
_SCHEMES: dict[str, Callable[[str, str, SecretLookup], MailSource]] = {
    "maildir": _open_maildir,
    "imap": _open_imap,
}


def parse_source_spec(spec: str, *, secrets: SecretLookup | None = None) -> MailSource:
    """Open the mailbox an inbox spec names: `maildir:data/demo-inbox`, `imap://me@host/INBOX`.

    Relative Maildir paths are resolved against the current directory and `~` is expanded.
    An IMAP source is only described here: nothing connects until it is used, and its
    password comes from `secrets` (default: the environment) when it logs in.

    Raises:
        MailSourceError: the scheme is not supported, the Maildir is missing or not a Maildir,
            or the IMAP spec (or `IMAP_CA_FILE`, `IMAP_TIMEOUT`) is malformed.

    """
    scheme, sep, location = spec.strip().partition(":")
    opener = _SCHEMES.get(scheme.lower()) if sep else None
    if opener is None:
        if sep and scheme.lower() == "mcp":
            raise MailSourceError(
                f"inbox {spec} is an MCP server: it can be read, but drafts and sent copies "
                "need a Maildir or IMAP inbox"
            )
        raise MailSourceError(f"unsupported inbox spec '{spec}': use {SPEC_FORMS}")
    logger.debug("opening %s source", scheme.lower())
    return opener(location, spec, secrets or environment_secrets)
