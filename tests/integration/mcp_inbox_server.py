"""Our MCP mail server with move and flag tools, for the tests of an `mcp:` inbox that acts.

Run over stdio: `python -m tests.integration.mcp_inbox_server`, with `INBOX` and
`SMART_INBOX_HOME` set. It adds `move_to_folder`, `mark_read` and `flag_messages` (the inbox
actions' names and arguments) to the mail tools our server serves; `MCP_INBOX_LEAVE_OUT`
(comma-separated tool names) takes some away again.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, cast

from mcp.types import CallToolResult, TextContent

from tools.mail import inbox_moves as moves
from tools.toolkit import ToolResult
from ui.mcp_server.served_mailbox import open_mailbox
from ui.mcp_server.server import build_mail_server


def main() -> None:
    inbox, home = os.environ["INBOX"], os.environ["SMART_INBOX_HOME"]
    server = build_mail_server(inbox=inbox, home=home)
    mailbox = open_mailbox(inbox=inbox, home=home)

    def run(action: Callable[[], ToolResult]) -> CallToolResult:
        mailbox.refresh()
        result = action()
        data: dict[str, Any] = dict(cast(Mapping[str, Any], result).get("data") or {})
        text = [TextContent(type="text", text=result["content"])]
        return CallToolResult(content=text, structuredContent=data)

    @server.tool()
    def move_to_folder(message_ids: list[str], folder: str, create: bool = False) -> CallToolResult:
        """Move the conversations of these messages to a folder."""
        return run(lambda: moves.move_to(mailbox.env, message_ids, folder, create))

    @server.tool()
    def mark_read(message_ids: list[str], read: bool = True) -> CallToolResult:
        """Mark the conversations of these messages read."""
        return run(lambda: moves.mark_read(mailbox.env, message_ids, read))

    @server.tool()
    def flag_messages(message_ids: list[str], flagged: bool = True) -> CallToolResult:
        """Flag these messages."""
        return run(lambda: moves.flag(mailbox.env, message_ids, flagged))

    # A server that lacks some of them, for the tests of what is refused without them.
    for name in filter(None, os.environ.get("MCP_INBOX_LEAVE_OUT", "").split(",")):
        server.remove_tool(name)
    server.run("stdio")


if __name__ == "__main__":
    main()
