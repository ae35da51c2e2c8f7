"""Inbox actions on a Gmail mailbox, by its labels: archive, trash, move, read, flag.

Archiving removes INBOX; trashing is `messages.trash` (Gmail empties its Trash itself after
30 days); moving to a folder adds that label (made when missing) and removes INBOX; a flag is
a label too (UNREAD cleared for read, STARRED for flagged). Each message is read first
(`format=minimal`), so one already as asked is `already` and nothing is changed twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from tools.google.api import GoogleApiError, path_part
from tools.mail.gmail.labels import (
    ARCHIVE,
    FLAG_LABELS,
    FOLDER_LABELS,
    ROLE_FOLDERS,
    TRASH,
    flags_of,
)
from tools.mail.gmail.source import USERS_ME, GmailSource
from tools.mail.inbox_ops import (
    GONE,
    Flag,
    FolderError,
    MessageOutcome,
    Role,
    Status,
    checked_folder,
)
from tools.mail.model import Email
from tools.mail.source_protocol import MailSourceError

logger = logging.getLogger(__name__)


class GmailOperations:
    """Labels of the Gmail mailbox a `gmail:ACCOUNT` inbox reads."""

    def __init__(self, source: GmailSource) -> None:
        self.source = source

    def folder_for(self, role: Role, *, create: bool = True) -> str:
        """INBOX, Archive (no label), Trash, or the label Snoozed (made when missing)."""
        folder = ROLE_FOLDERS[role]
        if role == "snoozed" and create and not self.folder_exists(folder):
            self._create_label(folder)
        return folder

    def folder_exists(self, folder: str) -> bool:
        """Whether `folder` is a system folder here or one of the user's labels."""
        if folder in FOLDER_LABELS or folder == ARCHIVE:
            return True
        return self._label_id(folder) is not None

    def _label_id(self, name: str) -> str | None:
        names = self.source.label_names(fresh=True)
        return next((label for label, each in names.items() if each == name), None)

    def _create_label(self, name: str) -> str:
        body = {"name": name, "labelListVisibility": "labelShow", "messageListVisibility": "show"}
        data = self.source.call("POST", "/labels", body=body) or {}
        logger.info("%s: created label %s", self.source.spec, name)
        self.source.label_names(fresh=True)
        return str(data.get("id") or "")

    def move(
        self, emails: Sequence[Email], folder: str, *, create: bool = False
    ) -> list[MessageOutcome]:
        """File each message in `folder` by its labels (see the module doc).

        Raises:
            FolderError: the label does not exist and not `create`, or the name is unsafe.
            MailSourceError: Gmail cannot be reached or refuses the token.

        """
        folder = checked_folder(folder)
        target = FOLDER_LABELS.get(folder)
        if target is None and folder != ARCHIVE:
            target = self._label_id(folder)
            if target is None:
                if not create:
                    raise FolderError(f"the folder {folder!r} does not exist in the mailbox")
                target = self._create_label(folder)
        return [self._move_one(email, folder, target or "") for email in emails]

    def _labels(self, email: Email) -> list[str] | str:
        """The message's labels now, or why it cannot be acted on."""
        try:
            data = self.source.api.request(
                "GET",
                f"{USERS_ME}/messages/{path_part(email.key)}",
                params={"format": "minimal"},
            )
        except GoogleApiError as err:
            if err.status == 404:
                return GONE
            if err.status in (401, 403) or err.status is None:
                raise MailSourceError(f"{self.source.spec}: {err}") from err
            return str(err)
        return [str(label) for label in (data or {}).get("labelIds") or []]

    def _change(self, email: Email, path: str, body: dict[str, Any] | None = None) -> str:
        """One change to a message; '' when done, else why not."""
        try:
            self.source.api.request(
                "POST",
                f"{USERS_ME}/messages/{path_part(email.key)}/{path}",
                body=body,
                idempotent=True,  # labels added or removed twice are as asked
            )
        except GoogleApiError as err:
            if err.status in (401, 403) or err.status is None:
                raise MailSourceError(f"{self.source.spec}: {err}") from err
            return str(err)
        return ""

    def _move_one(self, email: Email, folder: str, target: str) -> MessageOutcome:
        labels = self._labels(email)
        if isinstance(labels, str):
            return MessageOutcome(email.id, "failed", labels, from_folder=email.folder)
        current = self.source.folder_of(labels)
        flags = flags_of(labels)
        if current == folder:
            return MessageOutcome(
                email.id, "already", f"in {folder}", current, folder, flags, email.key
            )
        problem = ""
        if "TRASH" in labels and folder != TRASH:
            problem = self._change(email, "untrash")
        if not problem and folder == TRASH:
            problem = self._change(email, "trash")
        elif not problem:
            drop = [label for label in labels if label in ("INBOX", "SPAM", *self._own(labels))]
            add = [target] if target else []
            body = {"addLabelIds": add, "removeLabelIds": [x for x in drop if x != target]}
            if add or body["removeLabelIds"]:
                problem = self._change(email, "modify", body)
        if problem:
            return MessageOutcome(email.id, "failed", problem, from_folder=current)
        return MessageOutcome(email.id, "moved", "", current, folder, flags, key=email.key)

    def _own(self, labels: Sequence[str]) -> list[str]:
        """The user's own labels among `labels` (a move leaves the one it came from)."""
        names = self.source.label_names()
        return [label for label in labels if label in names]

    def set_flag(self, emails: Sequence[Email], flag: Flag, on: bool) -> list[MessageOutcome]:
        """Read is UNREAD removed, flagged is STARRED added (and the other way round)."""
        label = FLAG_LABELS[flag]
        add = on if flag == "flagged" else not on
        outcomes = []
        for email in emails:
            labels = self._labels(email)
            if isinstance(labels, str):
                outcomes.append(MessageOutcome(email.id, "failed", labels, email.folder))
                continue
            before = flags_of(labels)
            folder = self.source.folder_of(labels)
            if (flag in before) == on:
                outcomes.append(
                    MessageOutcome(email.id, "already", "", folder, folder, before, email.key)
                )
                continue
            change = {"addLabelIds" if add else "removeLabelIds": [label]}
            problem = self._change(email, "modify", change)
            status: Status = "failed" if problem else "changed"
            outcomes.append(
                MessageOutcome(email.id, status, problem, folder, folder, before, email.key)
            )
        return outcomes
