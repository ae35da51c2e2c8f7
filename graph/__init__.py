"""The agent graph: state, context, engines, nodes and routing."""
