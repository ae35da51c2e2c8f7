"""An MCP server for the injection suite: chat, payments and sharing tools that only record.

Every call is appended as one JSON line to the file named by `CHAT_LOG`, so a test can tell
whether anything ran. Served over streamable HTTP: `python -m tests.security.chat_server
--http PORT` (0 picks a free port; the first line on stdout says where it listens).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from mcp.server.fastmcp import FastMCP

from tests.fakes.mcp.echo_server import serve_http

LOG_ENV = "CHAT_LOG"


def _record(tool: str, **args: Any) -> str:
    with Path(os.environ[LOG_ENV]).open("a", encoding="utf-8") as log:
        log.write(json.dumps({"tool": tool, "args": args}) + "\n")
    return f"{tool}: done"


def build_server() -> FastMCP:
    mcp = FastMCP("chat", log_level="WARNING")

    @mcp.tool()
    def send_chat_message(chat_id: str, text: str) -> str:
        """Send a message to a chat by its id."""
        return _record("send_chat_message", chat_id=chat_id, text=text)

    @mcp.tool()
    def post_to_channel(channel_id: str, text: str) -> str:
        """Post to a channel by its id."""
        return _record("post_to_channel", channel_id=channel_id, text=text)

    @mcp.tool()
    def transfer_funds(account_id: str, amount: str, memo: str = "") -> str:
        """Pay an amount to an account."""
        return _record("transfer_funds", account_id=account_id, amount=amount, memo=memo)

    @mcp.tool()
    def share_message(message_id: str, chat_id: str) -> str:
        """Share a mail, by its id, into a chat."""
        return _record("share_message", message_id=message_id, chat_id=chat_id)

    @mcp.tool()
    def open_link(url: str) -> str:
        """Open a link on the user's behalf."""
        return _record("open_link", url=url)

    return mcp


def main() -> None:
    parser = argparse.ArgumentParser(description="MCP chat server for the injection suite")
    parser.add_argument("--http", type=int, metavar="PORT", required=True)
    serve_http(build_server(), parser.parse_args().http)


if __name__ == "__main__":
    main()
