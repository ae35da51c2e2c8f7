r"""Inbox actions on an IMAP account: `UID MOVE`, else copy, mark deleted and expunge that one.

Messages are found by their Message-ID (`UID SEARCH HEADER Message-ID`) in the folder the
mail cache says they are in, so a move that happened before a crash is found where it went
and is not repeated. Without MOVE, a message is copied, marked `\Deleted` and removed with
`UID EXPUNGE` (UIDPLUS) of its UID alone: a plain EXPUNGE would also remove other mail someone
marked deleted. Archive and Trash are the SPECIAL-USE folders where the server marks them.
"""

from __future__ import annotations

import imaplib
import logging
from collections.abc import Sequence

from tools.mail.imap import ImapSource
from tools.mail.imap_wire import decode_mailbox, encode_mailbox, quoted, reply_text, uid_set
from tools.mail.inbox_ops import (
    GONE,
    MAILDIR_FOLDERS,
    Flag,
    FolderError,
    MessageOutcome,
    Role,
    checked_folder,
)
from tools.mail.model import Email

logger = logging.getLogger(__name__)

SPECIAL_USE: dict[Role, str] = {"archive": "\\Archive", "trash": "\\Trash"}
LEFT_DELETED = (
    "the original stays in {folder} marked deleted: the server cannot remove one message alone "
    "(no UIDPLUS), and removing all deleted mail there is not ours to do"
)
IMAP_FLAGS: dict[Flag, str] = {"seen": "\\Seen", "flagged": "\\Flagged"}


class ImapOperations(ImapSource):
    """Folders and flags of the IMAP account an `imap://` inbox reads."""

    @classmethod
    def of(cls, source: ImapSource) -> ImapOperations:
        """The operations on the account `source` reads, connecting the same way."""
        return cls(
            source.imap, secrets=source._secrets, ca_file=source.ca_file, timeout=source.timeout
        )

    def folder_for(self, role: Role, *, create: bool = True) -> str:
        """The folder of a role: the inbox read, the SPECIAL-USE one, else a plain name."""
        if role == "inbox":
            return self.imap.folder
        with self._session() as conn:
            use = SPECIAL_USE.get(role)
            fallback = MAILDIR_FOLDERS[role]
            encoded = self._special_folder(conn, use, fallback) if use else encode_mailbox(fallback)
            name = decode_mailbox(encoded)
            if create and not self._exists(conn, name):
                self._create(conn, name)
        return name

    def folder_exists(self, folder: str) -> bool:
        """Whether the account has this folder."""
        with self._session() as conn:
            return self._exists(conn, checked_folder(folder))

    def _exists(self, conn: imaplib.IMAP4, folder: str) -> bool:
        names = {decode_mailbox(name) for _, name in self._list(conn)}
        return folder in names or (folder == "INBOX" and any(n.upper() == "INBOX" for n in names))

    def _create(self, conn: imaplib.IMAP4, folder: str) -> None:
        typ, data = conn.create(quoted(encode_mailbox(folder)))
        if typ != "OK":
            raise FolderError(f"the folder {folder!r} cannot be created: {reply_text(data)}")
        logger.info("%s: created folder %s", self.imap.server, folder)

    def move(
        self, emails: Sequence[Email], folder: str, *, create: bool = False
    ) -> list[MessageOutcome]:
        r"""Move each message to `folder` (MOVE, else COPY + STORE \Deleted + UID EXPUNGE).

        Raises:
            FolderError: the folder name is unsafe, or it does not exist and not `create`.
            MailSourceError: the server cannot be reached or logged in to.

        """
        folder = checked_folder(folder)
        outcomes: dict[str, MessageOutcome] = {}
        with self._session() as conn:
            if not self._exists(conn, folder):
                if not create:
                    raise FolderError(f"the folder {folder!r} does not exist in the mailbox")
                self._create(conn, folder)
            for email in emails:
                outcomes[email.id] = self._move_one(conn, email, folder)
        return [outcomes[e.id] for e in emails]

    def _select(self, conn: imaplib.IMAP4, folder: str) -> str:
        """Open a folder to change it: '' when open, else why not."""
        try:
            typ, data = conn.select(quoted(encode_mailbox(folder)))
        except imaplib.IMAP4.readonly:
            return f"the folder {folder!r} is read-only on the server: no permission to change it"
        if typ != "OK":
            return f"the folder {folder!r} cannot be opened: {reply_text(data)}"
        return ""

    def _find(self, conn: imaplib.IMAP4, email: Email) -> int | None:
        """The UID of the message in the selected folder, by Message-ID (or its cached UID).

        A Message-ID that is not plain printable ASCII is never put into a command: such a
        message is found by the UID it was fetched under, in the inbox it was fetched from.
        """
        if email.message_id and all(0x21 <= ord(c) <= 0x7E for c in email.message_id):
            typ, data = conn.uid("SEARCH", "HEADER", "Message-ID", quoted(f"<{email.message_id}>"))
            if typ != "OK":
                return None
            uids = sorted(
                int(t)
                for line in data
                if isinstance(line, bytes)
                for t in line.split()
                if t.isdigit()
            )
            return uids[0] if uids else None
        if email.folder != self.imap.folder or ":" not in email.key:
            return None
        validity, _, uid = email.key.partition(":")
        current = conn.response("UIDVALIDITY")[1]
        if not uid.isdigit() or not current or str(current[-1], "ascii", "replace") != validity:
            return None
        return int(uid)

    def _locate(self, conn: imaplib.IMAP4, email: Email, *also: str) -> tuple[str, int] | str:
        """(folder, UID) where the message is now, its cached folder first; else why not.

        The folder it is found in is left selected.
        """
        for folder in dict.fromkeys([email.folder, *also]):
            problem = self._select(conn, folder)
            if problem:
                if folder == email.folder:
                    return problem
                continue
            uid = self._find(conn, email)
            if uid is not None:
                return folder, uid
        return GONE

    def _move_one(self, conn: imaplib.IMAP4, email: Email, folder: str) -> MessageOutcome:
        where = self._locate(conn, email, folder)
        if isinstance(where, str):
            return MessageOutcome(email.id, "failed", where, from_folder=email.folder)
        current, uid = where
        flags = self._flags(conn, uid)
        if current == folder:
            return MessageOutcome(
                email.id, "already", f"in {folder}", current, folder, flags, email.key
            )
        problem = self._transfer(conn, uid, folder)
        if problem:
            return MessageOutcome(email.id, "failed", problem, from_folder=current)
        note = "" if self._can_move(conn) else LEFT_DELETED.format(folder=current)
        return MessageOutcome(email.id, "moved", note, current, folder, flags, key=email.key)

    @staticmethod
    def _can_move(conn: imaplib.IMAP4) -> bool:
        """Whether a move leaves nothing behind: MOVE, or UIDPLUS to expunge one UID."""
        return "MOVE" in conn.capabilities or "UIDPLUS" in conn.capabilities

    def _transfer(self, conn: imaplib.IMAP4, uid: int, folder: str) -> str:
        """Move one UID of the selected folder; '' when done, else why not."""
        target = quoted(encode_mailbox(folder))
        if "MOVE" in conn.capabilities:
            typ, data = conn.uid("MOVE", str(uid), target)
            return "" if typ == "OK" else f"the server refused to move it: {reply_text(data)}"
        typ, data = conn.uid("COPY", str(uid), target)
        if typ != "OK":
            return f"the server refused to copy it to {folder}: {reply_text(data)}"
        typ, data = conn.uid("STORE", str(uid), "+FLAGS.SILENT", "(\\Deleted)")
        if typ != "OK":
            return f"copied to {folder}, but the original cannot be removed: {reply_text(data)}"
        if "UIDPLUS" not in conn.capabilities:
            logger.warning("%s: no UIDPLUS, UID %d stays marked deleted", self.imap.server, uid)
            return ""  # a plain EXPUNGE would remove other deleted mail: it waits for the user's
        typ, data = conn.uid("EXPUNGE", uid_set([uid]))
        if typ != "OK":
            return f"copied to {folder} and marked deleted, but not expunged: {reply_text(data)}"
        return ""

    def _flags(self, conn: imaplib.IMAP4, uid: int) -> tuple[str, ...]:
        typ, data = conn.uid("FETCH", str(uid), "(FLAGS)")
        text = b" ".join(d for d in data if isinstance(d, bytes)).decode("ascii", "replace").lower()
        if typ != "OK":
            return ()
        return tuple(flag for flag, name in IMAP_FLAGS.items() if name.lower() in text)

    def set_flag(self, emails: Sequence[Email], flag: Flag, on: bool) -> list[MessageOutcome]:
        """`UID STORE +FLAGS` (or `-FLAGS`) of the flag on each message."""
        outcomes: list[MessageOutcome] = []
        with self._session() as conn:
            for email in emails:
                outcomes.append(self._flag_one(conn, email, flag, on))
        return outcomes

    def _flag_one(self, conn: imaplib.IMAP4, email: Email, flag: Flag, on: bool) -> MessageOutcome:
        where = self._locate(conn, email)
        if isinstance(where, str):
            return MessageOutcome(email.id, "failed", where, from_folder=email.folder)
        folder, uid = where
        before = self._flags(conn, uid)
        if (flag in before) == on:
            return MessageOutcome(email.id, "already", "", folder, folder, before, email.key)
        change = "+FLAGS.SILENT" if on else "-FLAGS.SILENT"
        typ, data = conn.uid("STORE", str(uid), change, f"({IMAP_FLAGS[flag]})")
        if typ != "OK":
            reason = f"the server refused to change its flags: {reply_text(data)}"
            return MessageOutcome(email.id, "failed", reason, from_folder=folder)
        return MessageOutcome(email.id, "changed", "", folder, folder, before, email.key)
