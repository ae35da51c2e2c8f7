"""Run every benchmark and (re)write `bench/RESULTS.md`: `make bench`.

Each benchmark runs in its own process, so one cannot warm up, or use memory for, the other.
`--quick` runs small sizes and prints the report instead of writing it (a smoke test);
`--only MODULE` runs one benchmark and keeps the others' sections as they are.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from bench.common import log, machine_table

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"

FULL = (
    ("bench.turn_latency", ["--n", "200", "--warmup", "20", "--per-thread", "4"]),
    ("bench.triage_throughput", ["--n", "10000", "--chat-turns", "20"]),
    ("bench.side_by_side", ["--n", "10000", "--rounds", "3", "--big", "100000"]),
    ("bench.threading", ["--n", "10000", "--repeats", "5"]),
    ("bench.search", ["--sizes", "10000", "100000", "--pool", "2000", "--repeats", "10"]),
    ("bench.mcp_calls", ["--n", "300", "--fresh-n", "40"]),
    ("bench.server_start", ["--starts", "3", "--turns", "20"]),
    ("bench.load_test", ["--conversations", "50"]),
    ("bench.browser_chat", ["--rounds", "10"]),
    ("bench.hostile_mail", ["--n", "300"]),
    ("bench.services_build", ["--n", "300"]),
    ("bench.health_checks", ["--rounds", "30", "--hung-rounds", "5"]),
    ("bench.triage_eval", []),
    ("bench.outlook_sync", ["--n", "1000"]),
    ("bench.gmail_sync", ["--n", "500"]),
    ("bench.scrub", ["--repeats", "9"]),
)
QUICK = (
    ("bench.turn_latency", ["--n", "20", "--warmup", "3"]),
    ("bench.triage_throughput", ["--n", "500", "--chat-turns", "5"]),
    ("bench.side_by_side", ["--n", "300", "--rounds", "1", "--big", "0"]),
    ("bench.threading", ["--n", "1000", "--repeats", "1"]),
    ("bench.search", ["--sizes", "1000", "--pool", "100", "--repeats", "2"]),
    ("bench.mcp_calls", ["--n", "30", "--fresh-n", "5", "--warmup", "2"]),
    ("bench.server_start", ["--starts", "1", "--turns", "3"]),
    ("bench.load_test", ["--conversations", "3"]),
    ("bench.browser_chat", ["--rounds", "1"]),
    ("bench.hostile_mail", ["--n", "40", "--quick"]),
    ("bench.services_build", ["--n", "30", "--warmup", "3"]),
    ("bench.health_checks", ["--rounds", "3", "--hung-rounds", "1"]),
    ("bench.triage_eval", []),
    ("bench.outlook_sync", ["--n", "50"]),
    ("bench.gmail_sync", ["--n", "50"]),
    ("bench.scrub", ["--repeats", "1"]),
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


@dataclass
class Section:
    """One benchmark's run and its Markdown."""

    module: str
    args: list[str]
    seconds: float
    day: str
    """When it ran (UTC date)."""
    text: str
    line: str = ""
    """The run line as read from an existing file, kept as it was (a benchmark run by hand in
    several steps writes its own); empty for a run made now."""

    def run_line(self) -> str:
        return self.line or (
            f"* `python -m {self.module} {' '.join(self.args)}` — {self.seconds:.0f} s ({self.day})"
        )


RUN_LINE = re.compile(r"^\* `python -m (\S+) ?(.*)` — (\d+) s \((\d{4}-\d{2}-\d{2})\)$")
HAND_LINE = re.compile(r"^\* `python -m (\S+)[ `]")
MARKER = re.compile(r"<!-- bench: (\S+) -->\n")


def report(sections: list[Section]) -> str:
    """The whole RESULTS.md text."""
    runs = "\n".join(s.run_line() for s in sections)
    body = "\n\n".join(f"<!-- bench: {s.module} -->\n{s.text}" for s in sections)
    return f"""# Benchmark results

Measured with `make bench` (`python -m bench.run_all`), which rewrites this file;
`python -m bench.run_all --only MODULE` measures one benchmark again and replaces only its
section. Every benchmark is offline (rules engine; the MCP, SMTP, LangGraph and PostgreSQL
servers it starts listen on 127.0.0.1 only) and works in a temporary directory it deletes
afterwards. The machine is shared: other work may run on its two cores at the same time, so
absolute numbers vary from run to run (compare the ratios within one section).

{machine_table()}

Runs (each in its own process; the date is when it ran, UTC):

{runs}

{body}
"""


def read_sections(path: Path) -> list[Section]:
    """The sections of an existing RESULTS.md written by `report` (or edited by hand).

    Every marked section is kept. Its run line is parsed when it has the form `report` writes;
    any other line naming the module (a run made by hand in steps) is kept word for word.
    """
    text = path.read_text() if path.exists() else ""
    runs: dict[str, Section] = {}
    for line in text.splitlines():
        found = RUN_LINE.match(line)
        if found:
            module, args, seconds, day = found.groups()
            runs[module] = Section(module, args.split(), float(seconds), day, "")
        elif (named := HAND_LINE.match(line)) and named.group(1) not in runs:
            runs[named.group(1)] = Section(named.group(1), [], 0.0, "", "", line=line)
    parts = MARKER.split(text)
    sections = []
    for module, body in zip(parts[1::2], parts[2::2], strict=True):
        run = runs.get(module) or Section(module, [], 0.0, "", "", line=f"* `python -m {module}`")
        sections.append(replace(run, text=body.strip()))
    return sections


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes; print, do not write")
    parser.add_argument("--output", type=Path, help=f"where to write (default {RESULTS.name})")
    parser.add_argument(
        "--only",
        action="append",
        choices=[module for module, _ in FULL],
        help="run only this benchmark and keep the other sections of the file (repeatable)",
    )
    args = parser.parse_args(argv)
    output = args.output or (None if args.quick else RESULTS)
    plan = QUICK if args.quick else FULL
    kept = {s.module: s for s in read_sections(output)} if (args.only and output) else {}
    sections = []
    for module, module_args in plan:
        if args.only and module not in args.only:
            if module in kept:
                sections.append(kept[module])
            continue
        day = f"{datetime.now(UTC):%Y-%m-%d}"
        text, seconds = _run(module, module_args)
        sections.append(Section(module, module_args, seconds, day, text))
    text = report(sections)
    if output is None:
        print(text)
    else:
        output.write_text(text)
        log(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
