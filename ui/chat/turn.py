"""One run of the graph in the chat: each tool call shown as a step, then the answer or cards."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import chainlit as cl

from graph.context import Context
from graph.durability import turn_durability
from ui.chat import render
from ui.chat.agent import AGENT, home, thread_config
from ui.chat.cards import show_requests
from ui.chat.chainlit_calls import say

STEP_OUTPUT_LIMIT = 300
"""Characters of a tool's result shown in its step: the messages themselves open from links."""


async def run(payload: Any) -> None:
    """Run the graph, showing each tool call as a step, then the answer or the requests."""
    graph = await AGENT.get()
    config = thread_config()
    # Saved after every step when a step may change the world, else once (`graph.durability`).
    durability = await asyncio.to_thread(turn_durability, payload, home())
    async for update in graph.astream(
        payload, config=config, context=Context(), stream_mode="updates", durability=durability
    ):
        for node, values in update.items():
            if node == "act" and isinstance(values, dict):
                executed = {e["evidence_id"]: e for e in values.get("executed") or []}
                for record in values.get("evidence") or []:
                    if record["id"] in executed:
                        await _tool_step(record)
    snapshot = await graph.aget_state(config)
    if snapshot.interrupts:
        await show_requests(snapshot)
    else:
        await _show_answer(snapshot.values)


def _step_output(record: dict[str, Any]) -> str:
    """A tool's result in a line or two: what it found, not every body it read."""
    messages = record.get("messages") or []
    if messages:
        subjects = "; ".join(str(m.get("subject") or "(no subject)") for m in messages[:5])
        more = f" and {len(messages) - 5} more" if len(messages) > 5 else ""
        text = f"{len(messages)} message(s): {subjects}{more}"
    else:
        text = str(record["content"])
    if len(text) > STEP_OUTPUT_LIMIT:
        text = text[:STEP_OUTPUT_LIMIT] + " …"
    return text


async def _tool_step(record: dict[str, Any]) -> None:
    async with cl.Step(name=record["tool"], type="tool") as step:
        step.input = json.dumps(record["args"], ensure_ascii=False, indent=2)
        if record["error"]:
            step.is_error = True
            step.output = f"Error: {record['error']}"
        else:
            step.output = _step_output(record)


async def _show_answer(values: dict[str, Any]) -> None:
    messages = values.get("messages") or []
    text = str(messages[-1].text) if messages and messages[-1].type == "ai" else ""
    # Sent only after the grounding check passed: nothing unverified is ever shown.
    await say(render.answer_markdown(text))
