"""`smart-inbox`: the command line — triage the inbox, ask about it, read a thread's history.

User errors (a bad flag, a missing mailbox, a bad model spec) print one line and exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import uuid
from collections.abc import Sequence
from typing import Any, NoReturn

EXIT_USER_ERROR = 2


class UserError(Exception):
    """Something the user can fix; printed as one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USER_ERROR, f"smart-inbox: {message} (see smart-inbox --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = _Parser(prog="smart-inbox", description=__doc__)
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log what happens (-vv: debug)"
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--inbox",
            help="mail source: maildir:PATH, imap://user@host[:port]/FOLDER or mcp:NAME "
            "(default: INBOX or the demo inbox)",
        )
        sub.add_argument(
            "--model", help="rules | groq:<model> | replay:<file.jsonl> (default: MODEL)"
        )
        sub.add_argument("--json", action="store_true", help="print JSON")

    triage = commands.add_parser("triage", help="fetch new mail and classify every message")
    common(triage)
    triage.add_argument("--limit", type=int, help="show at most N rows, most important first")

    ask = commands.add_parser("ask", help="one chat turn on a persistent thread")
    ask.add_argument("text", help="what to ask")
    ask.add_argument("--thread", help="thread id (a new one is made and printed when omitted)")
    common(ask)

    resume = commands.add_parser(
        "resume",
        help="answer the pending approval requests of a thread (or finish an interrupted run)",
    )
    resume.add_argument("--thread", required=True, help="thread id")
    resume.add_argument("--call", help="decide only this request (its id); the others stay pending")
    decision = resume.add_mutually_exclusive_group()
    decision.add_argument("--accept", action="store_true", help="run the call as proposed")
    decision.add_argument("--reject", action="store_true", help="do not run it")
    decision.add_argument("--edit", metavar="JSON", help="run it with these arguments instead")
    decision.add_argument("--respond", metavar="TEXT", help="do not run it; tell the engine this")
    common(resume)

    policy = commands.add_parser("policy", help="show or change the approval policy")
    policy_commands = policy.add_subparsers(dest="policy_command", parser_class=_Parser)
    policy_commands.add_parser("show", help="each tool's approval level (the default)")
    set_level = policy_commands.add_parser("set", help="set one tool's level")
    set_level.add_argument("tool", help="tool name")
    set_level.add_argument(
        "level", type=int, choices=[0, 1, 2], help="0 read-only, 1 confirm, 2 autonomous"
    )
    for verb, text in (("trust", "trust"), ("untrust", "stop trusting")):
        trust = policy_commands.add_parser(verb, help=f"{text} an address or a domain")
        trust.add_argument("value", help="name@example.com, or example.com for a whole domain")
    policy.add_argument("--json", action="store_true", help="print JSON")

    audit = commands.add_parser("audit", help="every tool call: decision, flags and outcome")
    audit.add_argument("--thread", help="only this thread")
    audit.add_argument("--limit", type=int, help="only the last N calls")
    audit.add_argument("--json", action="store_true", help="print JSON")

    mcp = commands.add_parser("mcp", help="the MCP servers of mcp.json: list them, trust changes")
    mcp_commands = mcp.add_subparsers(dest="mcp_command", required=True, parser_class=_Parser)
    mcp_list = mcp_commands.add_parser("list", help="each server: state, tools, approval levels")
    mcp_list.add_argument("--json", action="store_true", help="print JSON")
    mcp_trust = mcp_commands.add_parser(
        "trust", help="accept a server's changed tool definitions (restores auto-approval)"
    )
    mcp_trust.add_argument("server", help="server name in mcp.json")
    mcp_trust.add_argument("--json", action="store_true", help="print JSON")

    integrations = commands.add_parser(
        "integrations", help="Jira, Slack, Teams, HubSpot, webhooks: set up or not, tools, levels"
    )
    integrations.add_argument("--json", action="store_true", help="print JSON")

    server = commands.add_parser(
        "mcp-server", help="serve this mailbox and calendar to MCP clients"
    )
    server.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    server.add_argument("--host", default="127.0.0.1", help="HTTP address (default 127.0.0.1)")
    server.add_argument("--port", type=int, default=8765, help="HTTP port (default 8765)")
    server.add_argument(
        "--inbox",
        help="mail source: maildir:PATH, imap://user@host[:port]/FOLDER or mcp:NAME "
        "(default: INBOX or the demo inbox)",
    )

    serve = commands.add_parser(
        "serve", help="the agent on the LangGraph server (API and Studio), offline"
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=2024, help="port (default 2024); must be free")
    serve.add_argument(
        "--jobs", type=int, default=4, help="runs the server works on at once (default 4)"
    )
    serve.add_argument(
        "--env-file", help="variables to read first (default: .env here, if there is one)"
    )
    serve.add_argument(
        "--allow-remote",
        action="store_true",
        help="listen on a non-loopback address although the API has no authentication",
    )
    serve.add_argument(
        "--inbox", help="mail source, e.g. maildir:PATH (default: INBOX or the demo inbox)"
    )
    serve.add_argument(
        "--model", help="rules | groq:<model> | replay:<file.jsonl> (default: MODEL)"
    )

    schedule = commands.add_parser(
        "schedule-triage", help="run the triage on a schedule on the LangGraph server"
    )
    when = schedule.add_mutually_exclusive_group(required=True)
    when.add_argument("--every", metavar="N(m|h)", help="every N minutes or hours, e.g. 15m or 2h")
    when.add_argument("--cron", metavar="EXPR", help="a cron schedule, e.g. '0 8-18 * * 1-5'")
    when.add_argument("--list", action="store_true", help="list the scheduled triages")
    when.add_argument("--delete", metavar="ID", help="delete a scheduled triage")
    schedule.add_argument(
        "--server",
        default=os.environ.get("SMART_INBOX_SERVER") or "http://127.0.0.1:2024",
        help="the LangGraph server's URL (default: SMART_INBOX_SERVER or http://127.0.0.1:2024)",
    )
    schedule.add_argument("--timezone", help="IANA time zone of the schedule (default UTC)")
    schedule.add_argument("--json", action="store_true", help="print JSON")

    ui = commands.add_parser("ui", help="the chat in your browser (Chainlit)")
    ui.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    ui.add_argument("--port", type=int, default=8000, help="port (default 8000)")

    users = commands.add_parser("users", help="who may log in to the chat")
    users_commands = users.add_subparsers(dest="users_command", required=True, parser_class=_Parser)
    add_user = users_commands.add_parser("add", help="add a user, or set a user's password")
    add_user.add_argument("name", help="user name")
    add_user.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    users_commands.add_parser("list", help="the user names")

    credentials = commands.add_parser(
        "credentials", help="the integrations' tokens and passwords, encrypted in the app database"
    )
    credential_commands = credentials.add_subparsers(
        dest="credentials_command", required=True, parser_class=_Parser
    )
    set_credential = credential_commands.add_parser(
        "set", help="store a credential; its value is asked without echo, never an argument"
    )
    set_credential.add_argument("name", help="SERVICE.FIELD[:ACCOUNT], e.g. jira.api_token")
    set_credential.add_argument(
        "--stdin", action="store_true", help="read the value from one line of standard input"
    )
    list_credentials = credential_commands.add_parser(
        "list", help="the stored names, when they were set, and under which key (never values)"
    )
    list_credentials.add_argument("--json", action="store_true", help="print JSON")
    delete_credential = credential_commands.add_parser("delete", help="remove a credential")
    delete_credential.add_argument("name", help="credential name")
    rotate = credential_commands.add_parser(
        "rotate-key", help="re-encrypt every credential under a new key"
    )
    rotate.add_argument("--json", action="store_true", help="print JSON")
    credential_commands.add_parser("new-key", help="print a fresh key for SMART_INBOX_KEY")

    history = commands.add_parser("history", help="print a thread's conversation")
    history.add_argument("--thread", required=True, help="thread id")
    history.add_argument("--json", action="store_true", help="print JSON")
    return parser


class OneLineFormatter(logging.Formatter):
    """Log lines without tracebacks: a handled error is one line; `-v` shows the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        """The record's line, with its exception's type and message but not its traceback."""
        if not (record.exc_info or record.exc_text or record.stack_info):
            return super().format(record)
        error = record.exc_info[1] if record.exc_info else None
        brief = logging.makeLogRecord(
            {**record.__dict__, "exc_info": None, "exc_text": None, "stack_info": None}
        )
        line = super().format(brief)
        if error is not None and str(error) not in line:
            line += f" ({type(error).__name__}: {' '.join(str(error).split())[:200]})"
        return line


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
    from memory.redaction import install_log_scrubbing

    install_log_scrubbing()
    try:
        if args.command == "mcp-server":
            return _mcp_server(args)
        if args.command == "ui":
            return _ui(args)
        if args.command == "serve":
            return _serve(args)
        if args.command == "users":
            return _users(args)
        if args.command == "credentials":
            return _credentials(args)
        return asyncio.run(_dispatch(args))
    except UserError as err:
        print(f"smart-inbox: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as other commands do.
        sys.stderr.close()
        return 0


def _configuration_errors() -> tuple[type[Exception], ...]:
    """What a bad setting raises: each is one line for the user."""
    from graph.approval import ResumeError
    from graph.engines import EngineSpecError
    from graph.engines.replay import ReplayScriptError
    from graph.policy import PolicyError
    from memory.database_url import DatabaseConfigError
    from memory.keys import KeySourceError
    from memory.state_encryption import StateEncryptionError
    from memory.vault import VaultError
    from tools.http import HttpSettingsError
    from tools.integrations.webhook_endpoints import WebhookConfigError
    from tools.mail.smtp_settings import SmtpConfigError
    from tools.mail.source_protocol import MailSourceError
    from tools.mcp.config import McpConfigError
    from ui.langgraph_server import ServerError

    return (
        EngineSpecError,
        MailSourceError,
        ReplayScriptError,
        PolicyError,
        SmtpConfigError,
        ResumeError,
        McpConfigError,
        DatabaseConfigError,
        StateEncryptionError,
        HttpSettingsError,
        WebhookConfigError,
        VaultError,
        KeySourceError,
        ServerError,
    )


async def _dispatch(args: argparse.Namespace) -> int:
    from graph.engines.recovery import ModelCallError
    from memory.checkpointer import CheckpointStoreUnavailable
    from memory.db import DatabaseUnavailableError
    from memory.migrations import SchemaVersionError

    handlers = {
        "triage": _triage,
        "ask": _ask,
        "resume": _resume,
        "history": _history,
        "policy": _policy,
        "audit": _audit,
        "mcp": _mcp,
        "integrations": _integrations,
        "schedule-triage": _schedule_triage,
    }
    try:
        return await handlers[args.command](args)
    except _configuration_errors() as err:
        raise UserError(str(err)) from err
    except (
        ModelCallError,
        DatabaseUnavailableError,
        CheckpointStoreUnavailable,
        SchemaVersionError,
    ) as err:
        # Not the user's fault, but still one clear line rather than a traceback.
        print(f"smart-inbox: {err}", file=sys.stderr)
        return 1


def _context(args: argparse.Namespace) -> Any:
    from graph.context import Context

    overrides = {k: v for k, v in (("inbox", args.inbox), ("model", args.model)) if v}
    context = Context(**overrides)
    # Build the engine and open the source now, so a bad spec fails before anything runs.
    from graph.engines import load_engine
    from graph.policy import load_policy, policy_path
    from memory.paths import data_dir
    from tools.mail.sync import canonical_spec

    home = data_dir(context.home)
    load_engine(context.model, str(home))
    canonical_spec(context.inbox)
    from memory.database_url import database_config
    from memory.state_encryption import encryption_wanted
    from tools.mcp.config import load_mcp_config, mcp_config_path

    database_config(home)
    encryption_wanted()
    load_policy(policy_path(home))
    servers = load_mcp_config(mcp_config_path(home))
    if context.inbox.strip().lower().startswith("mcp:"):
        from tools.mail.mcp_source import parse_mcp_spec

        name = parse_mcp_spec(context.inbox).server
        if name not in servers:
            raise UserError(
                f"inbox {context.inbox}: no MCP server {name!r} in {mcp_config_path(home)}"
            )
    _check_integrations(home)
    return context


def _check_integrations(home: Any) -> None:
    """A broken SMTP setting, webhooks file or `INTEGRATION_*` value stops the command with one line.

    An integration that is simply not set up is fine: its tools are absent. A login without a
    password only warns: nothing but sending needs it, and sending says so again.
    """
    import os

    from memory.db import open_database
    from memory.paths import app_database_url
    from memory.secrets import secret_lookup
    from tools.http import HttpSettings
    from tools.integrations.webhook_endpoints import load_endpoints, webhooks_path
    from tools.mail.smtp_settings import smtp_settings_from_env

    HttpSettings.from_env()
    secrets = secret_lookup(open_database(app_database_url(home)), home)
    smtp = smtp_settings_from_env(secrets=secrets)
    if smtp is not None and smtp.password_problem:
        logging.getLogger(__name__).warning(
            "mail cannot be sent through %s: %s", smtp.server, smtp.password_problem
        )
    load_endpoints(webhooks_path(home), os.environ, secrets)


async def _run(payload: Any, thread_id: str, context: Any) -> Any:
    from langchain_core.runnables import RunnableConfig

    from graph.builder import build_graph
    from memory.checkpointer import open_checkpointer
    from memory.database_url import database_config
    from memory.paths import data_dir
    from tools.http import close_shared_clients
    from tools.mcp.shared_hub import close_shared_hubs

    home = data_dir(context.home)
    try:
        async with open_checkpointer(database_config(home)) as saver:
            graph = build_graph(checkpointer=saver)
            config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
            # Each step is saved before the next begins: a crash while `act` sends must find
            # the decisions that led to it recorded (see graph.routing.after_act).
            await graph.ainvoke(payload, config=config, context=context, durability="sync")
            return await graph.aget_state(config)
    finally:
        # MCP sessions are closed by the tasks that opened them, before the loop ends.
        await close_shared_hubs()
        await close_shared_clients()


def turn_result(snapshot: Any, thread_id: str) -> dict[str, Any]:
    """The `--json` shape of one turn: answer, citations, pending requests, executed calls."""
    values = snapshot.values
    pending = []
    for item in snapshot.interrupts:
        for request in item.value if isinstance(item.value, list) else [item.value]:
            pending.append(
                {
                    "id": request.get("call_id", ""),
                    "action": request["action_request"]["action"],
                    "args": request["action_request"]["args"],
                    "description": request["description"],
                    "flags": request.get("flags", []),
                }
            )
    answer = ""
    messages = values.get("messages") or []
    if not pending and messages and messages[-1].type == "ai":
        answer = str(messages[-1].text)
    return {
        "thread_id": thread_id,
        "answer": answer,
        "citations": values.get("citations", []) if answer else [],
        "pending": pending,
        "executed": [
            {"action": e["action"], "args": e["args"], "status": e["status"], "error": e["error"]}
            for e in values.get("executed") or []
        ],
    }


async def _ask(args: argparse.Namespace) -> int:
    from langchain_core.messages import HumanMessage

    if not args.text.strip():
        raise UserError("nothing to ask: the question is empty")
    context = await asyncio.to_thread(_context, args)
    thread_id = args.thread or f"thread-{uuid.uuid4().hex[:12]}"
    if not args.thread and not args.json:
        print(f"thread: {thread_id}")
    if args.thread and not await _thread_exists(args.thread, context):
        # A mistyped id would otherwise lose the conversation the user meant without a word.
        print(
            f"smart-inbox: no thread {args.thread!r} found: started a new thread {args.thread}",
            file=sys.stderr,
        )
    snapshot = await _run(
        {"messages": [HumanMessage(args.text)], "mode": "chat"}, thread_id, context
    )
    return _print_turn(turn_result(snapshot, thread_id), as_json=args.json)


async def _thread_exists(thread_id: str, context: Any) -> bool:
    """Whether the conversation store holds a checkpoint of `thread_id`."""
    from memory.checkpointer import open_checkpointer
    from memory.database_url import database_config
    from memory.paths import data_dir

    where = await asyncio.to_thread(database_config, data_dir(context.home))
    async with open_checkpointer(where) as saver:
        found = await saver.aget_tuple({"configurable": {"thread_id": thread_id}})
    return found is not None


def _resume_value(args: argparse.Namespace) -> dict[str, Any] | None:
    if args.accept:
        return {"type": "accept", "args": None}
    if args.reject:
        return {"type": "ignore", "args": None}
    if args.respond is not None:
        return {"type": "response", "args": args.respond}
    if args.edit is None:
        return None
    try:
        edited = json.loads(args.edit)
    except json.JSONDecodeError as err:
        raise UserError(f"--edit needs a JSON object of arguments: {err.msg}") from err
    if not isinstance(edited, dict):
        raise UserError("--edit needs a JSON object of arguments")
    return {"type": "edit", "args": edited}


async def _resume(args: argparse.Namespace) -> int:
    from langgraph.types import Command

    value = _resume_value(args)
    context = await asyncio.to_thread(_context, args)
    from memory.checkpointer import open_checkpointer
    from memory.database_url import database_config
    from memory.paths import data_dir

    async with open_checkpointer(database_config(data_dir(context.home))) as saver:
        from graph.builder import build_graph

        snapshot = await build_graph(checkpointer=saver).aget_state(
            {"configurable": {"thread_id": args.thread}}
        )
    pending = turn_result(snapshot, args.thread)["pending"]
    if not pending:
        if snapshot.next and value is None and not args.call:
            # The last run stopped part-way (the process died): carry it on from its checkpoint.
            snapshot = await _run(None, args.thread, context)
            return _print_turn(turn_result(snapshot, args.thread), as_json=args.json)
        raise UserError(f"thread {args.thread!r} has no pending approval request")
    if value is None:
        ids = ", ".join(p["id"] for p in pending)
        raise UserError(
            f"thread {args.thread!r} waits for a decision on {ids}: "
            "pass --accept, --reject, --edit JSON or --respond TEXT"
        )
    if value["type"] == "edit" and len(pending) > 1 and not args.call:
        raise UserError("several requests are pending: say which one to edit with --call ID")
    if args.call:
        if args.call not in {p["id"] for p in pending}:
            ids = ", ".join(p["id"] for p in pending)
            raise UserError(f"no pending request {args.call!r}; pending: {ids}")
        snapshot = await _run(Command(resume={args.call: value}), args.thread, context)
    else:
        snapshot = await _run(Command(resume=value), args.thread, context)
    return _print_turn(turn_result(snapshot, args.thread), as_json=args.json)


def _print_turn(result: dict[str, Any], *, as_json: bool) -> int:
    from ui.terminal_text import plain_text

    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    if result["answer"]:
        print(plain_text(result["answer"]))
    pending = result["pending"]
    for request in pending:
        print(
            f"\nWaiting for your approval ({request['id']}):\n{plain_text(request['description'])}"
        )
        call = request["id"] if len(pending) > 1 else None
        print("\n" + "\n".join(_decision_commands(result["thread_id"], call)))
    return 0


def _decision_commands(thread_id: str, call_id: str | None) -> list[str]:
    """The exact `resume` commands that decide a pending request (`call_id`: one of several)."""
    import shlex

    command = f"smart-inbox resume --thread {shlex.quote(thread_id)}"
    if call_id:
        command += f" --call {shlex.quote(call_id)}"
    return [
        f"To run it:     {command} --accept",
        f"To decline it: {command} --reject",
        "(or --edit JSON to run it with other arguments, --respond TEXT to answer instead)",
    ]


async def _triage(args: argparse.Namespace) -> int:
    from graph.services import Services, build_services
    from ui.terminal_text import plain_text

    if args.limit is not None and args.limit < 1:
        raise UserError("--limit must be at least 1")
    context = await asyncio.to_thread(_context, args)
    thread_id = f"triage-{uuid.uuid4().hex[:12]}"
    snapshot = await _run({"mode": "triage", "messages": []}, thread_id, context)
    pending = turn_result(snapshot, thread_id)["pending"]
    services: Services = await asyncio.to_thread(build_services, context)
    pairs = await asyncio.to_thread(services.db.triaged_emails, services.source, limit=args.limit)
    rows = [
        {
            "id": email.id,
            "from": email.sender,
            "subject": email.subject,
            "date": email.date,
            "priority": triage.priority,
            "category": triage.category,
            "action": triage.action,
            "reason": triage.reason,
            **({"error": email.error} if email.error else {}),
        }
        for email, triage in pairs
    ]
    for failure in snapshot.values.get("fetch_errors") or []:
        if not failure.get("id"):  # the source itself, not one message
            print(f"smart-inbox: could not fetch: {failure['error']}", file=sys.stderr)
    waiting = (
        f"{len(pending)} suggested action(s) wait for your approval: "
        f"smart-inbox resume --thread {thread_id} (--accept | --reject | --call ID ...)"
    )
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        if pending:
            print(f"smart-inbox: {waiting}", file=sys.stderr)
        return 0
    new = len(snapshot.values.get("triage") or [])
    print(f"{len(rows)} message(s) shown, {new} newly triaged.\n")
    print(_table(rows))
    for row in rows:
        if row.get("error"):
            print(f"\nunreadable: {row['id']}: {row['error']}")
    values = snapshot.values
    offers = [
        e["content"]
        for e in values.get("evidence") or []
        if e["turn"] == values.get("turn")
        and e["tool"] == "propose_meeting_slots"
        and not e["error"]
    ]
    if offers:
        print("\nSlots for the new meeting requests:\n\n" + plain_text("\n\n".join(offers)))
        print(f'\nTo book one: smart-inbox ask "book the first slot for NAME" --thread {thread_id}')
    if pending:
        print(f"\n{waiting}")
        for request in pending:
            print(f"\n({request['id']}):\n{plain_text(request['description'])}")
            call = request["id"] if len(pending) > 1 else None
            print("\n" + "\n".join(_decision_commands(thread_id, call)))
    return 0


def _table(rows: list[dict[str, Any]]) -> str:
    columns = [("priority", 8), ("category", 15), ("action", 16), ("from", 28), ("subject", 50)]
    lines = ["  ".join(name.upper().ljust(width) for name, width in columns)]
    for row in rows:
        cells = []
        for name, width in columns:
            value = str(row[name])
            cells.append((value if len(value) <= width else value[: width - 1] + "…").ljust(width))
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


async def _policy(args: argparse.Namespace) -> int:
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
    from memory.paths import data_dir

    path = policy_path(data_dir())
    policy = load_policy(path)
    # Every native tool, configured here or not, so a level can be set before the set-up.
    catalogue = (await asyncio.to_thread(build_services, Context())).tools
    native = [name for kit in catalogue.toolkits for name in kit.names]
    command = args.policy_command or "show"
    if command == "set":
        policy = with_level(policy, args.tool, args.level, read_only_tools=catalogue.read_only)
    elif command in ("trust", "untrust"):
        policy = with_trusted(policy, args.value, trust=command == "trust")
    if command != "show":
        await asyncio.to_thread(save_policy, path, policy)
    names = list(dict.fromkeys([*native, *policy.tools]))
    rows = [
        {
            "tool": name,
            "level": (level := policy.level_for(name, default=catalogue.default_level(name))),
            "meaning": LEVEL_NAMES[level],
            "set": name in policy.tools,
        }
        for name in names
    ]
    if args.json:
        print(
            json.dumps({"file": str(path), "tools": rows, **policy.to_json()["trusted"]}, indent=2)
        )
        return 0
    print(f"policy file: {path}{'' if path.exists() else ' (not written yet: defaults)'}\n")
    for row in rows:
        origin = "set" if row["set"] else "default"
        print(f"{row['tool']:<24} {row['level']} {row['meaning']:<11} ({origin})")
    print("\nunknown tools: 1 confirm")
    trusted = policy.to_json()["trusted"]
    print(f"trusted addresses: {', '.join(trusted['addresses']) or '(none)'}")
    print(f"trusted domains: {', '.join(trusted['domains']) or '(none)'}")
    return 0


async def _audit(args: argparse.Namespace) -> int:
    from memory.audit import AuditLog
    from memory.db import open_database
    from memory.paths import app_database_url, data_dir

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


def _users(args: argparse.Namespace) -> int:
    from memory.paths import data_dir
    from ui.users import UserStore, UserStoreError, read_password

    store = UserStore(data_dir())
    try:
        if args.users_command == "list":
            print("\n".join(store.names()) or "no users yet: smart-inbox users add NAME")
            return 0
        password = read_password(f"password for {args.name}: ", stdin=args.password_stdin)
        created = store.add(args.name, password)
    except UserStoreError as err:
        raise UserError(str(err)) from err
    print(f"{'added' if created else 'changed the password of'} {args.name}")
    return 0


def _credentials(args: argparse.Namespace) -> int:
    from memory.keys import KEY_ENV, KeySourceError, generate_key, key_path
    from memory.state_encryption import StateEncryptionError
    from memory.vault import VaultError, check_name, open_vault

    if args.credentials_command == "new-key":
        print(generate_key().decode("ascii"))
        print(
            f"(put it first in {KEY_ENV}, e.g. {KEY_ENV}=NEW,OLD, then run "
            "smart-inbox credentials rotate-key)",
            file=sys.stderr,
        )
        return 0
    try:
        vault = open_vault()
        command = args.credentials_command
        if command == "set":
            check_name(args.name)
            had_key_file = key_path(vault.home).exists()
            value = _read_secret_value(args.name, from_stdin=args.stdin)
            created = vault.set(args.name, value)
            print(f"{'stored' if created else 'replaced'} {args.name}")
            if not had_key_file and key_path(vault.home).exists():
                print(
                    f"smart-inbox: generated the key file {key_path(vault.home)}: keep a copy "
                    "of it somewhere safe; without it the credentials cannot be read",
                    file=sys.stderr,
                )
            return 0
        if command == "delete":
            if not vault.delete(args.name):
                raise UserError(f"no credential {args.name!r}")
            print(f"deleted {args.name}")
            return 0
        if command == "list":
            return _print_credentials([info.as_dict() for info in vault.names()], args.json)
        report = vault.rotate_key()
    except (VaultError, KeySourceError, StateEncryptionError) as err:
        raise UserError(str(err)) from err
    if args.json:
        print(
            json.dumps(
                {
                    "reencrypted": report.reencrypted,
                    "key_source": report.origin,
                    "key_id": report.new_key_id,
                    "dropped_keys": report.dropped_keys,
                    "kept_keys": report.kept_keys,
                },
                indent=2,
            )
        )
    elif report.origin == KEY_ENV:
        print(
            f"re-encrypted {report.reencrypted} credential(s) under the first key of {KEY_ENV} "
            f"(key id {report.new_key_id}); you may now remove the other key(s) from {KEY_ENV}"
            + (
                ", unless encrypted conversations were written with them"
                if _encrypted_state_wanted()
                else ""
            )
        )
    elif report.kept_keys:
        print(
            f"re-encrypted {report.reencrypted} credential(s) under a new key (key id "
            f"{report.new_key_id}); {report.origin} keeps the {report.kept_keys} old key(s) "
            "behind it, because encrypted conversations were written with them: replace your "
            "backup of the key file now"
        )
    else:
        print(
            f"re-encrypted {report.reencrypted} credential(s) under a new key (key id "
            f"{report.new_key_id}); {report.origin} now holds only that key: replace your "
            "backup of it now, the old key can no longer read them"
        )
    return 0


def _encrypted_state_wanted() -> bool:
    from memory.state_encryption import encryption_wanted

    return encryption_wanted()


def _read_secret_value(name: str, *, from_stdin: bool) -> str:
    """A credential's value: one line of standard input, or typed at the terminal without echo."""
    import getpass

    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise UserError(f"no value for {name} on standard input")
        return line.removesuffix("\n").removesuffix("\r")
    if not sys.stdin.isatty():
        raise UserError("standard input is not a terminal: pass --stdin to read the value from it")
    return getpass.getpass(f"value of {name} (not shown): ")


def _print_credentials(rows: list[dict[str, str]], as_json: bool) -> int:
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("no credentials stored: smart-inbox credentials set NAME")
        return 0
    width = max(len(row["name"]) for row in rows)
    print(f"{'NAME'.ljust(width)}  {'UPDATED'.ljust(25)}  KEY")
    for row in rows:
        print(f"{row['name'].ljust(width)}  {row['updated_at'].ljust(25)}  {row['key']}")
    return 0


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _ui(args: argparse.Namespace) -> int:
    """Start Chainlit on the app in `ui/app.py`; login is always on."""
    import secrets
    import string
    from pathlib import Path

    from memory.paths import data_dir
    from ui.users import UserStore

    home = data_dir()
    _open_app_database(home)
    store = UserStore(home)
    first_user = not store.has_users()
    if first_user and args.host not in LOOPBACK:
        raise UserError(
            f"refusing to listen on {args.host} with no users: add one first with "
            "smart-inbox users add NAME"
        )
    _check_chat_port(args.host, args.port)
    if first_user:
        alphabet = string.ascii_letters + string.digits
        password = "".join(secrets.choice(alphabet) for _ in range(16))
        store.add("demo", password)
        print(f"No users yet: created user 'demo' with password {password}", file=sys.stderr)
        print("(change it with: smart-inbox users add demo)", file=sys.stderr)
    secret_file = home / "chainlit-secret"
    if not secret_file.exists():
        fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    app_dir = Path(__file__).resolve().parent
    env = dict(os.environ)
    env.setdefault("CHAINLIT_AUTH_SECRET", secret_file.read_text().strip())
    env["CHAINLIT_APP_ROOT"] = str(app_dir)
    env["SMART_INBOX_HOME"] = str(home)
    env.setdefault("LANGGRAPH_STRICT_MSGPACK", "true")
    print(f"Smart Inbox chat on http://{args.host}:{args.port}", file=sys.stderr)
    command = [sys.executable, "-m", "chainlit", "run", str(app_dir / "app.py"), "--headless"]
    command += ["--host", args.host, "--port", str(args.port)]
    os.execvpe(sys.executable, command, env)
    return 0  # not reached: the process is now the chat server


def _check_chat_port(host: str, port: int) -> None:
    """Refuse a port that cannot be bound now, before anything announces the chat there.

    Chainlit would fail on it only after the `chat on` line, and exit 0.
    """
    from ui.langgraph_server import ServerError, check_port

    try:
        check_port(host, port)
    except ServerError as err:
        raise UserError(str(err)) from err


def _serve(args: argparse.Namespace) -> int:
    """Check everything, then become `langgraph dev` in the data directory's server folder."""
    from pathlib import Path

    from memory.paths import data_dir
    from ui.langgraph_server import (
        SERVER_DIR,
        STUDIO_URL,
        check_installed,
        check_port,
        dev_command,
        read_env_file,
        server_environment,
        server_url,
        write_server_config,
    )

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
        _context(argparse.Namespace(inbox=None, model=None))  # a bad setting fails here, not later
        _open_app_database(data_dir())  # the schema is current before the first run
        check_port(args.host, args.port)
        server_dir = data_dir() / SERVER_DIR
        config = write_server_config(server_dir)
    except _configuration_errors() as err:
        raise UserError(str(err)) from err
    url = server_url(args.host, args.port)
    print(f"Smart Inbox on the LangGraph server: {url}", file=sys.stderr)
    print(
        f"Studio (a web page; it needs internet, this server does not): {STUDIO_URL.format(url=url)}",
        file=sys.stderr,
    )
    print(f"Server state: {server_dir}", file=sys.stderr)
    sys.stderr.flush()
    os.chdir(server_dir)
    command = dev_command(config, args.host, args.port, args.jobs)
    os.execvpe(command[0], command, env)
    return 0  # not reached: the process is now the server


async def _schedule_triage(args: argparse.Namespace) -> int:
    from ui.langgraph_server import (
        schedule_from_every,
        schedule_triage,
        scheduled_triages,
        unschedule_triage,
    )

    url = args.server.rstrip("/")
    if args.delete:
        await unschedule_triage(url, args.delete)
        print(json.dumps({"deleted": args.delete}) if args.json else f"deleted {args.delete}")
        return 0
    if args.list:
        rows = await scheduled_triages(url)
        if args.json:
            print(json.dumps([row.to_json() for row in rows], indent=2))
        elif not rows:
            print(f"no scheduled triage on {url}")
        for row in [] if args.json else rows:
            print(f"{row.cron_id}  {row.schedule} ({row.timezone})  next run {row.next_run}")
        return 0
    schedule = args.cron or schedule_from_every(args.every)
    row = await schedule_triage(url, schedule, args.timezone)
    if args.json:
        print(json.dumps(row.to_json(), indent=2))
        return 0
    print(
        f"scheduled triage {row.cron_id}: '{row.schedule}' ({row.timezone}), next run {row.next_run}"
    )
    print(
        "Each run has its own thread; approval requests wait on the interrupted ones "
        "(metadata smart_inbox=scheduled-triage)."
    )
    return 0


def _open_app_database(home: Any) -> None:
    """Check the database settings and bring the schema up to date before a server starts."""
    from memory.database_url import DatabaseConfigError, database_config
    from memory.db import DatabaseUnavailableError, open_database
    from memory.migrations import SchemaVersionError
    from memory.state_encryption import StateEncryptionError, encryption_wanted

    try:
        encryption_wanted()
        open_database(database_config(home).app_url)
    except (DatabaseConfigError, StateEncryptionError) as err:
        raise UserError(str(err)) from err
    except (DatabaseUnavailableError, SchemaVersionError) as err:
        print(f"smart-inbox: {err}", file=sys.stderr)
        raise SystemExit(1) from None


def _mcp_server(args: argparse.Namespace) -> int:
    from graph.context import Context
    from memory.database_url import DatabaseConfigError
    from memory.db import DatabaseUnavailableError
    from memory.paths import data_dir
    from tools.mail.smtp_settings import SmtpConfigError
    from tools.mail.source_protocol import MailSourceError
    from tools.mail.sync import canonical_spec
    from tools.mcp.server import run_mail_server

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


async def _mcp(args: argparse.Namespace) -> int:
    from graph.context import Context
    from graph.services import build_services, mcp_hub_for
    from memory.mcp_tools import McpToolFingerprints
    from memory.paths import data_dir
    from tools.mcp.config import load_mcp_config, mcp_config_path
    from tools.mcp.shared_hub import close_shared_hubs

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
            updated = await asyncio.to_thread(McpToolFingerprints(services.db).trust, args.server)
            if args.json:
                print(json.dumps({"server": args.server, "trusted": updated}, indent=2))
            elif updated:
                print(f"{args.server}: trusted the changed definitions of {', '.join(updated)}")
            else:
                print(f"{args.server}: nothing had changed")
            return 0
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
    finally:
        await close_shared_hubs()
    if args.json:
        print(json.dumps({"file": str(path), "servers": servers}, ensure_ascii=False, indent=2))
        return 0
    print(f"MCP servers in {path}:\n")
    for server in servers:
        reason = f": {server['error']}" if server["error"] else ""
        print(f"{server['name']} ({server['transport']}) — {server['state']}{reason}")
        for tool in server["tools"]:
            note = f"  ⚠ {tool['suspended']}" if tool["suspended"] else ""
            print(f"  {tool['name']:<28} level {tool['level']}{note}")
    return 0


async def _integrations(args: argparse.Namespace) -> int:
    """What each toolkit can do here; "configured" only when every action it offers can run.

    A tool that exists but cannot run (sending without `SMTP_URL`, an event without your
    address) is listed with why, and its toolkit is not called configured.
    """
    from graph.context import Context
    from graph.services import build_services
    from memory.paths import data_dir
    from tools.calendar.scheduling import CalendarEnv
    from tools.calendar.toolkit import CREATE_TOOL
    from tools.integrations.webhooks import WebhooksEnv
    from tools.mail.mailbox import MailboxEnv
    from tools.mail.tools import SENDING_TOOLS

    context = Context()
    _check_integrations(data_dir(context.home))
    services = await asyncio.to_thread(build_services, context)
    tools, policy = services.tools, services.policy
    kits = []
    for kit in tools.toolkits:
        why = {name: tools.unavailable[name] for name in kit.names if name in tools.unavailable}
        blocked: dict[str, list[str]] = {}  # why → the actions that cannot run for it
        for name, text in why.items():
            if name not in kit.read_only:
                blocked.setdefault(text, []).append(name)
        mail = kit.env.mail if isinstance(kit.env, CalendarEnv) else kit.env
        if isinstance(mail, MailboxEnv) and mail.smtp is not None and mail.smtp.password_problem:
            # Offered, and its card says so, but it fails until the password is there.
            mailing = [n for n in kit.names if n in (*SENDING_TOOLS, CREATE_TOOL) and n not in why]
            if mailing:
                text = (
                    f"mail cannot be sent through {mail.smtp.server}: {mail.smtp.password_problem}"
                )
                blocked.setdefault(text, []).extend(mailing)
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
                {"name": e.name, "host": e.host, "events": sorted(e.events)}
                for e in kit.env.endpoints
            ]
        kits.append(entry)
    if args.json:
        print(json.dumps({"integrations": kits}, ensure_ascii=False, indent=2))
        return 0
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
    return 0


async def _history(args: argparse.Namespace) -> int:
    from graph.builder import build_graph
    from memory.checkpointer import open_checkpointer
    from memory.database_url import database_config
    from memory.paths import data_dir

    where = database_config(data_dir())
    async with open_checkpointer(where) as saver:
        snapshot = await build_graph(checkpointer=saver).aget_state(
            {"configurable": {"thread_id": args.thread}}
        )
    messages = snapshot.values.get("messages") or []
    if not messages:
        raise UserError(f"no thread {args.thread!r} in {where.describe()}")
    turns = [
        {"role": "user" if m.type == "human" else "agent", "text": str(m.text)} for m in messages
    ]
    if args.json:
        print(
            json.dumps({"thread_id": args.thread, "messages": turns}, ensure_ascii=False, indent=2)
        )
        return 0
    from ui.terminal_text import plain_text

    for turn in turns:
        # The user's own words are shown as typed; the agent's Markdown is for the chat.
        text = plain_text(turn["text"]) if turn["role"] == "agent" else turn["text"]
        print(f"{turn['role']}: {text}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
