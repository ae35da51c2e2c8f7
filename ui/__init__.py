"""The user-facing front ends: the `smart-inbox` command line (and, later, the chat UI)."""
