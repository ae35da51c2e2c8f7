"""One run of the graph on a thread, and how its answer and approval requests are printed."""

from __future__ import annotations

import asyncio
import json
import shlex
import sys
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.types import StateSnapshot

from graph.builder import build_graph
from graph.context import Context
from graph.durability import turn_durability
from memory.checkpointer import open_checkpointer
from memory.database_url import database_config
from memory.paths import data_dir
from tools.http import close_shared_clients
from tools.mcp.shared_hub import close_shared_hubs
from ui.cli.terminal_text import plain_text


async def run_turn(payload: Any, thread_id: str, context: Context) -> StateSnapshot:
    """Run the graph on `thread_id` until it ends or waits; its state afterwards."""
    home = data_dir(context.home)
    try:
        async with open_checkpointer(database_config(home)) as saver:
            graph = build_graph(checkpointer=saver)
            config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
            # Saved after every step when a step may change the world, else once at its end
            # or stop (`graph.durability`).
            durability = await asyncio.to_thread(turn_durability, payload, home)
            await graph.ainvoke(payload, config=config, context=context, durability=durability)
            return await graph.aget_state(config)
    finally:
        # MCP sessions are closed by the tasks that opened them, before the loop ends.
        await close_shared_hubs()
        await close_shared_clients()


async def thread_state(thread_id: str, home: str | None = None) -> StateSnapshot:
    """The checkpointed state of `thread_id` (empty when there is none)."""
    async with open_checkpointer(database_config(data_dir(home))) as saver:
        return await build_graph(checkpointer=saver).aget_state(
            {"configurable": {"thread_id": thread_id}}
        )


async def thread_exists(thread_id: str, context: Context) -> bool:
    """Whether the conversation store holds a checkpoint of `thread_id`."""
    where = await asyncio.to_thread(database_config, data_dir(context.home))
    async with open_checkpointer(where) as saver:
        found = await saver.aget_tuple({"configurable": {"thread_id": thread_id}})
    return found is not None


def report_fetch_failures(snapshot: StateSnapshot) -> bool:
    """Print each failure of the run's fetch that was not one message's; True if the source failed.

    When the source itself could not be read, the cache shown is not the whole inbox.
    Snoozed mail that could not be woken is said as what it is: the fetch went through.
    """
    source_failed = False
    for failure in snapshot.values.get("fetch_errors") or []:
        if failure.get("id"):
            continue  # one message: the answer and the triage list say which
        if failure.get("stage") == "wake":
            print(f"smart-inbox: {failure['error']}", file=sys.stderr)
        else:
            print(f"smart-inbox: could not fetch: {failure['error']}", file=sys.stderr)
            source_failed = True
    return source_failed


def turn_result(snapshot: Any, thread_id: str) -> dict[str, Any]:
    """The `--json` shape of one turn: answer, citations, pending requests, executed calls."""
    values = snapshot.values
    pending = []
    for item in snapshot.interrupts:
        for request in item.value if isinstance(item.value, list) else [item.value]:
            pending.append(
                {
                    "id": request.get("call_id", ""),
                    "action": request["action_request"]["action"],
                    "args": request["action_request"]["args"],
                    "description": request["description"],
                    "flags": request.get("flags", []),
                }
            )
    answer = ""
    messages = values.get("messages") or []
    if not pending and messages and messages[-1].type == "ai":
        answer = str(messages[-1].text)
    return {
        "thread_id": thread_id,
        "answer": answer,
        "citations": values.get("citations", []) if answer else [],
        "pending": pending,
        "executed": [
            {"action": e["action"], "args": e["args"], "status": e["status"], "error": e["error"]}
            for e in values.get("executed") or []
        ],
    }


def print_turn(result: dict[str, Any], *, as_json: bool) -> int:
    """Print a turn: its answer, or each pending request with the commands that decide it."""
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    if result["answer"]:
        print(plain_text(result["answer"]))
    pending = result["pending"]
    for request in pending:
        print(
            f"\nWaiting for your approval ({request['id']}):\n{plain_text(request['description'])}"
        )
        call = request["id"] if len(pending) > 1 else None
        print("\n" + "\n".join(decision_commands(result["thread_id"], call)))
    return 0


def decision_commands(thread_id: str, call_id: str | None) -> list[str]:
    """The exact `resume` commands that decide a pending request (`call_id`: one of several)."""
    command = f"smart-inbox resume --thread {shlex.quote(thread_id)}"
    if call_id:
        command += f" --call {shlex.quote(call_id)}"
    return [
        f"To run it:     {command} --accept",
        f"To decline it: {command} --reject",
        "(or --edit JSON to run it with other arguments, --respond TEXT to answer instead)",
    ]
