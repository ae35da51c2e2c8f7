"""The catalogue of tools one run may use: native toolkits and MCP servers' tools.

`select_tools` shows the model `tools`; `request_approval` asks `is_read_only`,
`default_level`, `suspended`, `unavailable`, `refusal` and `preview`; `act` calls `invoke`.

Native tools come in toolkits (`tools.toolkit.Toolkit`): mail, calendar, Jira, Slack,
Teams, webhooks, HubSpot, Salesforce. A toolkit that is not configured is absent: its tools are
not shown to the model, and a call naming one fails with why (what to set) instead of running.
"""

from __future__ import annotations

import asyncio
import json
import logging
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from langchain_core.tools import BaseTool, StructuredTool

from tools.mail.mailbox import MailboxEnv
from tools.mail.tools import mail_toolkit
from tools.toolkit import ActionPreview, ToolFailure, Toolkit, ToolResult

if TYPE_CHECKING:
    from tools.mcp.hub import McpHub
    from tools.mcp.results import McpToolInfo

logger = logging.getLogger(__name__)

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
    """Tools by name, plus the toolkits whose injected environments the native ones run with."""

    toolkits: Sequence[Toolkit] = ()
    tools: Sequence[BaseTool] = field(default_factory=list)
    """What engines are offered: configured native tools (not hidden ones) and MCP tools."""
    read_only: frozenset[str] = frozenset()
    unavailable: dict[str, str] = field(default_factory=dict)
    """Tools that exist but cannot run here, with why (sending without `SMTP_URL`, Jira
    without its settings)."""
    mcp: dict[str, McpEntry] = field(default_factory=dict)
    """MCP tools by their name in this catalogue."""
    _kits: dict[str, Toolkit] = field(default_factory=dict, repr=False)
    """Runnable native tools by name → their toolkit."""

    @classmethod
    def from_toolkits(cls, toolkits: Iterable[Toolkit]) -> ToolRegistry:
        """The native catalogue: configured toolkits' tools; the others' recorded as unavailable."""
        kits = list(toolkits)
        offered: list[BaseTool] = []
        read_only: set[str] = set()
        unavailable: dict[str, str] = {}
        runnable: dict[str, Toolkit] = {}
        for kit in kits:
            read_only |= kit.read_only
            for tool in kit.tools:
                if kit.missing:
                    unavailable[tool.name] = kit.missing
                elif tool.name in kit.unavailable:
                    unavailable[tool.name] = kit.unavailable[tool.name]
                else:
                    runnable[tool.name] = kit
                    if tool.name not in kit.hidden:
                        offered.append(tool)
        return cls(
            toolkits=tuple(kits),
            tools=offered,
            read_only=frozenset(read_only),
            unavailable=unavailable,
            _kits=runnable,
        )

    @classmethod
    def for_mailbox(cls, env: MailboxEnv) -> ToolRegistry:
        """Only the mail tools; the sending ones only when SMTP is configured."""
        return cls.from_toolkits([mail_toolkit(env)])

    @property
    def env(self) -> MailboxEnv:
        """The mailbox the mail tools run with (approval reads it to show a mail's recipients)."""
        kit = self.toolkit("mail")
        if kit is None or kit.env is None:
            raise LookupError("this catalogue has no mail toolkit")
        return kit.env  # type: ignore[no-any-return]

    def toolkit(self, name: str) -> Toolkit | None:
        """The toolkit called `name` (configured or not), or None."""
        return next((kit for kit in self.toolkits if kit.name == name), None)

    def configured(self, name: str) -> bool:
        """Whether a toolkit is here and configured."""
        kit = self.toolkit(name)
        return kit is not None and not kit.missing

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
        taken = set(self.names()) | set(self.unavailable) | set(self._kits)
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
        """Every tool name engines are offered, in catalogue order."""
        return [t.name for t in self.tools]

    def get(self, name: str) -> BaseTool:
        """The tool called `name` (offered or hidden), or `UnknownToolError`."""
        for candidate in self.tools:
            if candidate.name == name:
                return candidate
        kit = self._kits.get(name)
        if kit is not None:
            return next(t for t in kit.tools if t.name == name)
        raise UnknownToolError(f"unknown tool {name!r}; known tools: {', '.join(self.names())}")

    def is_read_only(self, name: str) -> bool:
        """True for tools that only read; unknown tools are not."""
        return name in self.read_only

    def is_hidden(self, name: str) -> bool:
        """Tools only code proposes (never an engine)."""
        kit = self._kits.get(name)
        return kit is not None and name in kit.hidden

    def default_level(self, name: str) -> int:
        """The level before the user's policy: from the catalogue, 1 for anything unknown."""
        if name in self.mcp:
            return self.mcp[name].default_level
        for kit in self.toolkits:
            if name in kit.levels:
                return kit.levels[name]
        return READ_ONLY if name in self.read_only else CONFIRM

    def answered_message_arg(self, name: str) -> str:
        """The argument of a native call naming the message it answers ('' for none)."""
        kit = self._kits.get(name)
        return kit.answers.get(name, "") if kit is not None else ""

    def server_of(self, name: str) -> str | None:
        """The MCP server a tool comes from (None for native tools)."""
        entry = self.mcp.get(name)
        return entry.server if entry else None

    def suspended(self, name: str) -> str:
        """Why a tool may not run without asking right now (a changed definition), or ''."""
        entry = self.mcp.get(name)
        return entry.suspended if entry else ""

    def preview(self, name: str, args: dict[str, Any]) -> ActionPreview | None:
        """What a native call will really do, for its card (blocking: may read the database).

        A call whose arguments cannot be worked out (no such message) gets a preview saying
        so rather than an exception: the card must still be shown, and `act` reports the error.
        """
        kit = self._kits.get(name)
        if kit is None or kit.preview is None:
            return None
        try:
            return kit.preview(name, args)
        except ToolFailure as err:
            return ActionPreview(title=f"Run `{name}`", notes=(f"This call will fail: {err}.",))

    def refusal(self, name: str, args: dict[str, Any]) -> str:
        """Why this one call cannot run here, known before any card ('' when it can).

        The toolkit's own check, told which tools each MCP server of the catalogue offers (an
        `mcp:` inbox acts through its server's tools); cheap, no I/O, so `invoke` asks it too.
        """
        kit = self._kits.get(name)
        if kit is None or kit.refuses is None:
            return ""
        offered: dict[str, set[str]] = {}
        for entry in self.mcp.values():
            offered.setdefault(entry.server, set()).add(entry.tool)
        return kit.refuses(name, args, {s: frozenset(t) for s, t in offered.items()})

    async def invoke(self, name: str, args: dict[str, Any]) -> ToolResult:
        """Run one tool with a timeout; exceptions propagate for `act` to record."""
        if name in self.unavailable:
            raise ToolFailure(self.unavailable[name])
        refused = self.refusal(name, args)  # a call let through without a card, never run
        if refused:
            raise ToolFailure(refused)
        tool = self.get(name)
        kit = self._kits.get(name)
        payload = {**args, "env": kit.env} if kit is not None else dict(args)
        # MCP calls carry their server's own timeout (`timeout` in mcp.json); HTTP toolkits
        # bound their own time (per-attempt timeouts and bounded retries).
        timeout = kit.timeout if kit is not None else None
        _resolve_annotations(tool)
        result = await asyncio.wait_for(tool.ainvoke(payload), timeout=timeout)
        if isinstance(result, dict) and "content" in result:
            return result  # type: ignore[return-value]
        return {"completeness": "COMPLETE", "content": str(result), "messages": []}


def _resolve_annotations(tool: BaseTool) -> None:
    """Evaluate a tool function's string annotations once, in place.

    LangChain looks for a `RunnableConfig` parameter on every call with `get_type_hints`, which
    evaluates each annotation written as a string (modules with postponed annotations) again
    (0.046 ms for `search_emails`, 0.003 once evaluated). Evaluated once, they are only read.
    A function whose annotations cannot be evaluated is left as it is (LangChain copes the
    same way).
    """
    function = getattr(tool, "coroutine", None) or getattr(tool, "func", None)
    annotations = getattr(function, "__annotations__", None)
    if not annotations or not any(isinstance(a, str) for a in annotations.values()):
        return
    try:
        function.__annotations__ = typing.get_type_hints(function, include_extras=True)  # type: ignore[union-attr]
    except Exception:  # noqa: BLE001 - unresolvable names: keep the strings
        logger.debug("annotations of %s stay unevaluated", tool.name, exc_info=True)


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
