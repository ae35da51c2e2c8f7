"""`python -m ui.mcp_server`: serve the mailbox and calendar (`--transport stdio | http`)."""

from ui.mcp_server.server import main

main()
