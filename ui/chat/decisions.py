"""The buttons of an approval card, and the message an Edit or Reply asks the user to write.

Approve and Reject decide at once. Edit and Reply ask for text and end their step, so the chat
is free to type in; the next message is then turned into the decision on that card.
"""

from __future__ import annotations

import json
import re
from typing import Any

import chainlit as cl
from langgraph.types import Command

from ui.chat.agent import owned
from ui.chat.cards import pending, set_cards, shown_cards
from ui.chat.chainlit_calls import remember, remove_button, say
from ui.chat.list_edit import kept_ids, list_edit_prompt
from ui.chat.turn import run

CANCEL_WORDS = re.compile(r"^\s*(cancel|never ?mind|stop)\s*[.!]?\s*$", re.IGNORECASE)


async def decide(call_id: str, decision: dict[str, Any], action: cl.Action | None = None) -> None:
    """Resume the graph with `decision` on the request `call_id`; its card loses its buttons."""
    request, count = await pending(call_id)
    if request is None:
        await say("That request was already decided.")
        return
    cards = shown_cards()
    card = cards.pop(request["call_id"], None)
    set_cards(cards)
    if card is not None:
        await card.remove_actions()  # a decided card keeps its text, loses its buttons
    elif action is not None:
        await remove_button(action)
    resume = {request["call_id"]: decision} if count > 1 else decision
    await run(Command(resume=resume))


@cl.action_callback("approve")
@owned
async def on_approve(action: cl.Action) -> None:
    """Run the call as shown on its card."""
    await decide(str(action.payload.get("call_id", "")), {"type": "accept", "args": None}, action)


@cl.action_callback("reject")
@owned
async def on_reject(action: cl.Action) -> None:
    """Drop the call; the answer says it was not done."""
    await decide(str(action.payload.get("call_id", "")), {"type": "ignore", "args": None}, action)


@cl.action_callback("respond")
@owned
async def on_respond(action: cl.Action) -> None:
    """Ask what should change; the user's next message goes back to the engine."""
    await _start_writing(action, "respond", "What should change? Type it below (or “cancel”).")


@cl.action_callback("edit")
@owned
async def on_edit(action: cl.Action) -> None:
    """Ask for the new text (mail) or arguments (other tools); the next message is the edit."""
    request, _ = await pending(str(action.payload.get("call_id", "")))
    if request is None:
        await say("That request was already decided.")
        return
    if request.get("conversations") and isinstance(
        request["action_request"]["args"].get("message_ids"), list
    ):  # a bulk inbox action: the rows to keep
        await _start_writing(action, "edit_list", list_edit_prompt(request["conversations"]))
    elif "body" in request["action_request"]["args"]:
        await _start_writing(action, "edit_body", "Type the new text below (or “cancel”).")
    else:
        await _start_writing(
            action, "edit_args", "Send the new arguments as a JSON object (or “cancel”)."
        )


async def _start_writing(action: cl.Action, kind: str, prompt: str) -> None:
    """Remember what the next message is for and end this step: the chat is free to type in.

    (Waiting inside the button's callback kept the chat busy until the answer came.)
    """
    remember("writing", {"kind": kind, "call_id": action.payload.get("call_id", "")})
    await say(prompt)


async def finish_writing(writing: dict[str, Any], text: str) -> None:
    """Turn the message an Edit or Reply asked for into the decision on its card."""
    call_id = str(writing.get("call_id", ""))
    if CANCEL_WORDS.match(text):
        await say("Nothing changed; the request is still waiting.")
        return
    if writing.get("kind") == "respond":
        await decide(call_id, {"type": "response", "args": text})
        return
    request, _ = await pending(call_id)
    if request is None:
        await say("That request was already decided.")
        return
    args = dict(request["action_request"]["args"])
    if writing.get("kind") == "edit_list":
        kept = kept_ids(text, request.get("conversations") or [])
        if kept is None:
            await say("That names none of the card's conversations; nothing changed.")
            return
        args["message_ids"] = kept
    elif writing.get("kind") == "edit_body":
        args["body"] = text
    else:
        try:
            args = json.loads(text)
        except json.JSONDecodeError as err:
            await say(f"Not valid JSON ({err.msg}); nothing changed.")
            return
        if not isinstance(args, dict):
            await say("That is not a JSON object; nothing changed.")
            return
    await decide(call_id, {"type": "edit", "args": args})
