"""Correcting a row from the command line, each call in its own process, on the demo inbox:
the rule is kept, applied to the sender's other mail, listed, and removed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.cli_runner import run_cli

pytestmark = pytest.mark.integration

OWEN = "owen@northwind.example"
"""A colleague with two messages in the demo inbox."""


def triage_rows(home: Path) -> dict[str, dict[str, Any]]:
    rows = json.loads(run_cli(home, "triage", "--json", "--messages").stdout)
    return {row["id"]: row for row in rows}


def rules(home: Path) -> list[dict[str, Any]]:
    return list(json.loads(run_cli(home, "rules", "list", "--json").stdout))


def test_a_correction_is_kept_applied_to_the_sender_and_removable(tmp_path: Path) -> None:
    rows = triage_rows(tmp_path)
    for row in rows.values():
        assert row["decision"] in ("respond", "notify", "ignore")
        assert isinstance(row["suspicious"], str) and isinstance(row["unsure"], bool)
    assert any(row["suspicious"] for row in rows.values()), "the demo has phishing mail"
    owens = sorted(i for i, row in rows.items() if OWEN in row["from"])
    assert len(owens) == 2
    corrected, other = owens
    assert rows[other]["decision"] != "ignore"

    # Owen is a colleague: without --scope, ignoring one of his messages covers that one only.
    out = run_cli(
        tmp_path, "triage", "correct", corrected, "--decision", "ignore", "--scope", "sender"
    ).stdout
    assert f"corrected {corrected}" in out
    assert f"  decision: {rows[corrected]['decision']} -> ignore" in out
    assert f"rule 1: mail from the sender {OWEN}: decision ignore" in out
    assert "1 other message(s) it covers" in out

    [rule] = rules(tmp_path)
    assert (rule["id"], rule["scope"], rule["key"], rule["decision"]) == (
        1,
        "sender",
        OWEN,
        "ignore",
    )
    assert (rule["origin"], rule["email_id"]) == ("cli", corrected)
    listed = run_cli(tmp_path, "rules", "list").stdout
    assert f"mail from the sender {OWEN}: decision ignore" in listed

    after = triage_rows(tmp_path)  # a new process: the correction was kept
    assert after[corrected]["decision"] == "ignore"
    assert after[other]["decision"] == "ignore", "the sender's other mail gets the rule"
    assert after[corrected]["unsure"] is False
    again = triage_rows(tmp_path)
    assert (again[corrected]["decision"], again[other]["decision"]) == ("ignore", "ignore")
    table = run_cli(tmp_path, "triage").stdout
    assert table.splitlines()[2].startswith("DECISION")

    removed = run_cli(tmp_path, "rules", "remove", "1").stdout
    assert "removed rule 1" in removed
    assert rules(tmp_path) == []
    restored = triage_rows(tmp_path)
    assert restored[corrected]["decision"] == rows[corrected]["decision"]
    assert restored[other]["decision"] == rows[other]["decision"]


def test_bad_corrections_are_one_line_exit_2_and_store_nothing(tmp_path: Path) -> None:
    rows = triage_rows(tmp_path)
    some_id = next(iter(rows))
    cases = [
        (
            ("triage", "correct", "no-such-message@nowhere.example", "--decision", "ignore"),
            "no message",
        ),
        (("triage", "correct", some_id, "--decision", "maybe"), "decision must be one of"),
        (("triage", "correct", some_id, "--category", "spam"), "category must be one of"),
        (("triage", "correct", some_id), "say what to change"),
        (("triage", "correct", some_id, "--scope", "planet"), "invalid choice"),
        (("rules", "remove", "42"), "no rule with id 42"),
    ]
    for args, said in cases:
        result = run_cli(tmp_path, *args, check=False)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, (args, result.stderr)
        assert said in result.stderr and "Traceback" not in result.stderr, (args, result.stderr)
    assert rules(tmp_path) == []
    assert triage_rows(tmp_path)[some_id]["decision"] == rows[some_id]["decision"]
    assert run_cli(tmp_path, "rules", "list").stdout.startswith("no rules yet")
