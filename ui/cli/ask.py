"""A conversation on the command line: ask, decide what it asks to approve, read it back."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from typing import Any

from langchain_core.messages import HumanMessage
from langgraph.types import Command

from graph.builder import build_graph
from memory.checkpointer import open_checkpointer
from memory.database_url import database_config
from memory.paths import data_dir
from ui.cli.errors import UserError
from ui.cli.settings import load_context, one_line_errors
from ui.cli.terminal_text import plain_text
from ui.cli.turns import print_turn, run_turn, thread_exists, thread_state, turn_result


@one_line_errors
async def ask(args: argparse.Namespace) -> int:
    """`ask`: one chat turn on a new or existing thread."""
    if not args.text.strip():
        raise UserError("nothing to ask: the question is empty")
    context = await asyncio.to_thread(load_context, args)
    thread_id = args.thread or f"thread-{uuid.uuid4().hex[:12]}"
    if not args.thread and not args.json:
        print(f"thread: {thread_id}")
    if args.thread and not await thread_exists(args.thread, context):
        # A mistyped id would otherwise lose the conversation the user meant without a word.
        print(
            f"smart-inbox: no thread {args.thread!r} found: started a new thread {args.thread}",
            file=sys.stderr,
        )
    snapshot = await run_turn(
        {"messages": [HumanMessage(args.text)], "mode": "chat"}, thread_id, context
    )
    return print_turn(turn_result(snapshot, thread_id), as_json=args.json)


def _resume_value(args: argparse.Namespace) -> dict[str, Any] | None:
    if args.accept:
        return {"type": "accept", "args": None}
    if args.reject:
        return {"type": "ignore", "args": None}
    if args.respond is not None:
        return {"type": "response", "args": args.respond}
    if args.edit is None:
        return None
    try:
        edited = json.loads(args.edit)
    except json.JSONDecodeError as err:
        raise UserError(f"--edit needs a JSON object of arguments: {err.msg}") from err
    if not isinstance(edited, dict):
        raise UserError("--edit needs a JSON object of arguments")
    return {"type": "edit", "args": edited}


@one_line_errors
async def resume(args: argparse.Namespace) -> int:
    """`resume`: decide the pending requests of a thread, or finish its interrupted run."""
    value = _resume_value(args)
    context = await asyncio.to_thread(load_context, args)
    snapshot = await thread_state(args.thread, context.home)
    pending = turn_result(snapshot, args.thread)["pending"]
    if not pending:
        if snapshot.next and value is None and not args.call:
            # The last run stopped part-way (the process died): carry it on from its checkpoint.
            snapshot = await run_turn(None, args.thread, context)
            return print_turn(turn_result(snapshot, args.thread), as_json=args.json)
        raise UserError(f"thread {args.thread!r} has no pending approval request")
    if value is None:
        ids = ", ".join(p["id"] for p in pending)
        raise UserError(
            f"thread {args.thread!r} waits for a decision on {ids}: "
            "pass --accept, --reject, --edit JSON or --respond TEXT"
        )
    if value["type"] == "edit" and len(pending) > 1 and not args.call:
        raise UserError("several requests are pending: say which one to edit with --call ID")
    if args.call:
        if args.call not in {p["id"] for p in pending}:
            ids = ", ".join(p["id"] for p in pending)
            raise UserError(f"no pending request {args.call!r}; pending: {ids}")
        snapshot = await run_turn(Command(resume={args.call: value}), args.thread, context)
    else:
        snapshot = await run_turn(Command(resume=value), args.thread, context)
    return print_turn(turn_result(snapshot, args.thread), as_json=args.json)


@one_line_errors
async def history(args: argparse.Namespace) -> int:
    """`history`: a thread's conversation, the agent's Markdown as plain text."""
    where = database_config(data_dir())
    async with open_checkpointer(where) as saver:
        snapshot = await build_graph(checkpointer=saver).aget_state(
            {"configurable": {"thread_id": args.thread}}
        )
    messages = snapshot.values.get("messages") or []
    if not messages:
        raise UserError(f"no thread {args.thread!r} in {where.describe()}")
    turns = [
        {"role": "user" if m.type == "human" else "agent", "text": str(m.text)} for m in messages
    ]
    if args.json:
        print(
            json.dumps({"thread_id": args.thread, "messages": turns}, ensure_ascii=False, indent=2)
        )
        return 0
    for turn in turns:
        # The user's own words are shown as typed; the agent's Markdown is for the chat.
        text = plain_text(turn["text"]) if turn["role"] == "agent" else turn["text"]
        print(f"{turn['role']}: {text}\n")
    return 0
