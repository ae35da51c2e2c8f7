"""The inbox actions of our MCP server: archive, move, trash, mark read, flag.

The same actions as the chat's (`tools.mail.inbox_moves`), on the served mailbox: each acts on
the whole conversation of each id (flagging only on the ids named) and answers per message,
so a client that reads this mailbox (`--inbox mcp:NAME`) can also clear it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any, cast

from mcp.server.fastmcp import FastMCP
from mcp.types import CallToolResult, TextContent, ToolAnnotations

from tools.mail import inbox_moves as moves
from tools.toolkit import ToolResult
from ui.mcp_server.served_mailbox import ServedMailbox

MOVING = ToolAnnotations(
    readOnlyHint=False, destructiveHint=False, idempotentHint=True, openWorldHint=False
)


def _result(result: ToolResult) -> CallToolResult:
    """The per-message text, and the results as the structured content."""
    data: dict[str, Any] = dict(cast(Mapping[str, Any], result).get("data") or {})
    return CallToolResult(
        content=[TextContent(type="text", text=result["content"])], structuredContent=data
    )


async def _run(mailbox: ServedMailbox, action: Callable[[], ToolResult]) -> CallToolResult:
    """Fetch what is new (so every id can be found), then act."""
    await asyncio.to_thread(mailbox.refresh)
    return _result(await asyncio.to_thread(action))


def add_inbox_tools(server: FastMCP, mailbox: ServedMailbox) -> None:
    """Register the inbox actions on `server`."""
    env = mailbox.env

    @server.tool(title="Archive conversations", annotations=MOVING)
    async def archive_conversations(message_ids: list[str]) -> CallToolResult:
        """Archive the conversations of these messages (moved to Archive, nothing deleted)."""
        return await _run(
            mailbox, lambda: moves.archive(env, message_ids, action="archive_conversations")
        )

    @server.tool(title="Move to folder", annotations=MOVING)
    async def move_to_folder(
        message_ids: list[str], folder: str, create: bool = False
    ) -> CallToolResult:
        """Move the conversations of these messages to a folder (create=True makes a new one)."""
        return await _run(mailbox, lambda: moves.move_to(env, message_ids, folder, create))

    @server.tool(title="Move to Trash", annotations=MOVING)
    async def trash_conversations(message_ids: list[str]) -> CallToolResult:
        """Move the conversations of these messages to Trash (never deleted outright)."""
        return await _run(mailbox, lambda: moves.trash(env, message_ids))

    @server.tool(title="Mark read", annotations=MOVING)
    async def mark_read(message_ids: list[str], read: bool = True) -> CallToolResult:
        """Mark the conversations of these messages read (read=False: unread)."""
        return await _run(mailbox, lambda: moves.mark_read(env, message_ids, read))

    @server.tool(title="Flag messages", annotations=MOVING)
    async def flag_messages(message_ids: list[str], flagged: bool = True) -> CallToolResult:
        """Flag these messages (flagged=False: remove the flag)."""
        return await _run(mailbox, lambda: moves.flag(env, message_ids, flagged))
