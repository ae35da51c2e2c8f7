"""Prompt text, one module per node; placeholders are filled when the node runs."""
