"""Time of secret scrubbing on large text: what every log line, tool result and state passes.

`memory.redaction.KnownSecrets.scrub` masks every remembered secret and anything shaped like
one (bearer tokens, keys in URLs, long base64 runs that decode to a known value). The text a
tool hands back can be a whole message body, so the cost on a megabyte matters, and so do the
shapes built to slow a regular expression down. Each row is scrubbed `--repeats` times after
one warm-up call; the median and the fastest are shown (the machine is shared).

Run alone: `python -m bench.scrub --repeats 9`.
"""

from __future__ import annotations

import argparse
import base64
import statistics
import sys
import time
from collections.abc import Sequence

from bench.common import log, table
from memory.redaction import KnownSecrets

MIB = 2**20


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def shapes() -> dict[str, str]:
    """One MiB of each kind of text."""
    prose = "the invoice for March is overdue; please pay by Friday. "
    return {
        "prose (a long mail body)": (prose * (MIB // len(prose) + 1))[:MIB],
        "prose and base64 (an attachment pasted in)": (prose * 13_000)[: MIB * 7 // 10]
        + _b64(bytes(range(256)) * 1200)[: MIB * 3 // 10],
        "one unbroken base64 run": _b64(bytes(range(256)) * 3100)[:MIB],
        "`Bearer ` repeated with no token": ("Bearer " * (MIB // 7 + 1))[:MIB],
        "`key=` repeated in a query string": ("?key=&token=" * (MIB // 12 + 1))[:MIB],
        "one character repeated": "a" * MIB,
    }


def _secrets() -> KnownSecrets:
    known = KnownSecrets()
    for number in range(10):
        known.remember(f"s{number}", f"secret-{number}-{'k' * number}-Zq81mW0p")
    return known


def run(repeats: int) -> list[list[str]]:
    """One row per shape: its size, median and fastest time, and whether it came back whole."""
    known = _secrets()
    known.scrub("warm up")
    rows = []
    for name, text in shapes().items():
        log(f"scrubbing {name} ...")
        seconds = []
        result = text
        for _ in range(repeats):
            started = time.perf_counter()
            result = known.scrub(text)
            seconds.append(time.perf_counter() - started)
        rows.append(
            [
                name,
                f"{len(text) / MIB:.1f}",
                f"{statistics.median(seconds) * 1000:.1f} ({min(seconds) * 1000:.1f})",
                "unchanged" if result == text else "changed",
            ]
        )
    return rows


def markdown(rows: list[list[str]], repeats: int) -> str:
    """The section for `bench/RESULTS.md`."""
    headers = ["text", "MiB", "scrub (ms): median (fastest)", "text afterwards"]
    return f"""## Secret scrubbing of a megabyte

Ten secrets remembered, then each text scrubbed {repeats} times (after one warm-up call). None
of these texts holds a secret, so each must come back unchanged; the adversarial rows repeat
the prefixes the scrubber looks for without ever completing one.

{table(headers, rows)}
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9, help="runs per text")
    args = parser.parse_args(argv)
    print(markdown(run(args.repeats), args.repeats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
