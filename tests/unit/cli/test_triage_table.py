"""The `smart-inbox triage` table by conversation: who wrote and how many messages, the state
(answered when the user wrote last), and the warning naming the suspicious message."""

from __future__ import annotations

from ui.cli.triage import decision_cell, people_cell, warning_lines


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
