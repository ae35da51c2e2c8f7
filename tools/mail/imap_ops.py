"""Inbox actions on an IMAP account (filled in below)."""

from __future__ import annotations

from collections.abc import Sequence

from tools.mail.imap import ImapSource
from tools.mail.inbox_ops import Flag, MessageOutcome, Role
from tools.mail.model import Email
from tools.mail.source_protocol import MailSourceError


class ImapOperations:
    """Folders and flags of an IMAP account."""

    def __init__(self, source: ImapSource) -> None:
        self.source = source

    def folder_for(self, role: Role, *, create: bool = True) -> str:
        raise MailSourceError("not yet")

    def folder_exists(self, folder: str) -> bool:
        raise MailSourceError("not yet")

    def move(
        self, emails: Sequence[Email], folder: str, *, create: bool = False
    ) -> list[MessageOutcome]:
        raise MailSourceError("not yet")

    def set_flag(self, emails: Sequence[Email], flag: Flag, on: bool) -> list[MessageOutcome]:
        raise MailSourceError("not yet")
