"""An MCP server for tests that never finishes starting: it never answers `initialize`.

Over stdio (`python -m tests.fakes.mcp.hang_server`) it never reads its input. With
`--http PORT` (0 picks a free port) it accepts connections on 127.0.0.1 but never answers; the
first line on stdout is `listening on http://127.0.0.1:PORT/mcp`.
"""

from __future__ import annotations

import argparse
import socket
import time


def main() -> None:
    parser = argparse.ArgumentParser(description="MCP server for tests that hangs")
    parser.add_argument("--http", type=int, metavar="PORT", help="listen on this port")
    args = parser.parse_args()
    if args.http is not None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", args.http))
        sock.listen(128)
        print(f"listening on http://127.0.0.1:{sock.getsockname()[1]}/mcp", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
