"""`smart-inbox mcp` (the MCP servers the agent uses) and `mcp-server` (the one we serve)."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from graph.context import Context
from graph.services import Services, build_services, mcp_hub_for
from memory.database_url import DatabaseConfigError
from memory.db import DatabaseUnavailableError
from memory.mcp_tools import McpToolFingerprints
from memory.paths import data_dir
from tools.mail.smtp_settings import SmtpConfigError
from tools.mail.source_protocol import MailSourceError
from tools.mail.sync import canonical_spec
from tools.mcp.config import load_mcp_config, mcp_config_path
from tools.mcp.hub import McpHub
from tools.mcp.shared_hub import close_shared_hubs
from ui.cli.errors import UserError
from ui.cli.settings import one_line_errors
from ui.mcp_server import run_mail_server


def serve_mcp(args: argparse.Namespace) -> int:
    """`mcp-server`: serve this mailbox and calendar until stopped."""
    context = Context(**({"inbox": args.inbox} if args.inbox else {}))
    try:
        canonical_spec(context.inbox)
        home = str(data_dir(context.home))
        run_mail_server(
            transport=args.transport,
            inbox=context.inbox,
            home=home,
            host=args.host,
            port=args.port,
        )
    except (
        MailSourceError,
        SmtpConfigError,
        OSError,
        DatabaseConfigError,
        DatabaseUnavailableError,
    ) as err:
        raise UserError(str(err)) from err
    return 0


@one_line_errors
async def mcp(args: argparse.Namespace) -> int:
    """`mcp list` and `mcp trust`: each server's state and tools, or accept its changed tools."""
    context = Context()
    path = mcp_config_path(data_dir(context.home))
    configs = load_mcp_config(path)
    if not configs and args.mcp_command == "list":
        # Nothing configured is a valid set-up (MCP is optional), not an error.
        if args.json:
            print(json.dumps({"file": str(path), "servers": []}, indent=2))
        else:
            print(f"no MCP servers configured: to add some, write them to {path}")
        return 0
    if not configs:
        raise UserError(f"no MCP servers configured: {path} is missing or empty")
    if args.mcp_command == "trust" and args.server not in configs:
        raise UserError(f"no server {args.server!r} in {path}; servers: {', '.join(configs)}")
    hub = await mcp_hub_for(context)
    if hub is None:
        raise UserError(f"no MCP servers configured: {path} is missing")
    try:
        services = await asyncio.to_thread(build_services, context, hub)
        if args.mcp_command == "trust":
            return await _trust(services, args.server, as_json=args.json)
        servers = _servers(hub, services)
    finally:
        await close_shared_hubs()
    _print_servers(path, servers, as_json=args.json)
    return 0


async def _trust(services: Services, server: str, *, as_json: bool) -> int:
    updated = await asyncio.to_thread(McpToolFingerprints(services.db).trust, server)
    if as_json:
        print(json.dumps({"server": server, "trusted": updated}, indent=2))
    elif updated:
        print(f"{server}: trusted the changed definitions of {', '.join(updated)}")
    else:
        print(f"{server}: nothing had changed")
    return 0


def _servers(hub: McpHub, services: Services) -> list[dict[str, Any]]:
    """Each server's state, with its tools and their approval levels."""
    servers: list[dict[str, Any]] = []
    for status in hub.statuses():
        tools = [
            {
                "name": name,
                "tool": entry.tool,
                "level": services.policy.level_for(
                    name, default=entry.default_level, server=entry.server
                ),
                "read_only": services.tools.is_read_only(name),
                "suspended": entry.suspended,
            }
            for name, entry in services.tools.mcp.items()
            if entry.server == status.name
        ]
        servers.append(
            {
                "name": status.name,
                "state": status.state,
                "transport": status.transport,
                "error": status.error,
                "tools": tools,
            }
        )
    return servers


def _print_servers(path: Path, servers: list[dict[str, Any]], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"file": str(path), "servers": servers}, ensure_ascii=False, indent=2))
        return
    print(f"MCP servers in {path}:\n")
    for server in servers:
        reason = f": {server['error']}" if server["error"] else ""
        print(f"{server['name']} ({server['transport']}) — {server['state']}{reason}")
        for tool in server["tools"]:
            note = f"  ⚠ {tool['suspended']}" if tool["suspended"] else ""
            print(f"  {tool['name']:<28} level {tool['level']}{note}")
