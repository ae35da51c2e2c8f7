"""Every way in to the inbox agent, one room each, thin shells over the graph and its services.

- `ui.cli`: the `smart-inbox` command line, a module per command group;
- `ui.chat`: the Chainlit chat (Chainlit runs `ui/app.py`; its app root is this folder);
- `ui.langgraph_server`: the glue that runs the graph on the LangGraph server;
- `ui.mcp_server`: our own MCP server of the mailbox and calendar, for other MCP clients.
"""
