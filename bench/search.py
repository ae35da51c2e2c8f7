"""Full-text search of the mail cache at 10,000 and 100,000 messages, on SQLite and PostgreSQL.

Mail comes from `bench.mailgen` (invoices, meetings, notifications, newsletters, German and
French mail, ...), parsed by the product's parser. Parsing costs milliseconds a message, so
`--pool` messages are parsed once and the cache is filled with copies of them, each under an
id, key and date of its own: the text repeats, so a word only one generated message has
matches every copy of it (about n / pool messages), which makes results longer and search
harder, not easier. The copies go in with `AppDatabase.add_emails` in batches of 1,000, with the
index kept by the database (on SQLite, the triggers and the catch-up after a large write; the
generated column on PostgreSQL); that time is reported too.

Each query of `QUERIES` (words, a phrase, senders, an invoice number, attachments, dates, a
folder, German with umlauts, a word no message has, the most common word) runs `--repeats`
times after one warm-up run, through `AppDatabase.list_emails(limit=20)`, as the chat's
search tool calls it. Run alone: `python -m bench.search --sizes 2000 --repeats 3`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from bench.common import fmt_ms, log, summary_ms, table
from bench.mailgen import MailFactory
from memory.db import AppDatabase, close_databases
from memory.search_catch_up import catch_up_now
from tools.mail.mime import parse_email
from tools.mail.model import Email

SOURCE = "maildir:bench"
TODAY = date(2026, 12, 31)
QUERIES = (
    ("common word", "invoice"),
    ("two words", "budget review"),
    ("phrase", '"security audit"'),
    ("sender's company", "from:soylent"),
    ("one sender", "from:{sender}"),
    ("invoice number", "{invoice}"),
    ("attachment", "attachment:ics"),
    ("word in a month", "deploy after:2026-06-01 before:2026-07-01"),
    ("folder and word", "folder:archive roadmap"),
    ("German, umlauts", "rückmeldung grüßen"),
    ("no match", "zyxwvut"),
    ("most common word", "the"),
)
"""(what it tries, the query); {sender} and {invoice} are filled from the generated mail."""


def parse_pool(count: int, seed: int = 1234) -> list[Email]:
    """`count` generated messages, parsed; about one in twenty filed in Archive."""
    factory = MailFactory(seed)
    pool = []
    for n in range(count):
        _, raw = factory.message()
        folder = "Archive" if n % 20 == 0 else "INBOX"
        pool.append(parse_email(raw, source=SOURCE, folder=folder, key=f"pool-{n}"))
    return pool


def copies(pool: Sequence[Email], count: int) -> list[Email]:
    """`count` messages: the pool over and over, each copy with its own id, key and date."""
    mail = []
    for n in range(count):
        original = pool[n % len(pool)]
        day = date(2026, 1, 1) + timedelta(days=(n * 7919) % 365)
        stamp = original.date[10:] if len(original.date) > 10 else "T12:00:00+00:00"
        mail.append(replace(original, id=f"m{n}@bench", key=f"m{n}", date=day.isoformat() + stamp))
    return mail


def fill(db: AppDatabase, mail: Sequence[Email]) -> float:
    """Cache `mail` in batches of 1,000 and index it; returns the seconds it took.

    SQLite's large writes leave their rows for the index to catch up with, as a fetch does
    (`memory.search_catch_up`); the catch-up is timed here too, so no query pays for it.
    """
    started = time.perf_counter()
    for start in range(0, len(mail), 1000):
        db.add_emails(mail[start : start + 1000])
    catch_up_now(db.engine)
    return time.perf_counter() - started


def queries(pool: Sequence[Email]) -> list[tuple[str, str]]:
    """`QUERIES` with a real sender and a real invoice number of the pool."""
    sender = next(e.from_addr for e in pool if e.from_addr.endswith(".example"))
    invoice = next(word for e in pool for word in e.subject.split() if word.startswith("INV-"))
    return [(kind, q.format(sender=sender, invoice=invoice)) for kind, q in QUERIES]


def time_queries(
    db: AppDatabase, chosen: Sequence[tuple[str, str]], repeats: int
) -> list[dict[str, object]]:
    """Each query's durations (one warm-up run first) and how many messages it returned."""
    results: list[dict[str, object]] = []
    for kind, query in chosen:
        found = db.list_emails(source=SOURCE, query=query, limit=20, today=TODAY)
        seconds = []
        for _ in range(repeats):
            started = time.perf_counter()
            db.list_emails(source=SOURCE, query=query, limit=20, today=TODAY)
            seconds.append(time.perf_counter() - started)
        results.append({"kind": kind, "query": query, "found": len(found), "seconds": seconds})
    return results


def run(
    url: str, backend: str, size: int, pool: Sequence[Email], repeats: int
) -> dict[str, object]:
    """Fill a fresh database with `size` messages and time every query on it."""
    db = AppDatabase(url)
    log(f"search: {backend}, {size} messages: filling ...")
    filled = fill(db, copies(pool, size))
    if backend == "postgresql":
        # What autovacuum does soon after a bulk load: without statistics the planner does
        # not know the index is selective.
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE email")
    log(f"search: {backend}, {size} messages: querying ...")
    timed = time_queries(db, queries(pool), repeats)
    close_databases()
    db.engine.dispose()
    every = [s for r in timed for s in r["seconds"]]  # type: ignore[attr-defined]
    return {"backend": backend, "size": size, "fill": filled, "queries": timed, "all": every}


def markdown(runs: Sequence[dict[str, object]], args: argparse.Namespace) -> str:
    """The RESULTS.md section."""
    rows = []
    for r in runs:
        stats = summary_ms(r["all"])  # type: ignore[arg-type]
        rate = r["size"] / r["fill"]  # type: ignore[operator]
        rows.append(
            [
                r["backend"],
                f"{r['size']:,}",
                fmt_ms(stats["p50"]),
                fmt_ms(stats["p95"]),
                fmt_ms(stats["max"]),
                f"{rate:,.0f}/s",
            ]
        )
    largest = [r for r in runs if r["size"] == max(x["size"] for x in runs)]  # type: ignore[type-var]
    detail = []
    for n, (kind, query) in enumerate((q["kind"], q["query"]) for q in largest[0]["queries"]):  # type: ignore[attr-defined]
        cells: list[object] = [kind, f"`{query}`"]
        for r in largest:
            q = r["queries"][n]  # type: ignore[index]
            stats = summary_ms(q["seconds"])
            cells += [q["found"], fmt_ms(stats["p50"]), fmt_ms(stats["p95"])]
        detail.append(cells)
    headers = ["query", "text"]
    for r in largest:
        headers += [f"{r['backend']} found", "p50", "p95"]
    return f"""## Search (full-text index)

`AppDatabase.list_emails(query=..., limit=20)` over a cache of generated mail (`bench.mailgen`,
{args.pool:,} messages parsed, then copied under ids, keys and dates of their own up to each size),
{len(QUERIES)} queries, each {args.repeats} times after one warm-up run. SQLite: two FTS5
tables (subject, sender and attachment names; the body) kept by triggers, keyed by date;
PostgreSQL: generated `tsvector` column with a GIN index
(server on 127.0.0.1, fsync off). Filling is `add_emails` in batches of 1,000 and the
index brought up to date with them (SQLite indexes a large write's rows after it).
Target: p95 <= 20 ms at 100,000 messages on both.

{table(["database", "messages", "p50", "p95", "max", "filling (with the index)"], rows)}

Per query at {largest[0]["size"]:,} messages ("found" is how many came back, at most 20):

{table(headers, detail)}

`bench.mailgen` writes its text from a vocabulary of about 90 words, so each of those words is in
a third to a half of all messages: `invoice`, `the`, `budget review` match tens of thousands at
100,000. Search does not rank every match (`memory/search_walk.py`): it reads the newest first
and stops once no unread match can make the list, asking later reads only for matches in the
parts (subject, sender, ...) that could still score enough; a query whose first window holds
no match is ranked in one read. What each read costs differs. On SQLite the index is keyed by
date (migration step 13), so a window is a range of keys FTS5 reads itself. A prefix (every
unquoted word is one: `invoice` stands for the words it begins) is looked up once in FTS5's
vocabulary and asked as those words, which FTS5 reads within the range (as a prefix query it
would merge them over all days, for the matches and again per part for the points). The body
has a table of its own (migration step 14), so the points of the subject, the sender and the
attachments are read from a small table, without a pass over the body's word positions, and a
later read asks for its candidates first and reads the rest between their first and last key.
What remains is the rows of `email` a read joins to test the filters (a folder's) and rank.
On PostgreSQL a window costs the rows of
its days (the day index finds them, each row is tested and scored on its own: the GIN index of
a word in a third of the mail would cost more) and a later read the matches of the parts it asks
for (one GIN index per part, about 12,000 subjects for `invoice`), so, as on SQLite, once only a
match in two parts can win the rest is read at once instead of window by window; the time
follows how many of the newest messages match and how many have a query word in their subject.
A row is scored with one weight-restricted query per part (`'invoice':*A`), not `ts_filter`,
which copies the whole document (a message's `tsvector`, about 1 kB, is often stored out of
line and read again for each part).
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--pool", type=int, default=3000, help="messages parsed")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--only", choices=["sqlite", "postgresql"], action="append")
    args = parser.parse_args(argv)
    from tests.postgres_server import PostgresServer

    log(f"search: parsing {args.pool} generated messages ...")
    pool = parse_pool(args.pool)
    backends = args.only or ["sqlite", "postgresql"]
    runs = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-search-") as tmp,
        PostgresServer.start() as server,
    ):
        for size in args.sizes:
            for backend in backends:
                url = (
                    f"sqlite:///{Path(tmp) / f'search-{size}.db'}"
                    if backend == "sqlite"
                    else server.create_database()
                )
                runs.append(run(url, backend, size, pool, args.repeats))
    print(markdown(runs, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
