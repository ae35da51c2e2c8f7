"""Local stand-ins for the external services the agent talks to."""
