"""MCP servers the agent reaches: their configuration file and the sessions kept open to them."""
