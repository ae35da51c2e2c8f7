"""Inbox actions on a Microsoft 365 mailbox: `/messages/{id}/move`, and `isRead`, `flag` by PATCH.

Messages are asked for by their Graph id (immutable: it survives a move), so a move that
happened before a crash is seen where it went (`parentFolderId`) and is not repeated. Archive,
Deleted Items and the inbox are Graph's well-known folders; any other folder is found by its
display name at the top of the mailbox and created there when asked to.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from tools.mail.inbox_ops import (
    GONE,
    MAILDIR_FOLDERS,
    Flag,
    FolderError,
    MessageOutcome,
    Role,
    checked_folder,
)
from tools.mail.model import DRAFTS, SENT, Email
from tools.mail.msgraph.source import OutlookSource
from tools.mail.source_protocol import MailSourceError
from tools.msgraph.client import GraphError

logger = logging.getLogger(__name__)

WELL_KNOWN = {
    "INBOX": "inbox",
    MAILDIR_FOLDERS["archive"]: "archive",
    MAILDIR_FOLDERS["trash"]: "deleteditems",
    SENT: "sentitems",
    DRAFTS: "drafts",
}
"""What the cache calls a folder → Graph's well-known name for it."""


class OutlookOperations:
    """Folders and flags of the mailbox an `outlook:` inbox reads."""

    def __init__(self, source: OutlookSource) -> None:
        self.source = source
        self.client = source.client
        self._ids: dict[str, str] = {}

    def _call(self, method: str, path: str, action: str, **kwargs: Any) -> dict[str, Any]:
        try:
            return self.client.json(method, path, action=action, **kwargs)
        except GraphError as err:
            raise MailSourceError(f"inbox {self.source.spec}: {err}") from err

    def _folder_id(self, folder: str, *, create: bool) -> str | None:
        """Graph's id of the folder the cache calls `folder` (None: there is none)."""
        if folder in self._ids:
            return self._ids[folder]
        if folder in WELL_KNOWN:
            found = self._call("GET", f"me/mailFolders/{WELL_KNOWN[folder]}", "find a folder")
        else:
            name = folder.replace("'", "''")
            rows = self._call(
                "GET",
                "me/mailFolders",
                "find a folder",
                params={"$filter": f"displayName eq '{name}'", "$select": "id,displayName"},
            ).get("value", [])
            found = rows[0] if rows else {}
            if not found and create:
                found = self._call(
                    "POST", "me/mailFolders", "create a folder", json={"displayName": folder}
                )
                logger.info("%s: created folder %s", self.source.spec, folder)
        folder_id = str(found.get("id") or "") or None
        if folder_id:
            self._ids[folder] = folder_id
        return folder_id

    def folder_for(self, role: Role, *, create: bool = True) -> str:
        """`INBOX`, `Archive`, `Trash` (Deleted Items) or `Snoozed` (made when missing)."""
        name = MAILDIR_FOLDERS[role]
        if name not in WELL_KNOWN and self._folder_id(name, create=create) is None and create:
            raise FolderError(f"the folder {name!r} cannot be created")
        return name

    def folder_exists(self, folder: str) -> bool:
        """Whether the mailbox has this folder."""
        return self._folder_id(checked_folder(folder), create=False) is not None

    def move(
        self, emails: Sequence[Email], folder: str, *, create: bool = False
    ) -> list[MessageOutcome]:
        """Move each message to `folder` (`/messages/{id}/move`), unless it is there already."""
        folder = checked_folder(folder)
        target = self._folder_id(folder, create=create)
        if target is None:
            raise FolderError(f"there is no folder {folder!r} in the mailbox")
        return [self._move_one(email, folder, target) for email in emails]

    def _move_one(self, email: Email, folder: str, target: str) -> MessageOutcome:
        where = self._message(email, "id,parentFolderId")
        if where is None:
            return MessageOutcome(email.id, "failed", GONE, email.folder, folder)
        if where.get("parentFolderId") == target:
            return MessageOutcome(email.id, "already", "", email.folder, folder, key=email.key)
        moved = self._call(
            "POST",
            f"me/messages/{email.key}/move",
            "move a message",
            json={"destinationId": target},
        )
        key = str(moved.get("id") or email.key)
        return MessageOutcome(email.id, "moved", "", email.folder, folder, key=key)

    def set_flag(self, emails: Sequence[Email], flag: Flag, on: bool) -> list[MessageOutcome]:
        """Set or clear `isRead` (seen) or `flag.flagStatus` (flagged) on each message."""
        return [self._flag_one(email, flag, on) for email in emails]

    def _flag_one(self, email: Email, flag: Flag, on: bool) -> MessageOutcome:
        state = self._message(email, "id,isRead,flag")
        if state is None:
            return MessageOutcome(email.id, "failed", GONE, email.folder, email.folder)
        before = _flags(state)
        if (flag in before) == on:
            return MessageOutcome(
                email.id, "already", "", email.folder, email.folder, before, email.key
            )
        change: dict[str, Any] = (
            {"isRead": on}
            if flag == "seen"
            else {"flag": {"flagStatus": "flagged" if on else "notFlagged"}}
        )
        self._call("PATCH", f"me/messages/{email.key}", "change a flag", json=change)
        return MessageOutcome(
            email.id, "changed", "", email.folder, email.folder, before, email.key
        )

    def _message(self, email: Email, fields: str) -> dict[str, Any] | None:
        """The message's fields, None when it is no longer in the mailbox."""
        try:
            return self.client.json(
                "GET",
                f"me/messages/{email.key}",
                action="look at a message",
                params={"$select": fields},
            )
        except GraphError as err:
            if err.status == 404:
                return None
            raise MailSourceError(f"inbox {self.source.spec}: {err}") from err


def _flags(state: dict[str, Any]) -> tuple[str, ...]:
    flag = state.get("flag") if isinstance(state.get("flag"), dict) else {}
    flagged = (flag or {}).get("flagStatus") == "flagged"
    return tuple(f for f, on in (("seen", bool(state.get("isRead"))), ("flagged", flagged)) if on)
