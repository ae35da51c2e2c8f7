"""`smart-inbox integrations`: what each toolkit can do here, and why not when it cannot."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from graph.context import Context
from graph.policy import ApprovalPolicy
from graph.services import build_services
from memory.paths import data_dir
from tools.calendar.scheduling import CalendarEnv
from tools.calendar.toolkit import CREATE_TOOL
from tools.integrations.webhooks import WebhooksEnv
from tools.mail.mailbox import MailboxEnv
from tools.mail.tools import SENDING_TOOLS
from tools.registry import ToolRegistry
from tools.toolkit import Toolkit
from ui.cli.settings import check_integrations, one_line_errors


@one_line_errors
async def integrations(args: argparse.Namespace) -> int:
    """What each toolkit can do here; "configured" only when every action it offers can run.

    A tool that exists but cannot run (sending without `SMTP_URL`, an event without your
    address) is listed with why, and its toolkit is not called configured.
    """
    context = Context()
    check_integrations(data_dir(context.home))
    services = await asyncio.to_thread(build_services, context)
    kits = [_kit_entry(kit, services.tools, services.policy) for kit in services.tools.toolkits]
    if args.json:
        print(json.dumps({"integrations": kits}, ensure_ascii=False, indent=2))
        return 0
    _print_kits(kits)
    return 0


def blocked_actions(kit: Toolkit, why: dict[str, str]) -> dict[str, list[str]]:
    """Why → the actions of `kit` that cannot run for it."""
    blocked: dict[str, list[str]] = {}
    for name, text in why.items():
        if name not in kit.read_only:
            blocked.setdefault(text, []).append(name)
    mail = kit.env.mail if isinstance(kit.env, CalendarEnv) else kit.env
    if isinstance(mail, MailboxEnv) and mail.smtp is not None and mail.smtp.password_problem:
        # Offered, and its card says so, but it fails until the password is there.
        mailing = [n for n in kit.names if n in (*SENDING_TOOLS, CREATE_TOOL) and n not in why]
        if mailing:
            text = f"mail cannot be sent through {mail.smtp.server}: {mail.smtp.password_problem}"
            blocked.setdefault(text, []).extend(mailing)
    return blocked


def _kit_entry(kit: Toolkit, tools: ToolRegistry, policy: ApprovalPolicy) -> dict[str, Any]:
    why = {name: tools.unavailable[name] for name in kit.names if name in tools.unavailable}
    blocked = blocked_actions(kit, why)
    entry: dict[str, Any] = {
        "name": kit.name,
        "configured": not kit.missing and not blocked,
        "why_not": kit.missing
        or "; ".join(f"{', '.join(names)}: {text}" for text, names in blocked.items()),
        "tools": [
            {
                "name": name,
                "level": policy.level_for(name, default=tools.default_level(name)),
                "read_only": tools.is_read_only(name),
                "offered_to_the_model": name not in kit.hidden,
                "available": name not in why,
                "why_not": why.get(name, ""),
            }
            for name in kit.names
        ],
    }
    if isinstance(kit.env, MailboxEnv):
        entry["sends_through"] = ""
        if blocked:
            pass  # nothing is sent: `why_not` says what is missing
        elif kit.env.smtp is not None:
            entry["sends_through"] = f"the SMTP server {kit.env.smtp.server}"
        elif kit.env.outbox is not None:
            entry["sends_through"] = (
                f"the local demo outbox {kit.env.outbox} (set SMTP_URL to send for real)"
            )
    if isinstance(kit.env, WebhooksEnv):
        entry["endpoints"] = [
            {"name": e.name, "host": e.host, "events": sorted(e.events)} for e in kit.env.endpoints
        ]
    return entry


def _print_kits(kits: list[dict[str, Any]]) -> None:
    for kit_entry in kits:
        state = "configured" if kit_entry["configured"] else kit_entry["why_not"]
        if kit_entry["configured"] and kit_entry.get("sends_through"):
            state += f", sending through {kit_entry['sends_through']}"
        print(f"{kit_entry['name']}: {state}")
        for tool in kit_entry["tools"]:
            note = "" if tool["offered_to_the_model"] else "  (proposed by code only)"
            if not tool["available"]:
                said = tool["why_not"] in kit_entry["why_not"]
                note += "  (cannot run here)" if said else f"  (cannot run here: {tool['why_not']})"
            print(f"  {tool['name']:<24} level {tool['level']}{note}")
        for endpoint in kit_entry.get("endpoints", []):
            events = ", ".join(endpoint["events"])
            print(f"  endpoint {endpoint['name']} ({endpoint['host']}): {events}")
