"""`smart-inbox serve` and `schedule-triage`: the agent on the LangGraph server."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memory.paths import data_dir
from ui.cli.errors import UserError
from ui.cli.server_checks import LOOPBACK, open_app_database
from ui.cli.settings import CONFIGURATION_ERRORS, load_context, one_line_errors
from ui.langgraph_server import (
    SERVER_DIR,
    STUDIO_URL,
    check_installed,
    check_port,
    dev_command,
    read_env_file,
    schedule_from_every,
    schedule_triage,
    scheduled_triages,
    server_environment,
    server_url,
    unschedule_triage,
    write_server_config,
)


def serve(args: argparse.Namespace) -> int:
    """Check everything, then become `langgraph dev` in the data directory's server folder."""
    if args.jobs < 1:
        raise UserError("--jobs must be at least 1")
    if args.host not in LOOPBACK and not args.allow_remote:
        raise UserError(
            f"refusing to listen on {args.host}: the server's API has no authentication, so "
            "anyone who reaches it could read this mailbox and approve actions; "
            "pass --allow-remote if that network is yours alone"
        )
    try:
        check_installed()
        cwd = Path.cwd()
        env_file = Path(args.env_file) if args.env_file else cwd / ".env"
        values = read_env_file(env_file) if args.env_file or env_file.is_file() else {}
        overrides = {k: v for k, v in (("INBOX", args.inbox), ("MODEL", args.model)) if v}
        env = server_environment({**os.environ, **overrides}, env_file=values, cwd=cwd)
        os.environ.update(env)
        load_context(argparse.Namespace(inbox=None, model=None))  # a bad setting fails here
        open_app_database(data_dir())  # the schema is current before the first run
        check_port(args.host, args.port)
        server_dir = data_dir() / SERVER_DIR
        config = write_server_config(server_dir)
    except CONFIGURATION_ERRORS as err:
        raise UserError(str(err)) from err
    url = server_url(args.host, args.port)
    print(f"Smart Inbox on the LangGraph server: {url}", file=sys.stderr)
    print(
        "Studio (a web page; it needs internet, this server does not): "
        + STUDIO_URL.format(url=url),
        file=sys.stderr,
    )
    print(f"Server state: {server_dir}", file=sys.stderr)
    sys.stderr.flush()
    os.chdir(server_dir)
    command = dev_command(config, args.host, args.port, args.jobs)
    os.execvpe(command[0], command, env)
    return 0  # not reached: the process is now the server


@one_line_errors
async def schedule(args: argparse.Namespace) -> int:
    """`schedule-triage`: add, list or delete the server's scheduled triage runs."""
    return await manage_schedule(
        args,
        "triage",
        Schedules(scheduled_triages, schedule_triage, unschedule_triage),
        when=lambda: args.cron or schedule_from_every(args.every),
        after=(
            "Each run has its own thread; approval requests wait on the interrupted ones "
            "(metadata smart_inbox=scheduled-triage)."
        ),
    )


@dataclass(frozen=True)
class Schedules:
    """How one kind of scheduled run is listed, added and deleted on the server."""

    listed: Callable[[str], Awaitable[Sequence[Any]]]
    add: Callable[[str, str, str], Awaitable[Any]]
    remove: Callable[[str, str], Awaitable[None]]


async def manage_schedule(
    args: argparse.Namespace,
    kind: str,
    schedules: Schedules,
    *,
    when: Callable[[], str],
    after: str,
) -> int:
    """`schedule-<kind>`: delete (`--delete`), list (`--list`) or add one schedule, then say so."""
    url = args.server.rstrip("/")
    if args.delete:
        await schedules.remove(url, args.delete)
        print(json.dumps({"deleted": args.delete}) if args.json else f"deleted {args.delete}")
        return 0
    if args.list:
        rows = await schedules.listed(url)
        if args.json:
            print(json.dumps([row.to_json() for row in rows], indent=2))
        elif not rows:
            print(f"no scheduled {kind} on {url}")
        for row in [] if args.json else rows:
            print(f"{row.cron_id}  {row.schedule} ({row.timezone})  next run {row.next_run}")
        return 0
    row = await schedules.add(url, when(), args.timezone)
    if args.json:
        print(json.dumps(row.to_json(), indent=2))
        return 0
    print(
        f"scheduled {kind} {row.cron_id}: '{row.schedule}' ({row.timezone}), "
        f"next run {row.next_run}"
    )
    print(after)
    return 0
