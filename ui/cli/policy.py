"""`smart-inbox policy` and `audit`: the approval levels, and every call decided under them."""

from __future__ import annotations

import argparse
import asyncio
import json

from graph.context import Context
from graph.policy import (
    LEVEL_NAMES,
    load_policy,
    policy_path,
    save_policy,
    with_level,
    with_trusted,
)
from graph.services import build_services
from memory.audit import AuditLog
from memory.db import open_database
from memory.paths import app_database_url, data_dir
from ui.cli.errors import UserError
from ui.cli.settings import one_line_errors


@one_line_errors
async def policy(args: argparse.Namespace) -> int:
    """Show each tool's level, after setting one or trusting an address when asked to."""
    path = policy_path(data_dir())
    current = load_policy(path)
    # Every native tool, configured here or not, so a level can be set before the set-up.
    catalogue = (await asyncio.to_thread(build_services, Context())).tools
    native = [name for kit in catalogue.toolkits for name in kit.names]
    command = args.policy_command or "show"
    if command == "set":
        current = with_level(current, args.tool, args.level, read_only_tools=catalogue.read_only)
    elif command in ("trust", "untrust"):
        current = with_trusted(current, args.value, trust=command == "trust")
    if command != "show":
        await asyncio.to_thread(save_policy, path, current)
    names = list(dict.fromkeys([*native, *current.tools]))
    rows = [
        {
            "tool": name,
            "level": (level := current.level_for(name, default=catalogue.default_level(name))),
            "meaning": LEVEL_NAMES[level],
            "set": name in current.tools,
        }
        for name in names
    ]
    trusted = current.to_json()["trusted"]
    if args.json:
        print(json.dumps({"file": str(path), "tools": rows, **trusted}, indent=2))
        return 0
    print(f"policy file: {path}{'' if path.exists() else ' (not written yet: defaults)'}\n")
    for row in rows:
        origin = "set" if row["set"] else "default"
        print(f"{row['tool']:<24} {row['level']} {row['meaning']:<11} ({origin})")
    print("\nunknown tools: 1 confirm")
    print(f"trusted addresses: {', '.join(trusted['addresses']) or '(none)'}")
    print(f"trusted domains: {', '.join(trusted['domains']) or '(none)'}")
    return 0


@one_line_errors
async def audit(args: argparse.Namespace) -> int:
    """Print the audit log: each call, its decision, flags and outcome."""
    if args.limit is not None and args.limit < 1:
        raise UserError("--limit must be at least 1")
    db = await asyncio.to_thread(open_database, app_database_url(data_dir()))
    entries = await asyncio.to_thread(AuditLog(db).entries, thread_id=args.thread, limit=args.limit)
    if args.json:
        print(json.dumps(entries, ensure_ascii=False, indent=2))
        return 0
    if not entries:
        print("no tool calls recorded" + (f" for thread {args.thread!r}" if args.thread else ""))
        return 0
    for entry in entries:
        flags = (
            f" flags: {', '.join(f['arg'] + '=' + f['value'] for f in entry['flags'])}"
            if entry["flags"]
            else ""
        )
        by = f" by {entry['decided_by']}" if entry["decided_by"] else ""
        print(
            f"{entry['at']}  {entry['thread_id']}  {entry['tool']} level {entry['level']}: "
            f"{entry['decision']}{by} -> {entry['outcome']}{flags}"
        )
        print(f"    args: {json.dumps(entry['args'], ensure_ascii=False)[:300]}")
        if entry["detail"]:
            print(f"    {entry['detail'][:300]}")
    return 0
