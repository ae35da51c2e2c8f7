"""A run that can only read is saved once; a run that may change the world, after every step."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langgraph.types import Command

from graph.context import Context
from graph.durability import may_act_unasked, turn_durability
from memory.checkpointer import open_checkpointer
from memory.database_url import database_config
from memory.paths import data_dir
from tests.unit.conftest import INVOICE_ID
from ui.cli.turns import run_turn

NEW_MESSAGE: dict[str, Any] = {"messages": [HumanMessage("find emails about invoice")]}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("MCP_CONFIG", raising=False)
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


def _write(path: Path, document: object) -> None:
    path.write_text(json.dumps(document), "utf-8")


def test_a_new_message_with_no_autonomous_tool_is_saved_once(home: Path) -> None:
    assert not may_act_unasked(home)
    assert turn_durability(NEW_MESSAGE, home) == "exit"
    assert turn_durability({"mode": "triage", "messages": []}, home) == "exit"


def test_answers_to_approval_cards_and_a_crashed_run_are_saved_after_every_step(
    home: Path,
) -> None:
    assert turn_durability(Command(resume={"type": "accept"}), home) == "sync"
    assert turn_durability(None, home) == "sync"


@pytest.mark.parametrize(
    "policy",
    [{"tools": {"send_email": 2}}, {"servers": {"crm": 2}}],
)
def test_a_policy_that_lets_a_tool_act_unasked_saves_after_every_step(
    home: Path, policy: dict[str, Any]
) -> None:
    _write(home / "policy.json", policy)
    assert turn_durability(NEW_MESSAGE, home) == "sync"


def test_a_level_that_still_asks_keeps_the_single_save(home: Path) -> None:
    # Walks near it: a policy file that names tools, none of them autonomous.
    _write(home / "policy.json", {"tools": {"send_email": 1, "search_emails": 0}})
    assert turn_durability(NEW_MESSAGE, home) == "exit"


def test_an_mcp_server_that_auto_approves_a_tool_saves_after_every_step(home: Path) -> None:
    _write(
        home / "mcp.json",
        {"mcpServers": {"crm": {"command": "crm-server", "autoApprove": ["create_lead"]}}},
    )
    assert turn_durability(NEW_MESSAGE, home) == "sync"


@pytest.mark.parametrize("name", ["policy.json", "mcp.json"])
def test_a_broken_file_saves_after_every_step(home: Path, name: str) -> None:
    (home / name).write_text("{not json", "utf-8")
    assert turn_durability(NEW_MESSAGE, home) == "sync"


async def _checkpoints(context: Context, thread: str) -> int:
    async with open_checkpointer(database_config(data_dir(context.home))) as saver:
        return len([c async for c in saver.alist({"configurable": {"thread_id": thread}})])


async def test_a_read_only_turn_writes_one_checkpoint_and_a_stop_for_approval_is_kept(
    context: Context,
) -> None:
    first = await run_turn({**NEW_MESSAGE, "mode": "chat"}, "t", context)
    assert INVOICE_ID in first.values["citations"]
    assert await _checkpoints(context, "t") == 1

    # A turn that proposes a side effect stops for approval; the stop is saved, so a new
    # process (each run_turn opens its own saver and graph) answers the card.
    draft = {"messages": [HumanMessage("draft a reply to the one from Bob saying ok")]}
    stopped = await run_turn({**draft, "mode": "chat"}, "t", context)
    assert stopped.interrupts
    assert await _checkpoints(context, "t") == 2
    done = await run_turn(Command(resume={"type": "accept"}), "t", context)
    assert not done.interrupts
    assert any(e["status"] == "ok" for e in done.values["executed"])
    assert await _checkpoints(context, "t") > 4, "the approved run is saved after every step"


async def test_with_an_autonomous_tool_a_read_only_turn_is_saved_after_every_step(
    context: Context,
) -> None:
    _write(data_dir(context.home) / "policy.json", {"tools": {"save_draft": 2}})
    await run_turn({**NEW_MESSAGE, "mode": "chat"}, "t", context)
    assert await _checkpoints(context, "t") > 4
