"""Run every benchmark and (re)write `bench/RESULTS.md`: `make bench`.

Each benchmark runs in its own process, so one cannot warm up, or use memory for, the other.
`--quick` runs small sizes and prints the report instead of writing it (a smoke test).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench.common import log, machine_table

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"

FULL = (
    ("bench.turn_latency", ["--n", "200", "--warmup", "20", "--per-thread", "4"]),
    ("bench.triage_throughput", ["--n", "10000", "--chat-turns", "20"]),
    ("bench.mcp_calls", ["--n", "300", "--fresh-n", "40"]),
    ("bench.server_start", ["--starts", "3", "--turns", "20"]),
)
QUICK = (
    ("bench.turn_latency", ["--n", "20", "--warmup", "3"]),
    ("bench.triage_throughput", ["--n", "500", "--chat-turns", "5"]),
    ("bench.mcp_calls", ["--n", "30", "--fresh-n", "5", "--warmup", "2"]),
    ("bench.server_start", ["--starts", "1", "--turns", "3"]),
)


def _run(module: str, args: list[str]) -> tuple[str, float]:
    log(f"== {module} {' '.join(args)}")
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=HERE.parent,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return done.stdout.strip(), time.perf_counter() - started


def report(sections: list[tuple[str, str, list[str], float]], started_at: datetime) -> str:
    """The whole RESULTS.md text."""
    runs = "\n".join(
        f"* `python -m {module} {' '.join(args)}` — {seconds:.0f} s"
        for module, _, args, seconds in sections
    )
    body = "\n\n".join(text for _, text, _, _ in sections)
    return f"""# Benchmark results

Measured on {started_at:%Y-%m-%d} at {started_at:%H:%M} UTC with `make bench`
(`python -m bench.run_all`), which rewrites this file. Every benchmark is offline (rules
engine; the MCP and LangGraph servers it starts listen on 127.0.0.1 only) and works in a temporary directory
it deletes afterwards.

{machine_table()}

Runs (each in its own process):

{runs}

{body}
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes; print, do not write")
    parser.add_argument("--output", type=Path, help=f"where to write (default {RESULTS.name})")
    args = parser.parse_args(argv)
    started_at = datetime.now(UTC)
    sections = []
    for module, module_args in QUICK if args.quick else FULL:
        text, seconds = _run(module, module_args)
        sections.append((module, text, module_args, seconds))
    text = report(sections, started_at)
    output = args.output or (None if args.quick else RESULTS)
    if output is None:
        print(text)
    else:
        output.write_text(text)
        log(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
