"""The product's mailbox and calendar as an MCP server, for any MCP client to use.

Claude Desktop, other agents and this product's own agent (`--inbox mcp:NAME`, or the server in
`mcp.json`) then see the same cache, rules triage, Drafts folder and calendar as the chat;
sending is offered only where mail can go out (`SMTP_URL` and a From address, or the bundled
demo's local outbox), and the inbox actions (archive, move, trash, read, flag) clear it. This
module assembles the server and runs it; the tools live in `mail_tools`, `inbox_tools` and
`calendar_tools`, the mailbox they read in `served_mailbox`.
"""

from __future__ import annotations

import argparse
import errno
import logging
import socket
import sys

from mcp.server.fastmcp import FastMCP

from graph.context import Context
from memory.paths import data_dir
from memory.redaction import install_log_scrubbing
from tools.config_checks import is_loopback_host
from tools.mail.smtp_settings import SmtpConfigError
from tools.mail.source_protocol import MailSourceError
from ui.mcp_server.calendar_tools import (
    add_calendar_tools,
    calendar_instructions,
    open_served_calendar,
)
from ui.mcp_server.inbox_tools import add_inbox_tools
from ui.mcp_server.mail_tools import INSTRUCTIONS, add_mail_tools
from ui.mcp_server.served_mailbox import open_mailbox

logger = logging.getLogger(__name__)

SERVER_NAME = "smart-inbox"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
MCP_PATH = "/mcp"
"""Where the streamable HTTP transport answers: `http://HOST:PORT/mcp`."""
TRANSPORTS = ("stdio", "http")


class PortUnavailableError(OSError):
    """The HTTP transport cannot listen on the requested host and port."""


def build_mail_server(
    *, inbox: str, home: str, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT
) -> FastMCP:
    """Create the "smart-inbox" MCP server for the mailbox `inbox`, with its data under `home`.

    Blocking: it syncs and triages the mailbox before returning (each read call syncs again
    when the mailbox has changed). `send_email` and `reply_to_email` exist only where mail
    can go out (`SMTP_URL` and a From address, or the bundled demo's local outbox). The
    calendar tools are there unless the calendar's settings cannot be used; then the log and
    the server's instructions say why. `host` and `port` are where the HTTP transport would
    listen.

    Raises:
        MailSourceError: the inbox cannot be opened or listed.
        SmtpConfigError: `SMTP_URL` (or `SMTP_CA_FILE`, `SMTP_TIMEOUT`) is set but unusable.

    """
    mailbox = open_mailbox(inbox=inbox, home=home)
    calendar = open_served_calendar(mailbox.env, data_dir(home))
    server = FastMCP(
        SERVER_NAME,
        instructions=f"{INSTRUCTIONS} {calendar_instructions(calendar)}",
        host=host,
        port=port,
        streamable_http_path=MCP_PATH,
    )

    add_mail_tools(server, mailbox)
    add_inbox_tools(server, mailbox)
    add_calendar_tools(server, calendar, mailbox)
    return server


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, or a `PortUnavailableError` saying why not."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host, port), family=family)
    except socket.gaierror as err:
        raise PortUnavailableError(f"cannot serve MCP on {host}: unknown host ({err})") from None
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            reason = "the port is already in use (choose another with --port)"
        else:
            reason = err.strerror or str(err)
        raise PortUnavailableError(f"cannot serve MCP on {host}:{port}: {reason}") from None


def _log_to_stderr() -> None:
    # stdout is the protocol channel of the stdio transport: nothing else may write there.
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    # The MCP SDK logs every request at INFO; a running server only needs its warnings.
    logging.getLogger("mcp").setLevel(logging.WARNING)
    install_log_scrubbing()


def run_mail_server(
    *,
    transport: str,
    inbox: str,
    home: str,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
) -> None:
    """Serve the mailbox and calendar until stopped: `stdio`, or `http` (streamable HTTP at `/mcp`).

    Logs go to stderr. For `http` the port is taken before the mailbox is opened, so a busy
    port fails at once.

    Raises:
        ValueError: `transport` is neither `stdio` nor `http`.
        PortUnavailableError: the HTTP transport cannot listen on `host:port`.
        MailSourceError: the inbox cannot be opened or listed.
        SmtpConfigError: `SMTP_URL` is set but unusable.

    """
    if transport not in TRANSPORTS:
        raise ValueError(f"unknown MCP transport {transport!r}: use stdio or http")
    _log_to_stderr()
    if transport == "stdio":
        build_mail_server(inbox=inbox, home=home).run("stdio")
        return

    import uvicorn

    listener = _listen(host, port)
    try:
        server = build_mail_server(inbox=inbox, home=home, host=host, port=port)
        if not is_loopback_host(host):
            logger.warning(
                "serving the mailbox on %s without authentication: anyone who can reach it "
                "can read the mail and the calendar and call every tool",
                host,
            )
        config = uvicorn.Config(server.streamable_http_app(), log_config=None, access_log=False)
        shown = f"[{host}]" if ":" in host else host
        logger.info("MCP server at http://%s:%d%s", shown, port, MCP_PATH)
        uvicorn.Server(config).run(sockets=[listener])
    finally:
        listener.close()


def main(argv: list[str] | None = None) -> None:
    """Run the server from the command line: `python -m ui.mcp_server --transport http`."""
    parser = argparse.ArgumentParser(
        prog="python -m ui.mcp_server",
        description="Serve the mailbox and calendar as an MCP server.",
    )
    parser.add_argument("--transport", choices=TRANSPORTS, default="stdio")
    parser.add_argument(
        "--inbox", default=None, help="mail source spec, e.g. maildir:PATH (default: INBOX)"
    )
    parser.add_argument(
        "--home", default=None, help="data directory (default: SMART_INBOX_HOME or .smart-inbox)"
    )
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    defaults = Context()
    try:
        run_mail_server(
            transport=args.transport,
            inbox=args.inbox or defaults.inbox,
            home=args.home or defaults.home,
            host=args.host,
            port=args.port,
        )
    except (PortUnavailableError, MailSourceError, SmtpConfigError) as err:
        # Each of these is a setting to fix, not a bug: the message says which.
        raise SystemExit(f"smart-inbox MCP server: {err}") from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
