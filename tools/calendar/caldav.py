"""A calendar on a CalDAV server (RFC 4791): Nextcloud, Fastmail, iCloud, Radicale, Baïkal.

Only what the calendar tools need, over httpx: find the calendar (the URL itself, or the
user's principal → calendar home → a calendar), read a time range (`calendar-query` REPORT),
find an event by UID, and create or replace one with a conditional PUT (`If-None-Match: *` /
`If-Match: <etag>`), so two writers never overwrite each other silently. Recurrences are
expanded here, not by the server, so every server gives the same answer. Every failure is one
`CalendarError` naming the server and the reason; the password never appears in one.

Retries follow the integrations' rule (`tools.api_requests`, `INTEGRATION_RETRIES` and
`INTEGRATION_MAX_WAIT`): every request here may be sent again — PROPFIND and REPORT only
read, and a conditional PUT cannot store an event twice (a repeated create finds its own
event and is taken as done). The shared async client itself is not used: the calendar is
read and written from worker threads through a blocking interface (the local file's too),
CalDAV servers redirect (`/.well-known/caldav`) where the integrations never follow one, and
a Digest login may need a second round.
"""

from __future__ import annotations

import logging
import random
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, tzinfo
from urllib.parse import unquote, urljoin, urlsplit

import httpx
import icalendar

from tools.api_requests import NOT_SENT, RETRY_ANY, RETRY_IDEMPOTENT, retry_after
from tools.calendar.backend import CalendarError
from tools.calendar.caldav_wire import (
    CALENDAR_QUERY,
    NS,
    PROPFIND_CALENDAR,
    USER_AGENT,
    DavResource,
    StoredObject,
    calendar_name,
    failure_reason,
    href,
    is_event_calendar,
    object_name,
    offers_digest_only,
    url_path,
    utc,
)
from tools.calendar.model import CalendarEvent, from_vevent, new_calendar, occurrences, to_vevent
from tools.calendar.settings import CALDAV_PASSWORD_SECRET, CalDavSettings
from tools.http import HttpSettings

logger = logging.getLogger(__name__)


class CalDavStatusError(CalendarError):
    """The server answered with an error status; `status` is it."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class CalDavCalendar:
    """One calendar collection on a CalDAV server, found from `settings.url` on first use."""

    def __init__(
        self,
        settings: CalDavSettings,
        *,
        zone: tzinfo,
        transport: httpx.BaseTransport | None = None,
        retry: HttpSettings | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.zone = zone
        self._transport = transport
        self.retry = retry or HttpSettings()
        """Retries and waits (the request timeout is `settings.timeout`)."""
        self._sleep = sleep
        self._collection: str | None = None
        parts = urlsplit(settings.url)
        self._server = f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
        self._digest = False

    @property
    def description(self) -> str:
        """Which calendar this is, for messages."""
        return f"the CalDAV calendar {self._collection or self.settings.url}"

    # --- HTTP -------------------------------------------------------------------------

    @contextmanager
    def _client(self) -> Iterator[httpx.Client]:
        password = self.settings.password()
        if not password:
            raise CalendarError(
                f"no CalDAV password for {self.settings.username}: set CALDAV_PASSWORD "
                f"(credential {CALDAV_PASSWORD_SECRET})"
            )
        auth: httpx.Auth = (
            httpx.DigestAuth(self.settings.username, password)
            if self._digest
            else httpx.BasicAuth(self.settings.username, password)
        )
        with httpx.Client(
            auth=auth,
            timeout=self.settings.timeout,
            follow_redirects=True,
            headers={"User-Agent": USER_AGENT},
            transport=self._transport,
        ) as client:
            yield client

    def _send(
        self,
        client: httpx.Client,
        method: str,
        url: str,
        *,
        body: str | bytes | None = None,
        headers: dict[str, str] | None = None,
        ok: tuple[int, ...] = (200, 207),
    ) -> httpx.Response:
        """One request, retried by the rule; `CalendarError` for anything but the `ok` statuses."""
        attempt = 0
        while True:
            wait: float | None = None
            try:
                response = self._request(client, method, url, body, headers)
            except httpx.TransportError as err:  # refused, timed out, dropped: all retryable
                if attempt >= self.retry.retries:
                    raise self._transport_error(err, attempt) from err
            except httpx.HTTPError as err:
                raise CalendarError(f"CalDAV server {self._server}: {failure_reason(err)}") from err
            else:
                status = response.status_code
                if status not in RETRY_ANY | RETRY_IDEMPOTENT or attempt >= self.retry.retries:
                    break
                wait = retry_after(response)
                if wait is not None and wait > self.retry.max_wait:
                    raise CalDavStatusError(
                        f"CalDAV server {self._server} answered {method} {url_path(url)} with "
                        f"{status} {response.reason_phrase} and asks to wait {wait:g}s, longer "
                        f"than the {self.retry.max_wait:g}s allowed (INTEGRATION_MAX_WAIT); "
                        "try again later",
                        status,
                    )
            if wait is None:
                wait = min(
                    self.retry.max_wait,
                    self.retry.backoff * 2**attempt + random.uniform(0, 0.25),
                )
            attempt += 1
            logger.info("CalDAV %s %s: attempt %d failed; retrying", method, url_path(url), attempt)
            self._sleep(wait)
        if response.status_code in ok:
            return response
        raise self._refusal(response, method, url)

    def _refusal(self, response: httpx.Response, method: str, url: str) -> CalDavStatusError:
        """The error for an answer that is not one of the statuses the request wanted."""
        status = response.status_code
        if status == 401:
            why = (
                f"CalDAV server {self._server} refused the login of user "
                f"{self.settings.username!r}: wrong user name or password"
            )
        elif status == 403:
            why = (
                f"CalDAV server {self._server} does not let user {self.settings.username!r} "
                f"{method} {url_path(url)}"
            )
        elif status == 404:
            why = f"CalDAV server {self._server} has nothing at {url_path(url)}"
        else:
            why = (
                f"CalDAV server {self._server} answered {method} {url_path(url)} with "
                f"{status} {response.reason_phrase}"
            )
        return CalDavStatusError(why, status)

    def _request(
        self,
        client: httpx.Client,
        method: str,
        url: str,
        body: str | bytes | None,
        headers: dict[str, str] | None,
    ) -> httpx.Response:
        response = client.request(method, url, content=body, headers=headers)
        if response.status_code == 401 and not self._digest and offers_digest_only(response):
            self._digest = True  # the server wants Digest: ask again with it
            client.auth = httpx.DigestAuth(self.settings.username, self.settings.password() or "")
            response = client.request(method, url, content=body, headers=headers)
        return response

    def _transport_error(self, err: httpx.HTTPError, attempt: int) -> CalendarError:
        tries = f" (after {attempt + 1} attempts)" if attempt else ""
        if isinstance(err, httpx.TimeoutException) and not isinstance(err, NOT_SENT):
            why = f"CalDAV server {self._server} did not answer within {self.settings.timeout:g}s"
        elif isinstance(err, httpx.ConnectError | httpx.ConnectTimeout):
            why = f"cannot reach the CalDAV server {self._server}: {failure_reason(err)}"
        else:
            why = f"CalDAV server {self._server}: {failure_reason(err)}"
        return CalendarError(why + tries)

    def _multistatus(self, response: httpx.Response) -> list[DavResource]:
        try:
            root = ET.fromstring(response.content)
        except ET.ParseError as err:
            raise CalendarError(
                f"CalDAV server {self._server} sent a reply that is not XML: {err}"
            ) from err
        resources = []
        for item in root.findall("d:response", NS):
            href = item.findtext("d:href", default="", namespaces=NS).strip()
            props = ET.Element("props")
            for propstat in item.findall("d:propstat", NS):
                status = propstat.findtext("d:status", default="", namespaces=NS)
                if " 200 " in f"{status} ":
                    for prop in propstat.findall("d:prop", NS):
                        props.extend(list(prop))
            resources.append(DavResource(urljoin(str(response.url), href), props))
        return resources

    # --- discovery ----------------------------------------------------------------------

    def _calendar_url(self, client: httpx.Client) -> str:
        if self._collection is None:
            self._collection = self._discover(client)
            logger.info("using CalDAV calendar %s", self._collection)
        return self._collection

    def _propfind(self, client: httpx.Client, url: str, depth: str) -> list[DavResource]:
        response = self._send(
            client,
            "PROPFIND",
            url,
            body=PROPFIND_CALENDAR,
            headers={"Depth": depth, "Content-Type": "application/xml; charset=utf-8"},
        )
        return self._multistatus(response)

    def _discover(self, client: httpx.Client) -> str:
        url = self.settings.url
        resources = self._propfind(client, url, "0")
        this = resources[0] if resources else None
        if this is not None and is_event_calendar(this):
            return this.href
        principal = href(this, "d:current-user-principal/d:href") if this else ""
        if not principal:
            well_known = urljoin(url, "/.well-known/caldav")
            found = self._propfind(client, well_known, "0")
            principal = href(found[0], "d:current-user-principal/d:href") if found else ""
            url = str(found[0].href) if found else url
        if not principal:
            raise CalendarError(
                f"CalDAV server {self._server} does not say where the calendars of "
                f"{self.settings.username!r} are; set CALDAV_URL to the calendar's own URL"
            )
        principal = urljoin(url, principal)
        home_props = self._propfind(client, principal, "0")
        home = href(home_props[0], "c:calendar-home-set/d:href") if home_props else ""
        home = urljoin(principal, home) if home else principal
        calendars = [r for r in self._propfind(client, home, "1") if is_event_calendar(r)]
        if not calendars:
            raise CalendarError(
                f"CalDAV server {self._server} has no calendar for events at {home}"
            )
        calendars.sort(key=lambda r: r.href)
        wanted = self.settings.calendar.strip().lower()
        if not wanted:
            return calendars[0].href
        for resource in calendars:
            name = resource.props.findtext("d:displayname", default="", namespaces=NS).strip()
            last = unquote(urlsplit(resource.href).path.rstrip("/").rsplit("/", 1)[-1])
            if wanted in (name.lower(), last.lower()):
                return resource.href
        names = ", ".join(calendar_name(r) for r in calendars)
        raise CalendarError(
            f"CalDAV server {self._server} has no calendar named {self.settings.calendar!r} "
            f"(CALDAV_CALENDAR); it has: {names}"
        )

    # --- reading and writing ----------------------------------------------------------------

    def _query(self, client: httpx.Client, inner: str) -> list[StoredObject]:
        collection = self._calendar_url(client)
        response = self._send(
            client,
            "REPORT",
            collection,
            body=CALENDAR_QUERY.format(inner=inner),
            headers={"Depth": "1", "Content-Type": "application/xml; charset=utf-8"},
        )
        found = []
        for resource in self._multistatus(response):
            data = resource.props.findtext("c:calendar-data", default="", namespaces=NS)
            if not data.strip():
                continue
            try:
                calendar = icalendar.Calendar.from_ical(data)
            except ValueError as err:
                logger.warning("skipping unreadable event %s: %s", resource.href, err)
                continue
            etag = resource.props.findtext("d:getetag", default="", namespaces=NS).strip()
            found.append(StoredObject(resource.href, etag, calendar))
        return found

    def events_between(self, start: datetime, end: datetime) -> list[CalendarEvent]:
        """Every occurrence overlapping [start, end), from a `calendar-query` with a time range."""
        inner = f'<c:time-range start="{utc(start)}" end="{utc(end)}"/>'
        with self._client() as client:
            stored = self._query(client, inner)
        try:
            return occurrences([s.calendar for s in stored], start, end, self.zone)
        except ValueError as err:
            raise CalendarError(f"cannot read the events of {self.description}: {err}") from err

    def _find(self, client: httpx.Client, uid: str) -> StoredObject | None:
        escaped = uid.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        inner = (
            '<c:prop-filter name="UID"><c:text-match collation="i;octet">'
            f"{escaped}</c:text-match></c:prop-filter>"
        )
        for stored in self._query(client, inner):
            for component in stored.calendar.walk("VEVENT"):
                if str(component.get("UID", "")) == uid:
                    return stored
        return None

    def get_event(self, uid: str) -> CalendarEvent | None:
        """The event with this UID, or None."""
        with self._client() as client:
            stored = self._find(client, uid)
        if stored is None:
            return None
        master = next(c for c in stored.calendar.walk("VEVENT") if str(c.get("UID", "")) == uid)
        try:
            return from_vevent(master, self.zone)
        except (ValueError, icalendar.error.InvalidCalendar) as err:
            raise CalendarError(f"event {uid} in {self.description}: {err}") from err

    def save_event(self, event: CalendarEvent) -> None:
        """Create the event, or replace the one with its UID (only if nobody changed it since)."""
        calendar = new_calendar()
        calendar.add_component(to_vevent(event, stamp=datetime.now(UTC), for_invitation=False))
        body = calendar.to_ical()
        headers = {"Content-Type": "text/calendar; charset=utf-8"}
        with self._client() as client:
            existing = self._find(client, event.uid)
            if existing is None:
                url = urljoin(self._calendar_url(client), object_name(event.uid))
                headers["If-None-Match"] = "*"
            else:
                url = existing.href
                if existing.etag:
                    headers["If-Match"] = existing.etag
            try:
                self._send(client, "PUT", url, body=body, headers=headers, ok=(200, 201, 204))
            except CalDavStatusError as err:
                if err.status == 412 and existing is None and self._find(client, event.uid):
                    # Created meanwhile under its UID (a retried PUT whose first attempt got
                    # through, or the same call elsewhere): the event is there, as asked.
                    logger.info("event %s was already stored at %s", event.uid, url)
                    return
                if err.status == 412:
                    raise CalendarError(
                        f"event {event.uid} changed on {self.description} while it was being "
                        "saved; nothing was overwritten, try again"
                    ) from err
                raise
        logger.info("saved event %s at %s", event.uid, url)
