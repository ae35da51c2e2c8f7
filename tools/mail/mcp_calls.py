"""The calls an `mcp:` inbox makes: list message ids page by page, then read new ones in batches.

Kept apart from the spec (`tools.mail.mcp_mapping`) and from turning results into `Email`s
(`tools.mail.mcp_source`): this is the only part that talks to the server, and every way a
server can misfit — a missing tool, a refused argument, a path that finds nothing, a hang —
ends here as one `MailSourceError` naming the server and the tool.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tools.mail.mcp_mapping import (
    MAX_PAGES,
    McpMailMapping,
    at_path,
    call_arguments,
    list_cap,
    listed_keys,
    message_fields,
    message_key,
    messages_in,
    payload,
    size_argument,
    takes_list,
)
from tools.mail.source_protocol import MailSourceError
from tools.mcp.results import McpCallError, McpResult

if TYPE_CHECKING:
    from tools.mcp.hub import McpHub

FATAL_CALL_FAILURES = frozenset(
    {
        "unknown_server",
        "disabled",
        "start_failed",
        "unknown_tool",
        "rejected",
        "timeout",
        "disconnected",
    }
)
"""Failures of a get call that no other message would escape: the fetch stops on them."""


@dataclass(frozen=True)
class McpTool:
    """One tool of the mail server, as the spec uses it, with its input schema when known."""

    server: str
    name: str
    schema: dict[str, Any] | None

    def misfit(self, reason: str) -> MailSourceError:
        """The one-line error for something about this tool that does not fit the spec."""
        return MailSourceError(f"MCP server {self.server!r}, tool {self.name!r}: {reason}")


@dataclass(frozen=True)
class ReadMessage:
    """What reading one listed message gave: its fields or text, or why there are none."""

    key: str
    result: McpResult | None
    """The get tool's result when the message is it (text, or a lone message's object)."""
    error: str = ""
    fields: dict[str, Any] | None = None
    """The message's object as the server gave it, within a result of several."""

    def as_result(self, mapping: McpMailMapping) -> McpResult | None:
        """The message as a result the mail cache reads: its fields under our names.

        CPU work on large messages (a long body cut, a base64 raw decoded): callers run it
        off the event loop.
        """
        data = self.fields
        if data is None and self.result is not None:
            data = payload(self.result)
            if mapping.message_path:
                data = at_path(data, mapping.message_path)[1]
            if not isinstance(data, dict):  # text: kept as the body, as the server wrote it
                return self.result
        if data is None:
            return None
        return McpResult(text="", structured=message_fields(data, mapping, self.key))


def tool_of(hub: McpHub, server: str, name: str) -> McpTool:
    """The tool as the server lists it (its schema is None while the server is not connected)."""
    info = next((t for t in hub.tools() if t.server == server and t.name == name), None)
    return McpTool(server, name, info.input_schema if info is not None else None)


async def list_keys(
    hub: McpHub, server: str, tool_name: str, mapping: McpMailMapping, limit: int
) -> list[str]:
    """The ids of at most `limit` listed messages, following pages when the spec says how.

    Pages end at a short or empty page, a page with nothing new, a missing cursor, `limit`
    ids, or `MAX_PAGES` calls, whichever comes first.
    """
    tool = tool_of(hub, server, tool_name)
    keys = await _list_pages(hub, tool, mapping, limit)
    if tool.schema is None:
        # The server was not connected, so that listing ran without the tool's schema (no
        # argument checks or types, a guessed size); now that the call connected it, list again.
        known = tool_of(hub, server, tool_name)
        if known.schema is not None:
            keys = await _list_pages(hub, known, mapping, limit)
    return keys


async def _list_pages(hub: McpHub, tool: McpTool, mapping: McpMailMapping, limit: int) -> list[str]:
    server, tool_name = tool.server, tool.name
    keys: list[str] = []
    cursor: Any = None
    for page in range(1, MAX_PAGES + 1):
        size_name, cap = size_argument(mapping, tool.schema)
        per_call = min(limit, cap) if cap else limit
        supplied: dict[str, Any] = {size_name: per_call} if size_name else {}
        if mapping.page_arg:
            supplied[mapping.page_arg] = page
        if mapping.cursor_arg and cursor is not None:
            supplied[mapping.cursor_arg] = cursor
        try:
            args = call_arguments("search", tool.schema, mapping.search_args, supplied)
            data = payload(await hub.call(server, tool_name, args))
            items = messages_in(data, mapping.list_path, what="the listing")
            # A server that ignores the size gets no more than the limit read from it.
            fresh = listed_keys(items[: limit - len(keys)], mapping, what="the listing")
        except McpCallError as err:
            raise MailSourceError(str(err)) from err
        except MailSourceError as err:
            raise tool.misfit(str(err)) from err
        before = len(keys)
        keys = list(dict.fromkeys([*keys, *fresh]))
        if len(keys) >= limit or len(keys) == before:
            break
        if mapping.page_arg:
            if size_name and len(items) < per_call:
                break
        elif mapping.cursor_arg:
            found, cursor = at_path(data, mapping.next_path)
            if not found or cursor in (None, "", supplied.get(mapping.cursor_arg)):
                break
        else:
            break
    return keys[:limit]


async def read_keys(
    hub: McpHub, server: str, tool_name: str, id_arg: str, mapping: McpMailMapping, keys: list[str]
) -> list[ReadMessage]:
    """Each of `keys` read with the get tool, in batches when it takes a list of ids.

    A message the server reports an error for is a per-message error; a failure no message
    would escape (a missing tool, a refused call, a hang) or every call failing raises.
    """
    tool = tool_of(hub, server, tool_name)
    batched = takes_list(tool.schema, id_arg)
    size = list_cap(tool.schema, id_arg, mapping.batch) if batched else 1
    read: list[ReadMessage] = []
    failures: list[str] = []
    for start in range(0, len(keys), size):
        chunk = keys[start : start + size]
        try:
            args = call_arguments(
                "get", tool.schema, mapping.get_args, {id_arg: chunk if batched else chunk[0]}
            )
            result = await hub.call(server, tool_name, args)
        except MailSourceError as err:
            raise tool.misfit(str(err)) from err
        except McpCallError as err:
            if err.kind in FATAL_CALL_FAILURES:
                raise MailSourceError(str(err)) from err
            # One message the server cannot give us is reported; the fetch goes on.
            failures.append(str(err))
            read += [ReadMessage(key, None, str(err)) for key in chunk]
            continue
        try:
            read += (
                _batch(result, chunk, mapping) if batched else [_single(result, chunk[0], mapping)]
            )
        except MailSourceError as err:
            raise tool.misfit(str(err)) from err
    calls = -(-len(keys) // size)
    if keys and len(failures) == calls:
        raise MailSourceError(f"no message could be read: {failures[0]}")
    return read


def _single(result: McpResult, key: str, mapping: McpMailMapping) -> ReadMessage:
    if mapping.message_path:
        found, data = at_path(payload(result), mapping.message_path)
        if not found:
            raise MailSourceError(f"the message: {data}")
    return ReadMessage(key, result)


def _batch(result: McpResult, chunk: list[str], mapping: McpMailMapping) -> list[ReadMessage]:
    items = messages_in(payload(result), mapping.message_path, what="the messages read")
    by_key: dict[str, dict[str, Any]] = {}
    for item in items:
        if isinstance(item, dict):
            by_key.setdefault(message_key(item, mapping), item)
    if items and not set(chunk) & set(by_key):
        raise MailSourceError(
            f"none of the {len(items)} message(s) returned carries an id asked for "
            f"(first asked: {chunk[0]!r}); name the id with field.id=PATH"
        )
    return [
        ReadMessage(key, None, fields=by_key[key])
        if key in by_key
        else ReadMessage(key, None, "the server returned nothing for this message")
        for key in chunk
    ]
