"""Health checks against real servers killed, hung and restarted: each change seen in one round,
alerted once, and `smart-inbox health` exits 1 while something is down."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from tests.fakes.groq_server import FakeGroqServer, rate_limited
from tests.fakes.http_api import Reply, Stall
from tests.fakes.imap_server import DovecotServer
from tests.fakes.jira_server import FakeJira
from tests.fakes.mcp.launch import HANG_MODULE, REPO_ROOT, HttpMcpServer
from tests.fakes.slack_server import FakeSlack
from tests.fakes.smtp_server import SmtpSink
from tests.fakes.teams_server import FakeTeams
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.integration.cli_runner import NOT_INHERITED, cli_env, run_cli
from tests.integration.conftest import FAKE_GROQ_API_KEY
from tests.integration.integrations.fixtures import (
    JIRA_EMAIL,
    JIRA_TOKEN,
    SLACK_TOKEN,
    jira_env,
    slack_env,
    teams_env,
    use,
    webhook_env,
)
from tools.health.model import PartHealth, exit_code
from tools.http import close_shared_clients
from tools.mcp.shared_hub import close_shared_hubs
from ui.health.checks import check_everything
from ui.health.watch import HealthWatch, latest_health

pytestmark = pytest.mark.integration

TIMEOUT = 1.5
"""Each check's timeout here (SMART_INBOX_HEALTH_TIMEOUT)."""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data directory and a copy of the demo inbox, as the command line's tests use."""
    for name in NOT_INHERITED:
        monkeypatch.delenv(name, raising=False)
    for name, value in cli_env(tmp_path / "home").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SMART_INBOX_HEALTH_TIMEOUT", str(TIMEOUT))
    return tmp_path / "home"


@pytest.fixture(autouse=True)
async def _close_sessions() -> AsyncIterator[None]:
    yield
    await close_shared_hubs()
    await close_shared_clients()


@pytest.fixture
def mcp_server(home: Path) -> Iterator[HttpMcpServer]:
    with HttpMcpServer() as server:
        config = {"mcpServers": {"files": {"url": server.url, "timeout": 10}}}
        (home / "mcp.json").write_text(json.dumps(config), "utf-8")
        yield server


def states(parts: list[PartHealth]) -> dict[str, str]:
    return {p.part: p.state for p in parts}


def alerted(receiver: WebhookReceiver) -> list[list[tuple[str, str, str]]]:
    """Each alert the receiver verified: its changes as (part, from, to)."""
    return [
        [(c["part"], c["from"], c["to"]) for c in event["changes"]]
        for event in receiver.events
        if event.get("event") == "health_changed"
    ]


async def test_smtp_jira_and_an_mcp_server_killed_and_restarted_alert_once_per_change(
    home: Path, monkeypatch: pytest.MonkeyPatch, mcp_server: HttpMcpServer
) -> None:
    smtp = SmtpSink().start()
    receiver = WebhookReceiver("whsec-fake-signing-secret-for-tests").start()
    jira = FakeJira(JIRA_EMAIL, JIRA_TOKEN).start()
    slack = FakeSlack(SLACK_TOKEN).start()
    try:
        monkeypatch.setenv("SMTP_URL", smtp.url)
        monkeypatch.setenv("SMTP_FROM", "dana@northwind.example")  # the organizer of events
        use(monkeypatch, jira_env(jira), slack_env(slack))  # type: ignore[arg-type]
        use(monkeypatch, webhook_env(receiver, "health_changed"))  # type: ignore[arg-type]
        monkeypatch.setenv("SMART_INBOX_HEALTH_SLACK_CHANNEL", "#ops")
        watch = HealthWatch()

        first = await watch.round()
        assert {k: v for k, v in states(first).items() if k != "vault"} == {
            "mail source": "ok",
            "smtp": "ok",
            "calendar": "ok",
            "jira": "ok",
            "slack": "ok",
            "teams": "not configured",
            "hubspot": "not configured",
            "webhook default": "ok",
            "mcp files": "ok",
            "model": "not configured",
            "database": "ok",
        }, [(p.part, p.reason) for p in first]
        assert exit_code(first) == 0 and alerted(receiver) == []

        smtp.stop()
        smtp = SmtpSink()  # stopped until restarted below
        jira.stop()
        await asyncio.to_thread(mcp_server.kill)
        second = await watch.round()
        down = {p.part: p.reason for p in second if p.state == "down"}
        assert set(down) == {"smtp", "jira", "mcp files"}, down
        assert "connection refused" in down["smtp"]
        assert exit_code(second) == 1
        assert sorted(alerted(receiver)[0]) == [
            ("jira", "ok", "down"),
            ("mcp files", "ok", "down"),
            ("smtp", "ok", "down"),
        ]

        [post] = slack.posted
        assert post["channel"] == "C0OPS0001"
        assert "- smtp: ok → down (SMTP server 127.0.0.1:" in post["text"]

        await watch.round()  # nothing changed: no second alert
        assert len(alerted(receiver)) == 1 and len(slack.posted) == 1

        smtp = SmtpSink().start()
        monkeypatch.setenv("SMTP_URL", smtp.url)
        await asyncio.to_thread(mcp_server.start)  # the same port, a fresh process
        third = await watch.round()
        assert states(third)["smtp"] == "ok" and states(third)["mcp files"] == "ok"
        assert states(third)["jira"] == "down"
        assert sorted(alerted(receiver)[1]) == [("mcp files", "down", "ok"), ("smtp", "down", "ok")]
        assert len(slack.posted) == 2 and "- smtp: down → ok" in slack.posted[1]["text"]
        assert third[1].since == third[1].checked_at
        assert latest_health()[1].state == "ok"

        jira = FakeJira(JIRA_EMAIL, JIRA_TOKEN).start()  # restarted, on a port of its own
        use(monkeypatch, jira_env(jira))
        slack.stop()
        fourth = await watch.round()
        assert (states(fourth)["jira"], states(fourth)["slack"]) == ("ok", "down")
        assert sorted(alerted(receiver)[2]) == [("jira", "down", "ok"), ("slack", "ok", "down")]
        slack = FakeSlack(SLACK_TOKEN).start()
        use(monkeypatch, slack_env(slack))
        assert states(await watch.round())["slack"] == "ok"
        await watch.round()
        assert alerted(receiver)[3:] == [[("slack", "down", "ok")]]
        [post] = slack.posted  # the restarted Slack gets the way back
        assert "- slack: down → ok" in post["text"]
    finally:
        for server in (smtp, receiver, slack, jira):
            try:
                server.stop()
            except AssertionError:  # never started
                pass


@pytest.mark.parametrize("channel", ["mail", "teams"])
async def test_a_change_is_mailed_to_the_user_or_posted_to_teams_once(
    home: Path, monkeypatch: pytest.MonkeyPatch, channel: str
) -> None:
    smtp = SmtpSink().start()
    teams = FakeTeams().start()
    jira = FakeJira(JIRA_EMAIL, JIRA_TOKEN).start()
    try:
        monkeypatch.setenv("SMTP_URL", smtp.url)
        monkeypatch.setenv("SMTP_FROM", "dana@northwind.example")
        use(monkeypatch, jira_env(jira), teams_env(teams))  # type: ignore[arg-type]
        monkeypatch.setenv("SMART_INBOX_HEALTH_ALERT_TO", channel)
        watch = HealthWatch()
        assert states(await watch.round())["jira"] == "ok"
        jira.stop()
        assert states(await watch.round())["jira"] == "down"
        await watch.round()  # no change, no second alert
        mailed = [m for m in smtp.messages if m.message["Subject"] == "Smart Inbox health changed"]
        if channel == "mail":
            [alert] = mailed
            assert alert.rcpt_tos == ["dana@northwind.example"], "only to the user's own address"
            assert "- jira: ok → down" in alert.message.get_body(("plain",)).get_content()
            assert teams.cards == []
        else:
            [card] = teams.cards
            assert "jira: ok → down" in json.dumps(card, ensure_ascii=False)
            assert mailed == []
    finally:
        for server in (smtp, teams):
            server.stop()


async def test_hung_servers_cost_at_most_their_timeout(
    home: Path, monkeypatch: pytest.MonkeyPatch, mcp_server: HttpMcpServer
) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts, never greets: a hung SMTP server
    slack = FakeSlack(SLACK_TOKEN).start()
    try:
        monkeypatch.setenv("SMTP_URL", f"smtp://127.0.0.1:{silent.getsockname()[1]}")
        use(monkeypatch, slack_env(slack))  # type: ignore[arg-type]
        watch = HealthWatch()
        assert states(await watch.round())["mcp files"] == "ok"
        slack.script(Stall(30, Reply(200, {"ok": True})), path="/api/auth.test")
        assert mcp_server.process is not None
        mcp_server.process.send_signal(signal.SIGSTOP)
        try:
            started = time.monotonic()
            parts = await watch.round()
            took = time.monotonic() - started
        finally:
            mcp_server.process.send_signal(signal.SIGCONT)
        reasons = {p.part: (p.state, p.reason) for p in parts}
        assert reasons["smtp"][0] == "down", reasons
        assert reasons["slack"][0] == "down"
        assert reasons["slack"][1].endswith(f"answer within {TIMEOUT:g} s"), reasons
        assert reasons["mcp files"][0] == "down", reasons
        assert took < TIMEOUT + 3.0, took  # concurrently: one timeout, not three
        assert states(await watch.round())["mcp files"] == "ok"  # answers again, reconnected
    finally:
        silent.close()
        slack.stop()


async def test_an_imap_server_killed_hung_and_restarted(
    home: Path, monkeypatch: pytest.MonkeyPatch, start_dovecot: Callable[..., DovecotServer]
) -> None:
    dovecot = start_dovecot()
    use(monkeypatch, dovecot.env(), {"INBOX": dovecot.spec()})  # type: ignore[arg-type]
    watch = HealthWatch()
    [source] = [p for p in await watch.round() if p.part == "mail source"]
    assert source.state == "ok", source.reason
    assert dovecot._process is not None
    group = dovecot._process.pid
    os.killpg(group, signal.SIGSTOP)
    try:
        [hung] = [p for p in await watch.round() if p.part == "mail source"]
    finally:
        os.killpg(group, signal.SIGCONT)
    assert hung.state == "down" and "within" in hung.reason, hung.reason
    [back] = [p for p in await watch.round() if p.part == "mail source"]
    assert back.state == "ok", back.reason
    dovecot.halt()
    [gone] = [p for p in await watch.round() if p.part == "mail source"]
    assert gone.state == "down" and "refused" in gone.reason, gone.reason
    assert gone.last_success is not None
    again = start_dovecot()  # started again (a server of its own ports)
    use(monkeypatch, again.env(), {"INBOX": again.spec()})  # type: ignore[arg-type]
    [restarted] = [p for p in await watch.round() if p.part == "mail source"]
    assert restarted.state == "ok", restarted.reason
    assert [(c.part, c.after) for c in watch.alerted if c.part == "mail source"] == [
        ("mail source", "down"),
        ("mail source", "ok"),
        ("mail source", "down"),
        ("mail source", "ok"),
    ]


def test_the_command_on_the_demo_is_ok_and_exits_0(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "health", "--json", demo=True)
    parts = {p["part"]: p["state"] for p in json.loads(result.stdout)["parts"]}
    assert parts == {
        "mail source": "ok",
        "smtp": "not configured",
        "calendar": "ok",
        "jira": "not configured",
        "slack": "not configured",
        "teams": "not configured",
        "hubspot": "not configured",
        "webhooks": "not configured",
        "model": "not configured",
        "database": "ok",
        "vault": "not configured",
    }


def test_the_command_exits_1_while_smtp_is_down(tmp_path: Path) -> None:
    with SmtpSink() as smtp:
        url = smtp.url
        env = {"SMTP_URL": url, "SMTP_FROM": "dana@northwind.example"}
        ok = run_cli(tmp_path, "health", env=env)
        assert "smtp" in ok.stdout
    result = run_cli(tmp_path, "health", check=False, env=env)
    assert result.returncode == 1, result.stderr
    [line] = [line for line in result.stdout.splitlines() if line.startswith("smtp")]
    assert "down" in line and "connection refused" in line


def test_a_wrong_key_turns_the_vault_down(tmp_path: Path) -> None:
    from cryptography.fernet import Fernet

    name = "imap.password:dana@imap.example"  # stored, used by no part set up here
    run_cli(tmp_path, "credentials", "set", name, "--stdin", stdin="pw-never-shown\n")
    ok = run_cli(tmp_path, "health", demo=True)
    assert re.search(r"^vault\s+ok\s", ok.stdout, re.M), ok.stdout
    wrong = {"SMART_INBOX_KEY": Fernet.generate_key().decode()}
    result = run_cli(tmp_path, "health", env=wrong, check=False, demo=True)
    assert result.returncode == 1, result.stdout + result.stderr
    [line] = [line for line in result.stdout.splitlines() if line.startswith("vault")]
    assert "down" in line and name in line, line
    assert "pw-never-shown" not in result.stdout + result.stderr


async def test_the_model_is_checked_with_the_models_list(
    home: Path, monkeypatch: pytest.MonkeyPatch, groq_server: FakeGroqServer
) -> None:
    monkeypatch.setenv("GROQ_API_KEY", FAKE_GROQ_API_KEY)
    monkeypatch.setenv("GROQ_BASE_URL", groq_server.base_url)
    monkeypatch.setenv("MODEL", "groq:llama-3.3-70b-versatile")

    async def model() -> PartHealth:
        parts, _ = await check_everything()
        return next(p for p in parts if p.part == "model")

    assert (await model()).state == "ok"
    groq_server.script(rate_limited())
    limited = await model()
    assert (limited.state, limited.reason) == ("degraded", "Groq is rate-limiting us (429)")
    monkeypatch.setenv("GROQ_API_KEY", "gsk_expired")
    refused = await model()
    assert (refused.state, refused.reason) == ("down", "Groq refuses our credentials (401)")
    assert [r.path for r in groq_server.requests] == ["/openai/v1/models"] * 3


async def test_an_mcp_server_that_hangs_at_start_costs_one_timeout(home: Path) -> None:
    """Starting the sessions waits up to 20 s for a server that never answers `initialize`;
    the round waits one check timeout and reports it down."""
    server = {"command": sys.executable, "args": ["-m", HANG_MODULE], "cwd": str(REPO_ROOT)}
    (home / "mcp.json").write_text(json.dumps({"mcpServers": {"stuck": server}}), "utf-8")
    started = time.monotonic()
    parts, _ = await check_everything()
    took = time.monotonic() - started
    [stuck] = [p for p in parts if p.part == "mcp stuck"]
    assert stuck.state == "down", stuck.reason
    assert took < TIMEOUT + 3.0, took
    assert exit_code(parts) == 1
