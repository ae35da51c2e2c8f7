"""CalDAV as it travels: XML namespaces, request bodies and the resources a multistatus names.

Pure helpers kept apart from the client that sends them, so the client reads as the
conversation with the server it is.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

import httpx
import icalendar

DAV = "DAV:"
CALDAV = "urn:ietf:params:xml:ns:caldav"
NS = {"d": DAV, "c": CALDAV}
USER_AGENT = "smart-inbox-agent (calendar)"

PROPFIND_CALENDAR = """<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
  <d:prop><d:resourcetype/><d:displayname/><d:current-user-principal/>
  <c:calendar-home-set/><c:supported-calendar-component-set/></d:prop>
</d:propfind>"""

CALENDAR_QUERY = """<?xml version="1.0" encoding="utf-8"?>
<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
  <d:prop><d:getetag/><c:calendar-data/></d:prop>
  <c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">{inner}</c:comp-filter>
  </c:comp-filter></c:filter>
</c:calendar-query>"""


@dataclass(frozen=True)
class DavResource:
    """One `<d:response>` of a multistatus: its href and the properties found."""

    href: str
    props: ET.Element


@dataclass(frozen=True)
class StoredObject:
    """A calendar object as stored: where, its ETag (for a conditional PUT), its content."""

    href: str
    etag: str
    calendar: icalendar.Calendar


def offers_digest_only(response: httpx.Response) -> bool:
    """Whether a 401 asks for Digest and not Basic (then the login is retried with Digest)."""
    challenges = response.headers.get_list("www-authenticate")
    schemes = {c.split(" ", 1)[0].lower() for c in challenges}
    return "digest" in schemes and "basic" not in schemes


def is_event_calendar(resource: DavResource) -> bool:
    """Whether the resource is a calendar that holds events (not only tasks)."""
    kinds = resource.props.find("d:resourcetype", NS)
    if kinds is None or kinds.find("c:calendar", NS) is None:
        return False
    components = resource.props.find("c:supported-calendar-component-set", NS)
    if components is None or not list(components):
        return True
    return any(c.get("name", "").upper() == "VEVENT" for c in components)


def calendar_name(resource: DavResource) -> str:
    """The calendar's display name, else the last segment of its path."""
    name = resource.props.findtext("d:displayname", default="", namespaces=NS).strip()
    return name or unquote(urlsplit(resource.href).path.rstrip("/").rsplit("/", 1)[-1])


def href(resource: DavResource | None, path: str) -> str:
    """The href a property at `path` of the resource points to; '' without one."""
    if resource is None:
        return ""
    return (resource.props.findtext(path, default="", namespaces=NS) or "").strip()


def object_name(uid: str) -> str:
    """The file name an event with this UID is stored under."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", uid) + ".ics"


def utc(instant: datetime) -> str:
    """An instant as CalDAV's time-range wants it: UTC, basic format."""
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def url_path(url: str) -> str:
    """The path of a URL, as error messages show it (no host, no credentials)."""
    return urlsplit(url).path or "/"


def failure_reason(err: httpx.HTTPError) -> str:
    """Why a request failed, in a few words."""
    text = str(err) or type(err).__name__
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return "its TLS certificate could not be verified"
    if "Connection refused" in text or "Errno 111" in text:
        return "connection refused"
    return text
