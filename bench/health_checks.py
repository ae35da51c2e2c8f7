"""Time of one health round: every part checked at once, with every server up, then hung.

A generated Maildir of 50 messages as the inbox; real local servers for SMTP (aiosmtpd),
Jira and Slack (the test stand-ins), a webhook receiver and an MCP server over HTTP. A round
is what the background watch does each interval: build the services, check every part
concurrently. Then the MCP server is stopped (SIGSTOP) and SMTP points at a port that accepts
but never greets: the round should cost one check timeout, not the sum of them.

Run alone: `python -m bench.health_checks --rounds 30`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import fmt_ms, log, machine, summary_ms, table
from bench.mailgen import generate_maildir
from tests.fakes.jira_server import FakeJira
from tests.fakes.mcp.launch import HttpMcpServer
from tests.fakes.slack_server import FakeSlack
from tests.fakes.smtp_server import SmtpSink
from tests.fakes.webhook_receiver import WebhookReceiver
from tools.health.model import PartHealth
from tools.http import close_shared_clients
from tools.mcp.shared_hub import close_shared_hubs
from ui.health.checks import check_everything

TIMEOUT = 2.0
"""Each check's timeout (SMART_INBOX_HEALTH_TIMEOUT) in this benchmark."""


async def _rounds(n: int) -> tuple[list[float], dict[str, list[float]], list[PartHealth]]:
    totals: list[float] = []
    parts: dict[str, list[float]] = {}
    last: list[PartHealth] = []
    for _ in range(n):
        started = time.perf_counter()
        last, _ = await check_everything()
        totals.append(time.perf_counter() - started)
        for part in last:
            if part.latency_ms is not None:
                parts.setdefault(part.part, []).append(part.latency_ms / 1000)
    return totals, parts, last


async def _measure(workdir: Path, rounds: int, hung_rounds: int) -> dict[str, Any]:
    maildir = workdir / "mail"
    generate_maildir(maildir, 50)
    home = workdir / "home"
    home.mkdir(mode=0o700)
    smtp = SmtpSink().start()
    jira = FakeJira("me@acme.example", "bench-jira-token").start()
    slack = FakeSlack("xoxb-bench-slack-token").start()
    receiver = WebhookReceiver("bench-signing-secret").start()
    mcp = HttpMcpServer().start()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    (home / "mcp.json").write_text(json.dumps({"mcpServers": {"files": {"url": mcp.url}}}))
    os.environ.update(
        {
            "SMART_INBOX_HOME": str(home),
            "INBOX": f"maildir:{maildir}",
            "MODEL": "rules",
            "SMTP_URL": smtp.url,
            "SMTP_FROM": "Me <me@acme.example>",
            "JIRA_BASE_URL": jira.base_url,
            "JIRA_EMAIL": "me@acme.example",
            "JIRA_PROJECT": "NW",
            "JIRA_API_TOKEN": "bench-jira-token",
            "SLACK_API_URL": slack.base_url + "/api",
            "SLACK_BOT_TOKEN": "xoxb-bench-slack-token",
            "SLACK_CHANNEL": "#ops",
            "WEBHOOK_URL": receiver.url,
            "WEBHOOK_SECRET": "bench-signing-secret",
            "SMART_INBOX_HEALTH_TIMEOUT": str(TIMEOUT),
        }
    )
    result: dict[str, Any] = {}
    try:
        await _rounds(2)  # warm-up: the MCP session, the HTTP client, the database
        log(f"health: {rounds} rounds, every server up ...")
        totals, parts, last = await _rounds(rounds)
        result["up"] = {"total": summary_ms(totals), "parts": parts, "states": last}
        assert mcp.process is not None
        mcp.process.send_signal(signal.SIGSTOP)
        os.environ["SMTP_URL"] = f"smtp://127.0.0.1:{silent.getsockname()[1]}"
        log(f"health: {hung_rounds} rounds, the MCP and SMTP servers hung ...")
        totals, _, last = await _rounds(hung_rounds)
        result["hung"] = {"total": summary_ms(totals), "states": last}
        mcp.process.send_signal(signal.SIGCONT)
    finally:
        await close_shared_hubs()
        await close_shared_clients()
        for server in (smtp, jira, slack, receiver, mcp):
            server.stop()
        silent.close()
    return result


def run(rounds: int = 30, hung_rounds: int = 5) -> dict[str, Any]:
    """Measure; returns the summaries and a Markdown section under `markdown`."""
    with tempfile.TemporaryDirectory(prefix="bench-health-") as tmp:
        result = asyncio.run(_measure(Path(tmp), rounds, hung_rounds))
    found = dict(machine())
    result.update(rounds=rounds, hung_rounds=hung_rounds, day=f"{datetime.now(UTC):%Y-%m-%d}")
    result["machine"] = f"{found['CPU']}, {found['Cores']}, {found['OS']}"
    result["markdown"] = _markdown(result)
    return result


def _markdown(r: dict[str, Any]) -> str:
    up, hung = r["up"], r["hung"]
    rows = [
        [
            "every server up",
            up["total"]["n"],
            fmt_ms(up["total"]["p50"]),
            fmt_ms(up["total"]["p95"]),
            ", ".join(sorted({p.state for p in up["states"]})),
        ],
        [
            "MCP server and SMTP hung",
            hung["total"]["n"],
            fmt_ms(hung["total"]["p50"]),
            fmt_ms(hung["total"]["p95"]),
            ", ".join(f"{p.part} {p.state}" for p in hung["states"] if p.state == "down"),
        ],
    ]
    parts = [
        [name, fmt_ms(summary_ms(values)["p50"]), fmt_ms(summary_ms(values)["p95"])]
        for name, values in up["parts"].items()
    ]
    return f"""## Health checks: one round, every part at once

One round of `smart-inbox health` as the background watch runs it (build the services, then
check every part concurrently, each within its own timeout of {TIMEOUT:g} s), timed from the
call to its return; {r["rounds"]} rounds with every server up, after 2 warm-up rounds, then
{r["hung_rounds"]} rounds with the MCP server stopped (SIGSTOP) and SMTP pointed at a port that
accepts but never greets. Local servers: SMTP (aiosmtpd), Jira and Slack stand-ins, a webhook
receiver, an MCP server over streamable HTTP; the inbox a generated Maildir of 50 messages.
A hung part costs its timeout once: the round waits for the slowest check, not their sum.
Measured on {r["machine"]} ({r["day"]}).

{table(["servers", "rounds", "round p50 (ms)", "round p95 (ms)", "states"], rows)}

Each check with every server up:

{table(["part", "p50 (ms)", "p95 (ms)"], parts)}
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="rounds with every server up")
    parser.add_argument("--hung-rounds", type=int, default=5, help="rounds with servers hung")
    args = parser.parse_args(argv)
    print(run(args.rounds, args.hung_rounds)["markdown"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
