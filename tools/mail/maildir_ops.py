"""Inbox actions on a Maildir: a move is a rename into another folder, a flag a rename too.

A message keeps its unique name (its key) wherever it goes, so the mail cache keeps knowing it
and a fetch never reads it again; flags live in the `:2,` part of the file name (`S` seen,
`F` flagged). Folders are Maildir++ dot folders (`.Archive`, `.Trash`, `.Snoozed`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from tools.mail.inbox_ops import (
    GONE,
    MAILDIR_FOLDERS,
    Flag,
    FolderError,
    MessageOutcome,
    Role,
    checked_folder,
)
from tools.mail.maildir import INBOX, MaildirSource, message_key
from tools.mail.model import Email

logger = logging.getLogger(__name__)

FLAG_LETTERS: dict[Flag, str] = {"seen": "S", "flagged": "F"}


def _info(name: str) -> tuple[str, str]:
    """(unique name, flag letters) of a message file name."""
    key = message_key(name)
    rest = name[len(key) :]
    return key, rest[3:] if rest[:3] in (":2,", "!2,") else ""


def flags_of(letters: str) -> tuple[str, ...]:
    """The flags the inbox actions know, from Maildir info letters."""
    return tuple(flag for flag, letter in FLAG_LETTERS.items() if letter in letters)


class MaildirOperations:
    """Folders and flags of one Maildir."""

    def __init__(self, source: MaildirSource) -> None:
        self.source = source

    @property
    def path(self) -> Path:
        """The Maildir's top directory."""
        return self.source.path

    def _directory(self, folder: str) -> Path:
        folder = checked_folder(folder)
        return self.path if folder == INBOX else self.path / f".{folder}"

    def folder_exists(self, folder: str) -> bool:
        """Whether the folder is there (a directory with cur/)."""
        return (self._directory(folder) / "cur").is_dir()

    def folder_for(self, role: Role, *, create: bool = True) -> str:
        """`Archive`, `Trash`, `Snoozed` or `INBOX`; created (with tmp/ new/ cur/) if `create`."""
        folder = MAILDIR_FOLDERS[role]
        if create and not self.folder_exists(folder):
            self._create(folder)
        return folder

    def _create(self, folder: str) -> None:
        directory = self._directory(folder)
        for sub in ("tmp", "new", "cur"):
            (directory / sub).mkdir(parents=True, exist_ok=True)
        logger.info("%s: created folder %s", self.source.spec, folder)

    def _where(self, email: Email) -> tuple[str, Path] | None:
        """(folder, file) of a message now, found by its key; None when it is gone."""
        listing = self.source.list_keys()
        found = listing.get(email.key)
        if found is None:
            return None
        return found[0], self.path / found[1]

    def move(
        self, emails: Sequence[Email], folder: str, *, create: bool = False
    ) -> list[MessageOutcome]:
        """Rename each message into `folder` (new/ stays new/, cur/ stays cur/).

        Raises:
            FolderError: the folder name is unsafe, or it does not exist and not `create`.

        """
        folder = checked_folder(folder)
        if not self.folder_exists(folder):
            if not create:
                raise FolderError(f"the folder {folder!r} does not exist in the mailbox")
            self._create(folder)
        target = self._directory(folder)
        return [self._move_one(email, folder, target) for email in emails]

    def _move_one(self, email: Email, folder: str, target: Path) -> MessageOutcome:
        where = self._where(email)
        if where is None:
            return MessageOutcome(email.id, "failed", GONE, from_folder=email.folder)
        current, path = where
        flags = flags_of(_info(path.name)[1])
        if current == folder:
            return MessageOutcome(
                email.id, "already", f"in {folder}", current, folder, flags, key=email.key
            )
        destination = target / path.parent.name / path.name
        try:
            os.rename(path, destination)
        except FileNotFoundError:
            return MessageOutcome(email.id, "failed", GONE, from_folder=current)
        except OSError as exc:
            reason = f"it cannot be moved to {folder}: {exc.strerror or exc}"
            return MessageOutcome(email.id, "failed", reason, from_folder=current)
        return MessageOutcome(email.id, "moved", "", current, folder, flags, key=email.key)

    def set_flag(self, emails: Sequence[Email], flag: Flag, on: bool) -> list[MessageOutcome]:
        """Add or remove the flag's letter in each file name (a message in new/ goes to cur/)."""
        return [self._flag_one(email, flag, on) for email in emails]

    def _flag_one(self, email: Email, flag: Flag, on: bool) -> MessageOutcome:
        where = self._where(email)
        if where is None:
            return MessageOutcome(email.id, "failed", GONE, from_folder=email.folder)
        current, path = where
        key, letters = _info(path.name)
        before = flags_of(letters)
        letter = FLAG_LETTERS[flag]
        wanted = "".join(sorted(set(letters) | {letter} if on else set(letters) - {letter}))
        if wanted == letters:
            return MessageOutcome(email.id, "already", "", current, current, before, key=key)
        destination = path.parent.parent / "cur" / f"{key}:2,{wanted}"
        try:
            os.rename(path, destination)
        except FileNotFoundError:
            return MessageOutcome(email.id, "failed", GONE, from_folder=current)
        except OSError as exc:
            reason = f"its flags cannot be changed: {exc.strerror or exc}"
            return MessageOutcome(email.id, "failed", reason, from_folder=current)
        return MessageOutcome(email.id, "changed", "", current, current, before, key=key)
