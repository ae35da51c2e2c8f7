"""The health of every part, for the command line, the chat and the LangGraph server."""
