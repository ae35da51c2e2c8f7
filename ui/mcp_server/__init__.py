"""Our own MCP server: this mailbox and calendar served to any MCP client.

Run it with `smart-inbox mcp-server` or `python -m ui.mcp_server`. It lives among the
interfaces, not in `tools.mcp` (the agent's MCP client), because it is a way in to the
product: it serves the agent's triage and the same tools the chat uses.
"""

from ui.mcp_server.served_mailbox import ServedMailbox, open_mailbox, triage_new_mail
from ui.mcp_server.server import PortUnavailableError, build_mail_server, main, run_mail_server

__all__ = [
    "PortUnavailableError",
    "ServedMailbox",
    "build_mail_server",
    "main",
    "open_mailbox",
    "run_mail_server",
    "triage_new_mail",
]
