"""Shared helpers: machine description, percentiles, Markdown tables, memory readings."""

from __future__ import annotations

import math
import os
import platform
import resource
import sqlite3
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

# Same as the command line: checkpoints load only allow-listed types. Set before langgraph loads.
os.environ.setdefault("LANGGRAPH_STRICT_MSGPACK", "true")


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50, p95, mean, min and max of a sample of durations, in milliseconds."""
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50": statistics.median(ms),
        "p95": percentile(ms, 95),
        "mean": statistics.fmean(ms),
        "min": min(ms),
        "max": max(ms),
    }


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines.extend("| " + " | ".join(str(cell) for cell in row) + " |" for row in rows)
    return "\n".join(lines)


def max_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / (1024 * 1024)


def current_rss_mib() -> float | None:
    """Current resident set size, in MiB, where /proc is available."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _total_memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                name = line.split("=", 1)[1].strip().strip('"')
                return f"{name} (kernel {platform.release()})"
    except OSError:
        pass
    return platform.platform()


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def machine() -> list[tuple[str, str]]:
    """What the numbers were measured on."""
    from importlib.metadata import version

    def pkg(name: str) -> str:
        try:
            return version(name)
        except Exception:  # noqa: BLE001 — a missing package is just "not installed"
            return "not installed"

    return [
        ("CPU", _cpu_model()),
        ("Cores", f"{os.cpu_count()} logical, {_usable_cores()} usable by this process"),
        ("Memory", _total_memory_gib()),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("OS", _os_name()),
        (
            "Libraries",
            f"langgraph {pkg('langgraph')}, langgraph-prebuilt {pkg('langgraph-prebuilt')}, "
            f"langchain-core {pkg('langchain-core')}, "
            f"langgraph-checkpoint-sqlite {pkg('langgraph-checkpoint-sqlite')}, "
            f"langgraph-checkpoint-postgres {pkg('langgraph-checkpoint-postgres')}, "
            f"psycopg {pkg('psycopg')}, "
            f"SQLAlchemy {pkg('SQLAlchemy')}, sqlmodel {pkg('sqlmodel')}",
        ),
        ("Databases", f"SQLite {sqlite3.sqlite_version}, {_postgres_version()}"),
    ]


def _postgres_version() -> str:
    """The PostgreSQL server the load test starts, as `postgres --version` says."""
    import subprocess

    from tests.postgres_server import PostgresUnavailable, find_bindir

    try:
        done = subprocess.run(
            [str(find_bindir() / "postgres"), "--version"], capture_output=True, text=True
        )
    except (PostgresUnavailable, OSError):
        return "PostgreSQL not installed"
    return done.stdout.strip().replace("postgres (PostgreSQL)", "PostgreSQL")


def machine_table() -> str:
    """The machine description as a two-column table."""
    return table(["", ""], machine())


def fmt_ms(value: float) -> str:
    """Milliseconds with a sensible number of digits."""
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def log(message: str) -> None:
    """Progress on stderr, so stdout carries only the results."""
    print(message, file=sys.stderr, flush=True)


class NodeTimer:
    """A LangChain callback handler that times each graph node run (wall clock)."""

    def __init__(self) -> None:
        import time

        self._clock = time.perf_counter
        self._open: dict[object, tuple[str, float]] = {}
        self.seconds: dict[str, list[float]] = {}

    def handler(self) -> object:
        """The handler to pass in `config["callbacks"]`."""
        from langchain_core.callbacks import BaseCallbackHandler

        timer = self

        class _Handler(BaseCallbackHandler):
            def on_chain_start(self, serialized, inputs, *, run_id, metadata=None, **kwargs):  # type: ignore[no-untyped-def]
                node = (metadata or {}).get("langgraph_node")
                if node and kwargs.get("name") == node:
                    timer._open[run_id] = (node, timer._clock())

            def on_chain_end(self, outputs, *, run_id, **kwargs):  # type: ignore[no-untyped-def]
                timer._close(run_id)

            def on_chain_error(self, error, *, run_id, **kwargs):  # type: ignore[no-untyped-def]
                timer._close(run_id)

        return _Handler()

    def _close(self, run_id: object) -> None:
        if run_id in self._open:
            node, started = self._open.pop(run_id)
            self.seconds.setdefault(node, []).append(self._clock() - started)
