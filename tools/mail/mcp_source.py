"""Mail from an MCP server (`--inbox mcp:NAME`): our own mail server, or a Gmail or Outlook one.

The server must offer a tool that lists messages with their ids and one that returns one
message by id. By default they are `search_emails` (called with `limit`) and `get_email`
(called with `email_id`), as our own `smart-inbox mcp-server` names them; other servers are
mapped in the spec itself: `mcp:gmail?search=search_messages&get=get_message&id=message_id`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from dataclasses import dataclass, replace
from email.utils import getaddresses, parseaddr
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from memory.db import AppDatabase
from tools.mail.mime import parse_email
from tools.mail.model import EMPTY_BODY_MARKER, Attachment, Email
from tools.mail.source_protocol import MailSourceError, SyncResult
from tools.mcp.results import McpCallError

if TYPE_CHECKING:
    from tools.mcp.hub import McpHub
    from tools.mcp.results import McpResult

logger = logging.getLogger(__name__)

LIST_KEYS = ("messages", "emails", "results", "items", "result")
"""Where a listing tool's structured result may keep its messages."""
THREAD_ID_KEYS = ("thread_id", "threadId", "conversation_id", "conversationId")
"""Where a get tool's result may name the provider's conversation (Gmail, Microsoft 365)."""


@dataclass(frozen=True)
class McpMailSpec:
    """Which server and tools an `mcp:` inbox uses."""

    source: str
    """The spec as given: the key of the mail cache and cursor."""
    server: str
    search_tool: str = "search_emails"
    get_tool: str = "get_email"
    id_arg: str = "email_id"
    limit: int = 200


def parse_mcp_spec(spec: str) -> McpMailSpec:
    """Read `mcp:NAME[?search=TOOL&get=TOOL&id=ARG&limit=N]`."""
    body = spec.strip()[len("mcp:") :]
    name, _, query = body.partition("?")
    if not name.strip():
        raise MailSourceError(f"inbox spec '{spec}' names no server: use mcp:NAME")
    options = {key: values[-1] for key, values in parse_qs(query).items()}
    unknown = sorted(set(options) - {"search", "get", "id", "limit"})
    if unknown:
        raise MailSourceError(
            f"inbox spec '{spec}': unknown option(s) {', '.join(unknown)} "
            "(use search=, get=, id=, limit=)"
        )
    try:
        limit = int(options.get("limit", "200"))
    except ValueError as err:
        raise MailSourceError(f"inbox spec '{spec}': limit must be a number") from err
    return McpMailSpec(
        source=spec.strip(),
        server=name.strip(),
        search_tool=options.get("search", "search_emails"),
        get_tool=options.get("get", "get_email"),
        id_arg=options.get("id", "email_id"),
        limit=max(1, limit),
    )


def _payload(result: McpResult) -> Any:
    if result.structured is not None:
        return result.structured
    try:
        return json.loads(result.text)
    except ValueError:
        return None


def listed_ids(result: McpResult) -> list[str]:
    """Message ids in a listing tool's result (structured content, or JSON text)."""
    data = _payload(result)
    if isinstance(data, dict):
        data = next((data[k] for k in LIST_KEYS if isinstance(data.get(k), list)), [])
    if not isinstance(data, list):
        raise MailSourceError("the listing tool returned no list of messages with ids")
    ids = []
    for item in data:
        if isinstance(item, dict):
            value = item.get("id") or item.get("email_id") or item.get("message_id")
            if value:
                ids.append(str(value).strip("<>"))
    return list(dict.fromkeys(ids))


def _addresses(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return tuple(a.lower() for _, a in getaddresses([str(value or "")]) if a)


def email_from_result(result: McpResult, *, message_id: str, spec: str) -> Email:
    """One message from a get tool's result: raw RFC 822 when offered, else its fields."""
    data = _payload(result)
    if isinstance(data, dict) and isinstance(data.get("raw"), str):
        raw = data["raw"].encode("utf-8")
        parsed = parse_email(raw, source=spec, folder="INBOX", key=message_id)
        return replace(parsed, thread_id=provider_thread_id(data))
    if not isinstance(data, dict):
        return Email(
            id=message_id,
            source=spec,
            folder="INBOX",
            key=message_id,
            body=result.text or EMPTY_BODY_MARKER,
            body_is_empty=not result.text,
        )
    sender = str(data.get("from") or data.get("sender") or "")
    name, address = parseaddr(sender)
    body = str(data.get("body") or data.get("text") or "")
    attachments = tuple(
        Attachment(
            filename=str(a.get("filename", "")),
            content_type=str(a.get("content_type", "")),
            size=int(a.get("size", 0) or 0),
        )
        for a in data.get("attachments") or []
        if isinstance(a, dict)
    )
    email_id = str(data.get("id") or message_id).strip("<>")
    return Email(
        id=email_id,
        message_id=str(data.get("message_id") or email_id).strip("<>"),
        source=spec,
        folder=str(data.get("folder") or "INBOX"),
        key=message_id,
        from_name=str(data.get("from_name") or name),
        from_addr=str(data.get("from_addr") or address).lower(),
        to=_addresses(data.get("to")),
        cc=_addresses(data.get("cc")),
        reply_to=(_addresses(data.get("reply_to")) or ("",))[0],
        subject=str(data.get("subject") or ""),
        date=str(data.get("date") or ""),
        body=body or EMPTY_BODY_MARKER,
        body_is_empty=not body,
        attachments=attachments,
        headers={str(k): str(v) for k, v in (data.get("headers") or {}).items()},
        error=str(data.get("error") or ""),
        in_reply_to=str(data.get("in_reply_to") or "").strip().strip("<>"),
        references=_message_ids(data.get("references")),
        thread_id=provider_thread_id(data),
    )


def provider_thread_id(data: dict[str, Any]) -> str:
    """The provider's conversation id in a message's fields, '' when it gives none."""
    return next((str(data[key]) for key in THREAD_ID_KEYS if data.get(key)), "")


def _message_ids(value: Any) -> tuple[str, ...]:
    """Message-IDs from a list, or a References header's text, without angle brackets."""
    items = value if isinstance(value, list) else str(value or "").split()
    return tuple(ids for item in items if (ids := str(item).strip().strip("<>")))


async def sync_mcp_source(db: AppDatabase, spec: str, hub: McpHub | None) -> SyncResult:
    """Fetch the messages the server lists that the cache does not hold yet.

    An unchanged mailbox costs one listing call and reads no message again.
    """
    mail = parse_mcp_spec(spec)
    if hub is None or mail.server not in {status.name for status in hub.statuses()}:
        raise MailSourceError(f"inbox {spec}: no MCP server {mail.server!r} in mcp.json")
    # A server that failed or lost its session is not ruled out here: the call reconnects it.
    try:
        listing = await hub.call(mail.server, mail.search_tool, {"limit": mail.limit})
    except McpCallError as err:
        raise MailSourceError(f"inbox {spec}: {err}") from err
    ids = listed_ids(listing)
    known = await asyncio.to_thread(db.known_keys, mail.source)
    new: list[Email] = []
    for message_id in ids:
        if message_id in known:
            continue
        try:
            result = await hub.call(mail.server, mail.get_tool, {mail.id_arg: message_id})
            # Raw RFC 822 is parsed here: CPU work, kept off the event loop.
            email = await asyncio.to_thread(
                email_from_result, result, message_id=message_id, spec=mail.source
            )
        except McpCallError as err:
            # One message the server cannot give us is reported; the fetch goes on.
            email = Email(
                id=message_id, source=mail.source, folder="INBOX", key=message_id, error=str(err)
            )
        new.append(email)
    signature = hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()
    stored = await asyncio.to_thread(db.add_emails, new)
    await asyncio.to_thread(db.set_cursor, mail.source, signature, len(ids))
    if new:
        logger.info("fetched %d new message(s) from %s", len(new), mail.source)
    return SyncResult(source=mail.source, new=stored, read_count=len(new))
