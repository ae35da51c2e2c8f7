"""The app database (a real PostgreSQL) stopped and started again under the health watch: one
alert for the way down, one for the way back, received by a webhook receiver; a database that
flaps alerts each change once; one that is down from the first round says it cannot alert."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from memory.db import close_databases
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.integration.cli_runner import ROOT, cli_env, run_cli
from tests.integration.integrations.fixtures import WEBHOOK_SECRET, use, webhook_env
from tests.integration.test_health import alerted, home, states
from tests.postgres_server import SKIP_ENV, PostgresServer, PostgresUnavailable
from tools.health.model import exit_code
from tools.http import close_shared_clients
from tools.mcp.shared_hub import close_shared_hubs
from ui.health.watch import NO_CHANNELS, HealthWatch

pytestmark = pytest.mark.integration

__all__ = ["home"]  # the fixture, shared with the other health tests

GOES_DOWN = [("database", "ok", "down")]
COMES_BACK = [("database", "down", "ok")]
ORGANIZER = {"SMTP_FROM": "dana@northwind.example"}
"""Every other part ok: the calendar can create events."""


@pytest.fixture(autouse=True)
async def _close_sessions() -> AsyncIterator[None]:
    yield
    await close_shared_hubs()
    await close_shared_clients()


@pytest.fixture
def server() -> Iterator[PostgresServer]:
    """A PostgreSQL server of this test's own: it is halted and resumed."""
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"{SKIP_ENV}=1: the PostgreSQL tests are skipped on this machine")
    try:
        started = PostgresServer.start()
    except PostgresUnavailable as err:
        pytest.fail(f"PostgreSQL tests: {err}", pytrace=False)
    try:
        yield started
    finally:
        close_databases()
        try:
            started.stop()
        except PostgresUnavailable:  # halted by a failed assertion: its folder goes anyway
            shutil.rmtree(started.folder or "", ignore_errors=True)


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch, home: Path) -> Iterator[WebhookReceiver]:
    """A webhook endpoint subscribed to health alerts, verifying each signature."""
    hooks = WebhookReceiver(WEBHOOK_SECRET).start()
    use(monkeypatch, webhook_env(hooks, "health_changed"), ORGANIZER)
    try:
        yield hooks
    finally:
        hooks.stop()


async def test_postgresql_stopped_and_started_again(
    home: Path, monkeypatch: pytest.MonkeyPatch, server: PostgresServer, receiver: WebhookReceiver
) -> None:
    monkeypatch.setenv("DATABASE_URL", server.create_database())
    watch = HealthWatch()
    assert states(await watch.round())["database"] == "ok"
    assert alerted(receiver) == []
    await asyncio.to_thread(server.halt)
    parts = await watch.round()
    down = {p.part: p.reason for p in parts if p.state == "down"}
    assert "database" in down, states(parts)
    assert exit_code(parts) == 1
    assert alerted(receiver) == [GOES_DOWN], "sent with the channels of the last good round"
    await watch.round()
    assert len(alerted(receiver)) == 1, "still down: no second alert"
    command = run_cli(
        home.parent, "health", env={"DATABASE_URL": os.environ["DATABASE_URL"]}, check=False
    )
    assert command.returncode == 1, command.stderr
    [line] = command.stderr.splitlines()  # one line, the password hidden
    assert line.startswith("smart-inbox: cannot open the app database postgresql")
    assert "Connection refused" in line and ":***@" in line
    await asyncio.to_thread(server.resume)
    assert states(await watch.round())["database"] == "ok"
    assert alerted(receiver) == [GOES_DOWN, COMES_BACK]
    await watch.round()
    assert len(alerted(receiver)) == 2, "back and staying up: no other alert"
    assert receiver.rejected == []


async def test_a_flapping_database_alerts_each_change_once_never_a_storm(
    home: Path, monkeypatch: pytest.MonkeyPatch, server: PostgresServer, receiver: WebhookReceiver
) -> None:
    monkeypatch.setenv("DATABASE_URL", server.create_database())
    watch = HealthWatch()
    await watch.round()
    for _ in range(2):
        await asyncio.to_thread(server.halt)
        await watch.round()
        await watch.round()
        await asyncio.to_thread(server.resume)
        await watch.round()
        await watch.round()
    assert alerted(receiver) == [GOES_DOWN, COMES_BACK, GOES_DOWN, COMES_BACK]
    # Down and up again between two rounds: no round saw it, nothing to alert.
    await asyncio.to_thread(server.halt)
    await asyncio.to_thread(server.resume)
    assert states(await watch.round())["database"] == "ok"
    assert len(alerted(receiver)) == 4


async def test_a_database_down_from_the_first_round_cannot_alert_and_says_so(
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    server: PostgresServer,
    receiver: WebhookReceiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("DATABASE_URL", server.create_database())
    await asyncio.to_thread(server.halt)
    watch = HealthWatch()
    with caplog.at_level(logging.WARNING):
        [down] = await watch.round()
        await watch.round()
    assert (down.part, down.state) == ("database", "down")
    assert "cannot open the app database postgresql" in down.reason
    assert ":***@" in down.reason and server.password not in down.reason
    [line] = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert line.startswith("health changed: database unknown -> down (cannot open the app")
    assert line.endswith(NO_CHANNELS)
    assert alerted(receiver) == []
    await asyncio.to_thread(server.resume)
    assert states(await watch.round())["database"] == "ok"
    assert alerted(receiver) == [COMES_BACK], "the way back, with the channels read now"


def test_the_watch_command_goes_on_while_the_database_is_down_and_says_it_cannot_alert(
    tmp_path: Path, server: PostgresServer, receiver: WebhookReceiver
) -> None:
    url = server.create_database()
    server.halt()
    env = {"DATABASE_URL": url, "SMART_INBOX_HEALTH_INTERVAL": "0.2"}
    env |= webhook_env(receiver, "health_changed") | ORGANIZER
    out_file, err_file = tmp_path / "out.txt", tmp_path / "err.txt"
    with out_file.open("w") as out_sink, err_file.open("w") as err_sink:
        command = subprocess.Popen(
            [sys.executable, "-m", "ui.cli", "health", "--watch"],
            cwd=ROOT,
            env=cli_env(tmp_path / "home", env),
            stdout=out_sink,
            stderr=err_sink,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60
            while out_file.read_text().count("database  down") < 3 and time.monotonic() < deadline:
                assert command.poll() is None, err_file.read_text()
                time.sleep(0.2)
            assert command.poll() is None, "the watch goes on while the database is down"
        finally:
            command.terminate()
            command.wait(timeout=30)
    out, err = out_file.read_text(), err_file.read_text()
    assert out.count("database  down") >= 3, out
    said = [line for line in err.splitlines() if "health changed" in line]
    assert len(said) == 1, err
    assert said[0].startswith("ERROR ui.health.watch: health changed: database unknown -> down")
    assert said[0].endswith(NO_CHANNELS) and ":***@" in said[0]
    assert server.password not in out + err
    assert alerted(receiver) == []
