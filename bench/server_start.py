"""How soon `smart-inbox serve` answers, with no network, and what one chat turn costs through it.

Each start spawns `smart-inbox serve` on a free port with a fresh data directory (cold) or
the one a stopped server left (restart, with its saved threads), and times it until `GET /ok`
answers. The process's CPU time at that moment is read from /proc too, since wall time on a
shared machine depends on what else runs. Then chat turns go through the SDK
(`runs.wait` on a new thread each), as an embedding team would call it.

When it may (root, `unshare` and `ip` present), the benchmark runs itself inside a network
namespace of its own with only a loopback interface: the server has no way to reach anything.

Run alone: `python -m bench.server_start --starts 3 --turns 20`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench.common import fmt_ms, log, summary_ms, table

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo-inbox"
QUESTIONS = (
    "any invoices?",
    "what needs my attention today?",
    "find emails about the checkout outage",
    "search for meeting",
)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/ok", timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


class Served:
    """One `smart-inbox serve` process."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("LANGSMITH_", "LANGCHAIN_", "LANGGRAPH_", "GROQ_"))
        }
        env.update(SMART_INBOX_HOME=str(home), INBOX=f"maildir:{home / 'inbox'}", MODEL="rules")
        self.log = (home / "server.log").open("ab")
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ui.cli", "serve", "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        while not _answers(self.url):
            if self.process.poll() is not None or time.perf_counter() - started > 300:
                self.stop()
                raise RuntimeError(f"the server did not start: see {home / 'server.log'}")
            time.sleep(0.05)
        self.ready_after = time.perf_counter() - started
        self.cpu_at_ready = _cpu_seconds(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


async def _turns(url: str, n: int) -> list[float]:
    from langgraph_sdk import get_client

    client = get_client(url=url, api_key=None, timeout=120)
    samples = []
    for i in range(n):
        thread = await client.threads.create()
        question = {"messages": [{"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]}]}
        started = time.perf_counter()
        values = await client.runs.wait(thread["thread_id"], "agent", input=question)
        samples.append(time.perf_counter() - started)
        if not isinstance(values, dict) or not values.get("messages"):
            raise RuntimeError(f"a turn came back without an answer: {values!r}")
    return samples


async def _has_thread(url: str, thread_id: str) -> bool:
    from langgraph_sdk import get_client

    state = await get_client(url=url, api_key=None).threads.get_state(thread_id)
    return bool(state["values"].get("messages"))


def run(starts: int, turns: int, network: str) -> dict[str, Any]:
    cold: list[Served] = []
    warm: list[Served] = []
    turn_samples: list[float] = []
    kept = 0
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        for i in range(starts):
            home = Path(tmp) / f"home-{i}"
            home.mkdir()
            shutil.copytree(DEMO, home / "inbox", ignore=shutil.ignore_patterns(".Drafts"))
            log(f"cold start {i + 1}/{starts}")
            first = Served(home)
            cold.append(first)
            try:
                if i == 0 and turns:
                    asyncio.run(_turns(first.url, 1))  # the first turn fetches and triages
                    turn_samples = asyncio.run(_turns(first.url, turns))
                thread = asyncio.run(_one_thread(first.url))
            finally:
                first.stop()
            log(f"restart {i + 1}/{starts}")
            second = Served(home)
            warm.append(second)
            try:
                kept += asyncio.run(_has_thread(second.url, thread))
            finally:
                second.stop()
    return {
        "starts": starts,
        "turns": turns,
        "network": network,
        "cold": cold,
        "warm": warm,
        "kept": kept,
        "turn_samples": turn_samples,
        "load": os.getloadavg(),
        "at": datetime.now(UTC),
    }


async def _one_thread(url: str) -> str:
    from langgraph_sdk import get_client

    client = get_client(url=url, api_key=None, timeout=120)
    thread = await client.threads.create()
    await client.runs.wait(thread["thread_id"], "agent", input={"messages": [
        {"role": "user", "content": "any invoices?"}
    ]})  # fmt: skip
    return str(thread["thread_id"])


def _row(label: str, servers: list[Served]) -> list[object]:
    wall = summary_ms([s.ready_after for s in servers])
    cpu = summary_ms([s.cpu_at_ready for s in servers])
    return [
        label,
        len(servers),
        f"{wall['p50'] / 1000:.1f}",
        f"{wall['max'] / 1000:.1f}",
        f"{cpu['p50'] / 1000:.1f}",
    ]


def markdown(r: dict[str, Any]) -> str:
    rows = [
        _row("cold (new data directory)", r["cold"]),
        _row("restart (saved threads)", r["warm"]),
    ]
    load = ", ".join(f"{x:.1f}" for x in r["load"])
    turns = ""
    if r["turn_samples"]:
        s = summary_ms(r["turn_samples"])
        turns = (
            f"\nChat turns through the API (`runs.wait` on a new thread, rules engine, "
            f"{s['n']} turns after one that fetched and triaged the demo inbox): "
            f"p50 {fmt_ms(s['p50'])} ms, p95 {fmt_ms(s['p95'])} ms. The same turn in-process "
            "is in the chat-turn latency table; most of the difference is the in-memory "
            "server's run queue, which looks for new runs every 0.5 s, then HTTP and the "
            "server's own checkpointer.\n"
        )
    return f"""## LangGraph server: start-up and turns through the API

`smart-inbox serve` (langgraph-api {version("langgraph-api")}, in-memory runtime
{version("langgraph-runtime-inmem")}) timed from spawning the command to the first `200` from
`GET /ok`; CPU is the server process's own user + system time at that moment (it checks the
configuration, then becomes `langgraph dev`, which imports the server and both graphs).
Network: {r["network"]}. Load average when it finished: {load} (on
{r["at"]:%Y-%m-%d %H:%M} UTC); wall times on a busy shared machine stretch with it.

{table(["start", "n", "ready p50 (s)", "ready max (s)", "CPU at ready p50 (s)"], rows)}

Threads found intact after the restart: {r["kept"]} of {len(r["warm"])}.
{turns}"""


def _netns_available() -> bool:
    return os.geteuid() == 0 and bool(shutil.which("unshare")) and bool(shutil.which("ip"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=3, help="cold starts (each then restarted)")
    parser.add_argument("--turns", type=int, default=20, help="chat turns through the API")
    parser.add_argument("--in-netns", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.in_netns and _netns_available():
        inner = [sys.executable, "-m", "bench.server_start", *(argv or sys.argv[1:]), "--in-netns"]
        script = 'ip link set lo up && exec "$@"'
        return subprocess.call(["unshare", "--net", "sh", "-c", script, "sh", *inner], cwd=ROOT)
    network = (
        "none: its own network namespace with only a loopback interface"
        if args.in_netns
        else "the machine's (no network namespace available: not root, or no unshare/ip)"
    )
    print(markdown(run(args.starts, args.turns, network)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
