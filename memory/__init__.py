"""Persistence: the app database (mail cache, cursors, triage) and the conversation checkpointer."""
