"""The default calendar: one iCalendar file in the data directory (`calendar.ics`).

Writes are atomic (a temporary file in the same folder, flushed, then renamed over the old
one) and serialised between processes by a lock file, so a crash or a second writer never
leaves half a calendar. A file that is not valid iCalendar is reported and never written
over: the user's events in it are worth more than any event we would add.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
from pathlib import Path

import icalendar

from tools.calendar.backend import CalendarError
from tools.calendar.model import CalendarEvent, from_vevent, new_calendar, occurrences, to_vevent

try:
    import fcntl
except ImportError:  # pragma: no cover — not POSIX: atomic renames still protect the file
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)


class LocalCalendar:
    """A calendar kept in one iCalendar file; a missing file is an empty calendar."""

    def __init__(self, path: Path, *, zone: tzinfo) -> None:
        self.path = path
        self.zone = zone
        """The user's zone, for floating times and all-day events."""

    @property
    def description(self) -> str:
        """Which calendar this is, for messages."""
        return f"the calendar file {self.path}"

    def _read(self) -> icalendar.Calendar:
        """The file's calendar; `CalendarError` when it is unreadable or not iCalendar."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return new_calendar()
        except OSError as err:
            raise CalendarError(f"cannot read {self.description}: {err.strerror or err}") from err
        if not data.strip():
            return new_calendar()
        try:
            calendar = icalendar.Calendar.from_ical(data)
        except (ValueError, IndexError, KeyError) as err:
            raise self._corrupt(str(err)) from err
        if not isinstance(calendar, icalendar.Calendar) or calendar.name != "VCALENDAR":
            raise self._corrupt("it does not hold a VCALENDAR")
        for component in calendar.walk():
            if component.errors:
                name, why = component.errors[0]
                raise self._corrupt(f"{component.name} has a bad {name}: {why}")
        return calendar

    def _corrupt(self, why: str) -> CalendarError:
        return CalendarError(
            f"{self.description} is not a valid iCalendar file ({why}); it was left as it is: "
            "repair it or move it away"
        )

    def events_between(self, start: datetime, end: datetime) -> list[CalendarEvent]:
        """Every occurrence overlapping [start, end), recurrences expanded."""
        calendar = self._read()
        try:
            return occurrences([calendar], start, end, self.zone)
        except ValueError as err:
            raise CalendarError(f"cannot read the events of {self.description}: {err}") from err

    def get_event(self, uid: str) -> CalendarEvent | None:
        """The event with this UID (its first VEVENT), or None."""
        for component in self._read().walk("VEVENT"):
            if str(component.get("UID", "")) == uid:
                try:
                    return from_vevent(component, self.zone)
                except (ValueError, icalendar.error.InvalidCalendar) as err:
                    raise CalendarError(f"event {uid} in {self.description}: {err}") from err
        return None

    def save_event(self, event: CalendarEvent) -> None:
        """Add `event`, replacing any VEVENT with its UID; the file is rewritten atomically."""
        with self._locked():
            calendar = self._read()
            kept = [
                c
                for c in calendar.subcomponents
                if not (c.name == "VEVENT" and str(c.get("UID", "")) == event.uid)
            ]
            calendar.subcomponents = kept
            calendar.add_component(to_vevent(event, stamp=datetime.now(UTC), for_invitation=False))
            self._write(calendar.to_ical())
        logger.info("saved event %s in %s", event.uid, self.path)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the calendar's lock file, so two writers never interleave."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            lock = open(self.path.with_name(self.path.name + ".lock"), "a+b")  # noqa: SIM115
        except OSError as err:
            raise CalendarError(f"cannot write {self.description}: {err.strerror or err}") from err
        try:
            if fcntl is not None:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            yield
        finally:
            lock.close()

    def _write(self, data: bytes) -> None:
        """Replace the file by `data` atomically (mode 0600: a calendar is personal)."""
        folder = self.path.parent
        try:
            handle, temporary = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=folder)
        except OSError as err:
            raise CalendarError(f"cannot write {self.description}: {err.strerror or err}") from err
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.path)
        except OSError as err:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise CalendarError(f"cannot write {self.description}: {err.strerror or err}") from err
        with contextlib.suppress(OSError):
            directory = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
