"""`smart-inbox`: the command line — triage the inbox, ask about it, read a thread's history.

User errors (a bad flag, a missing mailbox, a bad model spec) print one line and exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import cast

from memory.redaction import install_log_scrubbing
from ui.cli.errors import EXIT_USER_ERROR, UserError
from ui.cli.logs import OneLineFormatter
from ui.cli.parser import build_parser

__all__ = ["EXIT_USER_ERROR", "OneLineFormatter", "UserError", "build_parser", "main"]

COMMANDS = {
    "triage": "ui.cli.triage:triage",
    "triage correct": "ui.cli.rules:correct",
    "followups": "ui.cli.followups:followups",
    "rules": "ui.cli.rules:rules",
    "ask": "ui.cli.ask:ask",
    "resume": "ui.cli.ask:resume",
    "history": "ui.cli.ask:history",
    "policy": "ui.cli.policy:policy",
    "audit": "ui.cli.policy:audit",
    "mcp": "ui.cli.mcp:mcp",
    "mcp-server": "ui.cli.mcp:serve_mcp",
    "integrations": "ui.cli.integrations:integrations",
    "serve": "ui.cli.serve:serve",
    "schedule-triage": "ui.cli.serve:schedule",
    "digest": "ui.cli.digest:digest",
    "schedule-digest": "ui.cli.digest:schedule",
    "ui": "ui.cli.chat:chat",
    "users": "ui.cli.users:users",
    "credentials": "ui.cli.credentials:credentials",
    "accounts": "ui.cli.accounts:accounts",
}
"""Each command's function, as `module:name`: a command imports only what it runs.

A subcommand with its own module is `command subcommand`."""

Command = Callable[[argparse.Namespace], int | Awaitable[int]]


def command_name(args: argparse.Namespace) -> str:
    """The `COMMANDS` key of what was asked: the subcommand's own, when it has one."""
    sub = getattr(args, f"{args.command}_command", None)
    return f"{args.command} {sub}" if f"{args.command} {sub}" in COMMANDS else args.command


def _command(name: str) -> Command:
    # Imported by name when the command runs: the graph alone takes about two seconds to
    # import, and `--help` or `users list` need none of it.
    module, _, function = COMMANDS[name].partition(":")
    return cast(Command, getattr(importlib.import_module(module), function))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `smart-inbox` command."""
    # Before langgraph is imported: checkpoints load only allow-listed types.
    os.environ.setdefault("LANGGRAPH_STRICT_MSGPACK", "true")
    args = build_parser().parse_args(argv)
    levels = {0: logging.WARNING, 1: logging.INFO}
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter if args.verbose else OneLineFormatter
    handler.setFormatter(formatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=levels.get(args.verbose, logging.DEBUG), handlers=[handler])
    install_log_scrubbing()
    try:
        command = _command(command_name(args))
        if inspect.iscoroutinefunction(command):
            return cast(int, asyncio.run(command(args)))
        return cast(int, command(args))
    except UserError as err:
        print(f"smart-inbox: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as other commands do.
        sys.stderr.close()
        return 0
