"""A real CalDAV server for the calendar tests: Radicale, run as `python -m radicale` on a free port.

It logs users in from an htpasswd file and keeps its collections in a temporary folder, so the
CalDAV client is tested against real discovery, REPORTs, ETags and conditional PUTs.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from types import TracebackType

import httpx

from tests.fakes.smtp_server import HOST, free_port

MKCALENDAR = """<?xml version="1.0" encoding="utf-8"?>
<c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
  <d:set><d:prop><d:displayname>{name}</d:displayname>
  <c:supported-calendar-component-set><c:comp name="{component}"/></c:supported-calendar-component-set>
  </d:prop></d:set>
</c:mkcalendar>"""


ALL_OBJECTS = """<?xml version="1.0" encoding="utf-8"?>
<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
  <d:prop><d:getetag/><c:calendar-data/></d:prop>
  <c:filter><c:comp-filter name="VCALENDAR"/></c:filter>
</c:calendar-query>"""


class RadicaleServer:
    """Radicale on 127.0.0.1 with one user: `with RadicaleServer(tmp, "dana", "pw") as server:`."""

    def __init__(self, folder: Path, user: str, password: str, *, start_timeout: float = 30.0):
        if importlib.util.find_spec("radicale") is None:
            raise RuntimeError(
                "the CalDAV tests need Radicale: install the dev dependencies "
                "(pip install -c constraints.txt -e '.[dev]')"
            )
        self.folder = folder
        self.user = user
        self.password = password
        self.port = free_port()
        self.start_timeout = start_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self.log = folder / "radicale.log"

    @property
    def url(self) -> str:
        """The server's root URL (where discovery starts)."""
        return f"http://{HOST}:{self.port}/"

    def calendar_url(self, name: str) -> str:
        """The URL of the user's calendar called `name`."""
        return f"{self.url}{self.user}/{name}/"

    def start(self) -> RadicaleServer:
        """Write the config and the htpasswd file, start the server and wait until it listens."""
        self.folder.mkdir(parents=True, exist_ok=True)
        users = self.folder / "users"
        users.write_text(f"{self.user}:{self.password}\n", encoding="utf-8")
        config = self.folder / "config"
        config.write_text(
            "\n".join(
                [
                    "[server]",
                    f"hosts = {HOST}:{self.port}",
                    "[auth]",
                    "type = htpasswd",
                    f"htpasswd_filename = {users}",
                    "htpasswd_encryption = plain",
                    "delay = 0",
                    "[rights]",
                    "type = owner_only",
                    "[storage]",
                    f"filesystem_folder = {self.folder / 'collections'}",
                    "[web]",
                    "type = none",
                    "[logging]",
                    "level = warning",
                    "",
                ]
            ),
            encoding="utf-8",
        )
        with self.log.open("wb") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "radicale", "--config", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"Radicale exited with {self._process.returncode} at start:\n"
                    + self.log.read_text("utf-8", "replace")
                )
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Radicale did not listen on port {self.port} in {self.start_timeout}s")

    def make_calendar(self, name: str, *, display_name: str = "", component: str = "VEVENT") -> str:
        """Create a calendar for the user with MKCALENDAR; returns its URL."""
        url = self.calendar_url(name)
        response = httpx.request(
            "MKCALENDAR",
            url,
            content=MKCALENDAR.format(name=display_name or name, component=component),
            headers={"Content-Type": "application/xml; charset=utf-8"},
            auth=(self.user, self.password),
            timeout=10,
        )
        response.raise_for_status()
        return url

    def put_event(self, calendar: str, name: str, ics: str) -> None:
        """Store a raw iCalendar object in one of the user's calendars (another client's event)."""
        response = httpx.put(
            f"{self.calendar_url(calendar)}{name}",
            content=ics.encode("utf-8"),
            headers={"Content-Type": "text/calendar; charset=utf-8"},
            auth=(self.user, self.password),
            timeout=10,
        )
        response.raise_for_status()

    def events(self, calendar: str) -> dict[str, str]:
        """Every object in one of the user's calendars as the server lists it: href → iCalendar."""
        response = httpx.request(
            "REPORT",
            self.calendar_url(calendar),
            content=ALL_OBJECTS,
            headers={"Depth": "1", "Content-Type": "application/xml; charset=utf-8"},
            auth=(self.user, self.password),
            timeout=10,
        )
        response.raise_for_status()
        found = {}
        for item in ET.fromstring(response.content).iter("{DAV:}response"):
            href = item.findtext("{DAV:}href", default="")
            data = item.findtext(".//{urn:ietf:params:xml:ns:caldav}calendar-data", default="")
            if href.endswith(".ics"):
                found[href] = data
        return found

    def stop(self) -> None:
        """Stop the server (and wait for it)."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        self._process = None

    def __enter__(self) -> RadicaleServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
