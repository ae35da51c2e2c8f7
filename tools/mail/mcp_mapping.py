"""How an `mcp:` inbox fits a mail MCP server's own tools: arguments, paging, where results live.

Servers name their tools, arguments and result fields in their own ways (an account argument
on every call, ids taken as a list, messages nested under `emails`, the sender as `sender`).
The spec's query string says how; this module reads it, checks it against the tools' input
schemas, and reads results by it, raising one clear line when something does not fit.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import formataddr
from typing import TYPE_CHECKING, Any

from tools.mail.limits import MAX_BODY_CHARS, TRUNCATED_MARKER
from tools.mail.source_protocol import MailSourceError

if TYPE_CHECKING:
    from tools.mcp.results import McpResult

DEFAULT_LIMIT = 200
MAX_LIMIT = 10_000
"""However large `limit=` is, no fetch lists more messages than this."""
DEFAULT_BATCH = 20
"""Ids per call of a get tool that takes a list of ids."""
MAX_PAGES = 1_000
"""A paging server that never says it is done stops here (`limit` usually stops it first)."""

LIST_KEYS = ("messages", "emails", "results", "items", "result", "data", "value")
"""Where a result may keep its messages when no `list=` or `message=` path is given."""
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "email_id", "uid", "message_id", "messageId"),
    "message_id": ("message_id", "messageId", "internetMessageId"),
    "from": ("from", "sender", "from_address", "fromAddress"),
    "to": ("to", "recipients", "to_addresses", "toRecipients"),
    "cc": ("cc", "cc_addresses", "ccRecipients"),
    "reply_to": ("reply_to", "replyTo"),
    "subject": ("subject",),
    "date": ("date", "received", "receivedDateTime", "sent_at"),
    "body": ("body", "content", "text", "body_text", "bodyText"),
    "raw": ("raw", "rfc822", "eml"),
    "headers": ("headers",),
    "attachments": ("attachments",),
}
"""Where each field of a message is looked for, first match wins; `field.NAME=PATH` overrides."""
SIZE_ARGS = ("limit", "page_size", "max_results", "maxResults", "pageSize", "count", "top")
"""Listing arguments that say how many messages to return, when the tool takes one."""
SIMPLE_OPTIONS = frozenset(
    {"search", "get", "id", "limit", "size", "page", "cursor", "next", "list", "message", "batch"}
)
PREFIXED_OPTIONS = ("search.", "get.", "field.")


@dataclass(frozen=True)
class McpMailMapping:
    """The parts of an `mcp:` spec that say how to call the server and read its answers."""

    search_args: dict[str, str] = field(default_factory=dict)
    """Fixed arguments of the listing tool (`search.ARG=VALUE`), typed by its schema."""
    get_args: dict[str, str] = field(default_factory=dict)
    """Fixed arguments of the get tool (`get.ARG=VALUE`)."""
    size_arg: str = ""
    """The listing argument for how many to return; '' picks one of `SIZE_ARGS` it takes."""
    page_arg: str = ""
    """Page-number paging (1, 2, …) through this listing argument, when set."""
    cursor_arg: str = ""
    """Cursor paging: this listing argument gets the cursor found at `next_path`."""
    next_path: str = ""
    list_path: str = ""
    """Where the listing's messages are; '' looks for a list at the top or under `LIST_KEYS`."""
    message_path: str = ""
    """Where a get result's message (or messages, for a list of ids) is; '' as above."""
    batch: int = DEFAULT_BATCH
    fields: dict[str, str] = field(default_factory=dict)
    """`field.NAME=PATH`: where a message's NAME is, instead of `FIELD_ALIASES`."""


def parse_mapping(spec: str, options: Mapping[str, str]) -> McpMailMapping:
    """The mapping of a spec's query options (`search=`, `get=`, `id=`, `limit=` are read too)."""
    unknown = sorted(
        key for key in options if key not in SIMPLE_OPTIONS and not key.startswith(PREFIXED_OPTIONS)
    )
    if unknown:
        raise MailSourceError(
            f"inbox spec '{spec}': unknown option(s) {', '.join(unknown)} (use search=, get=, "
            "id=, limit=, size=, page=, cursor= with next=, list=, message=, batch=, "
            "search.ARG=, get.ARG=, field.NAME=)"
        )
    fields = {k[len("field.") :]: v for k, v in options.items() if k.startswith("field.")}
    strange = sorted(set(fields) - set(FIELD_ALIASES))
    if strange:
        raise MailSourceError(
            f"inbox spec '{spec}': unknown field(s) {', '.join(strange)} "
            f"(fields: {', '.join(FIELD_ALIASES)})"
        )
    if bool(options.get("cursor")) != bool(options.get("next")):
        raise MailSourceError(f"inbox spec '{spec}': cursor= and next= go together")
    if options.get("cursor") and options.get("page"):
        raise MailSourceError(f"inbox spec '{spec}': page= or cursor=, not both")
    return McpMailMapping(
        search_args={k[len("search.") :]: v for k, v in options.items() if k.startswith("search.")},
        get_args={k[len("get.") :]: v for k, v in options.items() if k.startswith("get.")},
        size_arg=options.get("size", ""),
        page_arg=options.get("page", ""),
        cursor_arg=options.get("cursor", ""),
        next_path=options.get("next", ""),
        list_path=options.get("list", ""),
        message_path=options.get("message", ""),
        batch=number_option(spec, options, "batch", DEFAULT_BATCH),
        fields=fields,
    )


def number_option(spec: str, options: Mapping[str, str], name: str, default: int) -> int:
    """A positive whole-number option; a word where a number belongs is one clear line."""
    try:
        value = int(options.get(name, str(default)))
    except ValueError as err:
        raise MailSourceError(f"inbox spec '{spec}': {name} must be a number") from err
    return max(1, value)


# ---------------------------------------------------------------- arguments, checked by schema


def call_arguments(
    prefix: str,
    schema: Mapping[str, Any] | None,
    fixed: Mapping[str, str],
    supplied: dict[str, Any],
) -> dict[str, Any]:
    """The arguments of one call: `supplied` plus the fixed ones typed by the tool's schema.

    Raises `MailSourceError` when the schema refuses a fixed argument's name or value, or
    requires one that nobody gives (`prefix` is `search` or `get`, to say how to give it).
    """
    properties = (schema or {}).get("properties")
    properties = properties if isinstance(properties, dict) else {}
    args = dict(supplied)
    open_ended = (schema or {}).get("additionalProperties") is True
    for name, text in fixed.items():
        if properties and name not in properties and not open_ended:
            raise MailSourceError(
                f"it takes no argument {name!r} (it takes: {', '.join(properties)})"
            )
        args[name] = typed_value(name, text, properties.get(name))
    missing = [name for name in (schema or {}).get("required") or [] if name not in args]
    if missing:
        given = "&".join(f"{prefix}.{name}=VALUE" for name in missing)
        raise MailSourceError(
            f"it needs argument(s) {', '.join(missing)}, which the spec does not give ({given})"
        )
    return args


def _schema_type(schema: Any) -> str:
    if not isinstance(schema, dict):
        return ""
    kind = schema.get("type")
    if isinstance(kind, str):
        return kind
    if isinstance(kind, list):
        return next((k for k in kind if k != "null"), "")
    options = schema.get("anyOf") or schema.get("oneOf") or []
    return next((t for t in map(_schema_type, options) if t and t != "null"), "")


def typed_value(name: str, text: str, schema: Any) -> Any:
    """The spec's text for argument `name` as the type the tool's schema asks for."""
    kind = _schema_type(schema)
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
    except ValueError as err:
        raise MailSourceError(f"its argument {name!r} must be a number") from err
    if kind == "boolean":
        if text.lower() not in ("true", "false"):
            raise MailSourceError(f"its argument {name!r} must be true or false")
        return text.lower() == "true"
    if kind == "array":
        return [part.strip() for part in text.split(",") if part.strip()]
    return text


def takes_list(schema: Mapping[str, Any] | None, name: str) -> bool:
    """Whether the tool's argument `name` is an array (ids are then sent in batches)."""
    properties = (schema or {}).get("properties") or {}
    return isinstance(properties, dict) and _schema_type(properties.get(name)) == "array"


def size_argument(mapping: McpMailMapping, schema: Mapping[str, Any] | None) -> tuple[str, int]:
    """The listing argument for how many to return, and the most the schema allows (0: no cap).

    With no schema to look at, it is `limit`, as our own server names it.
    """
    properties = (schema or {}).get("properties") or {}
    if mapping.size_arg:
        name = mapping.size_arg
    elif not properties:
        name = "limit" if schema is None else ""
    else:
        name = next((n for n in SIZE_ARGS if n in properties), "")
    cap = properties.get(name, {}).get("maximum", 0) if isinstance(properties, dict) else 0
    return name, int(cap) if isinstance(cap, int | float) and cap >= 1 else 0


def list_cap(schema: Mapping[str, Any] | None, name: str, batch: int) -> int:
    """Ids per call: the spec's `batch`, within the array's `maxItems` when the schema has one."""
    properties = (schema or {}).get("properties") or {}
    most = properties.get(name, {}).get("maxItems") if isinstance(properties, dict) else None
    return min(batch, int(most)) if isinstance(most, int) and most >= 1 else batch


# ---------------------------------------------------------------- reading results


def payload(result: McpResult) -> Any:
    """A result's structured content, else its text read as JSON, else None."""
    if result.structured is not None:
        return result.structured
    try:
        return json.loads(result.text)
    except ValueError:
        return None


def at_path(data: Any, path: str) -> tuple[bool, Any]:
    """The value at a dotted path (`data.items`, `payload.0.id`); (False, why) when none."""
    value = data
    walked: list[str] = []
    for step in path.split("."):
        if isinstance(value, dict) and step in value:
            value = value[step]
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            where = ".".join(walked) or "the result"
            if isinstance(value, str | int | float | bool) or value is None:
                return False, f"{where} is {_kind(value)}, so '{path}' reaches nothing"
            return False, f"'{path}' matches nothing in {where}"
        walked.append(step)
    return True, value


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool | int | float):
        return "a number" if not isinstance(value, bool) else "a boolean"
    return "null" if value is None else type(value).__name__


def messages_in(data: Any, path: str, *, what: str) -> list[Any]:
    """The list of messages in a result, at `path` or where `LIST_KEYS` find one.

    Raises `MailSourceError` when there is no such list: a misfit never reads as an empty inbox.
    """
    if path:
        found, value = at_path(data, path)
        if not found:
            raise MailSourceError(f"{what}: {value}")
        if not isinstance(value, list):
            raise MailSourceError(f"{what}: '{path}' is {_kind(value)}, not a list of messages")
        return value
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in LIST_KEYS:
            if isinstance(data.get(key), list):
                return list(data[key])
        keys = ", ".join(list(data)[:12]) or "none"
        raise MailSourceError(
            f"{what}: no list of messages in the result (its keys: {keys}); name it with list=PATH"
        )
    if data is None:
        raise MailSourceError(f"{what}: the result is not JSON")
    raise MailSourceError(f"{what}: the result is {_kind(data)}, not a list of messages")


def field_value(item: Any, mapping: McpMailMapping, name: str) -> Any:
    """A message's field: at its `field.` path when the spec gives one, else by its aliases."""
    path = mapping.fields.get(name)
    if path:
        found, value = at_path(item, path)
        return value if found else None
    if not isinstance(item, dict):
        return None
    return next((item[k] for k in FIELD_ALIASES[name] if item.get(k) not in (None, "")), None)


def message_key(item: Any, mapping: McpMailMapping) -> str:
    """The id the server knows a listed message by ('' when it has none we can use).

    A listing may be of ids themselves; ids may be numbers (IMAP UIDs). Other values — a
    boolean, an object — are no id.
    """
    value = item if isinstance(item, str | int) else field_value(item, mapping, "id")
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    return str(value).strip().strip("<>")


def listed_keys(items: list[Any], mapping: McpMailMapping, *, what: str) -> list[str]:
    """The ids of listed messages, in order, once each; none at all in a non-empty list raises."""
    keys = [key for key in (message_key(item, mapping) for item in items) if key]
    if items and not keys:
        first = items[0]
        seen = ", ".join(list(first)[:12]) if isinstance(first, dict) else _kind(first)
        looked = mapping.fields.get("id") or ", ".join(FIELD_ALIASES["id"])
        raise MailSourceError(
            f"{what}: none of the {len(items)} listed message(s) has an id (looked for {looked}; "
            f"the first has: {seen}); name it with field.id=PATH"
        )
    return list(dict.fromkeys(keys))


def message_fields(item: dict[str, Any], mapping: McpMailMapping, key: str) -> dict[str, Any]:
    """A message's fields under the names the mail cache reads, the rest kept as they came.

    `id` becomes the message's Message-ID where the server gives one (the id citations show);
    a body longer than the mail limits is cut; a base64 `raw` (as Gmail's) is decoded.
    """
    fields = dict(item)
    for name in FIELD_ALIASES:
        value = field_value(item, mapping, name)
        if value is not None:
            fields[name] = value
    for name in ("from", "to", "cc", "reply_to"):
        if name in fields:
            fields[name] = _address_text(fields[name])
    headers = fields.get("headers")
    if isinstance(headers, list):  # Gmail's and Graph's [{"name": ..., "value": ...}]
        pairs = [h for h in headers if isinstance(h, dict) and "name" in h]
        fields["headers"] = {str(h["name"]): str(h.get("value", "")) for h in pairs}
    elif headers is not None and not isinstance(headers, dict):
        fields.pop("headers")
    message_id = fields.get("message_id")
    if isinstance(message_id, str | int) and not isinstance(message_id, bool) and message_id:
        fields["id"] = str(message_id)
    elif not isinstance(fields.get("id"), str | int) or isinstance(fields.get("id"), bool):
        fields["id"] = key
    fields["id"] = str(fields["id"]).strip().strip("<>") or key
    if fields.get("body") is not None:
        fields["body"] = _bounded_body(fields["body"])
    if fields.get("raw") is not None:
        fields["raw"] = _raw_text(fields["raw"])
    return fields


def _bounded_body(body: Any) -> str:
    """The body as text, cut at the mail limits' length like a parsed message's."""
    text = body if isinstance(body, str) else str(body)
    return text if len(text) <= MAX_BODY_CHARS else text[:MAX_BODY_CHARS] + "\n" + TRUNCATED_MARKER


def _address_text(value: Any) -> str:
    """Addresses as header text, from a string, a list, or objects like Graph's `emailAddress`."""
    if isinstance(value, list):
        return ", ".join(filter(None, (_address_text(v) for v in value)))
    if isinstance(value, dict):
        inner = value.get("emailAddress")
        if isinstance(inner, dict):
            return _address_text(inner)
        address = str(value.get("address") or value.get("email") or "")
        name = str(value.get("name") or "")
        return formataddr((name, address)) if name and address else address
    return "" if value is None else str(value)


def _raw_text(raw: Any) -> str | None:
    """RFC 822 text as given, or decoded from base64 / base64url; None when it is neither."""
    if not isinstance(raw, str) or not raw:
        return None
    head = raw.lstrip()[:1000]
    if ":" in head.split("\n", 1)[0]:
        return raw
    compact = "".join(raw.split())
    try:
        decoded = base64.urlsafe_b64decode(compact + "=" * (-len(compact) % 4))
    except (binascii.Error, ValueError):
        return None
    return decoded.decode("utf-8", errors="replace")
