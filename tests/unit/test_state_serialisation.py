"""Checkpoints of real turns load back identically under strict msgpack deserialisation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.serde.event_hooks import register_serde_event_listener
from langgraph.types import Command

from graph.builder import build_graph
from graph.context import Context
from memory.checkpointer import open_checkpointer, strict_serializer
from tests.unit.conftest import drafts_in
from tools.mail.model import Email

CONFIG: RunnableConfig = {"configurable": {"thread_id": "serialisation"}}


@pytest.fixture
def serde_events() -> Iterator[list[dict[str, Any]]]:
    """Every allow-list event the serializer emits (a blocked type shows up here)."""
    events: list[dict[str, Any]] = []
    unregister = register_serde_event_listener(lambda event: events.append(dict(event)))
    yield events
    unregister()


def test_the_strict_serializer_blocks_types_that_are_not_allow_listed(
    serde_events: list[dict[str, Any]],
) -> None:
    serde = strict_serializer()
    email = Email(id="x@y", source="maildir:test", folder="INBOX", key="k")
    loaded = serde.loads_typed(serde.dumps_typed({"email": email}))
    assert not isinstance(loaded["email"], Email)
    assert any(e["kind"] == "msgpack_blocked" and e["name"] == "Email" for e in serde_events), (
        serde_events
    )


async def test_a_full_thread_reloads_identically_in_a_fresh_saver(
    tmp_path: Path, context: Context, maildir: Path, serde_events: list[dict[str, Any]]
) -> None:
    path = tmp_path / "c.db"
    async with open_checkpointer(path) as saver:
        graph = build_graph(checkpointer=saver)
        for text in ("what needs my attention today?", "what does the first one say?"):
            await graph.ainvoke({"messages": [HumanMessage(text)]}, config=CONFIG, context=context)
        await graph.ainvoke(
            {"messages": [HumanMessage("draft a reply to the first one saying ok")]},
            config=CONFIG,
            context=context,
        )
        before = await graph.aget_state(CONFIG)

    values = before.values
    assert len(values["messages"]) == 5
    assert {e["tool"] for e in values["evidence"]} >= {"triage", "list_conversations", "get_email"}
    assert before.next == ("request_approval",)

    async with open_checkpointer(path) as fresh:
        graph = build_graph(checkpointer=fresh)
        after = await graph.aget_state(CONFIG)
        assert after.values["messages"] == values["messages"]
        assert [type(m) for m in after.values["messages"]] == [type(m) for m in values["messages"]]
        assert after.values["evidence"] == values["evidence"]
        assert after.values == values
        assert after.next == before.next
        assert [i.value for i in after.interrupts] == [i.value for i in before.interrupts]

        # The pending approval resumes from the reloaded checkpoint.
        result = await graph.ainvoke(
            Command(resume={"type": "accept"}), config=CONFIG, context=context
        )
        assert [e["status"] for e in result["executed"]] == ["ok"]

    assert len(drafts_in(maildir)) == 1
    async with open_checkpointer(path) as third:
        reloaded = await build_graph(checkpointer=third).aget_state(CONFIG)
        assert reloaded.values["messages"] == result["messages"]
        assert reloaded.values["executed"] == result["executed"]

    assert serde_events == [], "a type outside the allow-list was written to a checkpoint"
