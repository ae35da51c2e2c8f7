"""`smart-inbox followups`: who waits on the user's reply, and whose reply the user waits on.

New mail is fetched and triaged first (a triage run, as `smart-inbox triage` does), so the
needs-reply list judges every message; then both lists are read from one threading.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from datetime import UTC, datetime

from graph.services import build_services
from tools.mail.followups import FollowupRow, Followups, read_followups
from tools.mail.reply_tracking import AwaitingDaysError
from tools.toolkit import ToolFailure
from ui.cli.errors import UserError
from ui.cli.settings import load_context, one_line_errors
from ui.cli.turns import report_fetch_failures, run_turn, turn_result

COLUMNS = [("age", 4), ("who", 40), ("subject", 40), ("message-id", 0)]
"""The columns of each list and their widths (the last one is never cut)."""


@one_line_errors
async def followups(args: argparse.Namespace) -> int:
    """Fetch and triage new mail, then print both reply lists."""
    context = await asyncio.to_thread(load_context, args)
    thread_id = f"triage-{uuid.uuid4().hex[:12]}"
    snapshot = await run_turn({"mode": "triage", "messages": []}, thread_id, context)
    report_fetch_failures(snapshot)
    pending = turn_result(snapshot, thread_id)["pending"]
    if pending:
        print(
            f"smart-inbox: the triage suggested {len(pending)} action(s): "
            f"smart-inbox resume --thread {thread_id}",
            file=sys.stderr,
        )
    services = await asyncio.to_thread(build_services, context)
    try:
        lists = await asyncio.to_thread(read_followups, services.mailbox, datetime.now(UTC))
    except AwaitingDaysError as err:
        raise UserError(str(err)) from err
    except ToolFailure as err:
        print(f"smart-inbox: {err}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(lists.as_json(), ensure_ascii=False, indent=2))
        return 0
    print("\n".join(followup_lines(lists)))
    return 0


def followup_lines(lists: Followups) -> list[str]:
    """Both lists as text: a heading each, then one row per conversation."""
    awaited = f"asked {lists.awaiting_days} or more day(s) ago, no answer since"
    lines = [f"Needs your reply ({len(lists.needs_reply)}):"]
    lines += _table(lists.needs_reply, "nobody is waiting on a reply from you")
    lines += ["", f"Awaiting their reply ({len(lists.awaiting_reply)}, {awaited}):"]
    lines += _table(lists.awaiting_reply, "nobody owes you a reply")
    return lines


def _table(rows: list[FollowupRow], empty: str) -> list[str]:
    if not rows:
        return [f"  ({empty})"]
    header = "  " + "  ".join(name.upper().ljust(width) for name, width in COLUMNS).rstrip()
    lines = [header]
    for row in rows:
        who = ", ".join(row.waiting_on) if row.waiting_on else row.sender
        cells = [f"{row.age_days}d", who, row.subject or "(no subject)", row.id]
        text = "  ".join(_cell(c, w) for c, (_, w) in zip(cells, COLUMNS, strict=True))
        lines.append("  " + text.rstrip())
    return lines


def _cell(value: str, width: int) -> str:
    if not width:
        return value
    return (value if len(value) <= width else value[: width - 1] + "…").ljust(width)
