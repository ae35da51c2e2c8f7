"""Inbox actions on an `mcp:` inbox, through the server's own tools when it has them.

A server that offers `move_to_folder`, `mark_read` and `flag_messages` (the names and arguments
of our own inbox actions, which our MCP server serves) is asked to move and flag; one without
them cannot archive, and each action says so in one line, before any approval card
(`missing_server_tool`). The hub's sessions belong to the event loop, while the actions run in
a worker thread: calls go back to the loop (`asyncio.run_coroutine_threadsafe`) through the
`McpBridge` the async tool sets.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from tools.mail.inbox_ops import (
    MAILDIR_FOLDERS,
    Flag,
    MessageOutcome,
    Role,
    Status,
    checked_folder,
)
from tools.mail.mcp_source import McpMailSpec, parse_mcp_spec
from tools.mail.model import Email
from tools.mail.source_protocol import MailSourceError
from tools.mcp.results import McpCallError

if TYPE_CHECKING:
    from tools.mcp.hub import McpHub

MOVE_TOOL = "move_to_folder"
FLAG_TOOLS: dict[Flag, tuple[str, str]] = {
    "seen": ("mark_read", "read"),
    "flagged": ("flag_messages", "flagged"),
}
"""Per flag: the server's tool and its on/off argument."""
ACTION_TOOLS: dict[str, str] = {
    "archive_conversations": MOVE_TOOL,
    "mark_done": MOVE_TOOL,
    "move_to_folder": MOVE_TOOL,
    "trash_conversations": MOVE_TOOL,
    "snooze_conversations": MOVE_TOOL,
    "mark_read": FLAG_TOOLS["seen"][0],
    "flag_messages": FLAG_TOOLS["flagged"][0],
}
"""Per inbox action: the server tool it is done with on an `mcp:` inbox."""
CALL_TIMEOUT = 60.0
STATUSES: frozenset[str] = frozenset({"moved", "changed", "already", "failed"})


@dataclass(frozen=True)
class McpBridge:
    """The hub and the event loop that owns its sessions."""

    hub: McpHub
    loop: asyncio.AbstractEventLoop


_BRIDGE: ContextVar[McpBridge | None] = ContextVar("mcp_bridge", default=None)


@contextmanager
def bridged(hub: McpHub) -> Iterator[None]:
    """Let the actions run in worker threads started inside the block call `hub` (async only)."""
    token = _BRIDGE.set(McpBridge(hub, asyncio.get_running_loop()))
    try:
        yield
    finally:
        _BRIDGE.reset(token)


def current_bridge() -> McpBridge | None:
    """The bridge of the running action, or None (then an `mcp:` inbox cannot be reached)."""
    return _BRIDGE.get()


class McpOperations:
    """Folders and flags of an `mcp:` inbox, by the server's tools."""

    def __init__(self, mail: McpMailSpec, bridge: McpBridge) -> None:
        self.mail = mail
        self.bridge = bridge

    def _offers(self, tool: str) -> bool:
        return any(t.server == self.mail.server and t.name == tool for t in self.bridge.hub.tools())

    def _call(self, tool: str, args: dict[str, Any]) -> Any:
        """Call a tool of the server from this worker thread; its structured result."""
        if not self._offers(tool):
            raise MailSourceError(
                f"this mail source ({self.mail.source}) cannot do that: its MCP server "
                f"{self.mail.server!r} offers no {tool} tool"
            )
        call = self.bridge.hub.call(self.mail.server, tool, args)
        future = asyncio.run_coroutine_threadsafe(call, self.bridge.loop)
        try:
            result = future.result(timeout=CALL_TIMEOUT)
        except McpCallError as err:
            raise MailSourceError(f"inbox {self.mail.source}: {err}") from err
        except TimeoutError:
            future.cancel()
            raise MailSourceError(f"inbox {self.mail.source}: {tool} timed out") from None
        return result.structured

    def folder_for(self, role: Role, *, create: bool = True) -> str:
        """`INBOX`, `Archive`, `Trash` or `Snoozed`: the server picks its own special folders."""
        return MAILDIR_FOLDERS[role]

    def folder_exists(self, folder: str) -> bool:
        """Not known here: the server answers when asked to move (`create=False`)."""
        return True

    def move(
        self, emails: Sequence[Email], folder: str, *, create: bool = False
    ) -> list[MessageOutcome]:
        """Ask the server to move the messages (its `move_to_folder`)."""
        folder = checked_folder(folder)
        # The server makes its own Archive, Trash and Snoozed when they are missing.
        create = create or folder in MAILDIR_FOLDERS.values()
        keys = [e.key for e in emails]
        data = self._call(MOVE_TOOL, {"message_ids": keys, "folder": folder, "create": create})
        return _outcomes(emails, data, folder)

    def set_flag(self, emails: Sequence[Email], flag: Flag, on: bool) -> list[MessageOutcome]:
        """Ask the server to set or clear the flag (its `mark_read` or `flag_messages`)."""
        tool, argument = FLAG_TOOLS[flag]
        data = self._call(tool, {"message_ids": [e.key for e in emails], argument: on})
        return _outcomes(emails, data, "")


def missing_server_tool(source: str, action: str, offered: Mapping[str, frozenset[str]]) -> str:
    """Why an inbox action cannot be done on this `mcp:` inbox: its server lacks the tool.

    `offered` is each MCP server's tools as the catalogue lists them. '' when the action can
    be asked for, when it needs no server tool, when the inbox is not `mcp:`, and when the
    server is not in the catalogue (not started: the action itself says why it cannot run).
    """
    needed = ACTION_TOOLS.get(action)
    if needed is None or not source.strip().lower().startswith("mcp:"):
        return ""
    try:
        server = parse_mcp_spec(source).server
    except MailSourceError:
        return ""  # fetching the inbox says what is wrong with its spec
    tools = offered.get(server)
    if not tools or needed in tools:
        return ""
    shown = ", ".join(sorted(tools)[:12]) + (", …" if len(tools) > 12 else "")
    return (
        f"this mail source ({source.strip()}) cannot do {action} here: its MCP server "
        f"{server!r} offers no {needed} tool (it offers {shown}): nothing is done"
    )


def _outcomes(emails: Sequence[Email], data: Any, folder: str) -> list[MessageOutcome]:
    """Each message's outcome from the server's per-message results (by the key asked for)."""
    rows = data.get("results") if isinstance(data, dict) else None
    by_id = {str(r.get("id")): r for r in rows or [] if isinstance(r, dict)}
    outcomes = []
    for email in emails:
        row = by_id.get(email.key)
        status = str(row.get("status")) if row else ""
        if row is None or status not in STATUSES:
            outcomes.append(
                MessageOutcome(email.id, "failed", "the server did not say what it did with it")
            )
            continue
        outcomes.append(
            MessageOutcome(
                email.id,
                cast(Status, status),
                str(row.get("detail") or ""),
                email.folder,
                folder or email.folder,
                tuple(str(f) for f in row.get("flags_before") or ()),
                key=email.key,
            )
        )
    return outcomes


def _status(text: str) -> Status:
    return (
        "moved"
        if text == "moved"
        else "changed"
        if text == "changed"
        else ("already" if text == "already" else "failed")
    )
