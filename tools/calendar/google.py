"""A Google calendar of a connected account (`SMART_INBOX_CALENDAR=google:ACCOUNT`), by its API.

Availability is Google's own `freeBusy` answer: busy times only (no titles), but every event
counts, private ones and those of shared calendars included, as Google itself reckons them.
An event is found by its iCalendar UID (`events.list?iCalUID=`) and created with
`events.insert` and `sendUpdates=all`: Google mails the attendees their invitations, so
the product sends none of its own (`sends_invitations`). Every failure is one
`CalendarError` naming Google Calendar and why; the token never appears in one.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from tools.calendar.backend import CalendarError
from tools.calendar.google_settings import GOOGLE_CALENDAR_API_VARIABLE, GoogleCalendarSettings
from tools.calendar.model import Attendee, CalendarEvent
from tools.google.account import account_tokens
from tools.google.api import GoogleApi, GoogleApiError, checked_base_url, path_part
from tools.http import HttpSettings

INVITED_KEY = "smartInboxInvited"
"""The event's private extended property: the attendees invited (as `CalendarEvent.invited`)."""


def _instant(value: datetime | date) -> dict[str, str]:
    if isinstance(value, datetime):
        return {"dateTime": value.astimezone(UTC).isoformat().replace("+00:00", "Z")}
    return {"date": value.isoformat()}


def _read_instant(value: dict[str, Any], zone: tzinfo) -> datetime | date:
    if value.get("dateTime"):
        text = str(value["dateTime"]).replace("Z", "+00:00")
        return datetime.fromisoformat(text).astimezone(zone)
    return date.fromisoformat(str(value.get("date")))


def event_resource(event: CalendarEvent) -> dict[str, Any]:
    """The Google Calendar event resource of `event`."""
    resource: dict[str, Any] = {
        "iCalUID": event.uid,
        "summary": event.title,
        "start": _instant(event.start),
        "end": _instant(event.end),
        "attendees": [
            {"email": a.address, **({"displayName": a.name} if a.name else {})}
            for a in event.attendees
        ],
        "transparency": "opaque" if event.busy else "transparent",
        "extendedProperties": {"private": {INVITED_KEY: json.dumps(list(event.invited))}},
    }
    if event.description:
        resource["description"] = event.description
    if event.location:
        resource["location"] = event.location
    return resource


def event_from_resource(item: dict[str, Any], zone: tzinfo) -> CalendarEvent:
    """A `CalendarEvent` from Google's event resource."""
    private = (item.get("extendedProperties") or {}).get("private") or {}
    try:
        invited = tuple(str(a) for a in json.loads(private.get(INVITED_KEY) or "[]"))
    except ValueError:
        invited = ()
    return CalendarEvent(
        uid=str(item.get("iCalUID") or item.get("id") or ""),
        title=str(item.get("summary") or ""),
        start=_read_instant(item.get("start") or {}, zone),
        end=_read_instant(item.get("end") or {}, zone),
        description=str(item.get("description") or ""),
        location=str(item.get("location") or ""),
        organizer=str((item.get("organizer") or {}).get("email") or "").lower(),
        attendees=tuple(
            Attendee(str(a.get("email") or "").lower(), str(a.get("displayName") or ""))
            for a in item.get("attendees") or []
            if a.get("email")
        ),
        busy=item.get("transparency") != "transparent" and item.get("status") != "cancelled",
        invited=invited,
    )


class GoogleCalendar:
    """One calendar of a connected Google account."""

    sends_invitations = True
    """Google mails the attendees of an event it creates (`sendUpdates=all`)."""

    def __init__(
        self,
        settings: GoogleCalendarSettings,
        *,
        zone: tzinfo,
        api: GoogleApi | None = None,
        retry: HttpSettings | None = None,
    ) -> None:
        self.settings = settings
        self.zone = zone
        if api is None:
            try:
                base = checked_base_url(settings.api_url, variable=GOOGLE_CALENDAR_API_VARIABLE)
            except GoogleApiError as err:
                raise CalendarError(str(err)) from None
            tokens = account_tokens(settings.account, settings.secrets)
            api = GoogleApi(base, tokens, name="Google Calendar", retry=retry)
        self.api = api

    @property
    def description(self) -> str:
        """Which calendar this is, for messages."""
        which = "" if self.settings.calendar_id == "primary" else f" {self.settings.calendar_id}"
        return f"the Google calendar{which} of the account {self.settings.account}"

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            return self.api.request(method, "/calendar/v3" + path, **kwargs)
        except GoogleApiError as err:
            raise CalendarError(str(err)) from err

    def _events_path(self) -> str:
        return f"/calendars/{path_part(self.settings.calendar_id)}/events"

    def events_between(self, start: datetime, end: datetime) -> list[CalendarEvent]:
        """The busy times of [start, end) as Google's `freeBusy` gives them (no titles)."""
        calendar_id = self.settings.calendar_id
        body = {
            "timeMin": _instant(start)["dateTime"],
            "timeMax": _instant(end)["dateTime"],
            "items": [{"id": calendar_id}],
        }
        data = self._call("POST", "/freeBusy", body=body, idempotent=True) or {}
        calendar = (data.get("calendars") or {}).get(calendar_id) or {}
        if calendar.get("errors"):
            reasons = ", ".join(str(e.get("reason")) for e in calendar["errors"])
            raise CalendarError(
                f"Google Calendar cannot tell when {calendar_id} is busy: {reasons}"
            )
        return [
            CalendarEvent(
                uid=f"busy-{index}@{calendar_id}",
                title="",
                start=_read_instant({"dateTime": span["start"]}, self.zone),
                end=_read_instant({"dateTime": span["end"]}, self.zone),
            )
            for index, span in enumerate(calendar.get("busy") or [])
        ]

    def _find(self, uid: str) -> dict[str, Any] | None:
        params = {"iCalUID": uid, "showDeleted": "false"}
        data = self._call("GET", self._events_path(), params=params) or {}
        items = [i for i in data.get("items") or [] if i.get("status") != "cancelled"]
        return items[0] if items else None

    def get_event(self, uid: str) -> CalendarEvent | None:
        """The event with this iCalendar UID, or None."""
        found = self._find(uid)
        return event_from_resource(found, self.zone) if found else None

    def save_event(self, event: CalendarEvent) -> None:
        """Create the event (Google invites its attendees), or replace the one with its UID.

        A replacement tells nobody (`sendUpdates=none`): it only records what was done.
        """
        found = self._find(event.uid)
        resource = event_resource(event)
        if found is None:
            params = {"sendUpdates": "all"}
            self._call("POST", self._events_path(), params=params, body=resource)
            return
        path = f"{self._events_path()}/{path_part(str(found['id']))}"
        self._call("PUT", path, params={"sendUpdates": "none"}, body=resource, idempotent=True)


def sends_invitations(calendar: object) -> bool:
    """Whether the calendar itself mails an event's attendees (then the product must not)."""
    return bool(getattr(calendar, "sends_invitations", False))
