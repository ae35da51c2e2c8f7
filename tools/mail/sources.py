"""Open a mailbox from the inbox spec string the user configures (e.g. `maildir:~/Mail`).

Keeping the spec parsing in one small table means new kinds of source (IMAP, MCP) plug in
without touching the callers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tools.mail.maildir import MaildirSource

logger = logging.getLogger(__name__)


class MailSourceError(Exception):
    """A mailbox could not be opened or listed; the message says which and why."""


def _open_maildir(location: str, spec: str) -> MaildirSource:
    # Imported here because maildir.py imports MailSourceError from this module.
    from tools.mail.maildir import MaildirSource

    if not location.strip():
        raise MailSourceError(f"inbox spec '{spec}' has no path: use maildir:PATH")
    path = Path(location).expanduser()
    if not path.is_absolute():
        path = Path.cwd() / path
    return MaildirSource(path, spec)


# Scheme → opener taking (the text after "scheme:", the whole spec).
_SCHEMES: dict[str, Callable[[str, str], MaildirSource]] = {
    "maildir": _open_maildir,
}


def parse_source_spec(spec: str) -> MaildirSource:
    """Open the mailbox an inbox spec names, e.g. `maildir:data/demo-inbox`.

    Relative Maildir paths are resolved against the current directory and `~` is expanded.

    Raises:
        MailSourceError: the scheme is not supported, or the path is missing or not a Maildir.

    """
    scheme, sep, location = spec.strip().partition(":")
    opener = _SCHEMES.get(scheme.lower()) if sep else None
    if opener is None:
        supported = ", ".join(f"{name}:PATH" for name in _SCHEMES)
        if scheme.lower() == "mcp":
            raise MailSourceError(
                f"inbox {spec} is an MCP server: it can be read, but drafts and sent copies "
                "need a Maildir inbox"
            )
        raise MailSourceError(f"unsupported inbox spec '{spec}': use {supported} or mcp:NAME")
    logger.debug("opening %s source at %s", scheme, location)
    return opener(location, spec)
