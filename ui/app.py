"""The chat UI: each Chainlit chat thread is a LangGraph thread of the agent graph.

Thin on purpose: the graph does the work; this module shows its steps, its verified answer,
its approval cards, and the triage list (the words and shapes come from `ui.chat_render`).
Everything a person can click is a link in the text or part of an element kept with the
chat, so it works again after a reload, a reopened chat and a restart. Start it with
`smart-inbox ui`.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from pathlib import Path
from typing import Any

import chainlit as cl
from chainlit.data.base import BaseDataLayer
from chainlit.server import app as chainlit_app
from chainlit.types import ThreadDict
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command

from graph.builder import build_graph
from graph.context import Context
from graph.engines import EngineSpecError, load_engine
from graph.services import Services, build_services
from memory.chat_owners import ChatAccessError, ChatOwners, graph_thread_id
from memory.checkpointer import open_checkpointer
from memory.database_url import database_config
from memory.db import DatabaseUnavailableError, close_databases, open_database
from memory.keys import KeySourceError
from memory.paths import data_dir
from memory.vault import VaultError
from tools.calendar.settings import user_time_zone
from tools.http import close_shared_clients
from tools.mcp.shared_hub import close_shared_hubs
from ui import chat_render as render
from ui.mail_page import add_mail_page
from ui.persistence import create_data_layer, ensure_chat_tables
from ui.users import UserStore

logger = logging.getLogger(__name__)

TRIAGE_WORDS = re.compile(r"^\s*(triage( my)? inbox|triage)\s*[.!]?\s*$", re.IGNORECASE)
CANCEL_WORDS = re.compile(r"^\s*(cancel|never ?mind|stop)\s*[.!]?\s*$", re.IGNORECASE)
STEP_OUTPUT_LIMIT = 300
"""Characters of a tool's result shown in its step: the messages themselves open from links."""


class _Agent:
    """The compiled graph with its checkpointer, and the services the chat reads, once a process."""

    def __init__(self) -> None:
        self.graph: CompiledStateGraph[Any, Any, Any, Any] | None = None
        self._saver_cm: AbstractAsyncContextManager[Any] | None = None
        self._services: Services | None = None
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

    async def services(self) -> Services:
        """The mail cache, tool catalogue and settings the chat itself reads (built once)."""
        async with self._lock:
            if self._services is None:
                self._services = await asyncio.to_thread(build_services, Context())
            return self._services

    async def forget(self, thread_id: str) -> None:
        """Delete a graph thread's checkpointed state (its chat was deleted)."""
        graph = await self.get()
        if graph.checkpointer is not None and not isinstance(graph.checkpointer, bool):
            await graph.checkpointer.adelete_thread(thread_id)

    async def close(self) -> None:
        async with self._lock:
            if self._saver_cm is not None:
                await self._saver_cm.__aexit__(None, None, None)
            self._saver_cm, self.graph, self._services = None, None, None


AGENT = _Agent()


def _home() -> Path:
    return data_dir()


add_mail_page(chainlit_app, _home)


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
    return create_data_layer(home, forget=AGENT.forget, chat_name=_chat_name)


def _chat_name(first: str) -> str:
    """A triage chat is named by its time ("Triage, Thu 19 Nov 15:02"); others by their words."""
    if not TRIAGE_WORDS.match(first):
        return first
    now = datetime.now(user_time_zone())
    return f"Triage, {render.day_label(now)} {now:%H:%M}"


@functools.cache
def _owners() -> ChatOwners:
    """The chat owners' record of this process's data directory (opened once)."""
    return ChatOwners(open_database(database_config(_home()).app_url))


async def _may_use_this_chat() -> bool:
    """Claim a new chat's graph thread for the user, or check they own it; say so if not.

    Checked on every connect, resume, message and button: Chainlit's own rows go when a chat
    is deleted, and the browser chooses a chat's id.
    """
    user = cl.context.session.user
    try:
        if user is None:
            raise ChatAccessError("nobody is logged in")
        await asyncio.to_thread(_owners().claim, _thread_id(), user.identifier)
    except ChatAccessError as err:
        logger.warning("chat %s refused: %s", cl.context.session.thread_id, err)
        await cl.Message(content=f"This chat cannot be used: {err}. Start a new chat.").send()
        return False
    return True


Handler = Callable[..., Awaitable[None]]


def owned(handler: Handler) -> Handler:
    """Run a chat callback only for the owner of its chat."""

    @functools.wraps(handler)
    async def checked(*args: object, **kwargs: object) -> None:
        # Chainlit passes a callback's arguments by the names in its signature.
        if await _may_use_this_chat():
            await handler(*args, **kwargs)

    return checked


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


def _thread_id() -> str:
    return graph_thread_id(cl.context.session.thread_id)


def _config() -> RunnableConfig:
    return {"configurable": {"thread_id": _thread_id()}}


def _engine_name(context: Context) -> str:
    """The engine a chat runs on, `auto` resolved; reads the vault, so it runs in a thread."""
    try:
        return load_engine(context.model, str(data_dir(context.home))).name
    except (EngineSpecError, VaultError, KeySourceError, DatabaseUnavailableError) as err:
        # The first question will report it again; the greeting still says what was asked for.
        logger.warning("the engine %s cannot be built: %s", context.model, err)
        return context.model


def _buttons() -> cl.CustomElement:
    return cl.CustomElement(
        name="InboxButtons", props={"buttons": [{"name": "triage", "label": "Triage inbox"}]}
    )


@cl.on_chat_start
@owned
async def start() -> None:
    """Greet, say which engine answers, and offer the triage list."""
    engine = await asyncio.to_thread(_engine_name, Context())
    if engine == "rules":
        kind = "the offline rules engine"
    else:
        kind = f"the model `{engine}`; every answer is checked against your mail first"
    await cl.Message(
        content=f"Ask about your mail, or triage the inbox. (Running on {kind}.)",
        elements=[_buttons()],
    ).send()


@cl.on_chat_resume
@owned
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
@owned
async def on_message(message: cl.Message) -> None:
    """One chat turn: the text an open Edit or Reply asked for, a triage run, or a question."""
    writing = cl.user_session.get("writing")
    if writing:
        cl.user_session.set("writing", None)
        await _finish_writing(writing, message.content)
        return
    if TRIAGE_WORDS.match(message.content):
        await _triage()
        return
    graph = await AGENT.get()
    pending = (await graph.aget_state(_config())).interrupts
    target = cl.user_session.get("reply_for")
    if target and not pending:
        cl.user_session.set("reply_for", None)
        if not CANCEL_WORDS.match(message.content):
            await _suggested_reply(target, message.content)
            return
    if pending:
        await cl.Message(
            content="Please decide the pending request first (Approve, Edit, Reject or Reply)."
        ).send()
        return
    await _run({"messages": [HumanMessage(message.content)], "mode": "chat"})


@cl.action_callback("triage")
@owned
async def on_triage(action: cl.Action) -> None:
    """The triage button."""
    await _triage()


async def _run(payload: Any) -> None:
    """Run the graph, showing each tool call as a step, then the answer or the requests."""
    graph = await AGENT.get()
    config = _config()
    # Each step is saved before the next begins (see graph.routing.after_act).
    async for update in graph.astream(
        payload, config=config, context=Context(), stream_mode="updates", durability="sync"
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
    await cl.Message(content=render.answer_markdown(text)).send()


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
            content=f"{heading}\n\n{render.card_markdown(request['description'])}",
            actions=actions,
            author="Approval",
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


async def _decide(call_id: str, decision: dict[str, Any], action: cl.Action | None = None) -> None:
    request, count = await _pending(call_id)
    if request is None:
        await cl.Message(content="That request was already decided.").send()
        return
    cards = _cards()
    card = cards.pop(request["call_id"], None)
    _set_cards(cards)
    if card is not None:
        await card.remove_actions()  # a decided card keeps its text, loses its buttons
    elif action is not None:
        await action.remove()
    resume = {request["call_id"]: decision} if count > 1 else decision
    await _run(Command(resume=resume))


@cl.action_callback("approve")
@owned
async def on_approve(action: cl.Action) -> None:
    """Run the call as shown on its card."""
    await _decide(str(action.payload.get("call_id", "")), {"type": "accept", "args": None}, action)


@cl.action_callback("reject")
@owned
async def on_reject(action: cl.Action) -> None:
    """Drop the call; the answer says it was not done."""
    await _decide(str(action.payload.get("call_id", "")), {"type": "ignore", "args": None}, action)


@cl.action_callback("respond")
@owned
async def on_respond(action: cl.Action) -> None:
    """Ask what should change; the user's next message goes back to the engine."""
    await _start_writing(action, "respond", "What should change? Type it below (or “cancel”).")


@cl.action_callback("edit")
@owned
async def on_edit(action: cl.Action) -> None:
    """Ask for the new text (mail) or arguments (other tools); the next message is the edit."""
    request, _ = await _pending(str(action.payload.get("call_id", "")))
    if request is None:
        await cl.Message(content="That request was already decided.").send()
        return
    if "body" in request["action_request"]["args"]:
        await _start_writing(action, "edit_body", "Type the new text below (or “cancel”).")
    else:
        await _start_writing(
            action, "edit_args", "Send the new arguments as a JSON object (or “cancel”)."
        )


async def _start_writing(action: cl.Action, kind: str, prompt: str) -> None:
    """Remember what the next message is for and end this step: the chat is free to type in.

    (Waiting inside the button's callback kept the chat busy until the answer came.)
    """
    cl.user_session.set("writing", {"kind": kind, "call_id": action.payload.get("call_id", "")})
    await cl.Message(content=prompt).send()


async def _finish_writing(writing: dict[str, Any], text: str) -> None:
    """Turn the message an Edit or Reply asked for into the decision on its card."""
    call_id = str(writing.get("call_id", ""))
    if CANCEL_WORDS.match(text):
        await cl.Message(content="Nothing changed; the request is still waiting.").send()
        return
    if writing.get("kind") == "respond":
        await _decide(call_id, {"type": "response", "args": text})
        return
    request, _ = await _pending(call_id)
    if request is None:
        await cl.Message(content="That request was already decided.").send()
        return
    args = dict(request["action_request"]["args"])
    if writing.get("kind") == "edit_body":
        args["body"] = text
    else:
        try:
            args = json.loads(text)
        except json.JSONDecodeError as err:
            await cl.Message(content=f"Not valid JSON ({err.msg}); nothing changed.").send()
            return
        if not isinstance(args, dict):
            await cl.Message(content="That is not a JSON object; nothing changed.").send()
            return
    await _decide(call_id, {"type": "edit", "args": args})


async def _triage() -> None:
    """Triage run on this chat's thread, then the list of every message, most important first."""
    graph = await AGENT.get()
    config = _config()
    if (await graph.aget_state(config)).interrupts:
        await cl.Message(content="Please decide the pending request first.").send()
        return
    services = await AGENT.services()
    async with cl.Step(name="triage", type="tool") as step:
        await graph.ainvoke(
            {"mode": "triage", "messages": []},
            config=config,
            context=Context(),
            durability="sync",
        )
        pairs = await asyncio.to_thread(services.db.triaged_emails, services.source)
        step.output = f"{len(pairs)} message(s) triaged"
    zone = await asyncio.to_thread(user_time_zone)
    rows = render.triage_rows(pairs, zone)
    await cl.Message(
        content=render.triage_summary(rows),
        elements=[
            cl.CustomElement(
                name="TriageList",
                props={"rows": [row.as_props() for row in rows], "first": render.first_rows(rows)},
            )
        ],
    ).send()
    snapshot = await graph.aget_state(config)
    offers = [render.slot_offer(data, zone) for data in _slot_proposals(snapshot.values)]
    if offers:
        await cl.Message(
            content="**Free times for the meeting requests** (say “book the first slot for "
            "Sofia” to put one on a card):\n\n" + "\n\n".join(offers)
        ).send()
    if snapshot.interrupts:
        # What the triage proposes: a ticket, a post, a lead, an event a mail asked for.
        await _show_requests(snapshot)


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
    cl.user_session.set("reply_for", {"email_id": action.payload.get("email_id"), "to": who})
    await cl.Message(
        content=f"What should the reply to {who} say? Type it below (or “cancel”)."
    ).send()


async def _suggested_reply(target: dict[str, Any], text: str) -> None:
    """Propose the reply the user just wrote; it waits on an approval card like any other."""
    services = await AGENT.services()
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
