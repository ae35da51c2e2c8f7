"""The catalogue of tools one run may use, with whether each changes the world.

`select_tools` shows the model `tools`; `request_approval` asks `is_read_only`;
`act` calls `invoke`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.tools import BaseTool

from tools.mailbox import (
    MAIL_TOOLS,
    READ_ONLY_MAIL_TOOLS,
    SENDING_TOOLS,
    SENDING_UNAVAILABLE,
    MailboxEnv,
    ToolFailure,
    ToolResult,
)

TOOL_TIMEOUT_SECONDS = 30.0


class UnknownToolError(Exception):
    """A call named a tool that is not in the catalogue."""


@dataclass
class ToolRegistry:
    """Tools by name, plus the injected environment they run with."""

    env: MailboxEnv
    tools: Sequence[BaseTool] = field(default_factory=lambda: list(MAIL_TOOLS))
    read_only: frozenset[str] = READ_ONLY_MAIL_TOOLS
    unavailable: dict[str, str] = field(default_factory=dict)
    """Tools that exist but cannot run here, with why (sending without `SMTP_URL`)."""

    @classmethod
    def for_mailbox(cls, env: MailboxEnv) -> ToolRegistry:
        """The native mail tools; the sending ones only when SMTP is configured."""
        unavailable = {} if env.smtp else dict.fromkeys(SENDING_TOOLS, SENDING_UNAVAILABLE)
        tools = [t for t in MAIL_TOOLS if t.name not in unavailable]
        return cls(env=env, tools=tools, unavailable=unavailable)

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
        """True for tools that only read (policy level 0); unknown tools are not."""
        return name in self.read_only

    async def invoke(self, name: str, args: dict[str, Any]) -> ToolResult:
        """Run one tool with a timeout; exceptions propagate for `act` to record."""
        if name in self.unavailable:
            raise ToolFailure(self.unavailable[name])
        tool = self.get(name)
        result = await asyncio.wait_for(
            tool.ainvoke({**args, "env": self.env}), timeout=TOOL_TIMEOUT_SECONDS
        )
        if isinstance(result, dict) and "content" in result:
            return result  # type: ignore[return-value]
        return {"completeness": "COMPLETE", "content": str(result), "messages": []}
