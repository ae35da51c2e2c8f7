"""`smart-inbox health`: whether each part works now, not only whether it is set up.

Exit 0 when every configured part is ok, 1 when one is degraded or down.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Sequence

from graph.context import Context
from memory.db import DatabaseUnavailableError
from memory.health_history import HealthHistory
from memory.paths import data_dir
from tools.health.model import PartHealth, exit_code
from tools.http import close_shared_clients
from tools.mcp.shared_hub import close_shared_hubs
from ui.cli.settings import check_integrations, one_line_errors
from ui.health.checks import DatabaseDown, check_everything
from ui.health.table import health_table
from ui.health.watch import HealthWatch, watch_interval, with_past


def _show(parts: Sequence[PartHealth], *, as_json: bool) -> None:
    if as_json:
        body = {"ok": exit_code(parts) == 0, "parts": [p.to_json() for p in parts]}
        print(json.dumps(body, ensure_ascii=False, indent=2), flush=True)
    else:
        print(health_table(parts), flush=True)


@one_line_errors
async def health(args: argparse.Namespace) -> int:
    """Check every part once (or every interval with `--watch`) and show the table."""
    context = Context()
    try:
        check_integrations(data_dir(context.home))
    except DatabaseUnavailableError:
        if not args.watch:
            raise
        # A watch goes on: its rounds say the database is down until it is back.
    try:
        if args.watch:
            return await _watch(as_json=args.json)
        try:
            parts, services = await check_everything(context)
        except DatabaseDown as down:
            _show(down.parts, as_json=args.json)
            return exit_code(down.parts)
        history = HealthHistory(services.db)
        pasts = await asyncio.to_thread(history.pasts, [p.part for p in parts])
        parts = with_past(parts, pasts)
        _show(parts, as_json=args.json)
        return exit_code(parts)
    finally:
        await close_shared_hubs()
        await close_shared_clients()


async def _watch(*, as_json: bool) -> int:
    """Rounds until interrupted, each recorded and its changes alerted, as the servers do."""
    watch = HealthWatch(interval=watch_interval() or 60.0)
    while True:
        parts = await watch.round()
        _show(parts, as_json=as_json)
        if not as_json:
            print(flush=True)
        await asyncio.sleep(watch.interval)
