"""Integration tests for kept MCP sessions against real server processes."""
