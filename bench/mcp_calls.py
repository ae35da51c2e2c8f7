"""Latency of one MCP tool call: our kept session against a fresh session per call.

The same tool (`echo` of the test echo server, `tests/fakes/mcp/echo_server.py`) is called
over stdio (a child process) and over streamable HTTP (a local server process):

* kept: `McpHub.call` through the session its owner task opened once;
* adapter, get_tools + invoke: `MultiServerMCPClient(...).get_tools()` then `tool.ainvoke`,
  the adapter's default pattern when tools are loaded per turn (two sessions per call);
* adapter, tool reused: the tool from one `get_tools()`, invoked per call; the adapter still
  opens a session (and for stdio starts a process) for every invocation.

Run alone: `python -m bench.mcp_calls --n 200 --fresh-n 30`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from importlib.metadata import version
from typing import Any

from bench.common import fmt_ms, log, summary_ms, table
from tests.fakes.mcp.launch import ECHO_MODULE, REPO_ROOT, HttpMcpServer, stdio_config
from tools.mcp.config import McpServerConfig
from tools.mcp.hub import McpHub

ARGS = {"text": "ping"}
PATTERNS = ("kept", "adapter, get_tools + invoke", "adapter, tool reused")


async def _timed(call: Callable[[], Awaitable[Any]], n: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        await call()
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        result = await call()
        samples.append(time.perf_counter() - started)
        if "ping" not in str(result):
            raise RuntimeError(f"unexpected echo result: {result!r}")
    return samples


async def _measure_transport(
    config: McpServerConfig, connection: dict[str, Any], *, n: int, fresh_n: int, warmup: int
) -> dict[str, list[float]]:
    from langchain_mcp_adapters.client import MultiServerMCPClient

    samples: dict[str, list[float]] = {}
    hub = McpHub({"echo": config})
    await hub.start()
    try:
        samples["kept"] = await _timed(lambda: hub.call("echo", "echo", ARGS), n, warmup)
    finally:
        await hub.aclose()

    client = MultiServerMCPClient({"echo": connection})  # type: ignore[dict-item]

    async def load_and_invoke() -> Any:
        tools = await client.get_tools()
        echo = next(t for t in tools if t.name == "echo")
        return await echo.ainvoke(ARGS)

    samples["adapter, get_tools + invoke"] = await _timed(load_and_invoke, fresh_n, warmup)
    echo = next(t for t in await client.get_tools() if t.name == "echo")
    samples["adapter, tool reused"] = await _timed(lambda: echo.ainvoke(ARGS), fresh_n, warmup)
    return samples


async def _measure(n: int, fresh_n: int, warmup: int) -> dict[str, dict[str, list[float]]]:
    results: dict[str, dict[str, list[float]]] = {}
    log(f"mcp calls: stdio, {n} kept and {fresh_n} per-call samples ...")
    results["stdio"] = await _measure_transport(
        stdio_config("echo"),
        {
            "transport": "stdio",
            "command": sys.executable,
            "args": ["-m", ECHO_MODULE],
            "cwd": str(REPO_ROOT),
        },
        n=n,
        fresh_n=fresh_n,
        warmup=warmup,
    )
    log(f"mcp calls: streamable HTTP, {n} kept and {fresh_n} per-call samples ...")
    with HttpMcpServer() as server:
        results["streamable HTTP"] = await _measure_transport(
            server.config("echo"),
            {"transport": "streamable_http", "url": server.url},
            n=n,
            fresh_n=fresh_n,
            warmup=warmup,
        )
    return results


def run(n: int = 300, fresh_n: int = 40, warmup: int = 5) -> dict[str, Any]:
    """Measure; returns the summaries and a Markdown section under `markdown`."""
    # The SDK logs every HTTP session it opens and closes; the per-call pattern opens hundreds.
    logging.getLogger("mcp").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    samples = asyncio.run(_measure(n, fresh_n, warmup))
    summaries = {
        transport: {pattern: summary_ms(values) for pattern, values in by_pattern.items()}
        for transport, by_pattern in samples.items()
    }
    result: dict[str, Any] = {
        "summaries": summaries,
        "n": n,
        "fresh_n": fresh_n,
        "warmup": warmup,
        "versions": (
            f"mcp {version('mcp')}, langchain-mcp-adapters {version('langchain-mcp-adapters')}"
        ),
    }
    result["markdown"] = _markdown(result)
    return result


def _markdown(r: dict[str, Any]) -> str:
    rows = []
    for transport, by_pattern in r["summaries"].items():
        kept = by_pattern["kept"]
        for pattern in PATTERNS:
            s = by_pattern[pattern]
            ratio = "1×" if pattern == "kept" else f"{s['p50'] / kept['p50']:.0f}×"
            ratio95 = "1×" if pattern == "kept" else f"{s['p95'] / kept['p95']:.0f}×"
            rows.append(
                [transport, pattern, s["n"], fmt_ms(s["p50"]), fmt_ms(s["p95"]), ratio, ratio95]
            )
    headers = [
        "transport",
        "pattern",
        "n",
        "p50 (ms)",
        "p95 (ms)",
        "p50 ÷ kept p50",
        "p95 ÷ kept p95",
    ]
    return f"""## MCP tool calls: kept session against a session per call

One call of the test echo server's `echo` tool (`tests/fakes/mcp/echo_server.py`), timed from
the call to its result, after {r["warmup"]} warm-up calls per pattern. "kept" is
`McpHub.call` ({r["n"]} calls) through the session its owner task opened once; the adapter
rows ({r["fresh_n"]} calls each) use `langchain-mcp-adapters`' `MultiServerMCPClient`
without a session, its default, so every invocation opens a new session, which over stdio
means starting the server process, initialising, calling and shutting it down.
"get_tools + invoke" also loads the tools first (another session), as an agent that loads
tools per turn does. Over HTTP the server process stays up; each session still pays the
`initialize` handshake and its own HTTP exchanges. Libraries: {r["versions"]}.

{table(headers, rows)}
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="calls through the kept session")
    parser.add_argument("--fresh-n", type=int, default=40, help="calls per adapter pattern")
    parser.add_argument("--warmup", type=int, default=5, help="warm-up calls per pattern")
    args = parser.parse_args(argv)
    print(run(args.n, args.fresh_n, args.warmup)["markdown"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
