"""Fetching a Microsoft 365 inbox through Graph's delta queries: what each kind of re-sync costs.

A generated mailbox of `--n` messages is put in a local server speaking Microsoft Graph
(`tests/fakes/graph_server.py`, 127.0.0.1, pages of two messages so paging is exercised), then
an `outlook:` source fetches it: the first sync, a re-sync of the unchanged mailbox, a re-sync
after one new message, and one after the server expired every delta link (410, a full listing
again). Each row counts Graph requests (delta calls, messages read as MIME) and times the sync.
Run alone: `python -m bench.outlook_sync --n 200`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.common import fmt_ms, log, machine, table
from bench.mailgen import MailFactory
from memory.db import AppDatabase
from tests.fakes.graph_server import PAGE_SIZE, FakeGraph
from tools.http import HttpSettings
from tools.mail.msgraph.source import OutlookSource
from tools.msgraph.client import GraphClient


def _row(name: str, graph: FakeGraph, sync: Callable[[], Any]) -> list[object]:
    graph.requests.clear()
    started = time.perf_counter()
    result = sync()
    elapsed = (time.perf_counter() - started) * 1000
    delta = sum(1 for r in graph.requests if r.path.endswith("/delta"))
    reads = sum(1 for r in graph.requests if r.path.endswith("/$value"))
    return [name, len(graph.requests), delta, reads, len(result.new), fmt_ms(elapsed)]


def run(n: int) -> dict[str, Any]:
    """Measure the four syncs; the Markdown section and the rows."""
    factory = MailFactory(1234)
    with tempfile.TemporaryDirectory() as tmp, FakeGraph() as graph:
        for _ in range(n):
            graph.deliver(factory.message()[1])
        db = AppDatabase(f"sqlite:///{Path(tmp) / 'app.db'}")
        client = GraphClient(graph.tokens(), graph.base_url, HttpSettings(timeout=30))
        source = OutlookSource("bench", client)
        rows = [_row("first sync", graph, lambda: source.sync(db))]
        log("first sync done")
        rows.append(_row("re-sync, mailbox unchanged", graph, lambda: source.sync(db)))
        graph.deliver(factory.message()[1])
        rows.append(_row("re-sync after one new message", graph, lambda: source.sync(db)))
        graph.expire_delta_links()
        rows.append(
            _row("re-sync after the delta links expired (410)", graph, lambda: source.sync(db))
        )
    day = time.strftime("%Y-%m-%d", time.gmtime())
    text = "\n".join(
        [
            "## Microsoft 365 inbox: delta re-syncs through Graph",
            "",
            f"An `outlook:` source on a local Graph holding {n} generated messages in Inbox",
            f"(Sent Items empty), delta pages of {PAGE_SIZE}. Requests are every HTTP request the",
            "sync sent; reads are messages fetched as MIME. An unchanged mailbox costs one delta",
            "call per folder (Inbox, Sent Items) and reads nothing; an expired delta link lists",
            "the folder again but reads only what is not cached.",
            f"Measured on {machine()[0][1]} ({day}).",
            "",
            table(["sync", "requests", "delta calls", "messages read", "new", "time (ms)"], rows),
        ]
    )
    return {"markdown": text, "rows": rows}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="messages in the mailbox")
    args = parser.parse_args(argv)
    print(run(args.n)["markdown"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
