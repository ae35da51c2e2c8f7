"""An MCP server for tests: echo, arithmetic, a slow call, a crash, a side effect, its own pid.

Run over stdio: `python -m tests.fakes.mcp.echo_server` (or by path). Over streamable HTTP on
127.0.0.1: `... --http PORT` (0 picks a free port); the first line on stdout is
`listening on http://127.0.0.1:PORT/mcp`.

`ECHO_DESCRIPTION` replaces the description of `echo` (a server whose tool definition changed);
`ECHO_LABEL` makes `echo` answer `[label] text` (to tell two copies apart).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import time
from typing import Any

import uvicorn
from mcp.server.fastmcp import FastMCP, Image
from mcp.types import ToolAnnotations

DESCRIPTION_ENV = "ECHO_DESCRIPTION"
LABEL_ENV = "ECHO_LABEL"
DEFAULT_DESCRIPTION = "Return the text unchanged."


def build_server() -> FastMCP:
    mcp = FastMCP("echo", log_level="WARNING")
    label = os.environ.get(LABEL_ENV, "")
    notes: list[str] = []

    @mcp.tool(
        description=os.environ.get(DESCRIPTION_ENV, DEFAULT_DESCRIPTION),
        annotations=ToolAnnotations(title="Echo", readOnlyHint=True, openWorldHint=False),
    )
    def echo(text: str) -> str:
        return f"[{label}] {text}" if label else text

    @mcp.tool(annotations=ToolAnnotations(readOnlyHint=True, idempotentHint=True))
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @mcp.tool()
    async def slow(seconds: float) -> dict[str, Any]:
        """Sleep, then say when the sleep started and ended (server clock)."""
        started = time.time()
        await asyncio.sleep(seconds)
        return {"started": started, "ended": time.time(), "pid": os.getpid()}

    @mcp.tool()
    def crash() -> str:
        """Exit the server process at once, without answering."""
        os._exit(1)

    @mcp.tool(annotations=ToolAnnotations(destructiveHint=True))
    def write_note(text: str) -> str:
        """Keep a note in the server's memory."""
        notes.append(text)
        return f"noted ({len(notes)} notes)"

    @mcp.tool()
    def pid() -> int:
        """The server's process id."""
        return os.getpid()

    @mcp.tool()
    def fail(message: str) -> str:
        """Fail with the given message (a tool error, not a protocol error)."""
        raise ValueError(message)

    @mcp.tool(structured_output=False)
    def picture() -> list[Any]:
        """A caption and a 10-byte PNG."""
        return ["a caption", Image(data=b"\x89PNG\r\n\x1a\n\x00\x00", format="png")]

    return mcp


def serve_http(mcp: FastMCP, port: int) -> None:
    """Serve streamable HTTP on a socket bound here, so port 0 works and the port is printed."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    print(f"listening on http://127.0.0.1:{sock.getsockname()[1]}/mcp", flush=True)
    # The SDK's server logs a traceback whenever a client ends its session while the
    # server-to-client stream is open; a client that opens a session per call ends hundreds.
    logging.getLogger("mcp.server.streamable_http").setLevel(logging.CRITICAL)
    config = uvicorn.Config(mcp.streamable_http_app(), log_level="warning")
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))


def main() -> None:
    parser = argparse.ArgumentParser(description="MCP echo server for tests")
    parser.add_argument("--http", type=int, metavar="PORT", help="serve streamable HTTP")
    args = parser.parse_args()
    server = build_server()
    if args.http is None:
        server.run("stdio")
    else:
        serve_http(server, args.http)


if __name__ == "__main__":
    main()
