"""The chat UI: each Chainlit chat thread is a LangGraph thread of the agent graph.

Thin on purpose: the graph does the work; this module answers Chainlit's callbacks (login,
history, start, resume, each message) and hands the work to the chat's other modules, which
show its steps, its verified answer, its approval cards and the triage list (the words and
shapes come from `ui.chat.render`). Everything a person can click is a link in the text or part
of an element kept with the chat, so it works again after a reload, a reopened chat and a
restart. Start it with `smart-inbox ui`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

import chainlit as cl
from chainlit.data.base import BaseDataLayer
from chainlit.server import app as chainlit_app
from chainlit.types import ThreadDict
from langchain_core.messages import HumanMessage

from graph.context import Context
from graph.engines import EngineSpecError, load_engine
from memory.credential_cipher import VaultError
from memory.db import DatabaseUnavailableError, close_databases
from memory.keys import KeySourceError
from memory.paths import data_dir
from tools.calendar.settings import user_time_zone
from tools.http import close_shared_clients
from tools.mcp.shared_hub import close_shared_hubs
from ui.chat import render
from ui.chat.agent import AGENT, home, owned, thread_config
from ui.chat.cards import show_requests
from ui.chat.chainlit_calls import recalled, remember, say, send
from ui.chat.decisions import CANCEL_WORDS, finish_writing
from ui.chat.mail_page import add_mail_page
from ui.chat.persistence import create_data_layer, ensure_chat_tables
from ui.chat.triage_corrections import correct_from_list
from ui.chat.triage_view import TRIAGE_WORDS, suggested_reply, triage
from ui.chat.turn import run
from ui.chat.users import UserStore
from ui.health.chat import HEALTH_WORDS, health_answer, welcome_note
from ui.health.watch import start_watch

logger = logging.getLogger(__name__)

add_mail_page(chainlit_app, home)


@cl.password_auth_callback
async def login(username: str, password: str) -> cl.User | None:
    """Check a user against the users file of the data directory (scrypt, off the loop)."""
    if await asyncio.to_thread(UserStore(home()).verify, username, password):
        return cl.User(identifier=username, metadata={"provider": "credentials"})
    return None


@cl.data_layer
def chat_history() -> BaseDataLayer:
    """Chat history in the app database, next to the mail cache and the audit log."""
    directory = home()
    ensure_chat_tables(directory)
    return create_data_layer(directory, forget=AGENT.forget, chat_name=_chat_name)


def _chat_name(first: str) -> str:
    """A triage chat is named by its time ("Triage, Thu 19 Nov 15:02"); others by their words."""
    if not TRIAGE_WORDS.match(first):
        return first
    now = datetime.now(user_time_zone())
    return f"Triage, {render.day_label(now)} {now:%H:%M}"


_WATCH: list[asyncio.Task[None]] = []


@cl.on_app_startup
async def watch_health() -> None:
    """Check every part in the background (`SMART_INBOX_HEALTH_INTERVAL`)."""
    _WATCH.extend(task for task in [start_watch()] if task is not None)


@cl.on_app_shutdown
async def shutdown() -> None:
    """Stop the health watch; close the checkpointer, MCP sessions, HTTP client, databases."""
    for task in _WATCH:
        task.cancel()
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


def _engine_name(context: Context) -> str:
    """The engine a chat runs on, `auto` resolved; reads the vault, so it runs in a thread."""
    try:
        return load_engine(context.model, str(data_dir(context.home))).name
    except (EngineSpecError, VaultError, KeySourceError, DatabaseUnavailableError) as err:
        # The first question will report it again; the greeting still says what was asked for.
        logger.warning("the engine %s cannot be built: %s", context.model, err)
        return context.model


def _inbox_buttons() -> cl.CustomElement:
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
    note = welcome_note()
    await say(
        f"Ask about your mail, or triage the inbox. (Running on {kind}.)"
        + (f"\n\n⚠ {note}" if note else ""),
        elements=[_inbox_buttons()],
    )


@cl.on_chat_resume
@owned
async def resume(thread: ThreadDict) -> None:
    """Reopened chat: its LangGraph state is in the checkpointer; re-show pending requests.

    Chainlit sends the chat's history to the browser after this returns, and the browser
    replaces the messages it shows with that history: the messages sent here are added to it
    (their buttons are kept apart by the browser and survive the replacement).
    They are not added to the stored history: the card shown when the request was made is
    there already, and each reopening (a reload, or the browser reconnecting after a server
    restart) would otherwise add one more copy of it.
    """
    graph = await AGENT.get()
    snapshot = await graph.aget_state(thread_config())
    if snapshot.interrupts:
        waiting = await send(cl.Message(content="Still waiting for your decision:"), keep=False)
        cards = await show_requests(snapshot, keep=False)
        thread["steps"].extend(message.to_dict() for message in (waiting, *cards))


@cl.on_message
@owned
async def on_message(message: cl.Message) -> None:
    """One chat turn: the text an open Edit or Reply asked for, a triage run, or a question."""
    writing = recalled("writing")
    if writing:
        remember("writing", None)
        await finish_writing(writing, message.content)
        return
    if TRIAGE_WORDS.match(message.content):
        await triage()
        return
    if HEALTH_WORDS.match(message.content):
        await say(await health_answer())
        return
    graph = await AGENT.get()
    pending = (await graph.aget_state(thread_config())).interrupts
    target = recalled("reply_for")
    if target and not pending:
        remember("reply_for", None)
        if not CANCEL_WORDS.match(message.content):
            await suggested_reply(target, message.content)
            return
    if pending:
        await say("Please decide the pending request first (Approve, Edit, Reject or Reply).")
        return
    await run({"messages": [HumanMessage(message.content)], "mode": "chat"})


@cl.action_callback("triage")
@owned
async def on_triage(action: cl.Action) -> None:
    """The triage button."""
    await triage()


@cl.action_callback("correct_triage")
@owned
async def on_correct_triage(action: cl.Action) -> dict[str, Any]:
    """A row's correction from the triage list; the answer is what the row shows next."""
    return await correct_from_list(action.payload)
