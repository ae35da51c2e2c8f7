"""What a Gmail fetch costs: the first full sync, a re-sync of an unchanged mailbox, new mail.

A generated mailbox (`bench.mailgen`) in the local Gmail API server
(`tests/fakes/gmail_server.py`, on 127.0.0.1); `gmail:bench` is fetched into a fresh SQLite
cache. Each row counts the HTTP requests made, the `history.list` calls and the batch
requests among them, the messages read in full (`messages.get format=raw`, up to 50 in one
batch request), and times the fetch.

Run alone: `python -m bench.gmail_sync --n 500`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import log, machine, table
from bench.mailgen import MailFactory
from memory.db import AppDatabase
from tests.fakes.gmail_server import BATCH, FakeGmail
from tools.google.api import GoogleApi
from tools.http import HttpSettings
from tools.mail.gmail.labels import parse_gmail_spec
from tools.mail.gmail.source import GmailSource
from tools.oauth.tokens import StaticTokens

HISTORY = "/gmail/v1/users/me/history"
NEW_MAIL = 10


def _fetch(gmail: FakeGmail, db: AppDatabase, phase: str) -> list[Any]:
    gmail.requests.clear()
    tokens = StaticTokens("bench", "google", gmail.token, gmail.address)
    api = GoogleApi(gmail.base_url, tokens, name="Gmail", retry=HttpSettings())
    source = GmailSource(parse_gmail_spec("gmail:bench"), api)
    started = time.perf_counter()
    result = source.sync(db)
    seconds = time.perf_counter() - started
    api.close()
    requests = [r for r in gmail.requests if r not in gmail.parts]
    history = sum(1 for r in requests if r.path == HISTORY)
    batches = sum(1 for r in requests if r.path == BATCH)
    reads = sum(1 for r in gmail.parts if r.query.get("format") == ["raw"])
    gmail.parts.clear()
    return [
        phase,
        len(gmail.messages),
        len(requests),
        history,
        batches,
        reads,
        len(result.new),
        f"{seconds * 1000:.0f}",
    ]


def run(n: int) -> dict[str, Any]:
    """Measure; returns the rows and a Markdown section under `markdown`."""
    factory = MailFactory(4321)
    gmail = FakeGmail()
    for _ in range(n):
        gmail.add(factory.message()[1])
    gmail.start()
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-gmail-") as tmp:
            db = AppDatabase(f"sqlite:///{Path(tmp) / 'app.db'}")
            log(f"gmail sync: {n} messages ...")
            rows.append(_fetch(gmail, db, "first fetch (full sync)"))
            rows.append(_fetch(gmail, db, "re-sync, mailbox unchanged"))
            for _ in range(NEW_MAIL):
                gmail.add(factory.message()[1])
            rows.append(_fetch(gmail, db, f"re-sync, {NEW_MAIL} new messages"))
            rows.append(_fetch(gmail, db, "re-sync, mailbox unchanged again"))
            db.engine.dispose()
    finally:
        gmail.stop()
    found = dict(machine())
    result: dict[str, Any] = {"rows": rows, "n": n, "day": f"{datetime.now(UTC):%Y-%m-%d}"}
    result["machine"] = f"{found['CPU']}, {found['Cores']}, {found['OS']}"
    result["markdown"] = _markdown(result)
    return result


def _markdown(r: dict[str, Any]) -> str:
    headers = [
        "fetch",
        "messages",
        "HTTP requests",
        "history calls",
        "batch requests",
        "read in full",
        "new",
        "ms",
    ]
    return f"""## Gmail fetch: full sync, then history

A generated mailbox of {r["n"]} messages in the local Gmail API server, fetched as
`gmail:bench` into a fresh SQLite cache. The first fetch lists the mailbox and reads each
message as raw RFC 822, 50 to a request of Gmail's batch endpoint (`/batch/gmail/v1`: each
part still counts as one call against Gmail's quota, but it is one HTTP round trip); every
later fetch asks `history.list` what changed since the stored `historyId` and reads only
what was added. A re-sync of an unchanged mailbox is one history call and reads no message
again. Before batching, the first fetch of 500 made 503 requests (one per message).
Measured on {r["machine"]} ({r["day"]}).

{table(headers, r["rows"])}
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="messages in the mailbox")
    args = parser.parse_args(argv)
    print(run(args.n)["markdown"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
