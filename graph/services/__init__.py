"""What nodes work with, built from the run's `Context`: database, tools and engine.

Built once per process and settings, then kept (`kept`); `build_services` builds a set afresh,
for callers that need one set once (the command line, the chat's own reads).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from langgraph.runtime import Runtime

from graph.context import Context, context_from
from graph.services.build import Services, build_services
from graph.services.kept import CACHE_SIZE, clear_services_cache, kept_services
from graph.services.toolkits import native_toolkits
from memory.paths import data_dir
from tools.mcp.config import mcp_config_path
from tools.mcp.hub import McpHub
from tools.mcp.shared_hub import shared_hub

__all__ = [
    "CACHE_SIZE",
    "Services",
    "build_services",
    "clear_services_cache",
    "mcp_hub_for",
    "native_toolkits",
    "services_for",
]


def _mcp_config(home: str) -> Path | None:
    path = mcp_config_path(data_dir(home))
    return path if path.exists() else None


async def mcp_hub_for(context: Context) -> McpHub | None:
    """The process's kept MCP sessions for this data directory, or None without `mcp.json`."""
    path = await asyncio.to_thread(_mcp_config, context.home)
    return None if path is None else await shared_hub(path)


async def services_for(runtime: Runtime[Context]) -> Services:
    """Services for this run, kept from an earlier run when still current; off the event loop.

    The context may be a `Context`, a dict (a run on the LangGraph server) or absent. The MCP
    tools come from this event loop's hub (`tools.mcp.shared_hub`), whose sessions are owned by
    its own tasks, and are added afresh on every call, as is the policy.
    """
    context = context_from(runtime.context)
    hub = await mcp_hub_for(context)
    return await asyncio.to_thread(kept_services, context, hub)
