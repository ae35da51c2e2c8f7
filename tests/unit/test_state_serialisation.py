"""Checkpoints of real turns load back identically under strict msgpack deserialisation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.serde.event_hooks import register_serde_event_listener
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.types import Command

from graph.builder import build_graph
from graph.context import Context
from memory.checkpointer import open_checkpointer, strict_serializer
from tests.unit.conftest import drafts_in
from tools.mail.model import Attachment, Email

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


OLD_EMAIL_PAYLOAD = bytes.fromhex(
    "81a5656d61696cc8013d0293b0746f6f6c732e6d61696c2e6d6f64656ca5456d61696cde0015a26964a36140"
    "62a6736f75726365ac6d61696c6469723a74657374a6666f6c646572a5494e424f58a36b6579a16ba966726f"
    "6d5f6e616d65a0a966726f6d5f61646472a0a2746f90a2636390a87265706c795f746fa0a77375626a656374"
    "a548656c6c6fa464617465a0ab696e5f7265706c795f746fa0aa7265666572656e63657390a7686561646572"
    "7380a4626f6479a0ad626f64795f69735f656d707479c2ab6174746163686d656e747391c7500293b0746f6f"
    "6c732e6d61696c2e6d6f64656caa4174746163686d656e7483a866696c656e616d65a5612e706466ac636f6e"
    "74656e745f74797065af6170706c69636174696f6e2f706466a473697a6503a473697a6500a56572726f72a0"
    "aa6d6573736167655f6964a0a6646967657374a0"
)
"""`{"email": OLD_EMAIL}` as the strict serializer wrote it while `Email` was defined in
`tools.mail.model` (the payload names that module)."""
OLD_EMAIL = Email(
    id="a@b",
    source="maildir:test",
    folder="INBOX",
    key="k",
    subject="Hello",
    attachments=(Attachment("a.pdf", "application/pdf", 3),),
)


def test_a_payload_written_before_the_mail_model_moved_loads_as_before(
    serde_events: list[dict[str, Any]],
) -> None:
    assert b"tools.mail.model" in OLD_EMAIL_PAYLOAD
    # Without strict deserialisation (asked for explicitly: the test suite runs with
    # LANGGRAPH_STRICT_MSGPACK=true) the old module name still resolves to the class.
    # (msgpack gives sequences back as lists, so the fields are compared as `to_dict` has them.)
    lax = JsonPlusSerializer(allowed_msgpack_modules=True).loads_typed(
        ("msgpack", OLD_EMAIL_PAYLOAD)
    )["email"]
    assert isinstance(lax, Email)
    assert lax.to_dict() == OLD_EMAIL.to_dict()
    # Strict, without an allow-list: blocked as it always was (the fields come back as a dict).
    blocked = strict_serializer().loads_typed(("msgpack", OLD_EMAIL_PAYLOAD))["email"]
    assert not isinstance(blocked, Email)
    assert blocked["subject"] == "Hello"
    assert any(
        e["kind"] == "msgpack_blocked" and e["module"] == "tools.mail.model" for e in serde_events
    )


async def test_allow_listing_the_mail_model_allows_its_old_name(tmp_path: Path) -> None:
    async with open_checkpointer(tmp_path / "c.db") as saver:
        narrowed = saver.with_allowlist(
            [(Email.__module__, "Email"), (Attachment.__module__, "Attachment")]
        )
        assert Email.__module__ == "memory.mail_model"
        loaded = narrowed.serde.loads_typed(("msgpack", OLD_EMAIL_PAYLOAD))["email"]
        assert isinstance(loaded, Email)
        assert isinstance(loaded.attachments[0], Attachment)
        assert loaded.to_dict() == OLD_EMAIL.to_dict()
        # New payloads name the module that defines the class now, and load back too.
        fresh = narrowed.serde.dumps_typed({"email": OLD_EMAIL})
        assert b"memory.mail_model" in fresh[1]
        reloaded = narrowed.serde.loads_typed(fresh)["email"]
        assert isinstance(reloaded, Email)
        assert reloaded.to_dict() == OLD_EMAIL.to_dict()
