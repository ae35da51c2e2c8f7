"""Time of one node run's services: built afresh on every call against kept for the process.

Every node run asks `graph.services.services_for` for its database, mailbox, toolkits, tool
catalogue, engine and policy. Two data directories on a generated Maildir:

* nothing configured: the mail tools and the local calendar, every integration absent;
* everything configured: Jira, Slack, Teams and HubSpot (settings in the environment, their
  tokens in the vault), two webhook endpoints in `webhooks.json`, SMTP and a policy file.

Each is measured built afresh on every call (`build_services`, what every node run did before
the services were kept) and kept (`kept_services`: the readings that decide whether the kept
set is current, the policy read again), both directly and as a node calls them
(`services_for`: the MCP configuration looked up, then the services, in worker threads).

Run alone: `python -m bench.services_build --n 300`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime

from bench.common import fmt_ms, log, machine, summary_ms, table
from bench.mailgen import generate_maildir
from graph.context import Context
from graph.policy import load_policy, policy_path
from graph.services import build_services, services_for
from graph.services.kept import environment_fingerprint, file_stamp, kept_services, watched_files
from memory.paths import data_dir
from memory.service_stamps import credentials_stamp
from memory.vault import open_vault
from tools.mcp.config import mcp_config_path
from tools.mcp.shared_hub import shared_hub

CONFIGURED_ENV = {
    "JIRA_BASE_URL": "https://jira.example",
    "JIRA_EMAIL": "me@acme.example",
    "JIRA_PROJECT": "NW",
    "SLACK_CHANNEL": "C0123456",
    "TEAMS_WEBHOOK_URL": "https://teams.example/webhook",
    "SMTP_URL": "smtp://127.0.0.1:2525",
    "SMTP_FROM": "Me <me@acme.example>",
    "WEBHOOK_SECRET": "bench-signing-secret",
}
STORED = {
    "jira.api_token": "bench-jira-token",
    "slack.bot_token": "xoxb-bench-slack-token",
    "hubspot.token": "bench-hubspot-token",
}
WEBHOOKS = {
    "endpoints": {
        "ops": {"url": "https://hooks.example/ops", "events": ["reply_sent"]},
        "crm": {"url": "https://hooks.example/crm"},
    }
}
POLICY = {
    "tools": {"send_reply": 1, "jira_create_issue": 1},
    "trusted": {"domains": ["acme.example"]},
}
ROWS = (
    ("build", "`build_services`: built afresh (every node run before)"),
    ("kept", "`kept_services`: kept, checked"),
    ("node build", "`services_for` as before: built afresh"),
    ("node kept", "`services_for` now: kept, checked"),
)
PARTS = (
    ("environment", "environment fingerprint (`os.environ`, sha256)"),
    ("files", "watched files' stamps (webhooks file, key file)"),
    ("credentials", "credentials stamp (one query, sha256)"),
    ("policy", "policy file read and parsed"),
)


def _timed(call: Callable[[], Any], n: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


async def _timed_async(call: Callable[[], Any], n: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        await call()
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return samples


def _configure(home: Path) -> None:
    os.environ.update(CONFIGURED_ENV)
    vault = open_vault(home)
    for name, value in STORED.items():
        vault.set(name, value)
    (home / "webhooks.json").write_text(json.dumps(WEBHOOKS))
    (home / "policy.json").write_text(json.dumps(POLICY))


def _measure_setup(context: Context, n: int, warmup: int) -> dict[str, Any]:
    home = data_dir(context.home)
    built = build_services(context)
    samples = {
        "build": _timed(lambda: build_services(context), n, warmup),
        "kept": _timed(lambda: kept_services(context), n, warmup),
        "environment": _timed(lambda: environment_fingerprint(os.environ), n, warmup),
        "files": _timed(lambda: [file_stamp(p) for p in watched_files(home)], n, warmup),
        "credentials": _timed(lambda: credentials_stamp(built.db), n, warmup),
        "policy": _timed(lambda: load_policy(policy_path(home)), n, warmup),
    }

    async def node_calls() -> None:
        runtime = Runtime(context=context)

        async def before() -> Any:
            # As `services_for` was: the MCP configuration in two worker thread hops, then a
            # third that builds everything afresh.
            path = await asyncio.to_thread(lambda: mcp_config_path(data_dir(context.home)))
            hub = await shared_hub(path) if await asyncio.to_thread(path.exists) else None
            return await asyncio.to_thread(build_services, context, hub)

        samples["node build"] = await _timed_async(before, n, warmup)
        samples["node kept"] = await _timed_async(lambda: services_for(runtime), n, warmup)

    asyncio.run(node_calls())
    return {
        "summaries": {name: summary_ms(values) for name, values in samples.items()},
        "configured": [kit.name for kit in built.tools.toolkits if not kit.missing],
        "tools": len(built.tools.names()),
    }


def _measure(workdir: Path, n: int, warmup: int) -> dict[str, Any]:
    for name in (*CONFIGURED_ENV, "WEBHOOK_URL", "WEBHOOKS_CONFIG", "DATABASE_URL", "MODEL"):
        os.environ.pop(name, None)
    maildir = workdir / "mail"
    generate_maildir(maildir, 50)
    results: dict[str, Any] = {}
    first = Context(model="rules", inbox=f"maildir:{maildir}", home=str(workdir / "bare"))
    started = time.perf_counter()
    build_services(first)
    results["first"] = (time.perf_counter() - started) * 1000
    log(f"services: nothing configured, {n} calls per row ...")
    results["nothing configured"] = _measure_setup(first, n, warmup)
    home = workdir / "configured"
    home.mkdir(mode=0o700)
    _configure(home)
    configured = Context(model="rules", inbox=f"maildir:{maildir}", home=str(home))
    log(f"services: everything configured, {n} calls per row ...")
    results["everything configured"] = _measure_setup(configured, n, warmup)
    return results


def run(n: int = 300, warmup: int = 20) -> dict[str, Any]:
    """Measure; returns the summaries and a Markdown section under `markdown`."""
    with tempfile.TemporaryDirectory(prefix="bench-services-") as tmp:
        result = _measure(Path(tmp), n, warmup)
    found = dict(machine())
    result.update(n=n, warmup=warmup, day=f"{datetime.now(UTC):%Y-%m-%d}")
    result["machine"] = f"{found['CPU']}, {found['Cores']}, {found['OS']}"
    result["markdown"] = _markdown(result)
    return result


def _markdown(r: dict[str, Any]) -> str:
    setups = ("nothing configured", "everything configured")
    rows = []
    for setup in setups:
        s = r[setup]["summaries"]
        for key, label in ROWS:
            ratio = s[key]["p50"] / s["node kept" if key.startswith("node") else "kept"]["p50"]
            p50, p95 = fmt_ms(s[key]["p50"]), fmt_ms(s[key]["p95"])
            rows.append([setup, label, s[key]["n"], p50, p95, f"{ratio:.0f}×"])
    parts = [
        [label, *(fmt_ms(r[setup]["summaries"][key]["p50"]) for setup in setups)]
        for key, label in PARTS
    ]
    kits = ", ".join(r["everything configured"]["configured"])
    return f"""## Services per node run: built afresh against kept

One call for a node run's services, timed from the call to its return, {r["n"]} calls per row
after {r["warmup"]} warm-up calls, on a generated Maildir of 50 messages with the SQLite
database already open (the first build in the process, which opens and migrates it, took
{r["first"]:.0f} ms). "Nothing configured" offers {r["nothing configured"]["tools"]} tools.
"Everything configured" offers {r["everything configured"]["tools"]}, from the toolkits {kits}
(their settings in the environment, three tokens in the vault, two webhook endpoints, a policy
file). A kept call takes the readings that decide whether the kept set is still current,
reads the policy again and adds the MCP tools (none here). As a node calls them, the MCP
configuration is looked for first (no `mcp.json` here): before, in two worker thread hops and
the build in a third; now in one hop, the kept set in a second. A graph turn makes 8 calls.
Measured on {r["machine"]} ({r["day"]}).

{table(["setup", "call", "n", "p50 (ms)", "p95 (ms)", "p50 ÷ kept p50"], rows)}

What a kept call reads each time (p50, ms):

{table(["part", *setups], parts)}
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="calls per row")
    parser.add_argument("--warmup", type=int, default=20, help="warm-up calls per row")
    args = parser.parse_args(argv)
    print(run(args.n, args.warmup)["markdown"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
