"""CalDAV follows the integrations' retry rule; a retried create never stores an event twice.

The server's answers are scripted with httpx's mock transport (no sockets): a 503 and a lost
answer cannot be provoked from Radicale on demand. The calendar behind it is a dict.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import icalendar
import pytest

from tools.calendar.backend import CalendarError
from tools.calendar.caldav import CalDavCalendar
from tools.calendar.model import CalendarEvent
from tools.calendar.settings import CalDavSettings
from tools.http import HttpSettings

BERLIN = ZoneInfo("Europe/Berlin")
BASE = "https://dav.example.com/dana/work/"
COLLECTION = """<?xml version="1.0"?>
<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
 <d:response><d:href>/dana/work/</d:href><d:propstat><d:prop>
  <d:resourcetype><d:collection/><c:calendar/></d:resourcetype>
 </d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
</d:multistatus>"""
EVENT = CalendarEvent(
    uid="retry-1@smart-inbox.local",
    title="Q1 roadmap",
    start=datetime(2026, 12, 8, 10, tzinfo=BERLIN),
    end=datetime(2026, 12, 8, 10, 30, tzinfo=BERLIN),
    organizer="dana@northwind.example",
)


def objects(stored: dict[str, bytes]) -> str:
    items = "".join(
        f'<d:response><d:href>{href}</d:href><d:propstat><d:prop><d:getetag>"1"</d:getetag>'
        f"<c:calendar-data>{data.decode()}</c:calendar-data></d:prop>"
        "<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>"
        for href, data in stored.items()
    )
    return (
        '<?xml version="1.0"?><d:multistatus xmlns:d="DAV:" '
        f'xmlns:c="urn:ietf:params:xml:ns:caldav">{items}</d:multistatus>'
    )


class Server:
    """A calendar collection that misbehaves as scripted, and records every request."""

    def __init__(self, script: list[str]) -> None:
        self.script = script
        """What to do to the next REPORT or PUT: `503`, `503-long`, `500`, `lose`, `ok`."""
        self.stored: dict[str, bytes] = {}
        self.seen: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request.method)
        if request.method == "PROPFIND":
            return httpx.Response(207, text=COLLECTION)
        what = self.script.pop(0) if self.script else "ok"
        if what == "503":
            return httpx.Response(503, headers={"Retry-After": "0"})
        if what == "503-long":
            return httpx.Response(503, headers={"Retry-After": "120"})
        if what == "500":
            return httpx.Response(500)
        if request.method == "REPORT":
            return httpx.Response(207, text=objects(self.stored))
        path = request.url.path
        if request.headers.get("If-None-Match") == "*" and path in self.stored:
            return httpx.Response(412)
        self.stored[path] = request.content
        if what == "lose":  # stored, but the answer never arrives
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(201)


def calendar(server: Server, waits: list[float]) -> CalDavCalendar:
    settings = CalDavSettings(url=BASE, username="dana", secrets=lambda name: "pw")
    return CalDavCalendar(
        settings,
        zone=BERLIN,
        transport=httpx.MockTransport(server),
        retry=HttpSettings(retries=2, max_wait=5, backoff=0.01),
        sleep=waits.append,
    )


def test_a_503_is_retried_after_retry_after() -> None:
    server, waits = Server(["503"]), []
    found = calendar(server, waits).events_between(EVENT.start, EVENT.end)  # type: ignore[arg-type]
    assert found == []
    assert server.seen == ["PROPFIND", "REPORT", "REPORT"]
    assert waits == [0.0]


def test_a_retry_after_beyond_the_limit_is_not_waited_for() -> None:
    server, waits = Server(["503-long"]), []
    with pytest.raises(CalendarError, match="asks to wait 120s, longer than the 5s allowed"):
        calendar(server, waits).events_between(EVENT.start, EVENT.end)  # type: ignore[arg-type]
    assert waits == []


def test_a_server_that_keeps_failing_is_given_up_on() -> None:
    server, waits = Server(["500", "500", "500"]), []
    with pytest.raises(CalendarError, match=r"answered REPORT /dana/work/ with 500"):
        calendar(server, waits).events_between(EVENT.start, EVENT.end)  # type: ignore[arg-type]
    assert server.seen.count("REPORT") == 3 and len(waits) == 2


def test_a_create_whose_answer_was_lost_is_stored_once() -> None:
    server, waits = Server(["ok", "lose"]), []  # the UID lookup, then the PUT
    calendar(server, waits).save_event(EVENT)
    # Lookup, the PUT whose answer was lost, its retry (412: it exists), the lookup that
    # finds the event stored by the first attempt.
    assert server.seen == ["PROPFIND", "REPORT", "PUT", "PUT", "REPORT"]
    [stored] = server.stored.values()
    [vevent] = icalendar.Calendar.from_ical(stored).walk("VEVENT")
    assert str(vevent["UID"]) == EVENT.uid
    assert len(waits) == 1
