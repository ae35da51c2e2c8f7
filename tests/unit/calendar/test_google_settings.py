"""Selecting a Google calendar by setting, and the event resource it is written as."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tools.calendar.google import GoogleCalendar, event_from_resource, event_resource
from tools.calendar.model import Attendee, CalendarEvent
from tools.calendar.scheduling import open_calendar
from tools.calendar.settings import CalendarConfigError, calendar_settings_from_env

BERLIN = ZoneInfo("Europe/Berlin")


def test_google_calendar_account_selects_google(tmp_path: Path) -> None:
    env = {"SMART_INBOX_CALENDAR": "google:work", "GOOGLE_CALENDAR_ID": "team@group.example"}
    settings = calendar_settings_from_env(tmp_path, env)
    assert settings.google is not None and settings.google.calendar_id == "team@group.example"
    assert settings.google.api_url == "https://www.googleapis.com"
    calendar = open_calendar(settings)
    assert isinstance(calendar, GoogleCalendar)
    assert calendar.description == "the Google calendar team@group.example of the account work"
    assert calendar_settings_from_env(tmp_path, {}).google is None


def test_a_bad_account_or_two_calendars_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CalendarConfigError, match="google:ACCOUNT"):
        calendar_settings_from_env(tmp_path, {"SMART_INBOX_CALENDAR": "google:a b"})
    both = {
        "SMART_INBOX_CALENDAR": "google:w",
        "CALDAV_URL": "https://d.example",
        "CALDAV_USER": "u",
    }
    with pytest.raises(CalendarConfigError, match="choose one"):
        calendar_settings_from_env(tmp_path, both)


def test_an_event_round_trips_through_its_resource() -> None:
    start = datetime(2026, 11, 26, 14, tzinfo=BERLIN)
    event = CalendarEvent(
        uid="u1@smart-inbox.local",
        title="Review",
        start=start,
        end=start + timedelta(hours=1),
        description="Agenda",
        attendees=(Attendee("bob@example.org", "Bob"),),
        invited=("bob@example.org",),
    )
    resource = event_resource(event)
    assert resource["start"] == {"dateTime": "2026-11-26T13:00:00Z"}
    back = event_from_resource(resource, BERLIN)
    assert back == event
