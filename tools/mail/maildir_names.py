"""The names in a Maildir: its folders' subdirectories and the unique part of a file name."""

from __future__ import annotations

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
