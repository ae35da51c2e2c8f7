"""A Salesforce lead made just before the process died is not made twice.

Each call in its own process, against a local org: the lead's card is accepted, the org stores
the lead, and the process is killed before it hears the answer, so the ledger never records the
outcome. The next `resume` asks whether to run it again; run again, it finds the lead and
creates nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from memory.vault import open_vault
from tests.fakes.salesforce_server import FakeSalesforce
from tests.integration.cli_runner import ROOT, cli_env, run_cli
from tests.integration.integrations.salesforce_fixtures import ME, connect, salesforce_env
from tools.oauth.accounts import AccountStore

pytestmark = pytest.mark.integration

LEAD = "new.lead@meridianhealth.example"


@pytest.fixture
def org() -> Iterator[FakeSalesforce]:
    with FakeSalesforce(address=ME) as server:
        yield server  # type: ignore[misc]


def as_json(home: Path, env: dict[str, str], *args: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(run_cli(home, *args, "--json", env=env).stdout)
    return result


def test_a_lead_made_just_before_a_crash_is_found_not_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, org: FakeSalesforce
) -> None:
    monkeypatch.delenv("SMART_INBOX_KEY", raising=False)
    connect(org, AccountStore(open_vault(tmp_path)), monkeypatch)
    env = {**salesforce_env(org), "SMART_INBOX_USER_EMAILS": ME}
    asked = as_json(tmp_path, env, "ask", f"add {LEAD} to Salesforce")
    [card] = asked["pending"]
    assert (card["action"], card["args"]) == ("salesforce_create_lead", {"email": LEAD})
    thread = str(asked["thread_id"])

    holder: dict[str, subprocess.Popen[str]] = {}

    def die_before_the_answer(kind: str, record: dict[str, Any]) -> None:
        holder["process"].kill()
        holder["process"].wait(timeout=30)

    org.on_create = die_before_the_answer
    process = holder["process"] = subprocess.Popen(
        [sys.executable, "-m", "ui.cli", "resume", "--thread", thread, "--accept"],
        cwd=ROOT,
        env=cli_env(tmp_path, env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.wait(timeout=120) == -9
    org.on_create = None
    assert len(org.leads()) == 1

    again = as_json(tmp_path, env, "resume", "--thread", thread)
    [question] = again["pending"]
    assert question["action"] == "salesforce_create_lead"
    assert "may already have happened" in question["description"]
    assert len(org.leads()) == 1, "nothing runs before the person answers"

    done = as_json(tmp_path, env, "resume", "--thread", thread, "--accept")
    assert [(e["action"], e["status"]) for e in done["executed"]] == [
        ("salesforce_create_lead", "ok")
    ]
    assert "Salesforce already has this Lead" in done["answer"]
    [lead] = org.leads()
    assert (
        lead["Email"] == LEAD and len(org.calls("POST", "/services/data/v62.0/sobjects/Lead")) == 1
    )
