"""The catalogue of tools one run may use: native mail tools and MCP servers' tools.

`select_tools` shows the model `tools`; `request_approval` asks `is_read_only`,
`default_level` and `suspended`; `act` calls `invoke`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from langchain_core.tools import BaseTool, StructuredTool

from tools.mailbox import (
    MAIL_TOOLS,
    READ_ONLY_MAIL_TOOLS,
    SENDING_TOOLS,
    SENDING_UNAVAILABLE,
    MailboxEnv,
    ToolFailure,
    ToolResult,
)

if TYPE_CHECKING:
    from tools.mcp.hub import McpHub, McpToolInfo

TOOL_TIMEOUT_SECONDS = 30.0
NATIVE_TOOLS = frozenset(t.name for t in MAIL_TOOLS)
READ_ONLY, CONFIRM, AUTONOMOUS = 0, 1, 2


class UnknownToolError(Exception):
    """A call named a tool that is not in the catalogue."""


@dataclass(frozen=True)
class McpEntry:
    """Where an MCP tool in the catalogue comes from and how much consent it needs."""

    server: str
    tool: str
    """The server's own name for it (the catalogue may prefix it)."""
    default_level: int
    suspended: str = ""
    """Why its auto-approval is suspended (its definition changed), or empty."""


@dataclass
class ToolRegistry:
    """Tools by name, plus the injected environment the native ones run with."""

    env: MailboxEnv
    tools: Sequence[BaseTool] = field(default_factory=lambda: list(MAIL_TOOLS))
    read_only: frozenset[str] = READ_ONLY_MAIL_TOOLS
    unavailable: dict[str, str] = field(default_factory=dict)
    """Tools that exist but cannot run here, with why (sending without `SMTP_URL`)."""
    mcp: dict[str, McpEntry] = field(default_factory=dict)
    """MCP tools by their name in this catalogue."""

    @classmethod
    def for_mailbox(cls, env: MailboxEnv) -> ToolRegistry:
        """The native mail tools; the sending ones only when SMTP is configured."""
        unavailable = {} if env.smtp else dict.fromkeys(SENDING_TOOLS, SENDING_UNAVAILABLE)
        tools = [t for t in MAIL_TOOLS if t.name not in unavailable]
        return cls(env=env, tools=tools, unavailable=unavailable)

    def with_mcp(
        self,
        hub: McpHub,
        infos: Iterable[McpToolInfo],
        *,
        auto_approve: dict[str, frozenset[str]],
        changed: dict[str, set[str]],
    ) -> ToolRegistry:
        """Add MCP tools to the catalogue; a name already taken gets its server's prefix."""
        infos = list(infos)
        counts: dict[str, int] = {}
        for info in infos:
            counts[info.name] = counts.get(info.name, 0) + 1
        taken = set(self.names()) | set(self.unavailable)
        tools, mcp, read_only = list(self.tools), dict(self.mcp), set(self.read_only)
        for info in infos:
            name = info.name
            if name in taken or counts[name] > 1:
                name = f"{info.server}__{info.name}"
            taken.add(name)
            is_read_only = bool(info.annotations.get("readOnlyHint"))
            level = READ_ONLY if is_read_only else CONFIRM
            if info.name in auto_approve.get(info.server, frozenset()):
                level = AUTONOMOUS
            suspended = ""
            if info.name in changed.get(info.server, set()):
                suspended = (
                    f"the definition of {info.name} on MCP server {info.server} changed since "
                    f"you trusted it; run `smart-inbox mcp trust {info.server}` after checking it"
                )
            if is_read_only:
                read_only.add(name)
            mcp[name] = McpEntry(info.server, info.name, level, suspended)
            tools.append(_mcp_tool(hub, info, name))
        return replace(self, tools=tools, mcp=mcp, read_only=frozenset(read_only))

    def names(self) -> list[str]:
        """Every tool name, in catalogue order."""
        return [t.name for t in self.tools]

    def get(self, name: str) -> BaseTool:
        """The tool called `name`, or `UnknownToolError`."""
        for candidate in self.tools:
            if candidate.name == name:
                return candidate
        raise UnknownToolError(f"unknown tool {name!r}; known tools: {', '.join(self.names())}")

    def is_read_only(self, name: str) -> bool:
        """True for tools that only read; unknown tools are not."""
        return name in self.read_only

    def default_level(self, name: str) -> int:
        """The level before the user's policy: from the catalogue, 1 for anything unknown."""
        if name in self.mcp:
            return self.mcp[name].default_level
        return READ_ONLY if name in self.read_only else CONFIRM

    def server_of(self, name: str) -> str | None:
        """The MCP server a tool comes from (None for native tools)."""
        entry = self.mcp.get(name)
        return entry.server if entry else None

    def suspended(self, name: str) -> str:
        """Why a tool may not run without asking right now (a changed definition), or ''."""
        entry = self.mcp.get(name)
        return entry.suspended if entry else ""

    async def invoke(self, name: str, args: dict[str, Any]) -> ToolResult:
        """Run one tool with a timeout; exceptions propagate for `act` to record."""
        if name in self.unavailable:
            raise ToolFailure(self.unavailable[name])
        tool = self.get(name)
        payload = {**args, "env": self.env} if name in NATIVE_TOOLS else dict(args)
        # MCP calls carry their server's own timeout (`timeout` in mcp.json).
        timeout = None if name in self.mcp else TOOL_TIMEOUT_SECONDS
        result = await asyncio.wait_for(tool.ainvoke(payload), timeout=timeout)
        if isinstance(result, dict) and "content" in result:
            return result  # type: ignore[return-value]
        return {"completeness": "COMPLETE", "content": str(result), "messages": []}


def _mcp_tool(hub: McpHub, info: McpToolInfo, name: str) -> BaseTool:
    """An MCP tool as a LangChain tool whose call goes through the hub's kept session."""

    async def call(**kwargs: Any) -> ToolResult:
        result = await hub.call(info.server, info.name, kwargs)
        content = result.text
        if result.structured is not None:
            structured = json.dumps(result.structured, ensure_ascii=False, default=str)
            content = f"{content}\n{structured}" if content else structured
        return {"completeness": "COMPLETE", "content": content, "messages": []}

    description = info.description or f"{info.name} from MCP server {info.server}"
    return StructuredTool(
        name=name,
        description=f"[{info.server}] {description}",
        args_schema=info.input_schema or {"type": "object", "properties": {}},
        coroutine=call,
    )
