"""A Gmail mailbox as a mail source (`--inbox gmail:ACCOUNT`), read through the Gmail API.

The first fetch lists the mailbox (`messages.list`, newest first, at most `FULL_SYNC_LIMIT`)
and reads each message not cached yet as raw RFC 822 (`messages.get format=raw`), up to 50
in one request to Gmail's batch endpoint (`tools.mail.gmail.batch`), storing after each
batch. The cursor is Gmail's `historyId`: every later fetch asks `history.list` what changed
since, reads only the messages added and files again the ones whose labels changed. Gmail
forgets old history (a 404): then the mailbox is listed again, and only mail not cached yet
is read. A message Gmail cannot give comes back with `error` set; one deleted meanwhile is
skipped. Sending is Gmail's (`messages.send`, in the thread of the mail it answers;
`SendsMail`), so Gmail keeps the Sent copy itself.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from email.parser import BytesHeaderParser
from typing import TYPE_CHECKING, Any

from memory.inbox_store import moved_in_cache
from memory.secrets import SecretLookup
from tools.google.account import ConnectedTokens, account_tokens, vault_tokens
from tools.google.api import GoogleApi, GoogleApiError, checked_base_url, path_part
from tools.http import HttpSettings
from tools.mail.gmail.batch import BATCH_LIMIT, PartAnswer, read_batch
from tools.mail.gmail.labels import (
    GMAIL_API_VARIABLE,
    GmailSpec,
    folder_of,
    gmail_api_url,
    parse_gmail_spec,
)
from tools.mail.mime import message_id_of, parse_email
from tools.mail.model import Email
from tools.mail.source_protocol import MailSourceError, SyncResult, environment_secrets
from tools.oauth.tokens import TokenError

if TYPE_CHECKING:
    from memory.db import AppDatabase

logger = logging.getLogger(__name__)

USERS_ME = "/gmail/v1/users/me"
FULL_SYNC_LIMIT = 2000
"""Messages a first fetch lists at most (the newest): a mailbox of years is not read whole."""
PAGE_SIZE = 500
HISTORY_TYPES = ("messageAdded", "labelAdded", "labelRemoved")


def _cursor(history_id: str) -> str:
    return f"history:{history_id}"


def _history_id(signature: str) -> str:
    prefix, _, value = signature.partition(":")
    return value if prefix == "history" and value.isdigit() else ""


class GmailSource:
    """The Gmail mailbox of one connected account; connects only when used."""

    def __init__(self, gmail: GmailSpec, api: GoogleApi) -> None:
        self.gmail = gmail
        self.api = api
        self._label_names: dict[str, str] | None = None
        self._sent: dict[str, str] = {}
        """Message-ID → the id Gmail gave what this source sent."""

    @classmethod
    def from_settings(
        cls,
        spec: str,
        *,
        secrets: SecretLookup,
        environ: Mapping[str, str] | None = None,
    ) -> GmailSource:
        """The source a `gmail:ACCOUNT` spec names, on `SMART_INBOX_GMAIL_API`."""
        gmail = parse_gmail_spec(spec)
        try:
            base = checked_base_url(gmail_api_url(environ), variable=GMAIL_API_VARIABLE)
            retry = HttpSettings.from_env(environ)
        except (GoogleApiError, ValueError) as err:
            raise MailSourceError(str(err)) from None
        api = GoogleApi(base, account_tokens(gmail.account, secrets), name="Gmail", retry=retry)
        return cls(gmail, api)

    @property
    def spec(self) -> str:
        """`gmail:ACCOUNT`."""
        return self.gmail.source

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One Gmail API call below `users/me`; `MailSourceError` when it fails."""
        try:
            return self.api.request(method, USERS_ME + path, **kwargs)
        except GoogleApiError as err:
            raise MailSourceError(f"{self.spec}: {err}") from err

    # ------------------------------------------------------------------ reading

    def label_names(self, *, fresh: bool = False) -> dict[str, str]:
        """The user's own labels: id → name (one `labels.list`, kept for this source)."""
        if self._label_names is None or fresh:
            data = self.call("GET", "/labels") or {}
            self._label_names = {
                str(label["id"]): str(label.get("name") or label["id"])
                for label in data.get("labels") or []
                if label.get("type") == "user" and label.get("id")
            }
        return self._label_names

    def folder_of(self, label_ids: Sequence[str]) -> str:
        """The folder of a message with these labels (labels listed again if one is new)."""
        names = self.label_names()
        if any(label.startswith("Label_") and label not in names for label in label_ids):
            names = self.label_names(fresh=True)
        return folder_of(label_ids, names)

    def sync(self, db: AppDatabase) -> SyncResult:
        """Read what changed since the stored `historyId` (everything on the first fetch).

        Raises:
            MailSourceError: Gmail cannot be reached, refuses the token, or the listing fails.

        """
        cursor = db.get_cursor(self.spec)
        start = _history_id(cursor.signature) if cursor is not None else ""
        if start:
            try:
                return self._sync_history(db, start, cursor.message_count if cursor else 0)
            except MailSourceError as err:
                if not isinstance(err.__cause__, GoogleApiError) or err.__cause__.status != 404:
                    raise
                logger.warning(
                    "%s: Gmail no longer has the history since %s; listing the mailbox again "
                    "(cached mail is kept, only mail not cached yet is read)",
                    self.spec,
                    start,
                )
        return self._sync_full(db)

    def _sync_full(self, db: AppDatabase) -> SyncResult:
        profile = self.call("GET", "/profile") or {}
        history_id = str(profile.get("historyId") or "")
        listed = self._list_ids()
        known = db.known_keys(self.spec)
        result = SyncResult(source=self.spec)
        self._read_into(db, [m for m in listed if m not in known], result)
        if history_id:
            db.set_cursor(self.spec, _cursor(history_id), len(listed))
        logger.debug("%s: %d listed, %d read", self.spec, len(listed), result.read_count)
        return result

    def _list_ids(self) -> list[str]:
        """The newest messages' ids (spam and trash left out, as Gmail lists by default)."""
        ids: list[str] = []
        page = ""
        while len(ids) < FULL_SYNC_LIMIT:
            params = {"maxResults": min(PAGE_SIZE, FULL_SYNC_LIMIT - len(ids))}
            if page:
                params["pageToken"] = page  # type: ignore[assignment]
            data = self.call("GET", "/messages", params=params) or {}
            ids += [str(m["id"]) for m in data.get("messages") or [] if m.get("id")]
            page = str(data.get("nextPageToken") or "")
            if not page:
                break
        return list(dict.fromkeys(ids))

    def _sync_history(self, db: AppDatabase, start: str, count: int) -> SyncResult:
        result = SyncResult(source=self.spec)
        added: list[str] = []
        relabelled: dict[str, list[str]] = {}
        page, latest = "", start
        while True:
            params: dict[str, Any] = {"startHistoryId": start, "historyTypes": HISTORY_TYPES}
            if page:
                params["pageToken"] = page
            data = self.call("GET", "/history", params=params) or {}
            latest = str(data.get("historyId") or latest)
            for record in data.get("history") or []:
                for item in record.get("messagesAdded") or []:
                    added.append(str(item["message"]["id"]))
                for kind in ("labelsAdded", "labelsRemoved"):
                    for item in record.get(kind) or []:
                        message = item.get("message") or {}
                        relabelled[str(message.get("id"))] = list(message.get("labelIds") or [])
            page = str(data.get("nextPageToken") or "")
            if not page:
                break
        known = db.known_keys(self.spec)
        wanted = [m for m in dict.fromkeys(added) if m not in known]
        result.skipped = not added and not relabelled
        self._read_into(db, wanted, result)
        for key, labels in relabelled.items():
            if key in known and key not in wanted:
                moved_in_cache(db, self.spec, key, self.folder_of(labels))
        db.set_cursor(self.spec, _cursor(latest), count + len(result.new))
        return result

    def _read_into(self, db: AppDatabase, ids: list[str], result: SyncResult) -> None:
        for start in range(0, len(ids), BATCH_LIMIT):
            keys = ids[start : start + BATCH_LIMIT]
            paths = [f"{USERS_ME}/messages/{path_part(key)}?format=raw" for key in keys]
            try:
                answers = read_batch(self.api, paths)
            except GoogleApiError as err:
                raise MailSourceError(f"{self.spec}: {err}") from err
            emails: list[Email] = []
            refused: list[str] = []
            for key, path, answer in zip(keys, paths, answers, strict=True):
                if answer.status in (401, 403, 429):
                    refused.append(f"Gmail refused GET {path.split('?')[0]}: {answer.line}")
                    continue
                email = self._read(key, path, answer)
                if email is not None:
                    result.read_count += 0 if email.error else 1
                    emails.append(email)
            result.new.extend(db.add_emails(emails))
            if refused:
                # What was read is kept; the rest is read by the next fetch (no cursor moved).
                raise MailSourceError(f"{self.spec}: {refused[0]}")

    def _read(self, key: str, path: str, answer: PartAnswer) -> Email | None:
        """One message from its part of a batch; None when it was deleted before it was read."""
        if answer.status == 404:
            logger.info("%s: message %s was deleted before it could be read", self.spec, key)
            return None
        if answer.status != 200:
            return self._unreadable(key, f"Gmail refused GET {path.split('?')[0]}: {answer.line}")
        try:
            data = json.loads(answer.body)
            raw = base64.urlsafe_b64decode(str(data.get("raw") or "") + "==")
        except (ValueError, AttributeError):
            return self._unreadable(key, "Gmail sent a message that is not base64url JSON")
        folder = self.folder_of([str(label) for label in data.get("labelIds") or []])
        email = parse_email(raw, source=self.spec, folder=folder, key=key)
        return replace(email, thread_id=str(data.get("threadId") or ""))

    def _unreadable(self, key: str, reason: str) -> Email:
        logger.warning("%s: message %s could not be read: %s", self.spec, key, reason)
        return Email(
            id="sha256:" + hashlib.sha256(f"{self.spec}\n{key}".encode()).hexdigest()[:32],
            source=self.spec,
            folder="INBOX",
            key=key,
            error=reason,
        )

    # ------------------------------------------------------------------ writing

    def _thread_of(self, raw: bytes) -> str:
        """The Gmail thread of the mail `raw` answers (by its In-Reply-To), '' for new mail."""
        replied = _in_reply_to(raw)
        if not replied:
            return ""
        data = self.call("GET", "/messages", params={"q": f"rfc822msgid:{replied}"}) or {}
        found = data.get("messages") or []
        return str(found[0].get("threadId") or "") if found else ""

    def send(self, raw: bytes) -> None:
        """Send `raw` as it is, in the thread of the mail it answers (`messages.send`).

        Raises:
            MailSourceError: Gmail did not take the message.

        """
        body: dict[str, str] = {"raw": _b64(raw)}
        thread = self._thread_of(raw)
        if thread:
            body["threadId"] = thread
        data = self.call("POST", "/messages/send", body=body) or {}
        logger.info("%s: sent as %s", self.spec, data.get("id"))
        message_id = message_id_of(raw)
        if message_id and data.get("id"):
            self._sent[message_id] = str(data["id"])

    def save_draft(self, raw: bytes) -> str:
        """Keep `raw` as a Gmail draft (`drafts.create`, in its thread); the draft message's id."""
        message: dict[str, str] = {"raw": _b64(raw)}
        thread = self._thread_of(raw)
        if thread:
            message["threadId"] = thread
        data = self.call("POST", "/drafts", body={"message": message}) or {}
        return str((data.get("message") or {}).get("id") or data.get("id") or "")

    def save_sent(self, raw: bytes) -> str:
        """Nothing to store: Gmail keeps what it sent. The id of that copy ('' if not found).

        The id `send` was answered with, else Sent searched by the Message-ID.
        """
        message_id = message_id_of(raw)
        if not message_id:
            return ""
        return self._sent.get(message_id) or self.find_sent([message_id]).get(message_id, "")

    def find_sent(self, message_ids: Sequence[str]) -> dict[str, str]:
        """The sent messages carrying these Message-IDs (a `rfc822msgid:` search each)."""
        found: dict[str, str] = {}
        for message_id in message_ids:
            bare = "".join(message_id.split()).strip("<>")
            params = {"q": f"rfc822msgid:{bare}", "labelIds": "SENT"}
            data = self.call("GET", "/messages", params=params) or {}
            hits = data.get("messages") or []
            if hits:
                found[message_id] = str(hits[0]["id"])
        return found

    def probe(self) -> str:
        """One cheap, side-effect-free call (the profile): what the health check says of it.

        Raises:
            MailSourceError: Gmail cannot be reached or refuses the account's token.

        """
        profile = self.call("GET", "/profile") or {}
        return f"{profile.get('messagesTotal', '?')} messages in {self.spec}"

    def address(self) -> str:
        """The account's address: as granted with its token, else Gmail's profile."""
        try:
            granted = self.api.tokens.address()
        except TokenError:
            granted = ""  # no grant to ask: the call below says why
        if granted:
            return granted
        profile = self.call("GET", "/profile") or {}
        return str(profile.get("emailAddress") or "").lower()


def granted_address(
    spec: str, secrets: SecretLookup | None, connected: ConnectedTokens = vault_tokens
) -> str:
    """The address the account of a `gmail:` inbox was granted as, '' when none is stored.

    Read from the vault only (no call to Gmail): it is the From of the user's mail when
    neither `SMTP_FROM` nor `SMART_INBOX_USER_EMAILS` says otherwise.
    """
    try:
        gmail = parse_gmail_spec(spec)
        tokens = account_tokens(gmail.account, secrets or environment_secrets, connected)
        return tokens.address()
    except (MailSourceError, TokenError):
        return ""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _in_reply_to(raw: bytes) -> str:
    """The Message-ID an outgoing message answers, without brackets ('' for new mail)."""
    value = BytesHeaderParser().parsebytes(raw).get("In-Reply-To") or ""
    return "".join(str(value).split()).strip("<>")
