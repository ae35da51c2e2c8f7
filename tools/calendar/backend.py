"""The `Calendar` the tools read and write, whichever store is behind it.

Two stores implement it: a local iCalendar file (the default) and a CalDAV server. Their
methods block (file and network I/O); the async tools call them with `asyncio.to_thread`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

from tools.calendar.model import CalendarEvent


class CalendarError(Exception):
    """The calendar could not be read or written; the message says which calendar and why."""


@runtime_checkable
class Calendar(Protocol):
    """A calendar of events: read a time range, find one event, create or replace one."""

    @property
    def description(self) -> str:
        """Which calendar this is, for messages (`the calendar file …`, `CalDAV calendar …`)."""
        ...

    def events_between(self, start: datetime, end: datetime) -> list[CalendarEvent]:
        """Every event occurrence overlapping [start, end), recurrences expanded.

        Raises:
            CalendarError: the calendar cannot be read.

        """
        ...

    def get_event(self, uid: str) -> CalendarEvent | None:
        """The event with this UID, or None.

        Raises:
            CalendarError: the calendar cannot be read.

        """
        ...

    def save_event(self, event: CalendarEvent) -> None:
        """Store `event`, replacing the one with the same UID if there is one.

        Raises:
            CalendarError: nothing was stored.

        """
        ...
