"""Mailboxes and a chat turn for the tests of the offline engine's answers."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from graph.builder import build_graph
from graph.context import Context

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "demo-inbox"
OWN_MAIL = ROOT / "tests" / "data" / "answer-mail"
"""Mail written for these tests (see its README): other senders, tones and languages."""
DANA = "dana@northwind.example"
MARA = "mara@fernhill.example"


def copy_mailbox(source: Path, target: Path) -> Path:
    """A copy of a Maildir (drafts saved by a test stay out of the repository)."""
    shutil.copytree(source, target)
    for folder in (target, target / ".Sent"):
        if folder.is_dir():
            for sub in ("cur", "new", "tmp"):
                (folder / sub).mkdir(exist_ok=True)
    return target


def context_for(mailbox: Path, home: Path, owner: str) -> Context:
    """The offline engine on `mailbox`, its data in `home`."""
    return Context(
        model="rules",
        inbox=f"maildir:{mailbox}",
        home=str(home),
        max_steps=5,
        user_addresses=(owner,),
    )


async def ask(context: Context, text: str, thread: str = "t") -> dict[str, Any]:
    """One chat turn on a fresh thread; the graph's final values."""
    graph = build_graph(checkpointer=InMemorySaver())
    result: dict[str, Any] = await graph.ainvoke(
        {"messages": [HumanMessage(text)]},
        config={"configurable": {"thread_id": thread}},
        context=context,
    )
    return result
