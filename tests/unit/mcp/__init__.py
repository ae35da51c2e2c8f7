"""Unit tests for the MCP configuration file and result rendering."""
