"""The watch while the app database is down: the going down alerted with the channels of the
last good round, the way back alerted once (by the first process back), and a watch that never
reached the database saying in one line that it cannot alert."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from sqlmodel import Session, col, select

from graph.services import Services
from memory.db import AppDatabase, open_database
from memory.health_history import HealthHistory, HealthRow
from memory.health_tables import HealthRecord
from tools.health.alerts import HealthChange
from tools.health.model import PartHealth
from ui.health.checks import DatabaseDown
from ui.health.watch import NO_CHANNELS, HealthWatch

T0 = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
DOWN = "the app database cannot be reached: connection refused"


@dataclass
class Setup:
    """The parts one process checks: the database up or down, every minute of a fake clock."""

    db: Any
    up: bool = True
    minute: int = 0
    built: list[object] = field(default_factory=list)
    """The services object of each round that could build them."""

    async def check(self) -> tuple[list[PartHealth], Services]:
        self.minute += 1
        at = T0 + timedelta(minutes=self.minute)
        if not self.up:
            down = DatabaseDown(DOWN)
            down.parts = [PartHealth("database", "database", "down", DOWN, checked_at=at)]
            raise down
        services = SimpleNamespace(db=self.db, round=self.minute)
        self.built.append(services)
        parts = [
            PartHealth("smtp", "mail", "ok", "", 1.0, at),
            PartHealth("database", "database", "ok", "sqlite", 1.0, at),
        ]
        return parts, cast(Services, services)


@dataclass
class Alerts:
    """What each alert said, and with which services (the channels) it went out."""

    sent: list[tuple[list[tuple[str, str, str]], object]] = field(default_factory=list)

    async def __call__(self, services: Services, found: list[HealthChange]) -> None:
        self.sent.append(([(c.part, c.before, c.after) for c in found], services))

    def changes(self) -> list[list[tuple[str, str, str]]]:
        return [said for said, _ in self.sent]


def _database(tmp_path: Path) -> AppDatabase:
    return open_database(f"sqlite:///{tmp_path / 'app.db'}")


def _database_rows(db: AppDatabase) -> list[tuple[str, str]]:
    with Session(db.engine) as session:
        query = select(HealthRecord).where(HealthRecord.part == "database")
        rows = session.exec(query.order_by(col(HealthRecord.id)))
        return [(r.state, r.checked_at[11:16]) for r in rows]


GOES_DOWN = [("database", "ok", "down")]
COMES_BACK = [("database", "down", "ok")]


async def test_a_flapping_database_is_alerted_once_per_change_with_the_kept_channels(
    tmp_path: Path,
) -> None:
    db = _database(tmp_path)
    setup, alerts = Setup(db), Alerts()
    watch = HealthWatch(setup.check, alerts)
    await watch.round()  # 08:01 ok
    setup.up = False
    [down] = await watch.round()  # 08:02 down
    assert (down.state, down.since) == ("down", T0 + timedelta(minutes=2))
    await watch.round()  # 08:03 still down: no second alert
    setup.up = True
    back = await watch.round()  # 08:04 back
    setup.up = False
    await watch.round()  # 08:05 down again
    setup.up = True
    await watch.round()  # 08:06 back again
    await watch.round()  # 08:07 still ok
    assert alerts.changes() == [GOES_DOWN, COMES_BACK, GOES_DOWN, COMES_BACK]
    # The going down went out through the channels the last good round read.
    assert alerts.sent[0][1] is setup.built[0] and alerts.sent[2][1] is setup.built[1]
    assert alerts.sent[1][1] is setup.built[1], "the way back with the channels read then"
    # The rounds the database missed are not in its history; each outage is, once.
    assert _database_rows(db) == [
        ("ok", "08:01"),
        ("down", "08:02"),
        ("ok", "08:04"),
        ("down", "08:05"),
        ("ok", "08:06"),
        ("ok", "08:07"),
    ]
    [database] = [p for p in back if p.part == "database"]
    assert database.since == T0 + timedelta(minutes=4)
    assert database.last_error == DOWN


async def test_a_database_down_from_the_first_round_cannot_alert_and_says_so_in_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = _database(tmp_path)
    setup, alerts = Setup(db, up=False), Alerts()
    watch = HealthWatch(setup.check, alerts)
    with caplog.at_level(logging.WARNING, logger="ui.health.watch"):
        [down] = await watch.round()
        await watch.round()  # still down: nothing more to say
    assert down.state == "down" and alerts.sent == []
    [line] = [r.getMessage() for r in caplog.records]
    assert line == f"health changed: database unknown -> down ({DOWN}); {NO_CHANNELS}"
    setup.up = True
    await watch.round()
    assert alerts.changes() == [COMES_BACK], "the way back is alerted with the channels read"
    assert _database_rows(db) == [("down", "08:01"), ("ok", "08:03")]


async def test_of_two_watches_that_saw_one_outage_only_the_first_back_alerts_the_way_back(
    tmp_path: Path,
) -> None:
    db = _database(tmp_path)
    first, second = Setup(db), Setup(db)
    first_alerts, second_alerts = Alerts(), Alerts()
    chat = HealthWatch(first.check, first_alerts)
    server = HealthWatch(second.check, second_alerts)
    await chat.round()  # 08:01
    await server.round()  # 08:01
    first.up = second.up = False
    await chat.round()  # 08:02
    await server.round()  # 08:02
    first.up = second.up = True
    await chat.round()  # 08:03: writes the outage, alerts the way back
    await server.round()  # 08:03: finds it written
    # Each kept its own channels while the database was down: each could only alert alone.
    assert first_alerts.changes() == [GOES_DOWN, COMES_BACK]
    assert second_alerts.changes() == [GOES_DOWN]
    assert [state for state, _ in _database_rows(db)] == ["ok", "ok", "down", "ok", "ok"]


async def test_an_outage_only_one_watch_saw_is_written_even_after_the_others_rounds(
    tmp_path: Path,
) -> None:
    """The walk-around of "another process wrote since": its rows from before the outage."""
    db = _database(tmp_path)
    mine, peer = Setup(db), Setup(db)
    alerts = Alerts()
    watch = HealthWatch(mine.check, alerts)
    await watch.round()  # 08:01
    await HealthWatch(peer.check, Alerts()).round()  # 08:01, a peer's round after mine
    mine.up = False
    await watch.round()  # 08:02, only this watch sees the outage
    mine.up = True
    await watch.round()  # 08:03
    assert alerts.changes() == [GOES_DOWN, COMES_BACK]


async def test_a_database_gone_between_the_checks_and_the_record_is_a_round_without_it(
    tmp_path: Path,
) -> None:
    from sqlalchemy import create_engine

    db = _database(tmp_path)
    setup, alerts = Setup(db), Alerts()
    watch = HealthWatch(setup.check, alerts)
    await watch.round()
    setup.db = SimpleNamespace(engine=create_engine(f"sqlite:///{tmp_path}/no/such/folder.db"))
    [down] = await watch.round()
    assert down.part == "database" and down.state == "down"
    assert down.reason == "the app database cannot be reached: unable to open database file"
    assert alerts.changes() == [GOES_DOWN]


def test_an_outage_is_written_once_whoever_comes_back_first(tmp_path: Path) -> None:
    history = HealthHistory(_database(tmp_path))
    history.record([HealthRow("database", "ok", "", 1.0, T0)])
    seen = history.newest_id("database")
    outage = HealthRow("database", "down", DOWN, None, T0 + timedelta(minutes=1, seconds=30))
    assert history.record_outage(outage, seen)
    assert not history.record_outage(outage, seen), "written already"
    back = HealthRow("database", "ok", "", 1.0, T0 + timedelta(minutes=2))
    history.record([back])
    same_second = HealthRow(
        "database", "down", DOWN, None, T0 + timedelta(minutes=2, microseconds=5)
    )
    assert not history.record_outage(same_second, None), "a peer's row of that second is newer"
    assert history.pasts(["database"])["database"].state == "ok"
