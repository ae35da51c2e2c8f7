"""The `smart-inbox triage` table by conversation: who wrote and how many messages, the state
(answered when the user wrote last), and the warning naming the suspicious message."""

from __future__ import annotations

import argparse
from types import SimpleNamespace
from typing import Any

import pytest

import ui.cli.triage as triage_command
from ui.cli.triage import InboxRows, conversation_json, decision_cell, people_cell, warning_lines


def test_the_people_are_cut_and_the_count_never_is() -> None:
    assert people_cell(["Marcus Lee"], 2, 28) == "Marcus Lee (2)"
    long = people_cell(["Helena Park", "Owen Gallagher", "me"], 3, 28)
    assert long.endswith("… (3)") and len(long) == 28


def test_the_state_column_and_the_warning_of_a_conversation() -> None:
    row = {
        "id": "latest@x",
        "from": "Copperleaf <accounts@copperleaf.example>",
        "state": "answered",
        "decision": "notify",
        "suspicious": "asks to pay into new bank details",
        "suspicious_id": "fraud@x",
        "unsure": False,
    }
    assert decision_cell(row) == "answered!"
    assert decision_cell({**row, "state": "", "suspicious": ""}) == "notify"
    [warning] = [line for line in warning_lines([row]) if line.startswith("WARNING")]
    assert warning.startswith("WARNING fraud@x (Copperleaf")


async def test_the_run_s_new_ids_are_not_held_while_the_inbox_is_listed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # After a first triage they are every message's id; the list does not show them.
    values = {"new_email_ids": ["m1@x", "m2@x"], "triage": [], "evidence": [], "turn": 1}
    snapshot = SimpleNamespace(values=values, interrupts=())
    held_while_listing = []

    async def run_turn(*_: Any) -> SimpleNamespace:
        return snapshot

    def listed_rows(*_: Any, **__: Any) -> InboxRows:
        held_while_listing.append("new_email_ids" in snapshot.values)
        return InboxRows([], conversation_json)

    monkeypatch.setattr(triage_command, "load_context", lambda args: None)
    monkeypatch.setattr(triage_command, "build_services", lambda context: None)
    monkeypatch.setattr(triage_command, "run_turn", run_turn)
    monkeypatch.setattr(triage_command, "listed_rows", listed_rows)
    args = argparse.Namespace(limit=None, json=True, messages=False)
    assert await triage_command.triage(args) == 0
    assert held_while_listing == [False]
    assert capsys.readouterr().out == "[]\n"
