"""The integrations from the `smart-inbox` command, each call in its own process."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.fakes.jira_server import FakeJira
from tests.integration.cli_runner import run_cli
from tests.integration.integrations.fixtures import JIRA_TOKEN, jira_env

pytestmark = pytest.mark.integration


def test_ask_for_a_jira_issue_then_accept_it(tmp_path: Path, jira: FakeJira) -> None:
    env = jira_env(jira)
    listed = json.loads(run_cli(tmp_path, "ask", "list bugs", "--json", env=env).stdout)
    thread = listed["thread_id"]
    first = listed["citations"][0]
    asked = json.loads(
        run_cli(
            tmp_path,
            "ask",
            "open a Jira ticket for the first one",
            "--thread",
            thread,
            "--json",
            env=env,
        ).stdout
    )
    [pending] = asked["pending"]
    assert pending["action"] == "jira_create_issue"
    assert pending["args"]["email_id"] == first
    assert "### Create a Jira issue in NW" in pending["description"]
    assert jira.requests == []

    done = json.loads(
        run_cli(tmp_path, "resume", "--thread", thread, "--accept", "--json", env=env).stdout
    )
    assert [(e["action"], e["status"]) for e in done["executed"]] == [("jira_create_issue", "ok")]
    [post] = jira.requests
    assert (post.method, post.path) == ("POST", "/rest/api/3/issue")
    assert "Created Jira issue NW-1" in done["answer"]

    audit = run_cli(tmp_path, "audit", "--thread", thread, "--json", env=env).stdout
    assert "jira_create_issue" in audit and JIRA_TOKEN not in audit


def test_triage_lists_the_proposals_and_resume_decides_them(tmp_path: Path, jira: FakeJira) -> None:
    env = jira_env(jira)
    out = run_cli(tmp_path, "triage", env=env).stdout
    match = re.search(r"wait for your approval: smart-inbox resume --thread (\S+)", out)
    assert match, out
    # The card as plain text: its title without the markdown heading markers.
    assert "\nCreate a Jira issue in NW" in out and "### Create" not in out
    done = json.loads(
        run_cli(
            tmp_path, "resume", "--thread", match.group(1), "--reject", "--json", env=env
        ).stdout
    )
    # Only the reads of the run (the meeting requests' slots) ran; nothing that was rejected.
    assert {e["action"] for e in done["executed"]} == {"propose_meeting_slots"}
    assert jira.requests == []


def test_integrations_says_what_is_set_up(tmp_path: Path, jira: FakeJira) -> None:
    shown = json.loads(run_cli(tmp_path, "integrations", "--json", env=jira_env(jira)).stdout)
    kits = {k["name"]: k for k in shown["integrations"]}
    assert kits["jira"]["configured"] is True
    assert {t["name"]: t["level"] for t in kits["jira"]["tools"]} == {
        "jira_create_issue": 1,
        "jira_search": 0,
        "jira_get_issue": 0,
        "jira_add_comment": 1,
    }
    assert kits["slack"]["configured"] is False
    assert kits["slack"]["why_not"].startswith("Slack is not configured: set the bot token")
    assert kits["webhooks"]["tools"] == [
        {
            "name": "deliver_webhook_event",
            "level": 2,
            "read_only": False,
            "offered_to_the_model": False,
            "available": False,
            "why_not": "webhooks are not configured: no webhooks.json and no WEBHOOK_URL",
        }
    ]
    assert all(t["available"] and not t["why_not"] for t in kits["jira"]["tools"])
    policy = json.loads(run_cli(tmp_path, "policy", "--json").stdout)
    levels = {row["tool"]: row["level"] for row in policy["tools"]}
    assert levels["hubspot_create_contact"] == 1 and levels["hubspot_find_contact"] == 0


def test_a_broken_webhooks_file_is_one_line(tmp_path: Path) -> None:
    home = tmp_path
    (home / "webhooks.json").write_text("{not json")
    result = run_cli(home, "triage", check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"smart-inbox: {home / 'webhooks.json'}: not valid JSON (line 1, column 2: "
        "Expecting property name enclosed in double quotes)"
    )


def test_a_token_stored_in_the_vault_is_the_one_sent(tmp_path: Path, jira: FakeJira) -> None:
    env = {k: v for k, v in jira_env(jira).items() if k != "JIRA_API_TOKEN"}
    run_cli(tmp_path, "credentials", "set", "jira.api_token", "--stdin", env=env, stdin=JIRA_TOKEN)
    listed = json.loads(run_cli(tmp_path, "ask", "list bugs", "--json", env=env).stdout)
    thread = listed["thread_id"]
    run_cli(tmp_path, "ask", "open a Jira ticket for the first one", "--thread", thread, env=env)
    done = json.loads(
        run_cli(tmp_path, "resume", "--thread", thread, "--accept", "--json", env=env).stdout
    )
    assert [(e["action"], e["status"]) for e in done["executed"]] == [("jira_create_issue", "ok")]
    [post] = jira.requests
    assert post.path == "/rest/api/3/issue"  # the fake refuses any other token with a 401


def test_a_vault_it_cannot_read_leaves_jira_out_and_says_why(
    tmp_path: Path, jira: FakeJira
) -> None:
    env = {k: v for k, v in jira_env(jira).items() if k != "JIRA_API_TOKEN"}
    run_cli(tmp_path, "credentials", "set", "jira.api_token", "--stdin", env=env, stdin=JIRA_TOKEN)
    other_key = run_cli(tmp_path, "credentials", "new-key").stdout.strip()
    wrong = {**env, "SMART_INBOX_KEY": other_key, "JIRA_API_TOKEN": "not-the-stored-one"}
    shown = json.loads(run_cli(tmp_path, "integrations", "--json", env=wrong).stdout)
    kits = {k["name"]: k for k in shown["integrations"]}
    assert kits["jira"]["configured"] is False
    assert "credential cannot be read" in kits["jira"]["why_not"]
    assert other_key not in json.dumps(shown)
    # A question runs several nodes, each building the toolkits: the warning is said once.
    asked = run_cli(tmp_path, "ask", "list bugs", env=wrong)
    assert asked.stderr.count("Jira is left out: ") == 1, asked.stderr
    # The right key reads it again: nothing was lost.
    shown = json.loads(run_cli(tmp_path, "integrations", "--json", env=env).stdout)
    assert {k["name"]: k for k in shown["integrations"]}["jira"]["configured"] is True
