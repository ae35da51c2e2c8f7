"""The approval policy file: defaults, levels, trust lists, and clear errors for broken files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graph.policy import (
    AUTONOMOUS,
    CONFIRM,
    READ_ONLY,
    ApprovalPolicy,
    PolicyError,
    load_policy,
    save_policy,
    with_level,
    with_trusted,
)


def test_missing_file_is_the_default_policy(tmp_path: Path) -> None:
    policy = load_policy(tmp_path / "policy.json")
    assert policy.level_for("search_emails", default=READ_ONLY) == READ_ONLY
    assert policy.level_for("send_email", default=CONFIRM) == CONFIRM
    assert policy.level_for("some_mcp_tool_nobody_knows", default=CONFIRM) == CONFIRM


def test_explicit_level_beats_server_level_beats_default() -> None:
    policy = ApprovalPolicy(tools={"send_email": 2}, servers={"jira": 2})
    assert policy.level_for("send_email", default=CONFIRM) == AUTONOMOUS
    assert policy.level_for("create_issue", default=CONFIRM, server="jira") == AUTONOMOUS
    assert policy.level_for("create_issue", default=CONFIRM, server="slack") == CONFIRM


def test_round_trip_through_the_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    policy = with_level(ApprovalPolicy(), "send_email", 2, read_only_tools=())
    policy = with_trusted(policy, "Boss@Northwind.example")
    policy = with_trusted(policy, "@partner.example")
    save_policy(path, policy)
    again = load_policy(path)
    assert again.tools == {"send_email": 2}
    assert again.trusted_addresses == {"boss@northwind.example"}
    assert again.trusted_domains == {"partner.example"}
    assert not list(tmp_path.glob(".policy-*")), "no temporary file left behind"
    assert with_trusted(again, "partner.example", trust=False).trusted_domains == frozenset()


def test_level_zero_is_only_for_tools_that_only_read() -> None:
    with pytest.raises(PolicyError, match="side effects"):
        with_level(ApprovalPolicy(), "send_email", 0, read_only_tools={"get_email"})
    assert with_level(ApprovalPolicy(), "get_email", 0, read_only_tools={"get_email"}).tools == {
        "get_email": 0
    }
    with pytest.raises(PolicyError):
        with_level(ApprovalPolicy(), "send_email", 3, read_only_tools=())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "JSON object"),
        ('{"tools": {"send_email": 5}}', "must be 0, 1 or 2"),
        ('{"tools": {"send_email": true}}', "must be 0, 1 or 2"),
        ('{"tools": []}', "must be an object"),
        ('{"levels": {}}', "unknown key"),
        ('{"trusted": {"addresses": "a@b.example"}}', "list of strings"),
        ('{"trusted": {"people": []}}', "'trusted' must be"),
    ],
)
def test_broken_file_is_a_clear_error_naming_it(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "policy.json"
    path.write_text(text, "utf-8")
    with pytest.raises(PolicyError, match=message) as caught:
        load_policy(path)
    assert str(path) in str(caught.value)
    assert path.read_text("utf-8") == text, "a broken file is reported, never rewritten"


def test_file_shape_is_plain_json(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    save_policy(path, ApprovalPolicy(tools={"send_email": 2}, servers={"jira": 1}))
    assert json.loads(path.read_text("utf-8")) == {
        "tools": {"send_email": 2},
        "servers": {"jira": 1},
        "trusted": {"addresses": [], "domains": []},
    }
