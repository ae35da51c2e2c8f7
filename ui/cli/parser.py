"""The `smart-inbox` arguments: one `add_*_commands` per command group, gathered by `build_parser`.

Only the standard library is imported here, so `smart-inbox --help` answers at once; each
command's own module is imported when that command runs.
"""

from __future__ import annotations

import argparse
import os
from typing import Any, NoReturn

from ui.cli.errors import EXIT_USER_ERROR

DESCRIPTION = (
    "`smart-inbox`: the command line — triage the inbox, ask about it, read a thread's history.\n"
    "\n"
    "User errors (a bad flag, a missing mailbox, a bad model spec) print one line and exit 2.\n"
)
"""The `--help` text, as the command line's module docstring says it."""

INBOX_HELP = (
    "mail source: maildir:PATH, imap://user@host[:port]/FOLDER or mcp:NAME "
    "(default: INBOX or the demo inbox)"
)
MODEL_HELP = "rules | groq:<model> | replay:<file.jsonl> (default: MODEL)"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USER_ERROR, f"smart-inbox: {message} (see smart-inbox --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = _Parser(prog="smart-inbox", description=DESCRIPTION)
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log what happens (-vv: debug)"
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    add_triage_commands(commands)
    add_followups_commands(commands)
    add_rules_commands(commands)
    add_ask_commands(commands)
    add_policy_commands(commands)
    add_mcp_commands(commands)
    add_integrations_commands(commands)
    add_health_commands(commands)
    add_mcp_server_commands(commands)
    add_serve_commands(commands)
    add_digest_commands(commands)
    add_chat_commands(commands)
    add_credentials_commands(commands)
    add_accounts_commands(commands)
    add_history_commands(commands)
    return parser


def _common(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--inbox", help=INBOX_HELP)
    sub.add_argument("--model", help=MODEL_HELP)
    sub.add_argument("--json", action="store_true", help="print JSON")


def add_triage_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """`triage`."""
    triage = commands.add_parser("triage", help="fetch new mail and classify every message")
    _common(triage)
    triage.add_argument("--limit", type=int, help="show at most N rows, most important first")
    triage.add_argument(
        "--messages",
        action="store_true",
        help="one row per message instead of one per conversation",
    )
    triage_commands = triage.add_subparsers(
        dest="triage_command", parser_class=_Parser, metavar="{correct}"
    )
    correct = triage_commands.add_parser(
        "correct",
        help="say what a message should have been; a rule for its sender, domain or list",
        description="Correct one message's triage. The correction is kept as a rule (by "
        "default for automated mail's template, else the message's mailing list, else its "
        "sender) and applied before the "
        "generic rules on every later triage.",
    )
    correct.add_argument("id", help="the message's id (see triage --json)")
    correct.add_argument("--decision", help="respond | notify | ignore")
    correct.add_argument("--priority", help="high | normal | low")
    correct.add_argument(
        "--category", help="e.g. newsletter, spam_or_cold, meeting_request, personal"
    )
    correct.add_argument(
        "--scope",
        choices=["sender", "domain", "list", "message"],
        help=(
            "what the rule covers (default: automated mail's template, i.e. its address and "
            "subject but for numbers and names; else the message's list, else its sender (a "
            "person you do not know yet: their mail is never hidden nor called cold, each "
            "message read for a reply; hiding one hides the sender); only the message when "
            "someone you know wrote it)"
        ),
    )
    # Given before or after `correct`: a default here would hide the one given to `triage`.
    correct.add_argument("--inbox", default=argparse.SUPPRESS, help=INBOX_HELP)
    correct.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print JSON"
    )


def add_followups_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """`followups`: the two reply lists."""
    followups = commands.add_parser(
        "followups",
        help="conversations that need your reply, and those where you await someone else's",
    )
    _common(followups)


def add_rules_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """`rules`: the triage rules the user's corrections made."""
    rules = commands.add_parser(
        "rules", help="the triage rules your corrections made: list them, remove one"
    )
    rules_commands = rules.add_subparsers(dest="rules_command", required=True, parser_class=_Parser)
    rules_list = rules_commands.add_parser("list", help="every rule, oldest first")
    rules_list.add_argument("--json", action="store_true", help="print JSON")
    remove = rules_commands.add_parser("remove", help="remove one rule (its id from rules list)")
    remove.add_argument("id", type=int, help="the rule's id")
    remove.add_argument(
        "--inbox", help="the mailbox whose messages are triaged again without it (default: INBOX)"
    )


def add_ask_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """`ask` and `resume`: a chat turn, and the decisions on the approval requests it left."""
    ask = commands.add_parser("ask", help="one chat turn on a persistent thread")
    ask.add_argument("text", help="what to ask")
    ask.add_argument("--thread", help="thread id (a new one is made and printed when omitted)")
    _common(ask)

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
    _common(resume)


def add_policy_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """`policy` and `audit`: the approval levels, and what was decided under them."""
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


def add_mcp_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """`mcp`: the MCP servers the agent uses."""
    mcp = commands.add_parser("mcp", help="the MCP servers of mcp.json: list them, trust changes")
    mcp_commands = mcp.add_subparsers(dest="mcp_command", required=True, parser_class=_Parser)
    mcp_list = mcp_commands.add_parser("list", help="each server: state, tools, approval levels")
    mcp_list.add_argument("--json", action="store_true", help="print JSON")
    mcp_trust = mcp_commands.add_parser(
        "trust", help="accept a server's changed tool definitions (restores auto-approval)"
    )
    mcp_trust.add_argument("server", help="server name in mcp.json")
    mcp_trust.add_argument("--json", action="store_true", help="print JSON")


def add_integrations_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """`integrations`."""
    integrations = commands.add_parser(
        "integrations", help="Jira, Slack, Teams, HubSpot, webhooks: set up or not, tools, levels"
    )
    integrations.add_argument("--json", action="store_true", help="print JSON")


def add_health_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """`health`."""
    health = commands.add_parser(
        "health", help="whether each part works now: mail, SMTP, calendar, integrations, MCP, …"
    )
    health.add_argument("--json", action="store_true", help="print JSON")
    health.add_argument(
        "--watch",
        action="store_true",
        help="check again every SMART_INBOX_HEALTH_INTERVAL seconds (default 60), "
        "keeping the history and alerting changes",
    )


def add_mcp_server_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """`mcp-server`: our own MCP server of the mailbox and calendar."""
    server = commands.add_parser(
        "mcp-server", help="serve this mailbox and calendar to MCP clients"
    )
    server.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    server.add_argument("--host", default="127.0.0.1", help="HTTP address (default 127.0.0.1)")
    server.add_argument("--port", type=int, default=8765, help="HTTP port (default 8765)")
    server.add_argument("--inbox", help=INBOX_HELP)


def add_serve_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """`serve` and `schedule-triage`: the agent on the LangGraph server."""
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
    serve.add_argument("--model", help=MODEL_HELP)

    schedule = commands.add_parser(
        "schedule-triage", help="run the triage on a schedule on the LangGraph server"
    )
    when = schedule.add_mutually_exclusive_group(required=True)
    when.add_argument("--every", metavar="N(m|h)", help="every N minutes or hours, e.g. 15m or 2h")
    when.add_argument("--cron", metavar="EXPR", help="a cron schedule, e.g. '0 8-18 * * 1-5'")
    when.add_argument("--list", action="store_true", help="list the scheduled triages")
    when.add_argument("--delete", metavar="ID", help="delete a scheduled triage")
    _schedule_options(schedule)


def _schedule_options(schedule: argparse.ArgumentParser) -> None:
    """What every `schedule-*` command takes beside its times: the server, a zone, `--json`."""
    schedule.add_argument(
        "--server",
        default=os.environ.get("SMART_INBOX_SERVER") or "http://127.0.0.1:2024",
        help="the LangGraph server's URL (default: SMART_INBOX_SERVER or http://127.0.0.1:2024)",
    )
    schedule.add_argument("--timezone", help="IANA time zone of the schedule (default UTC)")
    schedule.add_argument("--json", action="store_true", help="print JSON")


def add_digest_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """`digest` and `schedule-digest`: what needs you today, now or every morning."""
    digest = commands.add_parser(
        "digest", help="what needs you today: replies, urgent mail, today's meetings"
    )
    _common(digest)
    digest.add_argument(
        "--send",
        action="store_true",
        help="also deliver it to the channel in SMART_INBOX_DIGEST_TO (once a day)",
    )
    digest.add_argument(
        "--no-triage", action="store_true", help="read the mail already fetched; fetch nothing"
    )
    schedule = commands.add_parser(
        "schedule-digest", help="deliver the digest every day from the LangGraph server"
    )
    when = schedule.add_mutually_exclusive_group(required=True)
    when.add_argument("--at", metavar="HH:MM", help="every day at this time, e.g. 07:30")
    when.add_argument("--cron", metavar="EXPR", help="a cron schedule, e.g. '30 7 * * 1-5'")
    when.add_argument("--list", action="store_true", help="list the scheduled digests")
    when.add_argument("--delete", metavar="ID", help="delete a scheduled digest")
    _schedule_options(schedule)


def add_chat_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """`ui` (the chat) and `users` (who may log in to it)."""
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


def add_credentials_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """`credentials`: the integrations' secrets in the vault."""
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


def add_accounts_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """`accounts`: mail and calendar accounts connected with OAuth (or an IMAP login)."""
    accounts = commands.add_parser(
        "accounts",
        help="connect Gmail, Microsoft 365 or Salesforce (OAuth) or an IMAP login; list; remove",
    )
    account_commands = accounts.add_subparsers(
        dest="accounts_command", required=True, parser_class=_Parser
    )
    add = account_commands.add_parser("add", help="connect an account (asks for consent)")
    add.add_argument("kind", choices=("gmail", "microsoft", "salesforce", "imap"))
    add.add_argument(
        "name", help="the account's name, e.g. work (gmail:work, outlook:work, salesforce:work)"
    )
    add.add_argument(
        "--no-browser", action="store_true", help="print the consent URL instead of opening it"
    )
    add.add_argument(
        "--device", action="store_true", help="the device code flow: consent on another device"
    )
    add.add_argument(
        "--imap",
        action="store_true",
        help="gmail, microsoft: also ask for the access their IMAP and SMTP servers need (XOAUTH2)",
    )
    add.add_argument("--login", help="imap: USER@HOST of the IMAP login")
    add.add_argument(
        "--password-stdin", action="store_true", help="imap: read the password from standard input"
    )
    listing = account_commands.add_parser(
        "list", help="each account: state, scopes and token expiry (never a token)"
    )
    listing.add_argument("--json", action="store_true", help="print JSON")
    remove = account_commands.add_parser("remove", help="revoke an account's grant and forget it")
    remove.add_argument("name", help="the account's name")


def add_history_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """`history`."""
    history = commands.add_parser("history", help="print a thread's conversation")
    history.add_argument("--thread", required=True, help="thread id")
    history.add_argument("--json", action="store_true", help="print JSON")
