"""The graph's nodes, one async function per module."""
