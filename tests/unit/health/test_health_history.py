"""The history: bounded per part, since when a state holds, and one alert per change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from memory.db import open_database
from memory.health_history import HealthHistory, HealthRow
from memory.health_tables import HealthRecord
from tools.health.model import PartHealth
from ui.health.watch import changes, with_past

T0 = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


def _row(part: str, state: str, minute: int, reason: str = "") -> HealthRow:
    return HealthRow(part, state, reason, 3.0, T0 + timedelta(minutes=minute))


def test_history_says_since_when_last_success_and_last_error(tmp_path: Path) -> None:
    history = HealthHistory(open_database(f"sqlite:///{tmp_path / 'app.db'}"))
    assert history.record([_row("smtp", "ok", 0)]) == {}
    assert history.record([_row("smtp", "down", 1, "connection refused")]) == {"smtp": "ok"}
    assert history.record([_row("smtp", "down", 2, "connection refused")]) == {"smtp": "down"}
    past = history.pasts(["smtp", "jira"])
    assert set(past) == {"smtp"}
    assert past["smtp"].state == "down"
    assert past["smtp"].since == T0 + timedelta(minutes=1)
    assert past["smtp"].last_success == T0
    assert past["smtp"].last_error == "connection refused"


def test_history_keeps_a_bounded_number_of_rows_per_part(tmp_path: Path) -> None:
    history = HealthHistory(open_database(f"sqlite:///{tmp_path / 'app.db'}"), keep=5)
    for minute in range(12):
        history.record([_row("smtp", "ok", minute), _row("jira", "down", minute)])
    with Session(history.engine) as session:
        rows = list(session.exec(select(HealthRecord)))
    assert sorted((r.part, r.checked_at[11:16]) for r in rows if r.part == "smtp") == [
        ("smtp", f"08:{m:02d}") for m in range(7, 12)
    ]
    assert len(rows) == 10


def test_a_change_is_found_once_and_a_first_sight_only_when_in_trouble() -> None:
    now = T0
    parts = [
        PartHealth("smtp", "mail", "down", "refused", 1.0, now),
        PartHealth("jira", "integration", "ok", "", 1.0, now),
        PartHealth("slack", "integration", "degraded", "429", 1.0, now),
        PartHealth("db", "database", "ok", "", 1.0, now),
    ]
    found = changes(parts, {"smtp": "ok", "jira": "ok"})
    assert [(c.part, c.before, c.after) for c in found] == [
        ("smtp", "ok", "down"),
        ("slack", "unknown", "degraded"),
    ]
    assert changes(parts, {"smtp": "down", "jira": "ok", "slack": "degraded", "db": "ok"}) == []


def test_with_past_keeps_since_while_the_state_holds(tmp_path: Path) -> None:
    history = HealthHistory(open_database(f"sqlite:///{tmp_path / 'app.db'}"))
    history.record([_row("smtp", "ok", 0), _row("smtp", "down", 1, "refused")])
    later = T0 + timedelta(minutes=5)
    [still_down] = with_past(
        [PartHealth("smtp", "mail", "down", "refused", 1.0, later)], history.pasts(["smtp"])
    )
    assert still_down.since == T0 + timedelta(minutes=1)
    assert still_down.last_success == T0
    [back] = with_past([PartHealth("smtp", "mail", "ok", "", 1.0, later)], history.pasts(["smtp"]))
    assert back.since == later and back.last_success == later
    assert back.last_error == "refused"
