"""A local stand-in for the Google Calendar API (freeBusy, events list/insert/update).

One account's calendars behind one bearer token. `freeBusy` answers from the stored events
(opaque, not cancelled) that overlap the range asked; `events.insert` records whether Google
would have mailed the attendees (`sendUpdates`), which is what a test checks.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from tests.fakes.gmail_server import error
from tests.fakes.http_api import FakeApi, Recorded, Reply

BASE = "/calendar/v3"


def _instant(value: dict[str, Any]) -> datetime:
    text = str(value.get("dateTime") or f"{value.get('date')}T00:00:00+00:00")
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class FakeGoogleCalendar(FakeApi):
    """Calendars by id (`primary` is the account's own), reachable with `token`."""

    name = "fake google calendar"

    def __init__(self, token: str = "calendar-token-1", owner: str = "me@gmail.example") -> None:
        super().__init__()
        self.token = token
        self.owner = owner
        self.events: dict[str, dict[str, Any]] = {}
        """Event id → resource (all on the primary calendar)."""
        self.invitations: list[tuple[str, str]] = []
        """(attendee, event title) for every invitation Google would have mailed."""
        self._ids = itertools.count(1)

    def add_event(self, summary: str, start: str, end: str, **extra: Any) -> dict[str, Any]:
        """An event already in the calendar (times as RFC 3339)."""
        key = f"ev{next(self._ids):06d}"
        event = {
            "id": key,
            "iCalUID": f"{key}@google.com",
            "status": "confirmed",
            "summary": summary,
            "start": {"dateTime": start},
            "end": {"dateTime": end},
            "organizer": {"email": self.owner, "self": True},
            **extra,
        }
        self.events[key] = event
        return event

    def serve(self, request: Recorded) -> Reply:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return error(401, "Request had invalid authentication credentials.", "authError")
        path = request.path.removeprefix(BASE)
        if request.method == "POST" and path == "/freeBusy":
            return self._free_busy(request)
        parts = path.split("/")
        if len(parts) < 4 or parts[1] != "calendars" or parts[3] != "events":
            return error(404, "Not Found", "notFound")
        if parts[2] not in ("primary", self.owner):
            return error(404, "Not Found", "notFound")
        if request.method == "GET" and len(parts) == 4:
            return self._list(request)
        if request.method == "POST" and len(parts) == 4:
            return self._insert(request)
        if request.method == "PUT" and len(parts) == 5:
            return self._update(request, parts[4])
        return error(404, "Not Found", "notFound")

    def _busy(self, start: datetime, end: datetime) -> list[dict[str, str]]:
        spans = sorted(
            (_instant(e["start"]), _instant(e["end"]))
            for e in self.events.values()
            if e.get("status") != "cancelled" and e.get("transparency") != "transparent"
        )
        return [
            {
                "start": s.isoformat().replace("+00:00", "Z"),
                "end": t.isoformat().replace("+00:00", "Z"),
            }
            for s, t in spans
            if s < end and t > start
        ]

    def _free_busy(self, request: Recorded) -> Reply:
        body = request.json or {}
        try:
            start, end = (
                _instant({"dateTime": body["timeMin"]}),
                _instant({"dateTime": body["timeMax"]}),
            )
        except (KeyError, ValueError):
            return error(400, "Bad Request", "badRequest")
        calendars: dict[str, Any] = {}
        for item in body.get("items") or []:
            key = str(item.get("id"))
            if key in ("primary", self.owner):
                calendars[key] = {"busy": self._busy(start, end)}
            else:
                calendars[key] = {
                    "errors": [{"domain": "global", "reason": "notFound"}],
                    "busy": [],
                }
        return Reply(
            200,
            {
                "kind": "calendar#freeBusy",
                "timeMin": body["timeMin"],
                "timeMax": body["timeMax"],
                "calendars": calendars,
            },
        )

    def _list(self, request: Recorded) -> Reply:
        wanted = (request.query.get("iCalUID") or [""])[-1]
        items = [e for e in self.events.values() if not wanted or e.get("iCalUID") == wanted]
        return Reply(200, {"kind": "calendar#events", "items": items})

    def _insert(self, request: Recorded) -> Reply:
        body = dict(request.json or {})
        if not body.get("start") or not body.get("end"):
            return error(400, "Missing time", "required")
        uid = str(body.get("iCalUID") or "")
        if uid and any(e.get("iCalUID") == uid for e in self.events.values()):
            return error(409, "The requested identifier already exists.", "duplicate")
        key = f"ev{next(self._ids):06d}"
        event = {
            **body,
            "id": key,
            "iCalUID": uid or f"{key}@google.com",
            "status": "confirmed",
            "organizer": {"email": self.owner, "self": True},
        }
        self.events[key] = event
        if (request.query.get("sendUpdates") or ["none"])[-1] == "all":
            for attendee in body.get("attendees") or []:
                self.invitations.append((str(attendee["email"]), str(body.get("summary"))))
        return Reply(200, event)

    def _update(self, request: Recorded, key: str) -> Reply:
        if key not in self.events:
            return error(404, "Not Found", "notFound")
        body = dict(request.json or {})
        self.events[key] = {**body, "id": key, "organizer": self.events[key]["organizer"]}
        self.events[key].setdefault("status", "confirmed")
        return Reply(200, self.events[key])
