"""The chat UI: each Chainlit chat thread is a LangGraph thread of the agent graph.

Thin on purpose: the graph does the work; this module shows its steps, its verified answer,
its approval cards, and the triage table. Start it with `smart-inbox ui`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import chainlit as cl
from chainlit.data.base import BaseDataLayer
from chainlit.types import ThreadDict
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command

from graph.builder import build_graph
from graph.context import Context
from graph.services import build_services
from memory.checkpointer import open_checkpointer
from memory.database_url import database_config
from memory.db import close_databases
from memory.paths import data_dir
from tools.http import close_shared_clients
from tools.mcp.hub import close_shared_hubs
from ui.persistence import create_data_layer, ensure_chat_tables
from ui.users import UserStore

logger = logging.getLogger(__name__)

TRIAGE_WORDS = re.compile(r"^\s*(triage( my)? inbox|triage)\s*[.!]?\s*$", re.IGNORECASE)
CITATION = re.compile(r"\[msg:([^\]\s]+)\]")
REPLY_ACTIONS = ("reply", "schedule_meeting")
"""Suggested triage actions the chat offers as a reply button; tickets, notifications and leads
come from the triage run itself as approval cards, when their integration is set up."""
MAX_SUGGESTIONS = 6
STREAM_CHUNK = 24
"""Characters per streamed piece of an answer (answers are streamed once verified)."""


class _Agent:
    """The compiled graph with its checkpointer, opened once per server process."""

    def __init__(self) -> None:
        self.graph: CompiledStateGraph[Any, Any, Any, Any] | None = None
        self._saver_cm: AbstractAsyncContextManager[Any] | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> CompiledStateGraph[Any, Any, Any, Any]:
        async with self._lock:
            if self.graph is None:
                home = await asyncio.to_thread(data_dir)
                where = await asyncio.to_thread(database_config, home)
                self._saver_cm = open_checkpointer(where)
                saver = await self._saver_cm.__aenter__()
                self.graph = build_graph(checkpointer=saver)
            return self.graph

    async def close(self) -> None:
        async with self._lock:
            if self._saver_cm is not None:
                await self._saver_cm.__aexit__(None, None, None)
            self._saver_cm, self.graph = None, None


AGENT = _Agent()


def _home() -> Path:
    return data_dir()


@cl.password_auth_callback
async def login(username: str, password: str) -> cl.User | None:
    """Check a user against the users file of the data directory (scrypt, off the loop)."""
    if await asyncio.to_thread(UserStore(_home()).verify, username, password):
        return cl.User(identifier=username, metadata={"provider": "credentials"})
    return None


@cl.data_layer
def chat_history() -> BaseDataLayer:
    """Chat history in the app database, next to the mail cache and the audit log."""
    home = _home()
    ensure_chat_tables(home)
    return create_data_layer(home)


@cl.on_app_shutdown
async def shutdown() -> None:
    """Close the checkpointer, the MCP sessions, the HTTP client and the databases."""
    await AGENT.close()
    await close_shared_hubs()
    await close_shared_clients()
    await asyncio.to_thread(close_databases)


@cl.set_starters
async def starters(user: cl.User | None = None) -> list[cl.Starter]:
    """Questions to start with."""
    return [
        cl.Starter(label="Triage my inbox", message="Triage my inbox"),
        cl.Starter(label="What needs my attention?", message="What needs my attention today?"),
        cl.Starter(label="Any invoices?", message="Any invoices?"),
        cl.Starter(label="Meeting requests", message="Show me the meeting requests"),
    ]


def _config() -> RunnableConfig:
    return {"configurable": {"thread_id": f"ui-{cl.context.session.thread_id}"}}


def _engine_name(context: Context) -> str:
    """The engine a chat runs on, `auto` resolved; reads the vault, so it runs in a thread."""
    from graph.engines import EngineSpecError, load_engine
    from memory.db import DatabaseUnavailableError
    from memory.keys import KeySourceError
    from memory.vault import VaultError

    try:
        return load_engine(context.model, str(data_dir(context.home))).name
    except (EngineSpecError, VaultError, KeySourceError, DatabaseUnavailableError) as err:
        # The first question will report it again; the greeting still says what was asked for.
        logger.warning("the engine %s cannot be built: %s", context.model, err)
        return context.model


@cl.on_chat_start
async def start() -> None:
    """Offer the triage view."""
    engine = await asyncio.to_thread(_engine_name, Context())
    kind = "the offline rules engine" if engine == "rules" else f"the model `{engine}`"
    await cl.Message(
        content=f"Ask about your mail, or triage the inbox. (Running on {kind}.)",
        actions=[cl.Action(name="triage", payload={}, label="Triage inbox", icon="inbox")],
    ).send()


@cl.on_chat_resume
async def resume(thread: ThreadDict) -> None:
    """Reopened chat: its LangGraph state is in the checkpointer; re-show pending requests.

    Chainlit sends the chat's history to the browser after this returns, and the browser
    replaces the messages it shows with that history: the messages sent here are added to it
    (their buttons are kept apart by the browser and survive the replacement).
    """
    graph = await AGENT.get()
    snapshot = await graph.aget_state(_config())
    if snapshot.interrupts:
        waiting = cl.Message(content="Still waiting for your decision:")
        await waiting.send()
        cards = await _show_requests(snapshot)
        thread["steps"].extend(message.to_dict() for message in (waiting, *cards))


@cl.on_message
async def on_message(message: cl.Message) -> None:
    """One chat turn, or a triage run when asked for one."""
    if TRIAGE_WORDS.match(message.content):
        await _triage()
        return
    graph = await AGENT.get()
    target = cl.user_session.get("reply_for")
    if target and not (await graph.aget_state(_config())).interrupts:
        cl.user_session.set("reply_for", None)
        await _suggested_reply(target, message.content)
        return
    if (await graph.aget_state(_config())).interrupts:
        await cl.Message(
            content="Please decide the pending request first (Approve, Edit, Reject or Reply)."
        ).send()
        return
    await _run({"messages": [HumanMessage(message.content)], "mode": "chat"})


@cl.action_callback("triage")
async def on_triage(action: cl.Action) -> None:
    """The triage button."""
    await _triage()


async def _run(payload: Any) -> None:
    """Run the graph, showing each tool call as a step, then the answer or the requests."""
    graph = await AGENT.get()
    config = _config()
    context = Context()
    async for update in graph.astream(
        payload, config=config, context=context, stream_mode="updates"
    ):
        for node, values in update.items():
            if node == "act" and isinstance(values, dict):
                executed = {e["evidence_id"]: e for e in values.get("executed") or []}
                for record in values.get("evidence") or []:
                    if record["id"] in executed:
                        await _tool_step(record)
    snapshot = await graph.aget_state(config)
    if snapshot.interrupts:
        await _show_requests(snapshot)
    else:
        await _show_answer(snapshot.values)


async def _tool_step(record: dict[str, Any]) -> None:
    async with cl.Step(name=record["tool"], type="tool") as step:
        step.input = json.dumps(record["args"], ensure_ascii=False, indent=2)
        if record["error"]:
            step.is_error = True
            step.output = f"Error: {record['error']}"
        else:
            step.output = record["content"]


async def _message_elements(ids: list[str]) -> dict[str, cl.Text]:
    """Give the full text of each message by id, as side elements labelled `mail 1`, `mail 2`.

    Labels rather than raw ids: an id such as `abc@mail.example` would be turned into an
    e-mail link by the markdown renderer and could no longer open the message.
    """
    services = await asyncio.to_thread(build_services, Context())
    elements: dict[str, cl.Text] = {}
    for message_id in dict.fromkeys(ids):
        email = await asyncio.to_thread(services.db.get_email, message_id)
        if email is None:
            continue
        body = "\n".join(
            [
                f"Id: {email.id}",
                f"From: {email.sender}",
                f"Subject: {email.subject}",
                f"Date: {email.date}",
                "",
                email.body,
            ]
        )
        label = f"mail {len(elements) + 1}"
        elements[message_id] = cl.Text(name=label, content=body, display="side")
    return elements


async def _show_answer(values: dict[str, Any]) -> None:
    messages = values.get("messages") or []
    text = str(messages[-1].text) if messages and messages[-1].type == "ai" else ""
    elements = await _message_elements(CITATION.findall(text))
    text = CITATION.sub(
        lambda m: f"[{elements[m.group(1)].name}]" if m.group(1) in elements else m.group(0), text
    )
    reply = cl.Message(content="", elements=list(elements.values()))
    # Streamed only after the grounding check passed: nothing unverified is ever shown.
    for start in range(0, len(text), STREAM_CHUNK):
        await reply.stream_token(text[start : start + STREAM_CHUNK])
    await reply.send()


def _requests(snapshot: Any) -> list[dict[str, Any]]:
    found = []
    for item in snapshot.interrupts:
        found.extend(item.value if isinstance(item.value, list) else [item.value])
    return found


async def _show_requests(snapshot: Any) -> list[cl.Message]:
    """One card per pending request: the code-written description and the decisions."""
    cards = []
    for request in _requests(snapshot):
        config = request.get("config", {})
        payload = {"call_id": request.get("call_id", "")}
        actions = [cl.Action(name="approve", payload=payload, label="Approve", icon="check")]
        if config.get("allow_edit"):
            actions.append(cl.Action(name="edit", payload=payload, label="Edit", icon="pencil"))
        actions.append(cl.Action(name="reject", payload=payload, label="Reject", icon="x"))
        if config.get("allow_respond"):
            actions.append(
                cl.Action(name="respond", payload=payload, label="Reply", icon="message-square")
            )
        flags = request.get("flags") or []
        heading = "**⚠ Approval needed — flagged**" if flags else "**Approval needed**"
        card = cl.Message(
            content=f"{heading}\n\n{request['description']}", actions=actions, author="Approval"
        )
        await card.send()
        _set_cards({**_cards(), payload["call_id"]: card})
        cards.append(card)
    return cards


def _cards() -> dict[str, Any]:
    """The approval cards shown in this session, by call id, as a new dict.

    Chainlit persists the user session into the thread's metadata (objects as null) and, on
    resume, starts the session from a shallow copy of it: a dict read from the session may be
    the thread's own, which Chainlit then sends to the browser. Adding a `Message` to that one
    breaks the resume (the browser never gets the chat's history), so it is never changed.
    """
    return {k: v for k, v in (cl.user_session.get("cards") or {}).items() if v is not None}


def _set_cards(cards: dict[str, Any]) -> None:
    cl.user_session.set("cards", cards)


async def _pending(call_id: str) -> tuple[dict[str, Any] | None, int]:
    graph = await AGENT.get()
    requests = _requests(await graph.aget_state(_config()))
    match = next((r for r in requests if r.get("call_id") == call_id), None)
    return match, len(requests)


async def _decide(action: cl.Action, decision: dict[str, Any]) -> None:
    request, count = await _pending(str(action.payload.get("call_id", "")))
    if request is None:
        await cl.Message(content="That request was already decided.").send()
        return
    cards = _cards()
    card = cards.pop(request["call_id"], None)
    _set_cards(cards)
    if card is not None:
        await card.remove_actions()  # a decided card keeps its text, loses its buttons
    else:
        await action.remove()
    resume = {request["call_id"]: decision} if count > 1 else decision
    await _run(Command(resume=resume))


@cl.action_callback("approve")
async def on_approve(action: cl.Action) -> None:
    """Run the call as shown on its card."""
    await _decide(action, {"type": "accept", "args": None})


@cl.action_callback("reject")
async def on_reject(action: cl.Action) -> None:
    """Drop the call; the answer says it was not done."""
    await _decide(action, {"type": "ignore", "args": None})


@cl.action_callback("respond")
async def on_respond(action: cl.Action) -> None:
    """Send the user's words back to the engine instead of running the call."""
    answer = await cl.AskUserMessage(content="What should change?", timeout=900).send()
    if answer:
        await _decide(action, {"type": "response", "args": str(answer["output"])})


@cl.action_callback("edit")
async def on_edit(action: cl.Action) -> None:
    """Change the text (mail) or the arguments (other tools), then run it after a re-check."""
    request, _ = await _pending(str(action.payload.get("call_id", "")))
    if request is None:
        await cl.Message(content="That request was already decided.").send()
        return
    args = dict(request["action_request"]["args"])
    if "body" in args:
        asked = await cl.AskUserMessage(content="Write the new text:", timeout=900).send()
        if not asked:
            return
        args["body"] = str(asked["output"])
    else:
        asked = await cl.AskUserMessage(
            content="Send the new arguments as a JSON object:", timeout=900
        ).send()
        if not asked:
            return
        try:
            args = json.loads(str(asked["output"]))
        except json.JSONDecodeError as err:
            await cl.Message(content=f"Not valid JSON ({err.msg}); nothing changed.").send()
            return
    await _decide(action, {"type": "edit", "args": args})


async def _triage() -> None:
    """Triage run on this chat's thread, then the table of every message, most important first."""
    graph = await AGENT.get()
    config = _config()
    if (await graph.aget_state(config)).interrupts:
        await cl.Message(content="Please decide the pending request first.").send()
        return
    async with cl.Step(name="triage", type="tool") as step:
        await graph.ainvoke({"mode": "triage", "messages": []}, config=config, context=Context())
        services = await asyncio.to_thread(build_services, Context())
        pairs = await asyncio.to_thread(services.db.triaged_emails, services.source)
        step.output = f"{len(pairs)} message(s) triaged"
    elements = await _message_elements([email.id for email, _ in pairs])
    rows = ["| priority | from | subject | category | suggested action | reason | open |"]
    rows.append("| --- | --- | --- | --- | --- | --- | --- |")
    for email, triage in pairs:
        cells = [
            triage.priority,
            email.sender,
            email.subject or "(no subject)",
            triage.category,
            triage.action,
            triage.reason,
            elements[email.id].name if email.id in elements else email.id,
        ]
        rows.append("| " + " | ".join(c.replace("|", "/").replace("\n", " ") for c in cells) + " |")
    await cl.Message(content="\n".join(rows), elements=list(elements.values())).send()
    snapshot = await graph.aget_state(config)
    offers = _slot_offers(snapshot.values)
    if offers:
        await cl.Message(
            content="**Slots for the meeting requests** (say “book the first slot for Sofia” "
            "to put one on a card):\n\n" + "\n\n".join(offers)
        ).send()
    suggestions = [
        cl.Action(
            name="suggested_reply",
            payload={"email_id": email.id, "to": email.from_name or email.from_addr},
            label=f"Reply to {email.from_name or email.from_addr}: {email.subject[:40]}",
            icon="reply",
        )
        for email, triage in pairs
        if triage.action in REPLY_ACTIONS and triage.priority in ("high", "normal")
    ][:MAX_SUGGESTIONS]
    if suggestions:
        await cl.Message(
            content="Suggested actions (each becomes an approval card):", actions=suggestions
        ).send()
    if snapshot.interrupts:
        # What the triage proposes: a ticket, a post, a lead, an event a mail asked for.
        await _show_requests(snapshot)


def _slot_offers(values: dict[str, Any]) -> list[str]:
    """The slots this triage run read for its meeting requests, as the calendar wrote them."""
    turn = values.get("turn", 0)
    return [
        record["content"]
        for record in values.get("evidence") or []
        if record["turn"] == turn
        and record["tool"] == "propose_meeting_slots"
        and not record["error"]
    ]


@cl.action_callback("suggested_reply")
async def on_suggested_reply(action: cl.Action) -> None:
    """A reply the triage suggested: the user's next message becomes its text."""
    who = str(action.payload.get("to", ""))
    cl.user_session.set("reply_for", {"email_id": action.payload.get("email_id"), "to": who})
    await cl.Message(content=f"What should the reply to {who} say? Type it below.").send()


async def _suggested_reply(target: dict[str, Any], text: str) -> None:
    """Propose the reply the user just wrote; it waits on an approval card like any other."""
    services = await asyncio.to_thread(build_services, Context())
    email_id = str(target.get("email_id", ""))
    if "reply_to_email" in services.tools.names():
        call = {"name": "reply_to_email", "args": {"email_id": email_id, "body": text}}
    else:  # sending is not set up: the reply is drafted instead
        call = {"name": "save_draft", "args": {"in_reply_to_id": email_id, "body": text}}
    await _run(
        {
            "messages": [HumanMessage(f"Reply to {target.get('to', '')}: {text}")],
            "mode": "chat",
            "requested_calls": [call],
        }
    )
