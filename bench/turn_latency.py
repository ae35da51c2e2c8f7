"""Latency of one offline chat turn: our graph against a plain prebuilt tool-calling agent.

Both answer the same questions ("find emails about invoice", ...) about the same generated
Maildir, with the same checkpointer type (an `AsyncSqliteSaver` on a temporary file, strict
deserialisation) and no network:

* ours: `build_graph(checkpointer)` with the offline rules engine, as the chat UI runs it;
* prebuilt: `langgraph.prebuilt.create_react_agent` with a tiny deterministic chat model that
  calls one `search_emails` tool and then answers with what the tool returned. The tool runs
  the product's own SQLite `LIKE` search (`AppDatabase.list_emails`) over the same mail
  cache, so both sides pay for the same query and the difference is what each graph does
  around it.

Run alone: `python -m bench.turn_latency --n 50`.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path
from typing import Any, Literal, get_args

from bench.common import NodeTimer, fmt_ms, log, summary_ms, table
from bench.mailgen import OWNER, generate_maildir

Saving = Literal["sync", "async", "exit"]
"""How a run of the graph saves its state (LangGraph's `durability`)."""

QUESTIONS = (
    "find emails about invoice",
    "search for meeting",
    "look for security audit",
    "find emails about roadmap",
    "search for deploy",
    "find emails about contract renewal",
    "look for budget",
    "search for onboarding",
)


READ_IN_FULL = (
    "what does the first one say?",
    "what does the second one say?",
    "what does the third one say?",
)
"""Follow-ups after a search that read messages in full (`get_email`), for checkpoint size."""


def _query_of(question: str) -> str:
    """What the fake model searches for: the words after the verb ("about", "for")."""
    for marker in (" about ", " for "):
        if marker in question:
            return question.split(marker, 1)[1]
    return question


# ---------------------------------------------------------------------- the prebuilt agent


def _prebuilt_agent(checkpointer: Any, db: Any, source: str) -> Any:
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
    from langchain_core.outputs import ChatGeneration, ChatResult
    from langchain_core.tools import tool

    # langgraph 1.x marks create_react_agent deprecated in favour of `langchain.agents.create_agent`
    # (the `langchain` package, not installed here); it is still langgraph's own prebuilt agent.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from langgraph.prebuilt import create_react_agent

    class SearchThenAnswer(BaseChatModel):
        """Calls `search_emails` for a new question; answers with the tool result after it."""

        @property
        def _llm_type(self) -> str:
            return "search-then-answer"

        def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
            return self

        def _reply(self, messages: list[BaseMessage]) -> ChatResult:
            last = messages[-1]
            if isinstance(last, ToolMessage):
                message = AIMessage(content=f"Here is what I found:\n\n{last.content}")
            else:
                message = AIMessage(
                    content="",
                    tool_calls=[
                        {
                            "name": "search_emails",
                            "args": {"query": _query_of(str(last.content)), "limit": 10},
                            "id": f"call-{uuid.uuid4().hex[:12]}",
                            "type": "tool_call",
                        }
                    ],
                )
            return ChatResult(generations=[ChatGeneration(message=message)])

        def _generate(
            self,
            messages: list[BaseMessage],
            stop: Any = None,
            run_manager: Any = None,
            **kwargs: Any,
        ) -> ChatResult:
            return self._reply(messages)

        async def _agenerate(
            self,
            messages: list[BaseMessage],
            stop: Any = None,
            run_manager: Any = None,
            **kwargs: Any,
        ) -> ChatResult:
            return self._reply(messages)  # no thread hop: our rules engine has none either

    @tool
    async def search_emails(query: str = "", sender: str = "", limit: int = 10) -> str:
        """Search the mailbox by words and/or sender; returns previews of matching messages."""
        emails = await asyncio.to_thread(
            db.list_emails, source=source, query=query, sender=sender, limit=limit
        )
        if not emails:
            return "No messages matched."
        return "\n".join(
            f"{n}. {e.subject} — {e.sender}, {e.date} [msg:{e.id}]\n   {e.preview()}"
            for n, e in enumerate(emails, 1)
        )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return create_react_agent(SearchThenAnswer(), [search_emails], checkpointer=checkpointer)


# ---------------------------------------------------------------------- measurement

FULL_READ_THREADS = 8
"""Threads of ours that read messages in full, for the size of their checkpoints (not timed)."""


async def _read_in_full(our_turn: Any) -> None:
    """A search, then three messages of it read in full, in each of `FULL_READ_THREADS` threads."""
    for i in range(FULL_READ_THREADS):
        await our_turn(f"ours-full-{i}", QUESTIONS[i % len(QUESTIONS)])
        for question in READ_IN_FULL:
            await our_turn(f"ours-full-{i}", question)


async def _measure(
    *,
    n: int,
    per_thread: int,
    warmup: int,
    messages: int,
    workdir: Path,
    profile: bool,
    durability_of_ours: Saving | None = None,
    breakdown: int = 40,
) -> dict[str, Any]:
    from langchain_core.messages import HumanMessage

    from graph.builder import build_graph
    from graph.context import Context
    from graph.durability import turn_durability
    from memory.checkpointer import open_checkpointer
    from memory.db import open_database
    from memory.paths import app_database_url, data_dir
    from tools.mail.sync import canonical_spec

    mailbox = workdir / "Maildir"
    generate_maildir(mailbox, messages, seed=7)
    home = data_dir(workdir / "home")
    context = Context(
        model="rules", inbox=f"maildir:{mailbox}", home=str(home), user_addresses=(OWNER,)
    )
    source = canonical_spec(context.inbox)

    started = time.perf_counter()
    build_graph()
    compile_ms = (time.perf_counter() - started) * 1000

    result: dict[str, Any] = {"compile_ms": compile_ms, "messages": messages}
    cpu_used = {"ours": 0.0, "prebuilt": 0.0}
    """The CPU time (every thread of the process) of each agent's last turn."""
    async with (
        open_checkpointer(workdir / "ours.db") as ours_saver,
        open_checkpointer(workdir / "prebuilt.db") as prebuilt_saver,
    ):
        ours = build_graph(checkpointer=ours_saver)

        async def our_turn(thread: str, text: str, callbacks: Any = None) -> tuple[float, bool]:
            config: Any = {"configurable": {"thread_id": thread}, "callbacks": callbacks}
            payload = {"messages": [HumanMessage(text)], "mode": "chat"}
            started, cpu = time.perf_counter(), time.process_time()
            # Saved as the chat and the CLI save a turn (`graph.durability`), unless told.
            durability = durability_of_ours or await asyncio.to_thread(
                turn_durability, payload, home
            )
            state = await ours.ainvoke(
                payload, config=config, context=context, durability=durability
            )
            elapsed = time.perf_counter() - started
            cpu_used["ours"] = time.process_time() - cpu
            found = any(e["status"] == "ok" for e in state.get("executed") or []) and bool(
                state.get("citations")
            )
            return elapsed, found

        log("turn latency: cold turn and warm-up ...")
        # The first turn of a fresh data directory fetches, parses and triages the mailbox.
        cold, _ = await our_turn("cold", QUESTIONS[0])
        result["cold_first_turn_ms"] = cold * 1000

        db = open_database(app_database_url(home))
        prebuilt = _prebuilt_agent(prebuilt_saver, db, source)

        async def prebuilt_turn(
            thread: str, text: str, callbacks: Any = None
        ) -> tuple[float, bool]:
            config: Any = {"configurable": {"thread_id": thread}, "callbacks": callbacks}
            started, cpu = time.perf_counter(), time.process_time()
            state = await prebuilt.ainvoke({"messages": [HumanMessage(text)]}, config=config)
            elapsed = time.perf_counter() - started
            cpu_used["prebuilt"] = time.process_time() - cpu
            return elapsed, "[msg:" in str(state["messages"][-1].content)

        for i in range(warmup):
            question = QUESTIONS[i % len(QUESTIONS)]
            await our_turn(f"warm-ours-{i // per_thread}", question)
            await prebuilt_turn(f"warm-prebuilt-{i // per_thread}", question)

        log(f"turn latency: {n} turns each ...")
        samples: dict[str, list[float]] = {"ours": [], "prebuilt": []}
        cpu: dict[str, list[float]] = {"ours": [], "prebuilt": []}
        first_of_thread: dict[str, list[float]] = {"ours": [], "prebuilt": []}
        later_in_thread: dict[str, list[float]] = {"ours": [], "prebuilt": []}
        grounded = {"ours": 0, "prebuilt": 0}
        profiler = cProfile.Profile() if profile else None
        for i in range(n):
            question = QUESTIONS[i % len(QUESTIONS)]
            thread = f"run-{i // per_thread}"
            # Alternate which goes first so drift and GC pauses fall on both alike.
            order = ("ours", "prebuilt") if i % 2 == 0 else ("prebuilt", "ours")
            for name in order:
                if name == "ours":
                    if profiler:
                        profiler.enable()
                    elapsed, ok = await our_turn(f"ours-{thread}", question)
                    if profiler:
                        profiler.disable()
                else:
                    elapsed, ok = await prebuilt_turn(f"prebuilt-{thread}", question)
                samples[name].append(elapsed)
                cpu[name].append(cpu_used[name])
                (first_of_thread if i % per_thread == 0 else later_in_thread)[name].append(elapsed)
                grounded[name] += ok
        if profiler:
            stats = pstats.Stats(profiler, stream=sys.stderr)
            stats.sort_stats("cumulative").print_stats(40)
            stats.sort_stats("tottime").print_stats(25)

        # Where the time goes: separate turns with a callback timer on every node run.
        timers = {"ours": NodeTimer(), "prebuilt": NodeTimer()}
        for i in range(breakdown):
            question = QUESTIONS[i % len(QUESTIONS)]
            thread = f"breakdown-{i // per_thread}"
            await our_turn(f"ours-{thread}", question, [timers["ours"].handler()])
            await prebuilt_turn(f"prebuilt-{thread}", question, [timers["prebuilt"].handler()])
        await _read_in_full(our_turn)
        result["nodes"] = {
            name: {
                node: (statistics.median(v) * 1000, sum(v) / breakdown * 1000)
                for node, v in timer.seconds.items()
            }
            for name, timer in timers.items()
        }

    result["stored"] = {
        "ours": _stored_per_turn(workdir / "ours.db", "ours-run-", n),
        "prebuilt": _stored_per_turn(workdir / "prebuilt.db", "prebuilt-run-", n),
    }
    result["stored_full"] = _stored_per_turn(
        workdir / "ours.db", "ours-full-", FULL_READ_THREADS * (1 + len(READ_IN_FULL))
    )
    result["all"] = {k: summary_ms(v) for k, v in samples.items()}
    result["cpu"] = {k: summary_ms(v) for k, v in cpu.items()}
    result["first"] = {k: summary_ms(v) for k, v in first_of_thread.items() if v}
    result["later"] = {k: summary_ms(v) for k, v in later_in_thread.items() if v}
    result["grounded"] = grounded
    result.update(n=n, per_thread=per_thread, warmup=warmup, breakdown=breakdown)
    return result


def _stored_per_turn(path: Path, prefix: str, turns: int) -> dict[str, float]:
    """What the measured turns' threads left in a checkpoint file, per turn: rows and bytes.

    A checkpoint row holds the whole state after one step (the SQLite saver stores each as one
    payload); a write row holds what one node returned for one channel.
    """
    import sqlite3

    with closing(sqlite3.connect(path)) as conn:
        like = prefix + "%"
        checkpoints, checkpoint_bytes = conn.execute(
            "SELECT count(*), coalesce(sum(length(checkpoint)), 0) FROM checkpoints"
            " WHERE thread_id LIKE ?",
            (like,),
        ).fetchone()
        writes, write_bytes = conn.execute(
            "SELECT count(*), coalesce(sum(length(value)), 0) FROM writes WHERE thread_id LIKE ?",
            (like,),
        ).fetchone()
    return {
        "checkpoints": checkpoints / turns,
        "checkpoint_bytes": checkpoint_bytes / turns,
        "writes": writes / turns,
        "write_bytes": write_bytes / turns,
    }


def run(
    n: int = 200,
    per_thread: int = 4,
    warmup: int = 20,
    messages: int = 50,
    profile: bool = False,
    durability: Saving | None = None,
) -> dict[str, Any]:
    """Measure; returns the numbers and a Markdown section under `markdown`.

    `durability` saves our turns so ("sync", "async", "exit"); by default as the chat does.
    """
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-turn-") as tmp:
        result = asyncio.run(
            _measure(
                n=n,
                per_thread=per_thread,
                warmup=warmup,
                messages=messages,
                workdir=Path(tmp),
                profile=profile,
                durability_of_ours=durability,
            )
        )
    result["durability"] = durability
    result["load"] = (load_before, os.getloadavg()[0])
    result["markdown"] = _markdown(result)
    return result


def _saving(durability: Saving | None) -> str:
    """How each agent's turns were saved, in words."""
    ours = (
        f"Our turns were saved with `durability={durability!r}`, whatever the chat would do."
        if durability
        else "Our turns were saved as the chat and the CLI save them (`graph.durability`): a "
        "turn that can only read, as these, once when it ends; a turn that may change the "
        "world, after every step."
    )
    return (
        f"{ours} The prebuilt agent keeps LangGraph's default (`async`: a checkpoint after "
        "every step, written while the next runs)."
    )


def _markdown(r: dict[str, Any]) -> str:
    rows = []
    for label, key in (
        ("all turns", "all"),
        ("first turn of a thread", "first"),
        (f"turns 2–{r['per_thread']} of a thread", "later"),
        ("all turns, CPU time of the process (every thread)", "cpu"),
    ):
        if key not in r or "ours" not in r[key]:
            continue
        ours, prebuilt = r[key]["ours"], r[key]["prebuilt"]
        rows.append(
            [
                label,
                ours["n"],
                fmt_ms(ours["p50"]),
                fmt_ms(ours["p95"]),
                fmt_ms(prebuilt["p50"]),
                fmt_ms(prebuilt["p95"]),
                f"{ours['p50'] / prebuilt['p50']:.2f}×",
                f"{ours['p95'] / prebuilt['p95']:.2f}×",
            ]
        )
    headers = [
        "turns",
        "n",
        "ours p50 (ms)",
        "ours p95 (ms)",
        "prebuilt p50 (ms)",
        "prebuilt p95 (ms)",
        "ratio p50 ours/prebuilt",
        "ratio p95 ours/prebuilt",
    ]
    node_rows = []
    for name in ("ours", "prebuilt"):
        nodes = r["nodes"][name]
        for node, (median, per_turn) in sorted(nodes.items(), key=lambda kv: -kv[1][1]):
            node_rows.append([name, f"`{node}`", fmt_ms(median), fmt_ms(per_turn)])
        total = sum(per_turn for _, per_turn in nodes.values())
        node_rows.append([name, "**all nodes**", "", f"**{fmt_ms(total)}**"])
    breakdown = table(["agent", "node", "median per run (ms)", "mean per turn (ms)"], node_rows)
    stored_rows = [
        [
            name,
            f"{s['checkpoints']:.1f}",
            f"{s['checkpoint_bytes'] / 1024:.1f}",
            f"{s['writes']:.1f}",
            f"{s['write_bytes'] / 1024:.1f}",
        ]
        for name, s in [
            *r["stored"].items(),
            ("ours, a search then 3 messages read in full", r["stored_full"]),
        ]
    ]
    stored = table(
        [
            "agent",
            "checkpoints per turn",
            "checkpoint KiB per turn",
            "writes per turn",
            "write KiB per turn",
        ],
        stored_rows,
    )
    return f"""## Chat-turn latency (offline)

One chat turn, `graph.ainvoke({{"messages": [HumanMessage(text)], "mode": "chat"}}, ...)`, timed
from the call to its return. A generated Maildir of {r["messages"]} messages; {r["n"]} measured
turns after {r["warmup"]} warm-up turns each; {r["per_thread"]} turns per thread, then a fresh
thread. The questions rotate through {len(QUESTIONS)} searches ("find emails about invoice",
"search for meeting", ...). The two agents alternate turn by turn in one event loop. Graphs
are compiled once, as the chat UI does (the command line compiles per call: `build_graph`
takes {r["compile_ms"]:.0f} ms). {_saving(r["durability"])}

{table(headers, rows)}

The last row is not wall-clock time but the CPU time the process spent during each turn
(`time.process_time`, all its threads): it leaves out the waits (the disk, the other work on
the machine), so it moves less with the load than the wall-clock rows.

What the measured turns left in each agent's checkpoint file (threads of
{r["per_thread"]} turns, so a checkpoint late in a thread carries the evidence and messages of
the turns before it):

{stored}

The last row is {FULL_READ_THREADS} more threads of ours (not timed): a search, then "what does
the first one say?", "... the second ...", "... the third ..." (each a `get_email`).

Turns whose answer cited at least one message: ours {r["grounded"]["ours"]}/{r["n"]},
prebuilt {r["grounded"]["prebuilt"]}/{r["n"]}. The machine's load average (1 minute) was
{r["load"][0]:.1f} when the run started and {r["load"][1]:.1f} when it ended: other work
shares the two cores, and with more runnable threads than cores both agents' turns stretch.

The very first turn on a fresh data directory (fetch, parse and triage all
{r["messages"]} messages, then answer) took {r["cold_first_turn_ms"]:.0f} ms; it is not in the
table.

Where the time goes: {r["breakdown"]} more turns each (not in the table above), timed per
node run with a callback handler. "Mean per turn" adds up every run of the node in a turn;
what is left of a turn's time beyond "all nodes" is the graph runtime itself: checkpoint
writes, channel updates, routing, task scheduling.

{breakdown}

What each does per turn:

* **ours** (rules engine): `fetch` looks up the run's services (kept for the process; checked
  once per run: the credentials query, file stamps, the policy) and, in the same trip off the
  event loop, checks the Maildir's sync cursor (a few `stat` calls and one cursor query;
  nothing new, so nothing is listed or read), then the due snoozes and whether any cached
  message waits for its triage (none: `classify` is skipped); `detect_follow_up` tries to
  resolve a reference to earlier
  evidence; `select_tools` matches the intent patterns, proposes `search_emails` and, a search
  being a one-round intent, marks its round the last; `request_approval` applies the policy
  and the provenance review (a read: auto-approved, on the event loop, nothing written yet);
  `act` runs the search (the SQLite full-text index's walk, `memory.search`, plus one query
  for the results' triage and folders) with a timeout, records it as evidence and writes its
  audit row, decision and outcome in one statement and one commit that, the call being a
  read, does not wait for the disk; `answer` composes the reply from the
  evidence and runs the grounding verifier over it. That is 6 node runs, saved as said above
  (once, at the end, unless told otherwise), with state that carries the thread's evidence
  (message previews) and approval records;
  every node after `fetch` reuses the services `fetch` looked up, and the five conditional
  edges taken are routed on the event loop. A tool's string annotations are evaluated once,
  not by LangChain on every call (`tools.registry`).
* **prebuilt** (`create_react_agent`, fake model): model node (emit one tool call) →
  `ToolNode` runs `search_emails` (the same `AppDatabase.list_emails` full-text search,
  previews rendered as text) → model node (answer with the tool's text). 3 node runs,
  each checkpointed, state = the message list. No fetch, no triage, no approval policy, no
  grounding check, no audit row.
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="measured turns per agent")
    parser.add_argument("--per-thread", type=int, default=4, help="turns per thread")
    parser.add_argument("--warmup", type=int, default=20, help="warm-up turns per agent")
    parser.add_argument("--messages", type=int, default=50, help="messages in the Maildir")
    parser.add_argument("--profile", action="store_true", help="cProfile our turns (stderr)")
    parser.add_argument(
        "--durability",
        choices=get_args(Saving),
        default=None,
        help="save our turns so (default: as the chat and the CLI do, `graph.durability`)",
    )
    args = parser.parse_args(argv)
    result = run(args.n, args.per_thread, args.warmup, args.messages, args.profile, args.durability)
    print(result["markdown"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
