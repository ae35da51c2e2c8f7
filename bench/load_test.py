"""Load test of the persistence: many concurrent conversations with approvals (SQLite, PostgreSQL).

Each conversation has five turns, as a person in the chat would take them (offline engine):

1. "what needs my attention today?" (read-only tools, an answer);
2. "reply to the meeting request from Sofia and say Thursday works for team <tag>" (stops on
   an approval card for `reply_to_email`);
3. approve (the reply is sent over SMTP to a real local server);
4. "draft a reply to the first one saying noted <tag>" (stops on a card for `save_draft`);
5. approve (the draft is written into the Maildir).

Every conversation runs as a task of one process that shares one compiled graph, one
checkpointer and one app database, as a chat server does. Scenarios: all conversations in one
process on the SQLite files; the same on PostgreSQL; two processes at once on one PostgreSQL
database (each with its own conversations), followed by a race in which both processes
approve the same pending requests at the same moment (two chat servers, one click each).

Counted: turns that failed or whose result is not in the checkpoint afterwards (read back
through a new connection), side effects expected against delivered (mail at the SMTP server,
drafts in the Maildir, each tagged with its conversation), duplicates, "database is locked"
errors (raised or logged), latency per turn (p50/p95) and turns per second.

Run alone: `python -m bench.load_test --conversations 50`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import fmt_ms, log, percentile, table

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEMO = ROOT / "data" / "demo-inbox"
ME = "dana@northwind.example"
TAG = re.compile(r"\b(c\d{3,}|r\d{3,})\b")
LOCKED = "database is locked"


def _turns(tag: str) -> list[tuple[str, Any]]:
    """The five turns of conversation `tag`: (what is expected, the input)."""
    return [
        ("answer", "what needs my attention today?"),
        (
            "card:reply_to_email",
            f"reply to the meeting request from Sofia and say Thursday works for team {tag}",
        ),
        ("done:reply_to_email", "accept"),
        ("card:save_draft", f"draft a reply to the first one saying noted {tag}"),
        ("done:save_draft", "accept"),
    ]


# ---------------------------------------------------------------------- one process (worker)


class _LockCounter(logging.Handler):
    """Counts log records anywhere in the process that mention a locked database."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 — a record that cannot format is not a lock error
            return
        if LOCKED in text or (record.exc_text and LOCKED in record.exc_text):
            self.count += 1


@dataclass
class _Turn:
    conversation: str
    number: int
    seconds: float
    ok: bool
    error: str = ""


@dataclass
class _Worker:
    graph: Any
    context: Any
    turns: list[_Turn] = field(default_factory=list)


def _check(expected: str, snapshot: Any) -> str:
    """Empty when the turn's state is what `expected` says, else what is wrong."""
    values = snapshot.values
    pending = [
        request
        for item in snapshot.interrupts
        for request in (item.value if isinstance(item.value, list) else [item.value])
    ]
    if expected == "answer":
        messages = values.get("messages") or []
        if pending or not messages or messages[-1].type != "ai":
            return f"expected an answer, got {len(pending)} pending request(s)"
        return ""
    kind, action = expected.split(":", 1)
    if kind == "card":
        actions = [p["action_request"]["action"] for p in pending]
        return "" if actions == [action] else f"expected a {action} card, got {actions}"
    executed = values.get("executed") or []
    if pending or not executed or executed[-1]["action"] != action:
        return f"expected {action} done, got {pending and 'a pending card' or executed[-1:]}"
    if executed[-1]["status"] != "ok":
        return f"{action} ended {executed[-1]['status']}: {executed[-1]['error']}"
    return ""


async def _conversation(worker: _Worker, tag: str) -> None:
    from langchain_core.messages import HumanMessage
    from langgraph.types import Command

    config: Any = {"configurable": {"thread_id": f"load-{tag}"}}
    for number, (expected, text) in enumerate(_turns(tag), start=1):
        if text == "accept":
            payload: Any = Command(resume={"type": "accept", "args": None})
        else:
            payload = {"messages": [HumanMessage(text)], "mode": "chat"}
        started = time.perf_counter()
        try:
            await worker.graph.ainvoke(payload, config=config, context=worker.context)
            snapshot = await worker.graph.aget_state(config)
            problem = _check(expected, snapshot)
        except Exception as err:  # noqa: BLE001 — every failure is counted, none hides
            problem = f"{type(err).__name__}: {err}"
        elapsed = time.perf_counter() - started
        worker.turns.append(_Turn(tag, number, elapsed, not problem, problem))
        if problem:
            log(f"  {tag} turn {number}: {problem}")
            return  # the rest of this conversation cannot follow from a failed turn


async def _read_back(config: Any, tags: Sequence[str]) -> dict[str, str]:
    """Each conversation's final checkpoint through a new connection: problems by tag."""
    from graph.builder import build_graph
    from memory.checkpointer import open_checkpointer

    problems: dict[str, str] = {}
    async with open_checkpointer(config) as saver:
        graph = build_graph(checkpointer=saver)
        for tag in tags:
            snapshot = await graph.aget_state({"configurable": {"thread_id": f"load-{tag}"}})
            messages = snapshot.values.get("messages") or []
            humans = [m for m in messages if m.type == "human"]
            done = [
                (e["tool"], e["error"] or "ok")
                for e in snapshot.values.get("evidence") or []
                if e["tool"] in ("reply_to_email", "save_draft")
            ]
            wanted = [("reply_to_email", "ok"), ("save_draft", "ok")]
            if len(humans) != 3 or done != wanted or snapshot.interrupts:
                problems[tag] = f"{len(humans)} questions, side effects {done}"
    return problems


async def _worker_main(args: argparse.Namespace) -> dict[str, Any]:
    from graph.builder import build_graph
    from graph.context import Context
    from memory.checkpointer import open_checkpointer
    from memory.database_url import database_config
    from memory.paths import data_dir

    counter = _LockCounter()
    logging.getLogger().addHandler(counter)
    config = database_config(data_dir())
    tags = [f"{args.prefix}{i:03d}" for i in range(args.conversations)]
    go = Path(args.go) if args.go else None
    async with open_checkpointer(config) as saver:
        worker = _Worker(build_graph(checkpointer=saver), Context())
        if args.mode == "approve-race":
            return await _approve_race(worker, tags, go, counter)
        if args.mode == "prepare-race":
            await asyncio.gather(*(_first_turns(worker, tag, 2) for tag in tags))
            return {"turns": [t.__dict__ for t in worker.turns], "locked": counter.count}
        if go is not None:
            while not go.exists():
                await asyncio.sleep(0.005)
        started = time.perf_counter()
        await asyncio.gather(*(_conversation(worker, tag) for tag in tags))
        wall = time.perf_counter() - started
    problems = await _read_back(config, tags)
    return {
        "wall": wall,
        "turns": [t.__dict__ for t in worker.turns],
        "read_back_problems": problems,
        "locked": counter.count,
    }


async def _first_turns(worker: _Worker, tag: str, count: int) -> None:
    """Turns 1..count of a conversation (to leave it waiting on a card)."""
    from langchain_core.messages import HumanMessage

    config: Any = {"configurable": {"thread_id": f"load-{tag}"}}
    for number, (expected, text) in enumerate(_turns(tag)[:count], start=1):
        started = time.perf_counter()
        await worker.graph.ainvoke(
            {"messages": [HumanMessage(text)], "mode": "chat"},
            config=config,
            context=worker.context,
        )
        problem = _check(expected, await worker.graph.aget_state(config))
        worker.turns.append(_Turn(tag, number, time.perf_counter() - started, not problem, problem))


async def _approve_race(
    worker: _Worker, tags: Sequence[str], go: Path | None, counter: _LockCounter
) -> dict[str, Any]:
    """Approve every pending card of `tags` once, as soon as `go` appears; report what we saw."""
    from langgraph.types import Command

    if go is not None:
        while not go.exists():
            await asyncio.sleep(0.002)

    async def approve(tag: str) -> str:
        config: Any = {"configurable": {"thread_id": f"load-{tag}"}}
        try:
            if not (await worker.graph.aget_state(config)).interrupts:
                return "already decided"  # what the chat says when the other click won
            # What this run ended with (the other process may write the thread meanwhile).
            final = await worker.graph.ainvoke(
                Command(resume={"type": "accept", "args": None}),
                config=config,
                context=worker.context,
            )
        except Exception as err:  # noqa: BLE001 — counted, not hidden
            return f"error: {type(err).__name__}: {err}"
        if final.get("__interrupt__"):
            return "a card saying it may already have been sent (the other was sending)"
        [executed] = (final.get("executed") or [{"status": "missing", "error": ""}])[-1:]
        if executed["status"] == "ok":
            content = str(final["evidence"][-1]["content"])
            return "found it sent by the other" if "not repeated" in content else "sent it"
        if executed["status"] == "unknown":
            return "found it being sent by the other, did not send"
        return f"{executed['status']}: {executed['error'][:120]}"

    outcomes = await asyncio.gather(*(approve(tag) for tag in tags))
    return {"outcomes": Counter(outcomes), "locked": counter.count}


def worker_entry(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, required=True)
    parser.add_argument("--prefix", default="c")
    parser.add_argument("--mode", choices=["run", "prepare-race", "approve-race"], default="run")
    parser.add_argument("--go", help="start when this file appears")
    parser.add_argument("--result", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    result = asyncio.run(_worker_main(args))
    Path(args.result).write_text(json.dumps(result))
    return 0


# ---------------------------------------------------------------------- the orchestrator


@dataclass
class Scenario:
    name: str
    database: str  # "sqlite" | "postgresql"
    processes: int
    conversations: int  # per process


def _spawn(
    env: dict[str, str], workdir: Path, name: str, *args: str
) -> tuple[subprocess.Popen[str], Path, Path]:
    result = workdir / f"{name}.json"
    errors = workdir / f"{name}.log"
    handle = errors.open("w")
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.load_test", "--worker", "--result", str(result), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=handle,
        text=True,
    )
    handle.close()
    return child, result, errors


def _wait(children: list[tuple[subprocess.Popen[str], Path, Path]]) -> list[dict[str, Any]]:
    results = []
    for child, result, errors in children:
        code = child.wait(timeout=1800)
        text = errors.read_text(errors="replace")
        if code != 0:
            raise RuntimeError(f"a load-test process failed (exit {code}):\n{text[-3000:]}")
        data = json.loads(result.read_text())
        data["stderr_locked"] = text.count(LOCKED)
        results.append(data)
    return results


def _tags_in_sent_mail(sink: Any) -> Counter[str]:
    found: Counter[str] = Counter()
    for received in sink.messages:
        body = received.message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        first = text.split("\n", 1)[0]
        found.update(TAG.findall(first))
    return found


def _tags_in_drafts(inbox: Path) -> Counter[str]:
    import email
    import email.policy

    found: Counter[str] = Counter()
    for sub in ("cur", "new"):
        folder = inbox / ".Drafts" / sub
        for path in folder.iterdir() if folder.is_dir() else []:
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            body = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
            first = (body.get_content() if body is not None else "").split("\n", 1)[0]
            found.update(TAG.findall(first))
    return found


def _ledger_counts(url: str) -> Counter[str]:
    from sqlalchemy import create_engine, text

    from memory.database_url import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT tool, status, COUNT(*) FROM ledger GROUP BY tool, status")
            ).all()
    finally:
        engine.dispose()
    return Counter({f"{tool} {status}": int(count) for tool, status, count in rows})


def _side_effects(expected: Sequence[str], delivered: Counter[str]) -> dict[str, int]:
    return {
        "expected": len(expected),
        "delivered": sum(1 for tag in expected if delivered[tag] >= 1),
        "missing": sum(1 for tag in expected if delivered[tag] == 0),
        "duplicated": sum(delivered[tag] - 1 for tag in expected if delivered[tag] > 1),
        "unexpected": sum(n for tag, n in delivered.items() if tag not in set(expected)),
    }


def run_scenario(scenario: Scenario, server: Any, workdir: Path) -> dict[str, Any]:
    from tests.fakes.smtp_server import SmtpSink

    home = workdir / scenario.name.replace(" ", "-")
    home.mkdir(parents=True)
    inbox = home / "inbox"
    shutil.copytree(DEMO, inbox, ignore=shutil.ignore_patterns(".Drafts", ".Sent"))
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("GROQ_API_KEY", "MODEL", "DATABASE_URL", "SMART_INBOX_ENCRYPT_STATE")
    }
    if scenario.database == "postgresql":
        env["DATABASE_URL"] = server.create_database()
        url = env["DATABASE_URL"]
    else:
        url = f"sqlite:///{home / 'app.db'}"
    with SmtpSink() as sink:
        env.update(
            SMART_INBOX_HOME=str(home),
            INBOX=f"maildir:{inbox}",
            MODEL="rules",
            SMTP_URL=sink.url,
            SMART_INBOX_USER_EMAILS=ME,
            LANGGRAPH_STRICT_MSGPACK="true",
        )
        # Warm the mail cache once, as a server that has been running would have it.
        warm = _spawn(
            env, home, "warm", "--conversations", "1", "--prefix", "w", "--mode", "prepare-race"
        )
        _wait([warm])
        # One conversation alone: the latency of a turn without contention, for comparison.
        alone = _wait([_spawn(env, home, "alone", "--conversations", "1", "--prefix", "b")])[0]
        go = home / "go"
        children = [
            _spawn(
                env,
                home,
                f"worker-{n}",
                "--conversations",
                str(scenario.conversations),
                "--prefix",
                f"c{n}",
                "--go",
                str(go),
            )
            for n in range(scenario.processes)
        ]
        time.sleep(4.0)  # every process has imported, opened its databases and waits
        started = time.perf_counter()
        go.touch()
        results = _wait(children)
        wall = time.perf_counter() - started
        tags = [
            f"c{n}{i:03d}" for n in range(scenario.processes) for i in range(scenario.conversations)
        ]
        mail = _side_effects(tags, _tags_in_sent_mail(sink))
        drafts = _side_effects(tags, _tags_in_drafts(inbox))
        race = None
        if scenario.processes > 1:
            race = _approval_race(env, home, sink, inbox)
    turns = [t for r in results for t in r["turns"]]
    seconds = [t["seconds"] for t in turns]
    failed = [t for t in turns if not t["ok"]]
    expected_turns = scenario.processes * scenario.conversations * len(_turns("x"))
    read_back = {k: v for r in results for k, v in r["read_back_problems"].items()}
    ledger = _ledger_counts(url)
    if scenario.database == "postgresql":
        server.drop_database(url.rsplit("/", 1)[1])
    return {
        "scenario": scenario,
        "turns_expected": expected_turns,
        "turns_ok": len(turns) - len(failed),
        "turns_lost": expected_turns - (len(turns) - len(failed)),
        "failures": Counter(t["error"][:160] for t in failed),
        "read_back_problems": read_back,
        "mail": mail,
        "drafts": drafts,
        "ledger": ledger,
        "locked": sum(r["locked"] + r["stderr_locked"] for r in results),
        "alone_p50": percentile([t["seconds"] for t in alone["turns"]], 50) * 1000,
        "p50": percentile(seconds, 50) * 1000 if seconds else 0.0,
        "p95": percentile(seconds, 95) * 1000 if seconds else 0.0,
        "max": max(seconds) * 1000 if seconds else 0.0,
        "wall": max(r["wall"] for r in results),
        "wall_with_start_and_read_back": wall,
        "race": race,
    }


def _approval_race(env: dict[str, str], home: Path, sink: Any, inbox: Path) -> dict[str, Any]:
    """Both processes approve the same pending cards at once; each reply must be sent once."""
    count = 20
    prepare = _spawn(
        env,
        home,
        "race-prepare",
        "--conversations",
        str(count),
        "--prefix",
        "r",
        "--mode",
        "prepare-race",
    )
    [prepared] = _wait([prepare])
    ready = sum(1 for t in prepared["turns"] if t["number"] == 2 and t["ok"])
    go = home / "go-race"
    racers = [
        _spawn(
            env,
            home,
            f"race-{n}",
            "--conversations",
            str(count),
            "--prefix",
            "r",
            "--mode",
            "approve-race",
            "--go",
            str(go),
        )
        for n in range(2)
    ]
    time.sleep(4.0)
    go.touch()
    results = _wait(racers)
    time.sleep(0.5)
    tags = [f"r{i:03d}" for i in range(count)]
    outcomes: Counter[str] = Counter()
    for result in results:
        outcomes.update(result["outcomes"])
    return {
        "cards": ready,
        "mail": _side_effects(tags, _tags_in_sent_mail(sink)),
        "outcomes": outcomes,
        "locked": sum(r["locked"] + r["stderr_locked"] for r in results),
    }


NOTHING_FAILED = "No turn failed and no conversation read back wrong."


def _markdown(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    rows = []
    for r in results:
        s: Scenario = r["scenario"]
        rows.append(
            [
                s.name,
                f"{s.processes} × {s.conversations}",
                f"{r['turns_ok']}/{r['turns_expected']}",
                r["turns_lost"] + len(r["read_back_problems"]),
                f"{r['mail']['delivered']}/{r['mail']['expected']}",
                f"{r['drafts']['delivered']}/{r['drafts']['expected']}",
                r["mail"]["duplicated"] + r["drafts"]["duplicated"] + r["mail"]["unexpected"],
                r["locked"],
                fmt_ms(r["alone_p50"]),
                fmt_ms(r["p50"]),
                fmt_ms(r["p95"]),
                f"{r['turns_ok'] / r['wall']:.1f}",
            ]
        )
    headers = [
        "scenario",
        "processes × conversations",
        "turns ok",
        "lost turns",
        "mail sent (once)",
        "drafts written (once)",
        "duplicated side effects",
        '"database is locked"',
        "p50 per turn, one conversation alone (ms)",
        "p50 per turn (ms)",
        "p95 per turn (ms)",
        "turns/s",
    ]
    notes = []
    for r in results:
        for failure, n in r["failures"].items():
            notes.append(f"* {r['scenario'].name}: {n} × {failure}")
        for tag, problem in r["read_back_problems"].items():
            notes.append(f"* {r['scenario'].name}: {tag} read back as {problem}")
    races = [r for r in results if r["race"]]
    race_text = ""
    for r in races:
        race = r["race"]
        outcome_text = ", ".join(f"{n} {what}" for what, n in sorted(race["outcomes"].items()))
        race_text += (
            f"\n**Two clicks on one card** ({r['scenario'].name}): {race['cards']} conversations "
            "were left waiting on a `reply_to_email` card; then both processes approved all of "
            f"them at the same moment. Replies sent: {race['mail']['delivered']} of "
            f"{race['mail']['expected']}, duplicated: {race['mail']['duplicated']}; "
            f'"database is locked": {race["locked"]}. What the {2 * race["cards"]} approvals '
            f"saw: {outcome_text}.\n"
        )
    ledger_text = "".join(
        f"Ledger rows after {r['scenario'].name} (with the conversation run alone"
        + (" and the raced approvals" if r["race"] else "")
        + "): "
        + ", ".join(f"{n} {what}" for what, n in sorted(r["ledger"].items()))
        + ".\n"
        for r in results
    )
    return f"""## Load test: concurrent conversations with approvals (offline)

`python -m bench.load_test --conversations {args.conversations}`: {args.conversations}
conversations per process, all at once, five turns each (a question; a reply request that
stops on a card; approve, and the reply goes to a real SMTP server on 127.0.0.1; a draft
request that stops on a card; approve, and the draft is written). One process shares one
compiled graph, checkpointer and app database between its conversations, as a chat server
does. PostgreSQL is a local server started for the run with its default durability settings
(fsync on); the two processes share one database of it. The mail cache is warmed by one
conversation first. A turn is lost if it raised or its state was not the expected one, and
every conversation is read back at the end through a new connection (3 questions, the reply
and the draft done, nothing pending). Side effects are counted where they land, by the tag
each conversation puts in its text. Latency is per turn (the `ainvoke` and the state read
after it) while all conversations run, and for comparison in one conversation run alone
just before (five turns, same database); with 50 conversations sharing two cores a turn mostly
waits for the others, so throughput (turns/s: turns completed over the wall time of the run,
both processes together) is the number to compare.

{table(headers, rows)}

{ledger_text}{chr(10).join(notes) if notes else NOTHING_FAILED}
{race_text}"""


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--worker"]:
        return worker_entry(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=50, help="per process")
    parser.add_argument(
        "--only", choices=["sqlite", "postgresql", "two-processes"], action="append"
    )
    args = parser.parse_args(argv)
    from tests.postgres_server import PostgresServer

    scenarios = [
        Scenario("SQLite, one process", "sqlite", 1, args.conversations),
        Scenario("PostgreSQL, one process", "postgresql", 1, args.conversations),
        Scenario("PostgreSQL, two processes", "postgresql", 2, args.conversations),
    ]
    keys = {"sqlite": 0, "postgresql": 1, "two-processes": 2}
    if args.only:
        scenarios = [scenarios[keys[name]] for name in args.only]
    results = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-load-") as tmp,
        PostgresServer.start(durable=True) as server,
    ):
        for scenario in scenarios:
            log(f"load test: {scenario.name} ...")
            results.append(run_scenario(scenario, server, Path(tmp)))
    print(_markdown(results, args))
    lost = sum(r["turns_lost"] + len(r["read_back_problems"]) for r in results)
    duplicated = sum(r["mail"]["duplicated"] + r["drafts"]["duplicated"] for r in results)
    races = [r["race"] for r in results if r["race"]]
    duplicated += sum(race["mail"]["duplicated"] for race in races)
    locked = sum(r["locked"] for r in results)
    return 1 if lost or duplicated or locked else 0


if __name__ == "__main__":
    sys.exit(main())
