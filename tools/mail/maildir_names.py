"""The names in a Maildir: its folders' subdirectories and the unique part of a file name."""

from __future__ import annotations

import os
from pathlib import Path

from tools.mail.source_protocol import MailSourceError

INBOX = "INBOX"
SUBDIRS = ("cur", "new")
# ":2," is the standard info separator; "!2," is what some servers use where ":" is not allowed.
_INFO_SEPARATORS = (":2,", "!2,")


def message_key(filename: str) -> str:
    """Return the Maildir unique name of a message file: its name without the flags part."""
    for separator in _INFO_SEPARATORS:
        if separator in filename:
            return filename.split(separator, 1)[0]
    return filename


def message_files(directory: Path, sub: str) -> list[os.DirEntry[str]]:
    """The message files of one subdirectory of a folder ([] when it does not exist).

    Raises:
        MailSourceError: the subdirectory exists but cannot be listed.

    """
    try:
        with os.scandir(directory / sub) as entries:
            return [e for e in entries if not e.name.startswith(".") and e.is_file()]
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise MailSourceError(
            f"Maildir folder '{directory / sub}' cannot be listed: {exc.strerror}"
        ) from exc
