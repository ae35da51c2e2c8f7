"""Find messages in a Maildir folder by Message-ID, reading only their header blocks.

What tells whether a message the user sent is already in their Sent folder: unique names
start with the delivery time, so the newest files are read first and the search stops as
soon as every id is found.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from tools.mail.maildir_names import INBOX, SUBDIRS, message_files, message_key
from tools.mail.mime import message_id_of

logger = logging.getLogger(__name__)


def find_message_ids(root: Path, folder: str, message_ids: Sequence[str]) -> dict[str, str]:
    """Message-ID (as given) → key, for the messages of `folder` that carry one of them.

    Only each file's header block is read, newest first, until every id is found; a
    folder that does not exist holds none. `INBOX` is the top-level Maildir
    `root`.

    Raises:
        MailSourceError: the folder exists but cannot be listed.

    """
    wanted = {"".join(mid.split()).strip("<>"): mid for mid in message_ids}
    directory = root if folder == INBOX else root / f".{folder}"
    names: list[tuple[str, Path]] = []
    for sub in SUBDIRS:
        names += [(e.name, Path(e.path)) for e in message_files(directory, sub)]
    found: dict[str, str] = {}
    # Unique names start with the delivery time: the newest are the likeliest.
    for name, path in sorted(names, reverse=True):
        bare = message_id_of(_header_block(path))
        if bare in wanted and wanted[bare] not in found:
            found[wanted[bare]] = message_key(name)
            if len(found) == len(wanted):
                break
    return found


HEADER_READ_LIMIT = 64 * 1024
"""Bytes of a message file read to find its headers."""


def _header_block(path: Path) -> bytes:
    """The header block of a message file (b'' when it is gone or unreadable)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(HEADER_READ_LIMIT)
    except OSError as exc:
        logger.debug("message file %s could not be read: %s", path, exc)
        return b""
    ends = [i for i in (head.find(b"\n\n"), head.find(b"\n\r\n")) if i >= 0]
    return head[: min(ends) + 1] if ends else head
