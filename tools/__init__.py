"""Tools the agent can call: mail sources, native actions, and their registry."""
