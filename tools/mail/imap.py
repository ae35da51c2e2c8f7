"""Mail from an IMAP folder (`--inbox imap://user@host[:port]/FOLDER`), read without changing it.

Fetching opens the folder read-only (EXAMINE) and reads bodies with `BODY.PEEK[]`, so no flag
ever changes; the cursor (UIDVALIDITY and the highest UID read) means only new mail is read.
The server is written to only by approved actions: a draft APPENDed to Drafts, a copy of sent
mail to Sent. `imaplib` blocks, so the graph calls this module through `asyncio.to_thread`.
"""

from __future__ import annotations

import hashlib
import imaplib
import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from tools.mail.imap_session import FolderReader, ImapConnection
from tools.mail.imap_wire import (
    APPENDUID,
    ConnectionDropped,
    cursor_signature,
    decode_mailbox,
    encode_mailbox,
    first_number,
    parse_cursor,
    quoted,
    reply_text,
)
from tools.mail.mime import message_id_of, parse_email
from tools.mail.model import Email
from tools.mail.source_protocol import MailSourceError, SyncResult

if TYPE_CHECKING:
    from memory.db import AppDatabase


logger = logging.getLogger(__name__)


FETCH_BATCH = 50
"""Messages read per FETCH: few round trips, a bounded response, and progress saved after each."""
HEADER_BATCH = 500
"""Messages whose Message-ID is asked for per FETCH when a folder is listed again."""


class ImapSource(ImapConnection):
    """One folder of an IMAP account, read as a mail source; connects only when used."""

    @contextmanager
    def _open_folder(self) -> Iterator[FolderReader]:
        reader = FolderReader(self)
        reader.open()
        try:
            yield reader
        except MailSourceError:
            reader.drop()
            raise
        except (OSError, imaplib.IMAP4.error, ConnectionDropped) as exc:
            reader.drop()
            raise self._error(self._reason(exc)) from exc
        except BaseException:
            reader.drop()
            raise
        else:
            reader.close()

    def sync(self, db: AppDatabase) -> SyncResult:
        """Read the messages that arrived since the cursor into the cache (see the module doc).

        Unchanged UIDVALIDITY: only UIDs above the highest one read are fetched, and a folder
        whose UIDNEXT has not moved costs one EXAMINE. Changed UIDVALIDITY (the folder was
        recreated or rebuilt): every UID is new, so the folder is listed again, each message's
        Message-ID is asked for, and only those not already cached are read in full. A message
        already cached (same Message-ID, same bytes) is never stored twice; one that only shares
        a Message-ID is stored with an id of its own. Cached mail is never dropped.
        Progress is saved after every batch, so a connection lost midway loses nothing.

        Raises:
            MailSourceError: the server cannot be reached, the login or the folder fails.

        """
        cursor = db.get_cursor(self.spec)
        previous = parse_cursor(cursor.signature) if cursor is not None else None
        result = SyncResult(source=self.spec)
        with self._open_folder() as reader:
            status = reader.status
            same = previous is not None and previous[0] == status.uidvalidity
            if same and previous is not None:
                last = previous[1]
                if status.uidnext is not None and status.uidnext <= last + 1:
                    result.skipped = True
                    return result
                listed = [uid for uid in reader.search("UID", f"{last + 1}:*") if uid > last]
            else:
                if previous is not None:
                    logger.warning(
                        "%s: UIDVALIDITY changed from %d to %d; listing the folder again "
                        "(cached mail is kept, only mail not cached yet is read)",
                        self.spec,
                        previous[0],
                        status.uidvalidity,
                    )
                last = 0
                listed = reader.search("ALL")
            known = db.known_digests(self.spec)
            wanted = listed if same or not known else self._not_cached(reader, listed, set(known))
            for start in range(0, len(wanted), FETCH_BATCH):
                batch = wanted[start : start + FETCH_BATCH]
                emails, read = self._read_batch(reader, batch, status.uidvalidity, known)
                stored = db.add_emails(emails)
                db.set_cursor(
                    self.spec, cursor_signature(status.uidvalidity, batch[-1]), status.exists
                )
                result.new.extend(stored)
                result.read_count += read
            top = max([last, *listed, (status.uidnext or 1) - 1])
            db.set_cursor(self.spec, cursor_signature(status.uidvalidity, top), status.exists)
        logger.debug(
            "%s: %d listed, %d read, %d new",
            self.spec,
            len(listed),
            result.read_count,
            len(result.new),
        )
        return result

    def _not_cached(self, reader: FolderReader, uids: list[int], known_ids: set[str]) -> list[int]:
        """The UIDs whose Message-ID is not cached yet (or that have none, or no answer)."""
        wanted: list[int] = []
        for start in range(0, len(uids), HEADER_BATCH):
            batch = uids[start : start + HEADER_BATCH]
            try:
                headers, _ = reader.fetch(batch, "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]")
            except ConnectionDropped as exc:
                reader.reopen(exc)
                headers = {}  # read them in full instead: slower, never wrong
            for uid in batch:
                raw = headers.get(uid)
                message_id = message_id_of(raw) if raw is not None else ""
                if not message_id or message_id not in known_ids:
                    wanted.append(uid)
        logger.info(
            "%s: %d of %d listed message(s) are not cached yet", self.spec, len(wanted), len(uids)
        )
        return wanted

    def _read_batch(
        self, reader: FolderReader, uids: list[int], uidvalidity: int, known: dict[str, set[str]]
    ) -> tuple[list[Email], int]:
        """Parse the messages of `uids` not cached yet; returns them and how many were read.

        `known` holds the digests of the cached messages by Message-ID. A message whose
        Message-ID and bytes are both cached is the same message read again (the folder was
        rebuilt) and is skipped; one that only shares the Message-ID is a message of its own
        (a forged copy, say) and is kept, to get an id of its own when it is stored.
        """
        bodies = self._bodies(reader, uids)
        emails: list[Email] = []
        read = 0
        for uid in uids:
            body = bodies.get(uid)
            key = f"{uidvalidity}:{uid}"
            if body is None:
                logger.info("%s: UID %d was expunged before it could be read", self.spec, uid)
                continue
            if isinstance(body, str):
                email = self._unreadable(key, body)
            else:
                read += 1
                email = parse_email(body, source=self.spec, folder=self.imap.folder, key=key)
            digests = known.setdefault(email.id, set())
            # '': cached before digests were kept, when a Message-ID alone told messages apart.
            if email.digest in digests or "" in digests:
                logger.debug("%s: UID %d is %s, cached already", self.spec, uid, email.id)
                continue
            digests.add(email.digest)
            emails.append(email)
        return emails, read

    def _bodies(self, reader: FolderReader, uids: list[int]) -> dict[int, bytes | str]:
        """Raw messages by UID; a str says why the server would not give that one.

        A UID missing from the answer was expunged meanwhile. When the server refuses the
        batch or drops the connection over it, the messages are asked for one by one, so one
        message the server cannot serve does not hold back the rest.
        """
        try:
            found, refusal = reader.fetch(uids, "BODY.PEEK[]")
        except ConnectionDropped as exc:
            reader.reopen(exc)
            if len(uids) == 1:
                return {uids[0]: f"the server dropped the connection instead of sending it ({exc})"}
            found, refusal = {}, str(exc)
        bodies: dict[int, bytes | str] = dict(found)
        if refusal is None:
            return bodies
        if len(uids) == 1:
            if uids[0] not in bodies:
                bodies[uids[0]] = f"the server could not send this message: {refusal}"
            return bodies
        for uid in uids:
            if uid not in bodies:
                bodies.update(self._bodies(reader, [uid]))
        return bodies

    def _unreadable(self, key: str, reason: str) -> Email:
        logger.warning("%s: message %s could not be read: %s", self.spec, key, reason)
        return Email(
            id="sha256:" + hashlib.sha256(f"{self.spec}\n{key}".encode()).hexdigest()[:32],
            source=self.spec,
            folder=self.imap.folder,
            key=key,
            error=reason,
        )

    # ------------------------------------------------------------------ writing

    def save_draft(self, raw: bytes) -> str:
        r"""APPEND `raw` to Drafts (SPECIAL-USE `\Drafts`, else "Drafts"), flagged `\Draft`."""
        return self._append(raw, "\\Drafts", "Drafts", "(\\Seen \\Draft)")

    def save_sent(self, raw: bytes) -> str:
        r"""APPEND a copy of sent mail to the Sent folder (SPECIAL-USE `\Sent`, else "Sent")."""
        return self._append(raw, "\\Sent", "Sent", "(\\Seen)")

    def _append(self, raw: bytes, use: str, fallback: str, flags: str) -> str:
        """Store `raw` in the folder marked `use`; returns `FOLDER;UIDVALIDITY=V/;UID=U`.

        The key follows the IMAP URL form (RFC 5092); it is just the folder when the server
        does not say which UID it gave the message (no UIDPLUS).
        """
        with self._session() as conn:
            folder = self._special_folder(conn, use, fallback)
            name = decode_mailbox(folder)
            typ, data = conn.append(quoted(folder), flags, None, raw)
            if typ == "NO" and "TRYCREATE" in reply_text(data).upper():
                created, reply = conn.create(quoted(folder))
                if created != "OK":
                    raise self._error(f"folder '{name}' cannot be created: {reply_text(reply)}")
                logger.info("%s: created folder %s", self.imap.server, name)
                typ, data = conn.append(quoted(folder), flags, None, raw)
            if typ != "OK":
                raise self._error(
                    f"the server did not store the message in '{name}': {reply_text(data)}"
                )
            match = APPENDUID.search(b" ".join(d for d in data if isinstance(d, bytes)))
        logger.info("%s: message stored in %s", self.imap.server, name)
        if match is None:
            return name
        return f"{name};UIDVALIDITY={int(match.group(1))}/;UID={int(match.group(2))}"

    def find_sent(self, message_ids: Sequence[str]) -> dict[str, str]:
        r"""The messages in Sent carrying these Message-IDs: id (as given) → key, found only.

        One session: the Sent folder (as `save_sent` picks it) is examined read-only and
        asked `UID SEARCH HEADER Message-ID <id>` for each id. A Sent folder that does not
        exist yet holds none. Keys have the form `save_sent` returns.

        Raises:
            MailSourceError: the server cannot be reached, or refuses the search.

        """
        found: dict[str, str] = {}
        with self._session() as conn:
            folder = self._special_folder(conn, "\\Sent", "Sent")
            name = decode_mailbox(folder)
            typ, _ = conn.select(quoted(folder), readonly=True)
            if typ != "OK":
                return found  # not created yet: nothing was ever kept in it
            uidvalidity = first_number(conn.response("UIDVALIDITY")[1])
            for message_id in message_ids:
                bare = "".join(message_id.split()).strip("<>")
                typ, data = conn.uid("SEARCH", "HEADER", "Message-ID", quoted(f"<{bare}>"))
                if typ != "OK":
                    raise self._error(f"searching '{name}' failed: {reply_text(data)}")
                uids = [int(t) for line in data if isinstance(line, bytes) for t in line.split()]
                if uids:
                    where = f"{name};UIDVALIDITY={uidvalidity}/" if uidvalidity else f"{name}/"
                    found[message_id] = f"{where};UID={max(uids)}"
        return found

    def _special_folder(self, conn: imaplib.IMAP4, use: str, fallback: str) -> str:
        r"""The encoded name of the folder marked `use` (`\Drafts`, `\Sent`), else `fallback`.

        Servers mark their special folders in LIST (RFC 6154); one that only does so when
        asked is asked. Without a mark, a folder named `fallback` (at the top or under INBOX)
        is used, and when there is none it is created by the first APPEND.
        """
        folders = self._list(conn)
        marked = [name for flags, name in folders if use.lower() in flags]
        if not marked and "SPECIAL-USE" in conn.capabilities:
            marked = [
                name for flags, name in self._list(conn, special_use=True) if use.lower() in flags
            ]
        if marked:
            return marked[0]
        wanted = fallback.lower()
        for _, name in folders:
            if decode_mailbox(name).lower() == wanted:
                return name
        for _, name in folders:
            if re.split(r"[./]", decode_mailbox(name))[-1].lower() == wanted:
                return name
        return encode_mailbox(fallback)
