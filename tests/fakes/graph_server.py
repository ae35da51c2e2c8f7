"""A local stand-in for the parts of Microsoft Graph v1.0 the app uses, as documented.

Mail: delta queries on a folder's messages (`@odata.nextLink` pages, an `@odata.deltaLink`
whose expiry answers 410 `syncStateNotFound`), a message as MIME (`/$value`), `sendMail` and
draft creation from base64 MIME, `/move`, PATCH of `isRead` and `flag`, folders by well-known
name or display name. Calendar: `calendar/getSchedule` and `events`. Every request needs the
current bearer token; `expire_token_after` makes it lapse mid-sync (401 until refreshed), and
`GraphTokens` is the account's token store that refreshes against this server.
"""

from __future__ import annotations

import base64
import itertools
import re
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from typing import Any

from tests.fakes.http_api import FakeApi, Recorded, Reply

API = "/v1.0"
WELL_KNOWN = ("inbox", "sentitems", "drafts", "archive", "deleteditems")
PAGE_SIZE = 2
DELTA = re.compile(rf"^{API}/me/mailFolders/(?P<folder>[^/]+)/messages/delta$")
MESSAGE = re.compile(rf"^{API}/me/messages/(?P<id>[^/]+)(?P<tail>/\$value|/move)?$")
FOLDER = re.compile(rf"^{API}/me/mailFolders/(?P<folder>[^/]+)(?P<tail>/messages)?$")


def graph_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Reply:
    """An error in Graph's shape: `{"error": {"code", "message"}}`."""
    return Reply(status, {"error": {"code": code, "message": message}}, headers or {})


def throttled(retry_after: str = "1") -> Reply:
    """Graph's 429 with `Retry-After`."""
    return graph_error(
        429, "TooManyRequests", "Please retry again later.", {"Retry-After": retry_after}
    )


@dataclass
class Message:
    """One stored message."""

    id: str
    folder: str
    raw: bytes
    conversation_id: str
    changed: int
    is_read: bool = False
    flagged: bool = False
    is_draft: bool = False

    internet_message_id: str = ""

    def __post_init__(self) -> None:
        parsed = message_from_bytes(self.raw, policy=policy.compat32)
        self.internet_message_id = str(parsed["Message-ID"] or "").strip()


@dataclass
class Event:
    """One stored calendar event."""

    id: str
    data: dict[str, Any]


@dataclass
class GraphTokens:
    """The account's tokens as the app's token store hands them out (refreshed by this server)."""

    server: FakeGraph
    account: str = "work"
    provider: str = "microsoft"
    refreshes: int = 0
    _token: str = field(default="")

    def access_token(self) -> str:
        return self._token or self.server.token

    def refreshed(self) -> str:
        self.refreshes += 1
        self._token = self.server.refresh()
        return self._token

    def address(self) -> str:
        return self.server.address


class FakeGraph(FakeApi):
    """One Microsoft 365 mailbox and calendar."""

    name = "fake graph"

    def __init__(self, address: str = "me@contoso.example") -> None:
        super().__init__()
        handler = self._httpd.RequestHandlerClass
        handler.do_PATCH = handler.do_POST  # type: ignore[attr-defined]
        handler.disable_nagle_algorithm = True  # headers and body go out as two writes
        self.address = address
        self._lock2 = threading.RLock()
        self._ids = itertools.count(1)
        self._seq = itertools.count(1)
        self.token = "graph-token-1"
        self._tokens = itertools.count(2)
        self._lapse_after: int | None = None
        self.folders: dict[str, str] = {name: f"folder-{name}" for name in WELL_KNOWN}
        """Display name (well-known name for those) → folder id."""
        self.messages: dict[str, Message] = {}
        self.removed: list[tuple[int, str, str]] = []
        """(sequence, folder id, message id) of messages that left a folder."""
        self.oldest_delta = 0
        self.unreadable: set[str] = set()
        self.sent: list[bytes] = []
        self.events: list[Event] = []
        self.busy: list[dict[str, Any]] = []
        """The scheduleItems getSchedule answers with."""

    @property
    def base_url(self) -> str:
        """The API root, as `SMART_INBOX_GRAPH_API` takes it."""
        return super().base_url + API

    # ------------------------------------------------------------------ test controls

    def tokens(self, account: str = "work") -> GraphTokens:
        """A token store for the account, as the app gets one."""
        return GraphTokens(self, account)

    def refresh(self) -> str:
        """A new token; the old one no longer works."""
        with self._lock2:
            self.token = f"graph-token-{next(self._tokens)}"
            self._lapse_after = None
            return self.token

    def expire_token_after(self, requests: int) -> None:
        """The current token stops working after this many more requests."""
        self._lapse_after = requests

    def expire_delta_links(self) -> None:
        """Every delta link given so far answers 410 from now on."""
        self.oldest_delta = next(self._seq)

    def deliver(self, raw: bytes, folder: str = "inbox", conversation_id: str = "") -> str:
        """Put a message in a folder (as if it arrived); its id."""
        with self._lock2:
            message_id = f"AAMk{next(self._ids):04d}"
            self.messages[message_id] = Message(
                message_id,
                self.folders[folder],
                raw,
                conversation_id or f"conv-{message_id}",
                next(self._seq),
            )
            return message_id

    def folder_of(self, message_id: str) -> str:
        """The display (or well-known) name of the folder a message is in."""
        folder = self.messages[message_id].folder
        return next(name for name, fid in self.folders.items() if fid == folder)

    # ------------------------------------------------------------------ serving

    def serve(self, request: Recorded) -> Reply:
        with self._lock2:
            if request.headers.get("authorization") != f"Bearer {self.token}":
                return graph_error(401, "InvalidAuthenticationToken", "Access token has expired.")
            if self._lapse_after is not None:
                if self._lapse_after <= 0:
                    self.token = "lapsed"
                    return graph_error(
                        401, "InvalidAuthenticationToken", "Access token has expired."
                    )
                self._lapse_after -= 1
            return self._route(request)

    def _route(self, request: Recorded) -> Reply:
        method, path = request.method, request.path
        if method == "GET" and (match := DELTA.match(path)):
            return self._delta(match["folder"], request.query)
        if method == "POST" and path == f"{API}/me/sendMail":
            return self._send(request)
        if method == "POST" and path == f"{API}/me/messages":
            return self._draft(request)
        if (match := MESSAGE.match(path)) is not None:
            return self._message(request, match["id"], match["tail"] or "")
        if path == f"{API}/me/mailFolders":
            return self._folders(request)
        if method == "GET" and (match := FOLDER.match(path)):
            return self._folder(match["folder"], match["tail"], request.query)
        if method == "POST" and path == f"{API}/me/calendar/getSchedule":
            return Reply(200, {"value": [{"scheduleId": self.address, "scheduleItems": self.busy}]})
        if path == f"{API}/me/events":
            return self._events(request)
        if method == "PATCH" and path.startswith(f"{API}/me/events/"):
            return self._change_event(path.rsplit("/", 1)[1], request.json or {})
        if method == "GET" and path == f"{API}/me":
            return Reply(200, {"mail": self.address, "userPrincipalName": self.address})
        return graph_error(404, "ResourceNotFound", f"Resource not found for the segment {path!r}.")

    def _folder_id(self, name: str) -> str | None:
        return self.folders.get(name) or (name if name in self.folders.values() else None)

    def _delta(self, folder: str, query: dict[str, list[str]]) -> Reply:
        folder_id = self._folder_id(folder)
        if folder_id is None:
            return graph_error(404, "ErrorInvalidIdMalformed", "Id is malformed.")
        since = int(query.get("$deltatoken", ["0"])[0])
        if "$skiptoken" not in query and "$deltatoken" in query and since < self.oldest_delta:
            return graph_error(410, "syncStateNotFound", "The sync state is no longer valid.")
        skip = int(query.get("$skiptoken", ["0"])[0])
        ceiling = int(query.get("ceiling", [str(next(self._seq))])[0])
        rows: list[dict[str, Any]] = [
            {
                "id": m.id,
                "conversationId": m.conversation_id,
                "internetMessageId": m.internet_message_id,
            }
            for m in self.messages.values()
            if m.folder == folder_id and since < m.changed <= ceiling
        ]
        rows += [
            {"id": mid, "@removed": {"reason": "deleted"}}
            for seq, fid, mid in self.removed
            if fid == folder_id and since < seq <= ceiling
        ]
        page = rows[skip : skip + PAGE_SIZE]
        link = f"{self.base_url}/me/mailFolders/{folder}/messages/delta"
        body: dict[str, Any] = {"value": page}
        if skip + PAGE_SIZE < len(rows):
            body["@odata.nextLink"] = (
                f"{link}?$skiptoken={skip + PAGE_SIZE}&$deltatoken={since}&ceiling={ceiling}"
            )
        else:
            body["@odata.deltaLink"] = f"{link}?$deltatoken={ceiling}"
        return Reply(200, body)

    def _mime(self, request: Recorded) -> bytes | None:
        if not request.headers.get("content-type", "").startswith("text/plain"):
            return None
        try:
            return base64.b64decode(request.body, validate=True)
        except ValueError:
            return None

    def _send(self, request: Recorded) -> Reply:
        raw = self._mime(request)
        if raw is None:
            return graph_error(
                400,
                "ErrorMimeContentInvalidBase64String",
                "Invalid base64 string for MIME content.",
            )
        self.sent.append(raw)
        self.deliver(raw, "sentitems")
        return Reply(202)

    def _draft(self, request: Recorded) -> Reply:
        raw = self._mime(request)
        if raw is None:
            return graph_error(
                400,
                "ErrorMimeContentInvalidBase64String",
                "Invalid base64 string for MIME content.",
            )
        message_id = self.deliver(raw, "drafts")
        self.messages[message_id].is_draft = True
        return Reply(201, {"id": message_id, "isDraft": True})

    def _message(self, request: Recorded, message_id: str, tail: str) -> Reply:
        message = self.messages.get(message_id)
        if message is None:
            return graph_error(
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        if tail == "/$value":
            if message_id in self.unreadable:
                return graph_error(
                    404, "ErrorItemNotFound", "The specified object was not found in the store."
                )
            return Reply(
                200, message.raw.decode("utf-8", "replace"), {"Content-Type": "message/rfc822"}
            )
        if tail == "/move":
            destination = self._folder_id(str((request.json or {}).get("destinationId", "")))
            if destination is None:
                return graph_error(400, "ErrorInvalidIdMalformed", "Id is malformed.")
            self.removed.append((next(self._seq), message.folder, message.id))
            message.folder, message.changed = destination, next(self._seq)
            return Reply(201, self._shape(message))
        if request.method == "PATCH":
            change = request.json or {}
            if "isRead" in change:
                message.is_read = bool(change["isRead"])
            if "flag" in change:
                message.flagged = change["flag"].get("flagStatus") == "flagged"
            message.changed = next(self._seq)
        return Reply(200, self._shape(message))

    def _shape(self, message: Message) -> dict[str, Any]:
        return {
            "id": message.id,
            "parentFolderId": message.folder,
            "conversationId": message.conversation_id,
            "internetMessageId": message.internet_message_id,
            "isRead": message.is_read,
            "isDraft": message.is_draft,
            "flag": {"flagStatus": "flagged" if message.flagged else "notFlagged"},
        }

    def _folders(self, request: Recorded) -> Reply:
        if request.method == "POST":
            name = str((request.json or {}).get("displayName", ""))
            if name in self.folders:
                return graph_error(
                    409, "ErrorFolderExists", "A folder with the specified name already exists."
                )
            self.folders[name] = f"folder-{next(self._ids)}"
            return Reply(201, {"id": self.folders[name], "displayName": name})
        wanted = re.fullmatch(r"displayName eq '(.*)'", request.query.get("$filter", [""])[0])
        rows = [
            {"id": fid, "displayName": name}
            for name, fid in self.folders.items()
            if name not in WELL_KNOWN and (wanted is None or wanted[1].replace("''", "'") == name)
        ]
        return Reply(200, {"value": rows})

    def _folder(self, folder: str, tail: str | None, query: dict[str, list[str]]) -> Reply:
        folder_id = self._folder_id(folder)
        if folder_id is None:
            return graph_error(
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        if not tail:
            return Reply(200, {"id": folder_id, "displayName": folder})
        wanted = re.fullmatch(r"internetMessageId eq '(.*)'", query.get("$filter", [""])[0])
        rows = [
            self._shape(m)
            for m in self.messages.values()
            if m.folder == folder_id and (wanted is None or m.internet_message_id == wanted[1])
        ]
        return Reply(200, {"value": rows})

    def _events(self, request: Recorded) -> Reply:
        if request.method == "POST":
            data = request.json or {}
            if not data.get("subject") or not data.get("start") or not data.get("end"):
                return graph_error(
                    400, "ErrorInvalidRequest", "subject, start and end are required."
                )
            for event in self.events:
                if (
                    data.get("transactionId")
                    and event.data.get("transactionId") == data["transactionId"]
                ):
                    return Reply(201, event.data)
            event = Event(f"evt-{next(self._ids)}", dict(data))
            event.data.update(id=event.id, iCalUId=f"040000008200E00074C5B7101A82E008{event.id}")
            event.data["organizer"] = {"emailAddress": {"address": self.address}}
            self.events.append(event)
            return Reply(201, event.data)
        wanted = re.search(
            r"ep/id eq '(.*)' and ep/value eq '(.*)'\)$", request.query.get("$filter", [""])[0]
        )
        rows = [
            e.data for e in self.events if wanted is None or _property(e, wanted[1]) == wanted[2]
        ]
        return Reply(200, {"value": rows})

    def _change_event(self, event_id: str, change: dict[str, Any]) -> Reply:
        for event in self.events:
            if event.id == event_id:
                event.data.update(change)
                return Reply(200, event.data)
        return graph_error(
            404, "ErrorItemNotFound", "The specified object was not found in the store."
        )


def _property(event: Event, property_id: str) -> str | None:
    for prop in event.data.get("singleValueExtendedProperties", []):
        if prop.get("id") == property_id:
            return str(prop.get("value"))
    return None
