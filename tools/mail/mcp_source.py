"""Mail from an MCP server (`--inbox mcp:NAME`): our own mail server, or a Gmail or Outlook one.

The server must offer a tool that lists messages with their ids and one that returns messages
by id. By default they are `search_emails` (called with `limit`) and `get_email` (called with
`email_id`), as our own `smart-inbox mcp-server` names them; other servers are mapped in the
spec itself (`mcp:gmail?search=search_messages&get=get_message&id=message_id`, and fixed
arguments, paging and result paths: `tools.mail.mcp_mapping`). A spec that does not fit the
server is an error naming the tool, never an empty inbox.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, replace
from email.utils import getaddresses, parseaddr
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from memory.db import AppDatabase
from tools.mail.mcp_calls import ReadMessage, list_keys, read_keys
from tools.mail.mcp_mapping import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    McpMailMapping,
    listed_keys,
    messages_in,
    number_option,
    parse_mapping,
)
from tools.mail.mcp_mapping import payload as _payload
from tools.mail.mime import parse_email
from tools.mail.model import EMPTY_BODY_MARKER, Attachment, Email
from tools.mail.source_protocol import MailSourceError, SyncResult

if TYPE_CHECKING:
    from tools.mcp.hub import McpHub
    from tools.mcp.results import McpResult

logger = logging.getLogger(__name__)

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
    limit: int = DEFAULT_LIMIT
    mapping: McpMailMapping = McpMailMapping()
    """Fixed arguments, paging and result paths (`tools.mail.mcp_mapping`)."""


def parse_mcp_spec(spec: str) -> McpMailSpec:
    """Read `mcp:NAME[?search=TOOL&get=TOOL&id=ARG&limit=N&…]` (all options: mcp_mapping)."""
    body = spec.strip()[len("mcp:") :]
    name, _, query = body.partition("?")
    if not name.strip():
        raise MailSourceError(f"inbox spec '{spec}' names no server: use mcp:NAME")
    options = {key: values[-1] for key, values in parse_qs(query).items()}
    mapping = parse_mapping(spec, options)
    return McpMailSpec(
        source=spec.strip(),
        server=name.strip(),
        search_tool=options.get("search", "search_emails"),
        get_tool=options.get("get", "get_email"),
        id_arg=options.get("id", "email_id"),
        limit=min(number_option(spec, options, "limit", DEFAULT_LIMIT), MAX_LIMIT),
        mapping=mapping,
    )


def listed_ids(result: McpResult, mapping: McpMailMapping | None = None) -> list[str]:
    """Message ids in a listing tool's result (structured content, or JSON text).

    Raises `MailSourceError` when the result holds no list of messages, or none has an id.
    """
    mapping = mapping or McpMailMapping()
    items = messages_in(_payload(result), mapping.list_path, what="the listing")
    return listed_keys(items, mapping, what="the listing")


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

    An unchanged mailbox costs the listing calls and reads no message again. A listing that
    is an empty list where the spec says the messages are is an empty mailbox; anything that
    does not fit the spec raises `MailSourceError`, naming the server and tool.
    """
    mail = parse_mcp_spec(spec)
    if hub is None or mail.server not in {status.name for status in hub.statuses()}:
        raise MailSourceError(f"inbox {spec}: no MCP server {mail.server!r} in mcp.json")
    # A server that failed or lost its session is not ruled out here: the call reconnects it.
    try:
        ids = await list_keys(hub, mail.server, mail.search_tool, mail.mapping, mail.limit)
        known = await asyncio.to_thread(db.known_keys, mail.source)
        fresh = [key for key in ids if key not in known]
        read = await read_keys(hub, mail.server, mail.get_tool, mail.id_arg, mail.mapping, fresh)
    except MailSourceError as err:
        raise MailSourceError(f"inbox {spec}: {err}") from err
    # Fields are mapped and raw RFC 822 parsed here: CPU work, kept off the event loop.
    new = await asyncio.to_thread(_emails, read, mail)
    signature = hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()
    stored = await asyncio.to_thread(db.add_emails, new)
    await asyncio.to_thread(db.set_cursor, mail.source, signature, len(ids))
    if new:
        logger.info("fetched %d new message(s) from %s", len(new), mail.source)
    return SyncResult(source=mail.source, new=stored, read_count=len(new))


def _emails(read: list[ReadMessage], mail: McpMailSpec) -> list[Email]:
    """The messages read, each an `Email`; one whose fields cannot be used is an error row."""
    emails = []
    source = mail.source
    for message in read:
        error = message.error
        try:
            result = message.as_result(mail.mapping)
            if result is not None:
                emails.append(email_from_result(result, message_id=message.key, spec=source))
                continue
        except (TypeError, ValueError, AttributeError) as err:
            error = f"the server's fields for this message cannot be read: {err}"
        emails.append(
            Email(id=message.key, source=source, folder="INBOX", key=message.key, error=error)
        )
    return emails
