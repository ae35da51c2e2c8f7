"""What nodes work with, built from the run's `Context`: database, tools and engine.

Built once per process and settings, then kept (`kept`), and looked up once per graph run
(`per_run`); `build_services` builds a set afresh, for callers that need one set once (the
command line, the chat's own reads).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from langgraph.runtime import Runtime

from graph.context import Context, context_from
from graph.services.build import Services, build_services
from graph.services.kept import CACHE_SIZE, kept_services
from graph.services.kept import clear_services_cache as clear_kept_services
from graph.services.per_run import RunServices
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
    "forget_run_services",
    "mcp_hub_for",
    "native_toolkits",
    "services_and",
    "services_for",
]

T = TypeVar("T")


def _mcp_config(home: str) -> Path | None:
    path = mcp_config_path(data_dir(home))
    return path if path.exists() else None


async def mcp_hub_for(context: Context) -> McpHub | None:
    """The process's kept MCP sessions for this data directory, or None without `mcp.json`."""
    path = await asyncio.to_thread(_mcp_config, context.home)
    return None if path is None else await shared_hub(path)


_RUNS = RunServices()


async def services_for(runtime: Runtime[Context]) -> Services:
    """Services for this run, kept from an earlier run when still current; off the event loop.

    The context may be a `Context`, a dict (a run on the LangGraph server) or absent. The
    run's first node checks the kept set, reads the policy and adds the MCP tools of this event
    loop's hub (`tools.mcp.shared_hub`), whose sessions are owned by its own tasks; the run's
    other nodes get the same services (`per_run`) until `forget_run_services`.
    """
    context = context_from(runtime.context)
    control = runtime.control
    services = _RUNS.get(control, context)
    if services is None:
        services = await asyncio.to_thread(_kept_without_mcp, context)
        if services is None:
            services = await _kept_with_mcp(context)
        _RUNS.put(control, context, services)
    return services


async def _kept_with_mcp(context: Context) -> Services:
    """The kept services with the MCP tools of this event loop's hub."""
    hub = await mcp_hub_for(context)
    return await asyncio.to_thread(kept_services, context, hub)


async def services_and(
    runtime: Runtime[Context], work: Callable[[Services], T]
) -> tuple[Services, T]:
    """`services_for(runtime)` and what `work` (blocking) makes of them, off the event loop.

    When the run's services are looked up off the loop (its first node, no `mcp.json`), `work`
    runs in the same trip; otherwise in one of its own. Services whose `work` raised are not
    remembered for the run: its next node looks them up again.
    """
    context = context_from(runtime.context)
    services = _RUNS.get(runtime.control, context)
    if services is None:
        found = await asyncio.to_thread(_kept_then, context, work)
        if found is not None:
            _RUNS.put(runtime.control, context, found[0])
            return found
        services = await _kept_with_mcp(context)
        _RUNS.put(runtime.control, context, services)
    return services, await asyncio.to_thread(work, services)


def _kept_then(context: Context, work: Callable[[Services], T]) -> tuple[Services, T] | None:
    services = _kept_without_mcp(context)
    return None if services is None else (services, work(services))


def _kept_without_mcp(context: Context) -> Services | None:
    """The kept services when the data directory has no `mcp.json`, else None (blocking).

    Without MCP servers there is no hub to open on the event loop: one trip off it does.
    """
    return kept_services(context) if _mcp_config(context.home) is None else None


def forget_run_services(runtime: Runtime[Context]) -> None:
    """After a side effect of this run: its next node checks its services afresh.

    A call may store a credential, subscribe a webhook or change the policy's file.
    """
    _RUNS.forget(runtime.control)


def clear_services_cache() -> None:
    """Forget every kept set of services and every run's: the next node run builds its own.

    For tests that replace something a build uses (a module's function, a cached engine)
    between runs with the same settings; a changed environment, credential, watched file or
    closed database needs no clearing.
    """
    clear_kept_services()
    _RUNS.clear()
