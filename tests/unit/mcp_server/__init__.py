"""Unit tests of our own MCP server (`ui.mcp_server`), in process."""
