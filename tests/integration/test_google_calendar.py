"""Google Calendar as the calendar, against a local server speaking its API's shape."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.fakes.google_calendar_server import FakeGoogleCalendar
from tools.calendar.backend import CalendarError
from tools.calendar.google import GoogleCalendar
from tools.calendar.google_settings import GoogleCalendarSettings
from tools.calendar.model import Attendee, CalendarEvent
from tools.calendar.scheduling import open_calendar
from tools.calendar.settings import CalendarConfigError, calendar_settings_from_env
from tools.http import HttpSettings

pytestmark = pytest.mark.integration

BERLIN = ZoneInfo("Europe/Berlin")
FAST = HttpSettings(timeout=5, retries=1, max_wait=5, backoff=0)


@pytest.fixture
def server() -> Iterator[FakeGoogleCalendar]:
    fake = FakeGoogleCalendar()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


def secrets_for(token: str):  # type: ignore[no-untyped-def]
    return lambda name: token if name in ("google.token:work", "google.token") else None


def calendar_on(server: FakeGoogleCalendar, token: str | None = None) -> GoogleCalendar:
    settings = GoogleCalendarSettings(
        account="work", api_url=server.base_url, secrets=secrets_for(token or server.token)
    )
    return GoogleCalendar(settings, zone=BERLIN, retry=FAST)


def test_availability_is_google_free_busy(server: FakeGoogleCalendar) -> None:
    server.add_event("Standup", "2026-11-26T09:00:00Z", "2026-11-26T09:30:00Z")
    server.add_event(
        "Lunch", "2026-11-26T12:00:00Z", "2026-11-26T13:00:00Z", transparency="transparent"
    )
    server.add_event("Tomorrow", "2026-11-27T09:00:00Z", "2026-11-27T10:00:00Z")
    calendar = calendar_on(server)
    start = datetime(2026, 11, 26, tzinfo=UTC)
    [busy] = calendar.events_between(start, start + timedelta(days=1))
    assert busy.start == datetime(2026, 11, 26, 9, tzinfo=UTC) and busy.busy
    [asked] = server.calls("POST", "/calendar/v3/freeBusy")
    assert asked.json["items"] == [{"id": "primary"}]
    assert asked.json["timeMin"] == "2026-11-26T00:00:00Z"


def test_a_booking_is_inserted_with_attendees_and_google_invites_them(
    server: FakeGoogleCalendar,
) -> None:
    calendar = calendar_on(server)
    start = datetime(2026, 11, 26, 14, tzinfo=BERLIN)
    event = CalendarEvent(
        uid="abc@smart-inbox.local",
        title="Roadmap review",
        start=start,
        end=start + timedelta(minutes=30),
        attendees=(Attendee("bob@example.org", "Bob"),),
        invited=("bob@example.org",),
    )
    assert calendar.get_event(event.uid) is None
    calendar.save_event(event)
    [insert] = server.calls("POST", "/calendar/v3/calendars/primary/events")
    assert insert.query["sendUpdates"] == ["all"]
    assert insert.json["attendees"] == [{"email": "bob@example.org", "displayName": "Bob"}]
    assert server.invitations == [("bob@example.org", "Roadmap review")]
    stored = calendar.get_event(event.uid)
    assert stored is not None and stored.start == start and stored.invited == ("bob@example.org",)
    calendar.save_event(stored)  # a replacement tells nobody again
    assert len(server.invitations) == 1
    [update] = [r for r in server.requests if r.method == "PUT"]
    assert update.query["sendUpdates"] == ["none"]


def test_a_refused_token_is_one_error_without_it(server: FakeGoogleCalendar) -> None:
    calendar = calendar_on(server, token="wrong-token-123")
    with pytest.raises(CalendarError) as caught:
        calendar.events_between(
            datetime(2026, 11, 26, tzinfo=UTC), datetime(2026, 11, 27, tzinfo=UTC)
        )
    assert "Google Calendar" in str(caught.value) and "401" in str(caught.value)
    assert "wrong-token-123" not in str(caught.value)


def test_the_setting_selects_google_calendar(tmp_path: Path) -> None:
    env = {"SMART_INBOX_CALENDAR": "google:work", "SMART_INBOX_TZ": "Europe/Berlin"}
    settings = calendar_settings_from_env(tmp_path, env)
    assert settings.google is not None and settings.google.calendar_id == "primary"
    assert isinstance(open_calendar(settings), GoogleCalendar)
    with pytest.raises(CalendarConfigError, match="both set"):
        calendar_settings_from_env(
            tmp_path, {**env, "CALDAV_URL": "https://dav.example/", "CALDAV_USER": "x"}
        )
    with pytest.raises(CalendarError, match="plain http"):
        open_calendar(
            calendar_settings_from_env(
                tmp_path, {**env, "SMART_INBOX_GOOGLE_CALENDAR_API": "http://calendar.example"}
            )
        )
