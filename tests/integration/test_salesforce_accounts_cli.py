"""`smart-inbox accounts add salesforce` end to end in its own process, against a local org:
the web server flow with PKCE through the browser, the grant listed without tokens, used by
`smart-inbox integrations`, and revoked on `accounts remove`."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fakes.salesforce_server import FakeSalesforce
from tests.integration.cli_runner import ROOT, cli_env, run_cli
from tests.integration.integrations.salesforce_fixtures import ME, salesforce_env
from tests.integration.test_no_plaintext_secrets import find_in_output, find_plaintext

pytestmark = pytest.mark.integration


@pytest.fixture
def org() -> Iterator[FakeSalesforce]:
    with FakeSalesforce(address=ME) as server:
        yield server  # type: ignore[misc]


def consent_when_shown(
    process: subprocess.Popen[str], server: FakeSalesforce, lines: list[str]
) -> None:
    """Read the command's output; open the URL it prints and press Allow, as the user would."""
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        if line.startswith("http"):
            url = line.strip()
            with httpx.Client() as client:
                assert "Approve" in client.get(url).text
                query = httpx.URL(url).query.decode()
                answer = client.get(f"{server.base_url}/authorize/decide?{query}&decision=approve")
                client.get(answer.headers["location"])


def test_add_list_use_and_remove_a_salesforce_account(tmp_path: Path, org: FakeSalesforce) -> None:
    env = salesforce_env(org)
    process = subprocess.Popen(
        [sys.executable, "-m", "ui.cli", "accounts", "add", "salesforce", "work", "--no-browser"],
        cwd=ROOT,
        env=cli_env(tmp_path, env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=consent_when_shown, args=(process, org, lines))
    reader.start()
    assert process.wait(timeout=60) == 0, process.stderr.read() if process.stderr else ""
    reader.join(timeout=5)
    assert lines[0].strip() == "Open this URL to connect your Salesforce account:"
    assert lines[1].startswith(f"{org.base_url}/services/oauth2/authorize?")
    assert lines[-1].strip() == f"connected salesforce account work ({ME})"
    [refresh] = org.refresh

    listed = run_cli(tmp_path, "accounts", "list", "--json", env=env)
    [row] = json.loads(listed.stdout)
    assert (row["name"], row["kind"], row["address"]) == ("work", "salesforce", ME)
    assert row["state"] == "connected" and row["expires_at"] is None

    shown = json.loads(run_cli(tmp_path, "integrations", "--json", env=env).stdout)
    kits = {k["name"]: k for k in shown["integrations"]}
    assert kits["salesforce"]["configured"] is True
    assert {t["name"]: t["level"] for t in kits["salesforce"]["tools"]} == {
        "salesforce_create_lead": 1,
        "salesforce_log_email": 1,
        "salesforce_find_contact": 0,
    }

    tokens = {"refresh": refresh, **{f"access {n}": t for n, t in enumerate(org.access)}}
    printed = "".join(lines) + listed.stdout + listed.stderr
    assert find_in_output([printed], tokens) == []
    assert find_plaintext(tmp_path, tokens) == []

    removed = run_cli(tmp_path, "accounts", "remove", "work", env=env)
    assert removed.stdout.strip() == "removed account work: revoked the grant"
    assert refresh in org.revoked
    gone = run_cli(tmp_path, "integrations", "--json", env=env).stdout
    why = {k["name"]: k for k in json.loads(gone)["integrations"]}["salesforce"]["why_not"]
    assert why.startswith("Salesforce is not configured: no account 'work'")


def test_the_device_flow_is_refused_in_one_line(tmp_path: Path, org: FakeSalesforce) -> None:
    result = run_cli(
        tmp_path,
        "accounts",
        "add",
        "salesforce",
        "work",
        "--device",
        check=False,
        env=salesforce_env(org),
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "smart-inbox: Salesforce offers no device code flow: leave out --device"
    )
