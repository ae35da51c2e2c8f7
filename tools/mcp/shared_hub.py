"""One started MCP hub per configuration file and event loop, shared by every caller.

Sessions are worth keeping across turns and threads of a long-lived process (a stdio server
is not re-spawned per call); a changed file builds a new hub and closes the old one.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tools.mcp.config import load_mcp_config
from tools.mcp.hub import McpHub


@dataclass
class _LoopHubs:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    hubs: dict[Path, tuple[tuple[int, int] | None, McpHub]] = field(default_factory=dict)


_SHARED: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopHubs] = (
    weakref.WeakKeyDictionary()
)


def _stamp(path: Path) -> tuple[Path, tuple[int, int] | None]:
    resolved = path.resolve()
    try:
        stat = resolved.stat()
    except FileNotFoundError:
        return resolved, None
    return resolved, (stat.st_mtime_ns, stat.st_size)


async def shared_hub(path: Path, environ: Mapping[str, str] | None = None) -> McpHub:
    """The started hub for the configuration at `path`, shared by every caller in this loop.

    One hub per (running event loop, resolved path, file mtime and size), so sessions are kept
    across turns and threads of a long-lived process. When the file changes, the next call
    builds a new hub and closes the old one (its in-flight calls then fail as disconnected).
    `environ` is read when a hub is built. Raises McpConfigError for a broken file and keeps
    the previous hub until the file is fixed.
    """
    loop = asyncio.get_running_loop()
    per_loop = _SHARED.get(loop)
    if per_loop is None:
        per_loop = _SHARED[loop] = _LoopHubs()
    resolved, stamp = await asyncio.to_thread(_stamp, path)
    async with per_loop.lock:
        previous = per_loop.hubs.get(resolved)
        if previous is not None and previous[0] == stamp:
            return previous[1]
        configs = await asyncio.to_thread(load_mcp_config, resolved, environ)
        if previous is not None:
            await previous[1].aclose()
        hub = McpHub(configs)
        per_loop.hubs[resolved] = (stamp, hub)
        await hub.start()
        return hub


async def close_shared_hubs() -> None:
    """Close every shared hub of the running loop (at shutdown, or between tests)."""
    per_loop = _SHARED.pop(asyncio.get_running_loop(), None)
    if per_loop is not None:
        async with per_loop.lock:
            for _, hub in per_loop.hubs.values():
                await hub.aclose()
