"""Approval cards: one per pending request, with its decisions as buttons.

A card's text is the description the code wrote for the request; the buttons follow the
request's Agent Inbox `config` (Edit and Reply only where allowed).
"""

from __future__ import annotations

from typing import Any

import chainlit as cl

from ui.chat import render
from ui.chat.agent import AGENT, thread_config
from ui.chat.chainlit_calls import recalled, remember, send
from ui.health.chat import health_note


def requests(snapshot: Any) -> list[dict[str, Any]]:
    """The approval requests a thread's state waits on."""
    found = []
    for item in snapshot.interrupts:
        found.extend(item.value if isinstance(item.value, list) else [item.value])
    return found


def _buttons(config: dict[str, Any], payload: dict[str, Any]) -> list[cl.Action]:
    actions = [cl.Action(name="approve", payload=payload, label="Approve", icon="check")]
    if config.get("allow_edit"):
        actions.append(cl.Action(name="edit", payload=payload, label="Edit", icon="pencil"))
    actions.append(cl.Action(name="reject", payload=payload, label="Reject", icon="x"))
    if config.get("allow_respond"):
        actions.append(
            cl.Action(name="respond", payload=payload, label="Reply", icon="message-square")
        )
    return actions


async def show_requests(snapshot: Any, *, keep: bool = True) -> list[cl.Message]:
    """One card per pending request: the code-written description and the decisions.

    `keep=False` shows the cards without adding them to the chat's history (see `send`).
    """
    cards = []
    for request in requests(snapshot):
        payload = {"call_id": request.get("call_id", "")}
        flags = request.get("flags") or []
        heading = "**⚠ Approval needed — flagged**" if flags else "**Approval needed**"
        card = await send(
            cl.Message(
                content=f"{heading}\n\n{render.card_markdown(request['description'])}"
                + health_note(request),
                actions=_buttons(request.get("config", {}), payload),
                author="Approval",
            ),
            keep=keep,
        )
        set_cards({**shown_cards(), payload["call_id"]: card})
        cards.append(card)
    return cards


def shown_cards() -> dict[str, Any]:
    """The approval cards shown in this session, by call id, as a new dict.

    Chainlit persists the user session into the thread's metadata (objects as null) and, on
    resume, starts the session from a shallow copy of it: a dict read from the session may be
    the thread's own, which Chainlit then sends to the browser. Adding a `Message` to that one
    breaks the resume (the browser never gets the chat's history), so it is never changed.
    """
    return {k: v for k, v in (recalled("cards") or {}).items() if v is not None}


def set_cards(cards: dict[str, Any]) -> None:
    """Remember the cards shown in this session."""
    remember("cards", cards)


async def pending(call_id: str) -> tuple[dict[str, Any] | None, int]:
    """The pending request with this call id (None once decided), and how many are pending."""
    graph = await AGENT.get()
    found = requests(await graph.aget_state(thread_config()))
    match = next((r for r in found if r.get("call_id") == call_id), None)
    return match, len(found)
