"""`smart-inbox digest` and `schedule-digest`: what needs the user today, now or every morning.

Both say what `graph.digest.build_digest` builds; `--send` and the schedule deliver it to the
channel the user chose in `SMART_INBOX_DIGEST_TO` (`graph.digest_delivery`), once a day.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from datetime import datetime

from graph.digest import build_digest, calendar_of
from graph.digest_delivery import (
    DIGEST_TO,
    DigestChannel,
    DigestChannelError,
    deliver_digest,
    digest_channel,
)
from graph.services import Services, build_services
from tools.mail.reply_tracking import AwaitingDaysError
from ui.cli.errors import UserError
from ui.cli.serve import Schedules, manage_schedule
from ui.cli.settings import load_context, one_line_errors
from ui.cli.turns import report_fetch_failures, run_turn, turn_result
from ui.langgraph_server import (
    schedule_digest,
    schedule_from_at,
    scheduled_digests,
    unschedule_digest,
)


def _chosen_channel() -> DigestChannel:
    try:
        channel = digest_channel()
    except DigestChannelError as err:
        raise UserError(str(err)) from err
    if channel is None:
        raise UserError(
            f"--send delivers to the channel you chose: set {DIGEST_TO} to mail, slack, "
            "slack:#channel, teams or webhook:NAME"
        )
    return channel


@one_line_errors
async def digest(args: argparse.Namespace) -> int:
    """Fetch and triage new mail (unless `--no-triage`), then print the digest; `--send` it."""
    channel = _chosen_channel() if args.send else None
    context = await asyncio.to_thread(load_context, args)
    if not args.no_triage:
        thread_id = f"triage-{uuid.uuid4().hex[:12]}"
        snapshot = await run_turn({"mode": "triage", "messages": []}, thread_id, context)
        report_fetch_failures(snapshot)
        pending = turn_result(snapshot, thread_id)["pending"]
        if pending:
            print(
                f"smart-inbox: {len(pending)} suggested action(s) of this triage wait for your "
                f"approval: smart-inbox resume --thread {thread_id}",
                file=sys.stderr,
            )
    services: Services = await asyncio.to_thread(build_services, context)
    now = datetime.now().astimezone()
    calendar = calendar_of(services.tools)
    try:
        made = await asyncio.to_thread(build_digest, services.mailbox, calendar, now)
    except AwaitingDaysError as err:
        raise UserError(str(err)) from err
    delivery = await deliver_digest(made, channel, services.tools, services.db) if channel else None
    if args.json:
        data = made.to_json()
        if delivery is not None:
            data["delivery"] = {"status": delivery.status, "text": delivery.text}
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(made.text())
        if delivery is not None:
            print(f"\n{delivery.status}: {delivery.text}")
    return 1 if delivery is not None and delivery.status == "failed" else 0


@one_line_errors
async def schedule(args: argparse.Namespace) -> int:
    """`schedule-digest`: add, list or delete the server's daily digest."""
    return await manage_schedule(
        args,
        "digest",
        Schedules(scheduled_digests, schedule_digest, unschedule_digest),
        when=lambda: args.cron or schedule_from_at(args.at),
        after=(
            f"It goes where the server's {DIGEST_TO} says, once a day, from the mail the server "
            "has fetched (schedule-triage keeps it fresh)."
        ),
    )
