"""The triage view: a triage run on the chat's thread, and the replies it suggests.

The run ends with the list of every conversation in the inbox, most important first (a row
opens onto its messages), then the reply lists
(`ui.chat.followup_view`); a suggested reply is written by the user in the chat, then
proposed on an approval card like any other call.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import chainlit as cl
from langchain_core.messages import HumanMessage

from graph.context import Context
from graph.durability import turn_durability
from tools.calendar.settings import user_time_zone
from ui.chat import render
from ui.chat.agent import AGENT, home, owned, thread_config
from ui.chat.cards import show_requests
from ui.chat.chainlit_calls import remember, say
from ui.chat.followup_view import show_followups
from ui.chat.inbox_rows import inbox_conversations, woken_first
from ui.chat.turn import run

TRIAGE_WORDS = re.compile(r"^\s*(triage( my)? inbox|triage)\s*[.!]?\s*$", re.IGNORECASE)


async def triage() -> None:
    """Triage run on this chat's thread, then a row per conversation, most important first."""
    graph = await AGENT.get()
    config = thread_config()
    if (await graph.aget_state(config)).interrupts:
        await say("Please decide the pending request first.")
        return
    services = await AGENT.services()
    payload = {"mode": "triage", "messages": []}
    durability = await asyncio.to_thread(turn_durability, payload, home())
    async with cl.Step(name="triage", type="tool") as step:
        await graph.ainvoke(payload, config=config, context=Context(), durability=durability)
        states, woken, note = await asyncio.to_thread(inbox_conversations, services.mailbox)
        step.output = f"{len(states)} conversation(s) in the inbox"
    zone = await asyncio.to_thread(user_time_zone)
    rows = woken_first(render.conversation_rows(states, zone), woken)
    # The list names itself in its props: a correction from a row rewrites this element.
    element_id = str(uuid.uuid4())
    await say(
        render.triage_summary(rows) + (f" ({note}: answered ones may read as open.)" * bool(note)),
        elements=[
            cl.CustomElement(
                id=element_id,
                name="TriageList",
                props=render.triage_list_props(rows, element_id, list(services.mailbox.accounts)),
            )
        ],
    )
    await show_followups(services.mailbox, zone)
    snapshot = await graph.aget_state(config)
    offers = [render.slot_offer(data, zone) for data in _slot_proposals(snapshot.values)]
    if offers:
        await say(
            "**Free times for the meeting requests** (say “book the first slot for "
            "Sofia” to put one on a card):\n\n" + "\n\n".join(offers)
        )
    if snapshot.interrupts:
        # What the triage proposes: a ticket, a post, a lead, an event a mail asked for.
        await show_requests(snapshot)


def _slot_proposals(values: dict[str, Any]) -> list[dict[str, Any]]:
    """The slots this triage run read for its meeting requests, as the calendar returned them."""
    turn = values.get("turn", 0)
    return [
        record["data"]
        for record in values.get("evidence") or []
        if record["turn"] == turn
        and record["tool"] == "propose_meeting_slots"
        and not record["error"]
        and record.get("data")
    ]


@cl.action_callback("suggested_reply")
@owned
async def on_suggested_reply(action: cl.Action) -> None:
    """A reply the triage suggested: the user's next message becomes its text."""
    who = str(action.payload.get("to", ""))
    remember("reply_for", {"email_id": action.payload.get("email_id"), "to": who})
    await say(f"What should the reply to {who} say? Type it below (or “cancel”).")


async def suggested_reply(target: dict[str, Any], text: str) -> None:
    """Propose the reply the user just wrote; it waits on an approval card like any other."""
    services = await AGENT.services()
    email_id = str(target.get("email_id", ""))
    if "reply_to_email" in services.tools.names():
        call = {"name": "reply_to_email", "args": {"email_id": email_id, "body": text}}
    else:  # sending is not set up: the reply is drafted instead
        call = {"name": "save_draft", "args": {"in_reply_to_id": email_id, "body": text}}
    await run(
        {
            "messages": [HumanMessage(f"Reply to {target.get('to', '')}: {text}")],
            "mode": "chat",
            "requested_calls": [call],
        }
    )
