"""The Outlook calendar against a local server speaking Microsoft Graph: free/busy, bookings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from memory.db import AppDatabase
from tests.fakes.graph_server import FakeGraph
from tools.calendar.free_time import day_availability
from tools.calendar.outlook import UID_PROPERTY, OutlookCalendar
from tools.calendar.scheduling import CalendarEnv, create_event, open_calendar
from tools.calendar.settings import CalendarConfigError, calendar_settings_from_env
from tools.http import HttpSettings
from tools.mail.mailbox import MailboxEnv
from tools.msgraph.client import GraphClient

pytestmark = pytest.mark.integration

ZONE = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph() as server:
        server.busy = [
            {
                "status": "busy",
                "subject": "Board review",
                "start": {"dateTime": "2026-12-08T09:00:00.0000000", "timeZone": "UTC"},
                "end": {"dateTime": "2026-12-08T10:00:00.0000000", "timeZone": "UTC"},
            },
            {
                "status": "free",
                "subject": "Focus (free)",
                "start": {"dateTime": "2026-12-08T12:00:00.0000000", "timeZone": "UTC"},
                "end": {"dateTime": "2026-12-08T13:00:00.0000000", "timeZone": "UTC"},
            },
        ]
        yield server  # type: ignore[misc]


def calendar_env(graph: FakeGraph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CalendarEnv:
    monkeypatch.setenv("SMART_INBOX_GRAPH_API", graph.base_url)
    settings = calendar_settings_from_env(
        tmp_path,
        {
            "SMART_INBOX_CALENDAR": "outlook:work",
            "SMART_INBOX_TZ": "Europe/Berlin",
            "SMART_INBOX_GRAPH_API": graph.base_url,
        },
        secrets=lambda name: graph.token if name == "outlook.token:work" else None,
    )
    calendar = open_calendar(settings)
    assert isinstance(calendar, OutlookCalendar)
    mail = MailboxEnv(
        db=AppDatabase(f"sqlite:///{tmp_path / 'app.db'}"),
        source="outlook:work",
        sender="me@contoso.example",
    )
    return CalendarEnv(calendar=calendar, settings=settings, mail=mail, clock=lambda: NOW)


def test_free_busy_comes_from_get_schedule(graph: FakeGraph) -> None:
    client = GraphClient(graph.tokens(), graph.base_url, HttpSettings(timeout=5))
    calendar = OutlookCalendar("work", client, zone=ZONE)

    events = calendar.events_between(
        datetime(2026, 12, 8, tzinfo=UTC), datetime(2026, 12, 9, tzinfo=UTC)
    )

    assert [(e.title, e.busy) for e in events] == [("Board review", True), ("Focus (free)", False)]
    asked = graph.calls("POST", "/v1.0/me/calendar/getSchedule")[0].json
    assert asked["schedules"] == ["me@contoso.example"]
    assert asked["startTime"] == {"dateTime": "2026-12-08T00:00:00", "timeZone": "UTC"}


async def test_the_day_view_shows_the_busy_block(
    graph: FakeGraph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = calendar_env(graph, tmp_path, monkeypatch)
    result = await day_availability(env, "2026-12-08")
    assert "Board review" in result["content"]


async def test_a_booking_is_one_event_with_attendees_and_exchange_invites_them(
    graph: FakeGraph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = calendar_env(graph, tmp_path, monkeypatch)
    args = {
        "title": "Roadmap review",
        "start": "2026-12-10T14:00",
        "end": "2026-12-10T14:30",
        "attendees": "Sofia Lind <sofia@fabrikam.example>",
    }

    first = await create_event(env, **args)
    again = await create_event(env, **args)

    assert len(graph.events) == 1
    posted = graph.events[0].data
    assert posted["attendees"] == [
        {
            "emailAddress": {"address": "sofia@fabrikam.example", "name": "Sofia Lind"},
            "type": "required",
        }
    ]
    assert posted["start"] == {"dateTime": "2026-12-10T13:00:00", "timeZone": "UTC"}
    assert posted["singleValueExtendedProperties"][0]["id"] == UID_PROPERTY
    assert "Outlook sent the invitations to sofia@fabrikam.example" in first["content"]
    assert "not created again" in again["content"]
    assert first["data"]["calendar"] == "outlook"  # type: ignore[typeddict-item]
    assert graph.sent == []  # no iTIP mail of ours on top of Exchange's invitation


def test_a_calendar_choice_that_is_not_outlook_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CalendarConfigError, match="SMART_INBOX_CALENDAR"):
        calendar_settings_from_env(tmp_path, {"SMART_INBOX_CALENDAR": "exchange"})
