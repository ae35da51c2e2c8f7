"""Mail from a Microsoft 365 account (`outlook:ACCOUNT`), read through Graph's delta queries.

Inbox and Sent Items are each followed by a delta query: the first fetch lists every message,
later ones only what changed, from the `@odata.deltaLink` kept as the cursor. A message is read
in full as MIME (`/messages/{id}/$value`) by our own parser, and only when it is not cached yet,
so an unchanged mailbox costs one delta call a folder and reads nothing. An expired delta link
(410, `syncStateNotFound`) starts that folder's listing over; cached mail is never read again.
Graph keeps the conversation (`conversationId`) as the message's `thread_id`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from tools.mail.mime import parse_email
from tools.mail.model import SENT, Email
from tools.mail.source_protocol import MailSourceError, SyncResult
from tools.msgraph.client import PROVIDER, GraphClient, GraphError

if TYPE_CHECKING:
    from memory.db import AppDatabase
    from memory.mail_tables import SyncCursor

logger = logging.getLogger(__name__)

SCHEME = "outlook"
SYNCED_FOLDERS = {"inbox": "INBOX", "sentitems": SENT}
"""Graph's well-known folders that are fetched, and what the cache calls each."""
STORE_BATCH = 50
"""Messages stored per write to the cache: what a lost connection can cost is one batch."""
DELTA_FIELDS = "id,conversationId,internetMessageId"
EXPIRED_CODES = frozenset({"syncStateNotFound", "syncStateInvalid", "resyncRequired"})


def _links(cursor: SyncCursor | None) -> dict[str, str]:
    """The delta link of each folder the cursor holds (none: every folder is listed afresh)."""
    try:
        links = json.loads(cursor.signature) if cursor is not None else {}
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in links.items()} if isinstance(links, dict) else {}


class OutlookSource:
    """One Microsoft 365 mailbox, read and written through Graph; connects only when used."""

    def __init__(self, account: str, client: GraphClient) -> None:
        self.account = account
        self.client = client

    @property
    def spec(self) -> str:
        """`outlook:ACCOUNT`."""
        return f"{SCHEME}:{self.account}"

    def _error(self, err: GraphError) -> MailSourceError:
        return MailSourceError(f"inbox {self.spec}: {err}")

    # ------------------------------------------------------------------ reading

    def probe(self) -> str:
        """One cheap, side-effect-free call (the Inbox folder): what the health check says of it.

        Raises:
            MailSourceError: Graph cannot be reached or refuses the account's token.

        """
        try:
            folder = self.client.json("GET", "/me/mailFolders/inbox", action="look at the Inbox")
        except GraphError as err:
            raise self._error(err) from err
        return f"{folder.get('displayName') or 'Inbox'} of {self.spec} answers"

    def sync(self, db: AppDatabase) -> SyncResult:
        """Read what changed in Inbox and Sent Items since the cursor (see the module doc).

        Raises:
            MailSourceError: Graph cannot be reached, refuses the sign-in or the listing.

        """
        links = _links(db.get_cursor(self.spec))
        result = SyncResult(source=self.spec)
        known = db.known_keys(self.spec)
        changed = False
        for folder_id, folder in SYNCED_FOLDERS.items():
            try:
                listed, link = self._delta(folder_id, links.get(folder_id, ""))
            except GraphError as err:
                raise self._error(err) from err
            wanted = [item for item in listed if str(item.get("id")) not in known]
            changed = changed or bool(listed)
            for start in range(0, len(wanted), STORE_BATCH):
                emails = [self._read(item, folder) for item in wanted[start : start + STORE_BATCH]]
                result.read_count += sum(1 for e in emails if not e.error)
                result.new.extend(db.add_emails(emails))
                known.update(e.key for e in emails)
            links[folder_id] = link
            db.set_cursor(self.spec, json.dumps(links), len(known))
        result.skipped = not changed
        logger.debug("%s: %d read, %d new", self.spec, result.read_count, len(result.new))
        return result

    def _delta(self, folder_id: str, link: str) -> tuple[list[dict[str, Any]], str]:
        """Every message the folder's delta lists since `link` ('' for all), and the next link."""
        first = f"me/mailFolders/{folder_id}/messages/delta"
        params: dict[str, str] | None = None if link else {"$select": DELTA_FIELDS}
        url = link or first
        listed: list[dict[str, Any]] = []
        restarted = False
        while True:
            try:
                page = self.client.json("GET", url, action="list the mail", params=params)
            except GraphError as err:
                if restarted or (err.status != 410 and err.code not in EXPIRED_CODES):
                    raise
                restarted, listed = True, []
                logger.warning(
                    "%s: the %s sync state expired; listing it again", self.spec, folder_id
                )
                url, params, link = first, {"$select": DELTA_FIELDS}, ""
                continue
            params = None
            listed += [
                m for m in page.get("value", []) if isinstance(m, dict) and "@removed" not in m
            ]
            if page.get("@odata.nextLink"):
                url = str(page["@odata.nextLink"])
                continue
            if page.get("@odata.deltaLink"):
                return listed, str(page["@odata.deltaLink"])
            raise GraphError(f"{PROVIDER} ended a listing without a delta link")

    def _read(self, item: dict[str, Any], folder: str) -> Email:
        """The message as our parser reads its MIME; an unreadable one says why, nothing lost."""
        key = str(item["id"])
        try:
            response = self.client.request(
                "GET", f"me/messages/{key}/$value", action="read a message"
            )
        except GraphError as err:
            if err.status in (None, 401) or (err.status or 0) >= 500:
                raise self._error(err) from err
            logger.warning("%s: message %s could not be read: %s", self.spec, key, err)
            return Email(
                id="sha256:" + hashlib.sha256(f"{self.spec}\n{key}".encode()).hexdigest()[:32],
                source=self.spec,
                folder=folder,
                key=key,
                error=str(err),
                thread_id=str(item.get("conversationId") or ""),
            )
        email = parse_email(response.content, source=self.spec, folder=folder, key=key)
        return replace(email, thread_id=str(item.get("conversationId") or ""))

    # ------------------------------------------------------------------ writing

    def send(self, raw: bytes) -> None:
        """Send a composed message as it is (MIME), so its threading headers go with it.

        Graph keeps the copy in Sent Items itself.

        Raises:
            MailSourceError: Graph did not take it (or may have: the message says so).

        """
        try:
            self.client.request(
                "POST",
                "me/sendMail",
                action="send the message",
                content=base64.b64encode(raw),
                content_type="text/plain",
            )
        except GraphError as err:
            raise self._error(err) from err
        logger.info("%s: message handed to %s", self.spec, PROVIDER)

    def save_draft(self, raw: bytes) -> str:
        """Keep `raw` in Drafts (Graph makes a message from MIME a draft); its id there."""
        try:
            data = self.client.json(
                "POST",
                "me/messages",
                action="keep the draft",
                content=base64.b64encode(raw),
                content_type="text/plain",
            )
        except GraphError as err:
            raise self._error(err) from err
        return str(data.get("id") or "")

    def save_sent(self, raw: bytes) -> str:
        """The id of the copy Graph kept in Sent Items when it sent `raw` ('' if not seen yet)."""
        message = parse_email(raw, source=self.spec, folder=SENT, key="")
        found = self.find_sent([message.message_id]) if message.message_id else {}
        return next(iter(found.values()), "")

    def find_sent(self, message_ids: Sequence[str]) -> dict[str, str]:
        """The messages of Sent Items with these Message-IDs (`internetMessageId`): id → key."""
        found: dict[str, str] = {}
        for message_id in message_ids:
            bare = "".join(message_id.split()).strip("<>").replace("'", "''")
            try:
                data = self.client.json(
                    "GET",
                    "me/mailFolders/sentitems/messages",
                    action="search Sent Items",
                    params={"$filter": f"internetMessageId eq '<{bare}>'", "$select": "id"},
                )
            except GraphError as err:
                raise self._error(err) from err
            rows = [r for r in data.get("value", []) if isinstance(r, dict) and r.get("id")]
            if rows:
                found[message_id] = str(rows[0]["id"])
        return found
