"""A local stand-in for the Gmail API (users.messages, history, labels, drafts), as documented.

One mailbox behind one bearer token, its calls also taken in batches (`/batch/gmail/v1`,
`multipart/mixed`). It keeps a history: every message added and every label
changed gets a new `historyId`, and `history.list` answers what happened after the one asked
for (`404` once that is older than the history kept, as Gmail does after about a week). Tests
can make the token expire after some calls (`401` until the client refreshes), make one
message fail (`500`) always or a few times inside a batch (`part_failures`: a 429 with
`Retry-After`, a 503), and forget the history.
"""

from __future__ import annotations

import base64
import itertools
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.parser import BytesParser
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.http_api import FakeApi, Recorded, Reply

ME = "/gmail/v1/users/me"
BATCH = "/batch/gmail/v1"
BATCH_MAX = 100
"""Calls Gmail takes in one batch."""
SYSTEM_LABELS = ("INBOX", "SENT", "DRAFT", "TRASH", "SPAM", "UNREAD", "STARRED", "IMPORTANT")


def error(status: int, message: str, reason: str = "") -> Reply:
    """Google's error body."""
    return Reply(
        status,
        {"error": {"code": status, "message": message, "errors": [{"reason": reason or "x"}]}},
    )


def _http_part(content_id: str, reply: Reply) -> str:
    """One part of a batch answer: the whole HTTP response to one call."""
    try:
        reason = HTTPStatus(reply.status).phrase
    except ValueError:
        reason = ""
    headers = {"Content-Type": "application/json; charset=UTF-8", **reply.headers}
    body = json.dumps(reply.body) if reply.body is not None else ""
    lines = [
        "Content-Type: application/http",
        f"Content-ID: <response-{content_id}>",
        "",
        f"HTTP/1.1 {reply.status} {reason}".rstrip(),
        *[f"{name}: {value}" for name, value in headers.items()],
        "",
        body,
    ]
    return "\r\n".join(lines)


@dataclass
class StoredMessage:
    """One message of the mailbox."""

    id: str
    thread_id: str
    raw: bytes
    labels: list[str]
    message_id: str
    history_id: int
    deleted: bool = False


@dataclass
class FakeGmail(FakeApi):
    """A Gmail mailbox for `address`, reachable with `token`."""

    token: str = "gmail-token-1"
    address: str = "me@gmail.example"
    messages: dict[str, StoredMessage] = field(default_factory=dict)
    user_labels: dict[str, str] = field(default_factory=dict)
    """Label id → name (the user's own)."""
    history: list[dict[str, Any]] = field(default_factory=list)
    history_id: int = 1000
    oldest_history: int = 0
    broken: set[str] = field(default_factory=set)
    """Ids of messages whose `messages.get` answers 500."""
    expire_after: int | None = None
    """Answered calls after which the token expires (then `next_token` is the valid one); each
    call inside a batch counts, the batch itself does not."""
    next_token: str = "gmail-token-2"
    accepts: Callable[[str], bool] | None = None
    """When set, which bearer tokens are valid (an authorization server's live ones)."""
    sent: list[dict[str, Any]] = field(default_factory=list)
    drafts: list[dict[str, Any]] = field(default_factory=list)
    part_failures: dict[str, list[Reply]] = field(default_factory=dict)
    """Message id → answers its next reads inside a batch get (a 429, a 503, ...), in turn."""
    parts: list[Recorded] = field(default_factory=list)
    """The calls that came inside a batch (also in `requests`, after their batch)."""

    name = "fake gmail"

    def __post_init__(self) -> None:
        super().__init__()
        self._ids = itertools.count(1)

    # ---------------------------------------------------------------- the mailbox

    def _next_history(self) -> int:
        self.history_id += 1
        return self.history_id

    def add(
        self,
        raw: bytes,
        labels: tuple[str, ...] = ("INBOX", "UNREAD"),
        thread_id: str | None = None,
    ) -> StoredMessage:
        """Deliver `raw` with these labels, in `thread_id` ('' a new thread).

        Mail from others (`thread_id` None) joins the thread of the message it answers, as
        Gmail threads incoming mail; the user's own joins a thread only when asked to.
        """
        parsed = message_from_bytes(raw, policy=policy.default)
        message_id = str(parsed["Message-ID"] or "").strip().strip("<>")
        replied = str(parsed["In-Reply-To"] or "").strip().strip("<>")
        known = {m.thread_id for m in self.messages.values()}
        if thread_id is None:
            found = (m.thread_id for m in self.messages.values() if m.message_id == replied)
            thread = next(found, "")
        else:
            thread = thread_id if thread_id in known else ""
        number = next(self._ids)
        key = f"18c{number:013x}"
        stored = StoredMessage(
            key, thread or key, raw, list(labels), message_id, self._next_history()
        )
        self.messages[key] = stored
        self._record("messagesAdded", stored)
        return stored

    def _record(self, kind: str, message: StoredMessage, labels: list[str] | None = None) -> None:
        item: dict[str, Any] = {"message": self._minimal(message)}
        if labels is not None:
            item["labelIds"] = labels
        self.history.append({"id": str(self.history_id), kind: [item]})

    def forget_history(self) -> None:
        """Keep no history older than now (a client's stored historyId becomes too old)."""
        self.oldest_history = self.history_id + 1

    def relabel(self, key: str, add: list[str], remove: list[str]) -> None:
        """Change a message's labels as a person would in Gmail (recorded in the history)."""
        message = self.messages[key]
        added = [x for x in add if x not in message.labels]
        removed = [x for x in remove if x in message.labels]
        message.labels = [x for x in message.labels if x not in removed] + added
        if added or removed:
            message.history_id = self._next_history()
        if added:
            self._record("labelsAdded", message, added)
        if removed:
            self._record("labelsRemoved", message, removed)

    def _minimal(self, message: StoredMessage) -> dict[str, Any]:
        return {"id": message.id, "threadId": message.thread_id, "labelIds": list(message.labels)}

    # ---------------------------------------------------------------- HTTP

    def _authorised(self, auth: str, *, count: bool = True) -> bool:
        """Whether `auth` is valid now; an answered call counts towards `expire_after`."""
        if self.expire_after is not None and self.expire_after <= 0:
            self.token, self.expire_after = self.next_token, None
        if self.accepts is not None:
            valid = self.accepts(auth.removeprefix("Bearer "))
        else:
            valid = auth == f"Bearer {self.token}"
        if valid and count and self.expire_after is not None:
            self.expire_after -= 1
        return valid

    def serve(self, request: Recorded) -> Reply:
        auth = request.headers.get("authorization", "")
        batch = (request.method, request.path) == ("POST", BATCH)
        if not self._authorised(auth, count=not batch):
            return error(401, "Request had invalid authentication credentials.", "authError")
        if batch:
            return self._batch(request)
        return self._route(request)

    def _route(self, request: Recorded) -> Reply:
        if not request.path.startswith(ME):
            return error(404, "Not Found", "notFound")
        path = request.path[len(ME) :]
        route = (request.method, path.split("/")[1] if "/" in path else "")
        handler = {
            ("GET", "profile"): self._profile,
            ("GET", "labels"): self._labels,
            ("POST", "labels"): self._create_label,
            ("GET", "history"): self._history,
            ("GET", "messages"): self._messages,
            ("POST", "messages"): self._message_action,
            ("POST", "drafts"): self._draft,
        }.get(route)
        return handler(request, path) if handler else error(404, "Not Found", "notFound")

    # ---------------------------------------------------------------- batch

    def _batch(self, request: Recorded) -> Reply:
        """`POST /batch/gmail/v1`: each `application/http` part served as its own call.

        Parts are answered in reverse order (Gmail promises no order: the `Content-ID` pairs
        them); a part's own `Authorization` header wins over the outer one.
        """
        content_type = request.headers.get("content-type", "")
        envelope = BytesParser(policy=policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + request.body
        )
        if envelope.get_content_type() != "multipart/mixed" or not envelope.is_multipart():
            return error(400, "Batch requests must be multipart/mixed", "badRequest")
        parts = list(envelope.iter_parts())
        if len(parts) > BATCH_MAX:
            return error(400, f"A batch holds at most {BATCH_MAX} calls", "badRequest")
        boundary = "batch_" + secrets.token_hex(8)
        answers = [self._batch_part(request, part) for part in parts]
        chunks = [f"--{boundary}\r\n{answer}\r\n" for answer in reversed(answers)]
        body = "".join(chunks) + f"--{boundary}--\r\n"
        return Reply(200, body, {"Content-Type": f"multipart/mixed; boundary={boundary}"})

    def _batch_part(self, outer: Recorded, part: Any) -> str:
        content_id = str(part.get("Content-ID") or "").strip().strip("<>")
        payload = part.get_payload(decode=True) or b""
        head, _, _ = payload.replace(b"\r\n", b"\n").partition(b"\n\n")
        lines = head.decode("utf-8", "replace").split("\n")
        method, _, target = lines[0].strip().partition(" ")
        target = target.split(" ")[0]
        inner = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
        parts = urlsplit(target)
        recorded = Recorded(
            method=method,
            path=parts.path,
            query=parse_qs(parts.query),
            headers={**outer.headers, **{k: v for k, v in inner.items() if k}},
            body=b"",
        )
        self.requests.append(recorded)
        self.parts.append(recorded)
        if not method or part.get_content_type() != "application/http":
            reply = error(400, "Each part must be application/http", "badRequest")
        elif not self._authorised(recorded.headers.get("authorization", "")):
            reply = error(401, "Request had invalid authentication credentials.", "authError")
        else:
            key = parts.path.rsplit("/", 1)[-1]
            failures = self.part_failures.get(key)
            reply = failures.pop(0) if failures else self._route(recorded)
        return _http_part(content_id, reply)

    def _one(self, request: Recorded, name: str) -> str:
        return (request.query.get(name) or [""])[-1]

    def _profile(self, request: Recorded, path: str) -> Reply:
        return Reply(
            200,
            {
                "emailAddress": self.address,
                "messagesTotal": len(self.messages),
                "threadsTotal": len({m.thread_id for m in self.messages.values()}),
                "historyId": str(self.history_id),
            },
        )

    def _labels(self, request: Recorded, path: str) -> Reply:
        labels = [{"id": x, "name": x, "type": "system"} for x in SYSTEM_LABELS]
        labels += [{"id": k, "name": v, "type": "user"} for k, v in self.user_labels.items()]
        return Reply(200, {"labels": labels})

    def _create_label(self, request: Recorded, path: str) -> Reply:
        name = str((request.json or {}).get("name") or "")
        if not name:
            return error(400, "Invalid label name", "invalidArgument")
        if name in self.user_labels.values() or name.upper() in SYSTEM_LABELS:
            return error(409, "Label name exists or conflicts", "duplicate")
        key = f"Label_{len(self.user_labels) + 1}"
        self.user_labels[key] = name
        return Reply(200, {"id": key, "name": name, "type": "user"})

    def _history(self, request: Recorded, path: str) -> Reply:
        start = int(self._one(request, "startHistoryId") or 0)
        if start < self.oldest_history or start > self.history_id:
            return error(404, "Requested entity was not found.", "notFound")
        records = [h for h in self.history if int(h["id"]) > start]
        page = int(self._one(request, "pageToken") or 0)
        size = 100
        body: dict[str, Any] = {"historyId": str(self.history_id)}
        if records[page : page + size]:
            body["history"] = records[page : page + size]
        if page + size < len(records):
            body["nextPageToken"] = str(page + size)
        return Reply(200, body)

    def _search(self, request: Recorded) -> list[StoredMessage]:
        query = self._one(request, "q")
        wanted = set(request.query.get("labelIds") or [])
        found = [m for m in reversed(list(self.messages.values())) if not m.deleted]
        if not wanted & {"SPAM", "TRASH"}:
            found = [m for m in found if not {"SPAM", "TRASH"} & set(m.labels)]
        found = [m for m in found if wanted <= set(m.labels)]
        if query.startswith("rfc822msgid:"):
            bare = query.removeprefix("rfc822msgid:").strip().strip("<>")
            found = [m for m in found if m.message_id == bare]
        return found

    def _messages(self, request: Recorded, path: str) -> Reply:
        parts = path.split("/")
        if len(parts) == 2:
            found = self._search(request)
            size = int(self._one(request, "maxResults") or 100)
            start = int(self._one(request, "pageToken") or 0)
            page = found[start : start + size]
            body: dict[str, Any] = {"resultSizeEstimate": len(found)}
            if page:
                body["messages"] = [{"id": m.id, "threadId": m.thread_id} for m in page]
            if start + size < len(found):
                body["nextPageToken"] = str(start + size)
            return Reply(200, body)
        message = self.messages.get(parts[2])
        if message is None or message.deleted:
            return error(404, "Requested entity was not found.", "notFound")
        if message.id in self.broken:
            return error(500, "Backend Error", "backendError")
        body = self._minimal(message) | {"historyId": str(message.history_id)}
        if self._one(request, "format") == "raw":
            body["raw"] = base64.urlsafe_b64encode(message.raw).decode()
            body["sizeEstimate"] = len(message.raw)
        return Reply(200, body)

    def _message_action(self, request: Recorded, path: str) -> Reply:
        parts = path.split("/")
        if parts[2:] == ["send"]:
            return self._send(request)
        message = self.messages.get(parts[2]) if len(parts) == 4 else None
        if message is None or message.deleted:
            return error(404, "Requested entity was not found.", "notFound")
        body = request.json or {}
        action = parts[3]
        if action == "modify":
            unknown = [
                x
                for x in body.get("addLabelIds") or []
                if x not in SYSTEM_LABELS and x not in self.user_labels
            ]
            if unknown:
                return error(400, f"Invalid label: {unknown[0]}", "invalidArgument")
            self.relabel(
                message.id, body.get("addLabelIds") or [], body.get("removeLabelIds") or []
            )
        elif action == "trash":
            self.relabel(message.id, ["TRASH"], ["INBOX"])
        elif action == "untrash":
            self.relabel(message.id, [], ["TRASH"])
        else:
            return error(404, "Not Found", "notFound")
        return Reply(200, self._minimal(message))

    def _raw_of(self, body: dict[str, Any]) -> bytes | None:
        try:
            return base64.urlsafe_b64decode(str(body.get("raw") or ""))
        except ValueError:
            return None

    def _send(self, request: Recorded) -> Reply:
        body = request.json or {}
        raw = self._raw_of(body)
        if not raw:
            return error(400, "Invalid value for ByteString", "invalidArgument")
        stored = self.add(raw, ("SENT",), str(body.get("threadId") or ""))
        self.sent.append({"id": stored.id, "threadId": stored.thread_id, "raw": raw})
        return Reply(200, self._minimal(stored))

    def _draft(self, request: Recorded, path: str) -> Reply:
        message = (request.json or {}).get("message") or {}
        raw = self._raw_of(message)
        if not raw:
            return error(400, "Invalid value for ByteString", "invalidArgument")
        stored = self.add(raw, ("DRAFT",), str(message.get("threadId") or ""))
        draft = {"id": f"r-{len(self.drafts) + 1}", "message": self._minimal(stored)}
        self.drafts.append(draft)
        return Reply(200, draft)
