"""What the MCP hub reports: the tools it offers, each server's status, a call's result or failure.

Plain records the graph, the approval policy and the chat read, kept apart from the
sessions that produce them; results are rendered to text here, once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    # The SDK (with its server side) is imported where a result is rendered: commands that
    # never call a server, like `smart-inbox triage` on a Maildir, do not load it.
    from mcp import types

ServerState = Literal["connected", "disabled", "failed", "connecting"]
CallFailure = Literal[
    "unknown_server",
    "disabled",
    "start_failed",
    "unknown_tool",
    "timeout",
    "disconnected",
    "tool_error",
    "rejected",
    "failed",
]


@dataclass(frozen=True)
class McpToolInfo:
    """One tool as its server lists it."""

    server: str
    """The configured name of the server that offers it."""
    name: str
    """The server's own name for the tool (callers add a prefix where names collide)."""
    description: str
    input_schema: dict[str, Any]
    annotations: dict[str, Any]
    """The server's hints as given (readOnlyHint, destructiveHint, idempotentHint,
    openWorldHint, title); empty when it gave none."""
    fingerprint: str
    """sha256 of the description and input schema: a changed definition changes it."""

    @classmethod
    def from_tool(cls, server: str, tool: types.Tool) -> McpToolInfo:
        """The info of a tool from a `tools/list` answer."""
        description = tool.description or ""
        schema = dict(tool.inputSchema)
        return cls(
            server=server,
            name=tool.name,
            description=description,
            input_schema=schema,
            annotations=tool.annotations.model_dump(exclude_none=True) if tool.annotations else {},
            fingerprint=tool_fingerprint(description, schema),
        )


def tool_fingerprint(description: str, input_schema: Mapping[str, Any]) -> str:
    """sha256 hex of the canonical JSON of a tool's description and input schema."""
    canonical = json.dumps(
        {"description": description, "input_schema": input_schema},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass
class ServerStatus:
    """Where one configured server stands."""

    name: str
    state: ServerState
    error: str = ""
    """Why it failed or lost its session; empty otherwise."""
    tools: list[McpToolInfo] = field(default_factory=list)
    transport: str = ""


class McpCallError(Exception):
    """One MCP call that did not produce a result: which server and tool, and why."""

    def __init__(
        self,
        server: str,
        tool: str,
        kind: CallFailure,
        reason: str,
        *,
        result: McpResult | None = None,
    ) -> None:
        super().__init__(f"MCP server {server!r}, tool {tool!r}: {reason}")
        self.server = server
        self.tool = tool
        self.kind: CallFailure = kind
        self.reason = reason
        self.result = result
        """The server's error result, when the server itself reported the failure."""


@dataclass(frozen=True)
class McpResult:
    """A tool's result: its content blocks rendered to text, and its structured content."""

    text: str
    structured: Any | None = None
    is_error: bool = False
    """Always false on a result `McpHub.call` returns: an error result raises instead."""

    @classmethod
    def from_call(cls, result: types.CallToolResult) -> McpResult:
        """The rendering of a `tools/call` answer."""
        text = render_content(result.content)
        if not result.content and result.structuredContent is not None:
            text = json.dumps(result.structuredContent, ensure_ascii=False)
        return cls(text=text, structured=result.structuredContent, is_error=result.isError)


def render_content(blocks: Sequence[types.ContentBlock]) -> str:
    """Content blocks as text; binary content is named and sized, never dumped."""
    from mcp import types

    parts: list[str] = []
    for block in blocks:
        if isinstance(block, types.TextContent):
            parts.append(block.text)
        elif isinstance(block, types.ImageContent | types.AudioContent):
            parts.append(f"[{block.type}: {block.mimeType}, {_base64_size(block.data)} bytes]")
        elif isinstance(block, types.EmbeddedResource):
            resource = block.resource
            if isinstance(resource, types.TextResourceContents):
                parts.append(resource.text)
            else:
                parts.append(f"[resource: {resource.uri}]")
        elif isinstance(block, types.ResourceLink):
            parts.append(f"[link: {block.uri}]")
        else:
            parts.append(f"[{getattr(block, 'type', 'unknown')} content]")
    return "\n".join(parts)


def _base64_size(data: str) -> int:
    digits = sum(1 for c in data if c.isalnum() or c in "+/-_")
    return digits * 3 // 4
