"""MCP servers for tests, runnable over stdio or streamable HTTP."""
