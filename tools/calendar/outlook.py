"""The Outlook calendar of a Microsoft 365 account, through Microsoft Graph.

Free/busy comes from `calendar/getSchedule` (the account's own schedule, with each busy
block's subject); a booking is a `POST /me/events` with its attendees, and Exchange sends
them the invitations itself. Our UID rides on the event as a single-value extended property,
so a retried booking finds the event it made (and `transactionId` lets Graph drop a repeat).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any

from tools.calendar.backend import CalendarError
from tools.calendar.model import Attendee, CalendarEvent
from tools.calendar.settings import CalendarConfigError, OutlookCalendarSettings
from tools.http import HttpSettings, HttpSettingsError
from tools.msgraph.account import account_tokens
from tools.msgraph.client import GraphClient, GraphError

logger = logging.getLogger(__name__)

UID_PROPERTY = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name SmartInboxUid"
"""The extended property our UID is kept in (a GUID of our own, in the public strings set)."""
FREE = frozenset({"free", "workingElsewhere"})
"""getSchedule statuses that leave the time free."""
INTERVAL = 30


def graph_time(value: datetime | date) -> dict[str, str]:
    """`{"dateTime", "timeZone"}` in UTC (a date is its midnight, as all-day events take it)."""
    moment = value if isinstance(value, datetime) else datetime.combine(value, time(0), UTC)
    return {"dateTime": moment.astimezone(UTC).replace(tzinfo=None).isoformat(), "timeZone": "UTC"}


def read_time(value: Any, zone: tzinfo) -> datetime:
    """An aware datetime from Graph's `{"dateTime", "timeZone"}` (UTC unless it says otherwise)."""
    if not isinstance(value, Mapping) or not value.get("dateTime"):
        raise CalendarError("Microsoft Graph sent an event without its time")
    moment = datetime.fromisoformat(str(value["dateTime"])[:26])
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC if value.get("timeZone", "UTC") == "UTC" else zone)
    return moment


def open_outlook_calendar(
    outlook: OutlookCalendarSettings, zone: tzinfo, retry: HttpSettings | None = None
) -> OutlookCalendar:
    """The calendar of the account; `CalendarConfigError` when `SMART_INBOX_GRAPH_API` is bad."""
    try:
        client = GraphClient.from_env(account_tokens(outlook.account, outlook.secrets))
    except HttpSettingsError as err:
        raise CalendarConfigError(str(err)) from None
    if retry is not None:
        client.settings = retry
    return OutlookCalendar(outlook.account, client, zone=zone)


class OutlookCalendar:
    """The default calendar of one Microsoft 365 account. Blocking: tools use `to_thread`."""

    invites_attendees = True
    """Exchange mails the attendees of an event it stores: nobody else invites them."""

    def __init__(self, account: str, client: GraphClient, *, zone: tzinfo) -> None:
        self.account = account
        self.client = client
        self.zone = zone
        self._address = ""

    @property
    def description(self) -> str:
        """`the Outlook calendar of work`."""
        return f"the Outlook calendar of {self.account}"

    def _call(self, method: str, path: str, action: str, **kwargs: Any) -> dict[str, Any]:
        try:
            return self.client.json(method, path, action=action, **kwargs)
        except GraphError as err:
            raise CalendarError(f"{self.description}: {err}") from err

    def address(self) -> str:
        """The account's address (as granted, else as Graph says), whose schedule is read."""
        if not self._address:
            self._address = self.client.tokens.address() or str(
                self._call("GET", "me", "read the account", params={"$select": "mail"}).get("mail")
                or ""
            )
        if not self._address:
            raise CalendarError(f"{self.description}: the account has no mail address")
        return self._address

    def events_between(self, start: datetime, end: datetime) -> list[CalendarEvent]:
        """The busy (and tentative) blocks of the account's schedule overlapping [start, end)."""
        data = self._call(
            "POST",
            "me/calendar/getSchedule",
            "read the schedule",
            json={
                "schedules": [self.address()],
                "startTime": graph_time(start),
                "endTime": graph_time(end),
                "availabilityViewInterval": INTERVAL,
            },
        )
        events: list[CalendarEvent] = []
        for schedule in data.get("value", []):
            for item in schedule.get("scheduleItems", []) if isinstance(schedule, dict) else []:
                first, last = (
                    read_time(item.get("start"), self.zone),
                    read_time(item.get("end"), self.zone),
                )
                if last <= start or first >= end:
                    continue
                events.append(
                    CalendarEvent(
                        uid=f"schedule:{first.isoformat()}",
                        title=str(item.get("subject") or "Busy"),
                        start=first,
                        end=last,
                        location=str(item.get("location") or ""),
                        busy=str(item.get("status") or "busy") not in FREE,
                    )
                )
        return sorted(events, key=lambda e: e.start)

    def _find(self, uid: str) -> dict[str, Any] | None:
        quoted = uid.replace("'", "''")
        rows = self._call(
            "GET",
            "me/events",
            "look for the event",
            params={
                "$filter": f"singleValueExtendedProperties/Any(ep: ep/id eq '{UID_PROPERTY}' "
                f"and ep/value eq '{quoted}')",
            },
        ).get("value", [])
        return rows[0] if rows and isinstance(rows[0], dict) else None

    def get_event(self, uid: str) -> CalendarEvent | None:
        """The event made with this UID, or None; its attendees were invited by Exchange."""
        found = self._find(uid)
        if found is None:
            return None
        attendees = tuple(
            Attendee(
                str(a.get("emailAddress", {}).get("address", "")).lower(),
                str(a.get("emailAddress", {}).get("name", "")),
            )
            for a in found.get("attendees", [])
            if isinstance(a, dict)
        )
        all_day = bool(found.get("isAllDay"))
        first, last = (
            read_time(found.get("start"), self.zone),
            read_time(found.get("end"), self.zone),
        )
        return CalendarEvent(
            uid=uid,
            title=str(found.get("subject") or ""),
            start=first.date() if all_day else first,
            end=last.date() if all_day else last,
            description=str((found.get("body") or {}).get("content") or ""),
            location=str((found.get("location") or {}).get("displayName") or ""),
            organizer=str(
                ((found.get("organizer") or {}).get("emailAddress") or {}).get("address") or ""
            ),
            attendees=attendees,
            invited=tuple(a.address for a in attendees),
        )

    def save_event(self, event: CalendarEvent) -> None:
        """Create the event with its attendees (Exchange invites them), or update the one made."""
        body: dict[str, Any] = {
            "subject": event.title,
            "body": {"contentType": "text", "content": event.description},
            "start": graph_time(event.start),
            "end": graph_time(event.end),
            "isAllDay": event.all_day,
            "location": {"displayName": event.location},
            "showAs": "busy" if event.busy else "free",
            "attendees": [
                {"emailAddress": {"address": a.address, "name": a.name}, "type": "required"}
                for a in event.attendees
            ],
        }
        existing = self._find(event.uid)
        if existing is not None:
            self._call("PATCH", f"me/events/{existing['id']}", "change the event", json=body)
            return
        body["transactionId"] = event.uid[:255]
        body["singleValueExtendedProperties"] = [{"id": UID_PROPERTY, "value": event.uid}]
        created = self._call("POST", "me/events", "create the event", json=body)
        logger.info("%s: event %s created as %s", self.description, event.uid, created.get("id"))
