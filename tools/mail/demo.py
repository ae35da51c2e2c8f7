"""The bundled demo inbox: whose it is, the copy the app works on, and where its sent mail goes.

`make run` opens the demo with no settings at all, so the demo carries what a real mailbox
gets from its settings: its owner (`owner.json`, beside the messages) and a local outbox that
takes the mail "sent" from it. The bundled folder itself is never written to: the app reads
and writes a working copy in the data directory, so drafts and Sent copies stay out of the
repository. Only the bundled folder is the demo: a copy of it elsewhere is an ordinary
Maildir, and an `owner.json` inside another Maildir means nothing.
"""

from __future__ import annotations

import errno
import functools
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from email.utils import formataddr
from pathlib import Path

from tools.mail.source_protocol import MailSourceError

logger = logging.getLogger(__name__)

DEMO_INBOX = Path(__file__).resolve().parents[2] / "data" / "demo-inbox"
"""The bundled demo Maildir, as shipped (read, never written)."""
OWNER_FILE = "owner.json"
WORKING_COPY = "demo-inbox"
"""The demo Maildir the app works on, in the data directory, made on first use."""
OUTBOX = "demo-outbox"
"""The local outbox (a Maildir in the data directory) that takes mail sent from the demo."""
_MAILDIR_PARTS = ("cur", "new")


class DemoInboxError(MailSourceError):
    """The bundled demo is incomplete (its owner cannot be read) or cannot be copied."""


@dataclass(frozen=True)
class MailboxOwner:
    """Whose mailbox it is: the From of the mail they send and their address."""

    name: str
    address: str

    @property
    def sender(self) -> str:
        """`Dana Whitfield <dana@northwind.example>`: the From header of their mail."""
        return formataddr((self.name, self.address))


def is_demo_inbox(spec: str) -> bool:
    """Whether an inbox spec names the bundled demo Maildir itself (not a copy of it).

    Blocking (resolves the path): call it off the event loop.
    """
    scheme, sep, location = spec.strip().partition(":")
    if not sep or scheme.lower() != "maildir" or not location.strip():
        return False
    path = Path(location.strip()).expanduser()
    if not path.is_absolute():
        path = Path.cwd() / path
    return path.resolve() == DEMO_INBOX


@functools.cache
def demo_owner() -> MailboxOwner:
    """The owner of the bundled demo, from its `owner.json` (`{"name", "address"}`).

    Raises:
        DemoInboxError: the file is missing or does not name an owner with an address.

    """
    path = DEMO_INBOX / OWNER_FILE
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as err:
        raise DemoInboxError(f"the demo inbox's owner cannot be read from {path}: {err}") from err
    name = data.get("name") if isinstance(data, dict) else None
    address = data.get("address") if isinstance(data, dict) else None
    if not isinstance(name, str) or not isinstance(address, str) or "@" not in address:
        raise DemoInboxError(f"{path} must hold {{'name': ..., 'address': 'someone@domain'}}")
    return MailboxOwner(name=name.strip(), address=address.strip().lower())


def demo_working_copy(home: Path) -> Path:
    """The demo Maildir the app reads and writes: `<home>/demo-inbox`, copied on first use.

    Only the messages are copied (`cur/`, `new/` and an empty `tmp/`, and the same of each
    bundled Maildir++ folder such as `.Sent`), into a temporary folder renamed into place, so a
    process never sees half a copy and two processes making it at once end with one. Blocking.

    Raises:
        DemoInboxError: the copy cannot be made.

    """
    target = home / WORKING_COPY
    if target.is_dir():
        return target
    staging = Path(tempfile.mkdtemp(prefix=f".{WORKING_COPY}-", dir=home))
    try:
        for folder in _bundled_folders():
            for part in _MAILDIR_PARTS:
                if (DEMO_INBOX / folder / part).is_dir():
                    shutil.copytree(DEMO_INBOX / folder / part, staging / folder / part)
            (staging / folder / "tmp").mkdir(parents=True)
        os.rename(staging, target)
    except OSError as err:
        shutil.rmtree(staging, ignore_errors=True)
        if err.errno in (errno.EEXIST, errno.ENOTEMPTY) and target.is_dir():
            return target  # another process made it first
        raise DemoInboxError(f"the demo inbox cannot be copied to {target}: {err}") from err
    logger.info("copied the demo inbox to %s", target)
    return target


def _bundled_folders() -> list[str]:
    """The bundled demo's folders: "" for the inbox, then its Maildir++ folders (`.Sent`)."""
    return ["", *sorted(p.name for p in DEMO_INBOX.glob(".*") if (p / "cur").is_dir())]


def demo_outbox(home: Path) -> Path:
    """Where mail sent from the demo is delivered: `<home>/demo-outbox` (made on delivery)."""
    return home / OUTBOX
