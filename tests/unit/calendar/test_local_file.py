"""The local calendar file: atomic writes, no lost updates, and a corrupt file never overwritten."""

from __future__ import annotations

import os
import stat
import threading
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest

from tools.calendar.backend import CalendarError
from tools.calendar.local_file import LocalCalendar
from tools.calendar.model import Attendee, CalendarEvent

BERLIN = ZoneInfo("Europe/Berlin")
DAY = datetime(2026, 11, 24, tzinfo=BERLIN)

FOREIGN = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Another client//EN\r
BEGIN:VEVENT\r
UID:dentist@example.com\r
DTSTAMP:20261101T000000Z\r
DTSTART:20261124T150000Z\r
DTEND:20261124T160000Z\r
SUMMARY:Dentist\r
X-SOMETHING-ELSE:kept as it is\r
END:VEVENT\r
END:VCALENDAR\r
"""


def event(
    uid: str = "e1@smart-inbox.local", hour: int = 10, title: str = "Q1 roadmap"
) -> CalendarEvent:
    return CalendarEvent(
        uid=uid,
        title=title,
        start=DAY.replace(hour=hour),
        end=DAY.replace(hour=hour, minute=30),
        organizer="dana@northwind.example",
        attendees=(Attendee("sofia@northwind.example", "Sofia Marchetti"),),
    )


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".calendar.ics."))


def test_a_missing_file_is_an_empty_calendar_and_the_first_save_creates_it(tmp_path: Path) -> None:
    path = tmp_path / "home" / "calendar.ics"
    calendar = LocalCalendar(path, zone=BERLIN)
    assert calendar.events_between(DAY, DAY + timedelta(days=1)) == []
    assert calendar.get_event("e1@smart-inbox.local") is None
    calendar.save_event(event())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    parsed = icalendar.Calendar.from_ical(path.read_bytes())
    assert [str(c["UID"]) for c in parsed.walk("VEVENT")] == ["e1@smart-inbox.local"]
    found = calendar.get_event("e1@smart-inbox.local")
    assert found is not None and found.start == DAY.replace(hour=10)
    assert [e.title for e in calendar.events_between(DAY, DAY + timedelta(days=1))] == [
        "Q1 roadmap"
    ]
    assert leftovers(path.parent) == []


def test_saving_the_same_uid_replaces_it_and_keeps_everything_else(tmp_path: Path) -> None:
    path = tmp_path / "calendar.ics"
    path.write_bytes(FOREIGN)
    calendar = LocalCalendar(path, zone=BERLIN)
    calendar.save_event(event())
    calendar.save_event(event(title="Q1 roadmap (moved)", hour=11))
    parsed = icalendar.Calendar.from_ical(path.read_bytes())
    vevents = {str(c["UID"]): c for c in parsed.walk("VEVENT")}
    assert set(vevents) == {"dentist@example.com", "e1@smart-inbox.local"}
    assert str(vevents["e1@smart-inbox.local"]["SUMMARY"]) == "Q1 roadmap (moved)"
    assert str(vevents["dentist@example.com"]["X-SOMETHING-ELSE"]) == "kept as it is"
    titles = [e.title for e in calendar.events_between(DAY, DAY + timedelta(days=1))]
    assert titles == ["Q1 roadmap (moved)", "Dentist"]


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"this is not a calendar\n", "Invalid content line"),
        (b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Dana\r\nEND:VCARD\r\n", "VCALENDAR"),
        (FOREIGN.replace(b"DTSTART:20261124T150000Z", b"DTSTART:tomorrow-ish"), "bad DTSTART"),
        (FOREIGN[: len(FOREIGN) // 2], ""),
    ],
)
def test_a_corrupt_file_is_a_clear_error_and_is_never_overwritten(
    tmp_path: Path, content: bytes, why: str
) -> None:
    path = tmp_path / "calendar.ics"
    path.write_bytes(content)
    calendar = LocalCalendar(path, zone=BERLIN)
    with pytest.raises(CalendarError) as reading:
        calendar.events_between(DAY, DAY + timedelta(days=1))
    message = str(reading.value)
    assert str(path) in message and "left as it is" in message and why in message
    assert "\n" not in message
    with pytest.raises(CalendarError, match="not a valid iCalendar file"):
        calendar.save_event(event())
    assert path.read_bytes() == content
    assert leftovers(tmp_path) == []


def test_a_failed_write_leaves_the_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "calendar.ics"
    path.write_bytes(FOREIGN)

    def disk_full(source: str, target: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(CalendarError, match="No space left on device"):
        LocalCalendar(path, zone=BERLIN).save_event(event())
    assert path.read_bytes() == FOREIGN
    assert leftovers(tmp_path) == []


def test_concurrent_writers_lose_no_event(tmp_path: Path) -> None:
    path = tmp_path / "calendar.ics"
    errors: list[BaseException] = []

    def save(n: int) -> None:
        try:
            LocalCalendar(path, zone=BERLIN).save_event(event(uid=f"e{n}@smart-inbox.local"))
        except BaseException as err:  # noqa: BLE001 — reported by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=save, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    uids = {str(c["UID"]) for c in icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")}
    assert uids == {f"e{n}@smart-inbox.local" for n in range(12)}
