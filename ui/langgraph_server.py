"""The agent on the LangGraph server: `smart-inbox serve`, `schedule-triage`, `schedule-digest`.

`serve` runs `langgraph dev` (the in-memory LangGraph server) offline: no analytics, no version
check, no tracing unless you configured it, on a port that must be free (the server would
otherwise pick another one without saying so), with its state in the data directory so
threads survive a restart. `schedule-triage` uses the server's cron API to run the `triage`
graph on a schedule, `schedule-digest` the `digest` graph once a day.
"""

from __future__ import annotations

import errno
import json
import os
import re
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 2024
DEFAULT_JOBS = 4
DEFAULT_URL = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
SERVER_DIR = "server"
"""The server's working directory inside the data directory: its `langgraph.json` and its
saved state (`.langgraph_api/`: threads, runs, crons, checkpoints)."""
STUDIO_URL = "https://smith.langchain.com/studio/?baseUrl={url}"

GRAPHS = {
    "agent": "graph.builder:graph",
    "triage": "graph.builder:triage_graph",
    "digest": "graph.digest_graph:digest_graph",
}
"""Graph id → `module:variable`; the repository's `langgraph.json` names the same objects."""
HTTP = {"app": "ui.health.routes:app"}
"""Our routes on the server (`GET /health`, `GET /metrics`); the repository's `langgraph.json`
names the same app."""
TRIAGE_GRAPH = "triage"
SCHEDULE_METADATA = {"smart_inbox": "scheduled-triage"}
"""Set on every scheduled-triage cron, and so on the thread of every run it starts."""
DIGEST_GRAPH = "digest"
DIGEST_METADATA = {"smart_inbox": "scheduled-digest"}
"""Set on every scheduled-digest cron."""

OFFLINE = {"LANGGRAPH_CLI_NO_ANALYTICS": "1", "LANGGRAPH_NO_VERSION_CHECK": "true"}
TRACING_VARIABLES = (
    "LANGSMITH_TRACING",
    "LANGSMITH_TRACING_V2",
    "LANGCHAIN_TRACING_V2",
    "LANGCHAIN_TRACING",
)
INSTALL_HINT = 'pip install "langgraph-cli[inmem]"'


class ServerError(Exception):
    """Something about the server the user can fix (a taken port, a missing package)."""


def check_installed() -> None:
    """Raise when the in-memory LangGraph server is not installed."""
    for module in ("langgraph_cli", "langgraph_api", "langgraph_runtime_inmem"):
        if find_spec(module) is None:
            raise ServerError(f"the LangGraph server is not installed: {INSTALL_HINT}")


def check_port(host: str, port: int) -> None:
    """Raise unless `host:port` can be bound now (the server must not move to another port)."""
    if not 0 < port < 65536:
        raise ServerError(f"--port must be between 1 and 65535, not {port}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise ServerError(f"cannot listen on {host}: {err.strerror}") from err
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # As uvicorn binds: a port left in TIME_WAIT by a stopped server counts as free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as err:
            reason = (
                "already in use" if err.errno == errno.EADDRINUSE else (err.strerror or str(err))
            )
            raise ServerError(
                f"port {port} on {host} is {reason}: stop what listens there or pick "
                "another with --port"
            ) from err


def read_env_file(path: Path) -> dict[str, str]:
    """`KEY=value` lines of an env file (python-dotenv syntax); a missing file is an error."""
    from dotenv import dotenv_values

    if not path.is_file():
        raise ServerError(f"env file {path} does not exist")
    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def _absolute_spec(value: str, prefix: str, base: Path) -> str:
    if not value.lower().startswith(prefix):
        return value
    rest = value[len(prefix) :]
    if not rest or Path(rest).expanduser().is_absolute():
        return value
    return prefix + str((base / Path(rest).expanduser()).resolve())


def server_environment(
    environ: Mapping[str, str], *, env_file: Mapping[str, str] | None = None, cwd: Path
) -> dict[str, str]:
    """The server's environment: ours plus the env file, offline, with every path absolute.

    Variables already in `environ` win over the env file. The server runs in another
    directory, so relative paths are resolved against `cwd` first.
    """
    env = {**(env_file or {}), **environ}
    env.update(OFFLINE)
    env.setdefault("LANGGRAPH_STRICT_MSGPACK", "true")
    if not any(env.get(name, "").strip() for name in TRACING_VARIABLES):
        # The server turns tracing on by itself when it sees a LangSmith key: only on request.
        env["LANGSMITH_TRACING"] = "false"
    home = env.get("SMART_INBOX_HOME", "").strip() or ".smart-inbox"
    env["SMART_INBOX_HOME"] = str((cwd / Path(home).expanduser()).resolve())
    if env.get("INBOX", "").strip():
        env["INBOX"] = _absolute_spec(env["INBOX"].strip(), "maildir:", cwd)
    if env.get("MODEL", "").strip():
        env["MODEL"] = _absolute_spec(env["MODEL"].strip(), "replay:", cwd)
    for name in ("MCP_CONFIG", "SMTP_CA_FILE"):
        if env.get(name, "").strip():
            env[name] = str((cwd / Path(env[name].strip()).expanduser()).resolve())
    return env


def project_root() -> Path:
    """The directory that holds the `graph` package (what the server adds to `sys.path`)."""
    return Path(__file__).resolve().parent.parent


def write_server_config(server_dir: Path) -> Path:
    """Write the server's `langgraph.json` into its directory; returns its path."""
    server_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = server_dir / "langgraph.json"
    config = {"dependencies": [str(project_root())], "graphs": GRAPHS, "http": HTTP}
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return path


def dev_command(config: Path, host: str, port: int, jobs: int) -> list[str]:
    """The `langgraph dev` command line: no browser, no reloader (it would watch the data)."""
    return [
        sys.executable,
        "-m",
        "langgraph_cli",
        "dev",
        "--config",
        str(config),
        "--host",
        host,
        "--port",
        str(port),
        "--no-browser",
        "--no-reload",
        "--n-jobs-per-worker",
        str(jobs),
    ]


def server_url(host: str, port: int) -> str:
    """The base URL clients use for a server listening on `host:port`."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    shown = f"[{shown}]" if ":" in shown else shown
    return f"http://{shown}:{port}"


# -- scheduled triage -------------------------------------------------------

EVERY = re.compile(r"^\s*(\d+)\s*([mh])\s*$", re.IGNORECASE)


def schedule_from_every(every: str) -> str:
    """A cron schedule for `--every`: `15m` → `*/15 * * * *`, `2h` → `0 */2 * * *`."""
    match = EVERY.match(every)
    if not match:
        raise ServerError(f"--every takes minutes or hours such as 15m or 2h, not {every!r}")
    amount, unit = int(match.group(1)), match.group(2).lower()
    if unit == "m" and 1 <= amount <= 59:
        return f"*/{amount} * * * *"
    if unit == "h" and 1 <= amount <= 23:
        return f"0 */{amount} * * *"
    raise ServerError(f"--every must be 1m to 59m or 1h to 23h, not {every!r}")


@dataclass(frozen=True)
class ScheduledTriage:
    """One scheduled-triage cron as the server reports it."""

    cron_id: str
    schedule: str
    timezone: str
    next_run: str
    enabled: bool

    @classmethod
    def from_cron(cls, cron: Mapping[str, Any]) -> ScheduledTriage:
        """Read the SDK's cron record."""
        return cls(
            cron_id=str(cron["cron_id"]),
            schedule=str(cron["schedule"]),
            timezone=str(cron.get("timezone") or "UTC"),
            next_run=str(cron.get("next_run_date") or ""),
            enabled=bool(cron.get("enabled", True)),
        )

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "id": self.cron_id,
            "schedule": self.schedule,
            "timezone": self.timezone,
            "next_run": self.next_run,
            "enabled": self.enabled,
        }


def client_for(url: str) -> Any:
    """An SDK client for `url`; it sends `LANGGRAPH_API_KEY` if set and no other key."""
    from langgraph_sdk import get_client

    # The SDK would otherwise send a LangSmith key from the environment to any URL.
    return get_client(url=url, api_key=os.environ.get("LANGGRAPH_API_KEY") or None)


async def _call(url: str, action: str, coroutine: Any) -> Any:
    import httpx

    try:
        return await coroutine
    except httpx.HTTPStatusError as err:
        detail = err.response.text.strip()[:300]
        raise ServerError(
            f"the LangGraph server at {url} refused to {action}: "
            f"{err.response.status_code} {detail}"
        ) from err
    except httpx.HTTPError as err:
        raise ServerError(
            f"cannot reach the LangGraph server at {url} ({type(err).__name__}); "
            "start it with: smart-inbox serve"
        ) from err


async def _schedule(
    url: str, kind: str, graph: str, metadata: dict[str, str], on_done: str, when: Cron
) -> ScheduledTriage:
    """Create a cron that runs `graph` (`on_done`: keep or delete each run's thread)."""
    cron = await _call(
        url,
        f"schedule the {kind}",
        client_for(url).crons.create(
            graph,
            schedule=when.schedule,
            input={},
            metadata=metadata,
            on_run_completed=on_done,  # type: ignore[arg-type]
            timezone=when.timezone,
        ),
    )
    return ScheduledTriage.from_cron(cron)


async def _scheduled(url: str, metadata: dict[str, str]) -> list[ScheduledTriage]:
    """Every cron on the server carrying `metadata`."""
    crons = await _call(
        url, "list its crons", client_for(url).crons.search(metadata=metadata, limit=100)
    )
    return [ScheduledTriage.from_cron(cron) for cron in crons]


async def _unschedule(url: str, kind: str, metadata: dict[str, str], cron_id: str) -> None:
    """Delete one cron of this kind; an id that is not one of them is a clear error."""
    known = {s.cron_id for s in await _scheduled(url, metadata)}
    if cron_id not in known:
        raise ServerError(
            f"no scheduled {kind} {cron_id!r} on {url}; scheduled: {', '.join(known) or 'none'}"
        )
    await _call(url, "delete the cron", client_for(url).crons.delete(cron_id))


@dataclass(frozen=True)
class Cron:
    """When a scheduled run runs: a cron schedule and its time zone (None: UTC)."""

    schedule: str
    timezone: str | None


async def schedule_triage(url: str, schedule: str, timezone: str | None) -> ScheduledTriage:
    """Create a cron that runs the triage graph, each run on a thread of its own that is kept.

    A kept thread is where a run's approval requests wait; the metadata finds them again.
    """
    when = Cron(schedule, timezone)
    return await _schedule(url, "triage", TRIAGE_GRAPH, SCHEDULE_METADATA, "keep", when)


async def scheduled_triages(url: str) -> list[ScheduledTriage]:
    """Every scheduled-triage cron on the server."""
    return await _scheduled(url, SCHEDULE_METADATA)


async def unschedule_triage(url: str, cron_id: str) -> None:
    """Delete one scheduled-triage cron; its threads (and their pending requests) stay."""
    await _unschedule(url, "triage", SCHEDULE_METADATA, cron_id)


# -- scheduled digest -------------------------------------------------------

AT = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")


def schedule_from_at(at: str) -> str:
    """A daily cron schedule for `--at`: `07:30` → `30 7 * * *`."""
    match = AT.match(at)
    if not match:
        raise ServerError(f"--at takes a time of day such as 07:30, not {at!r}")
    return f"{int(match.group(2))} {int(match.group(1))} * * *"


async def schedule_digest(url: str, schedule: str, timezone: str | None) -> ScheduledTriage:
    """Create a cron that runs the digest graph; its runs' threads are not kept."""
    when = Cron(schedule, timezone)
    return await _schedule(url, "digest", DIGEST_GRAPH, DIGEST_METADATA, "delete", when)


async def scheduled_digests(url: str) -> list[ScheduledTriage]:
    """Every scheduled-digest cron on the server."""
    return await _scheduled(url, DIGEST_METADATA)


async def unschedule_digest(url: str, cron_id: str) -> None:
    """Delete one scheduled-digest cron."""
    await _unschedule(url, "digest", DIGEST_METADATA, cron_id)
