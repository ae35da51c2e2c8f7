"""Calendar configuration: the user's time zone, working hours, and which calendar to use.

Everything comes from the environment (see README, Configuration); a value that cannot be
used is one `CalendarConfigError` naming the variable, never a silent default.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from memory.secrets import SecretLookup, environment_secrets
from tools.calendar.google_settings import GoogleCalendarSettings, google_calendar_choice
from tools.config_checks import is_loopback_host, positive_seconds
from tools.language.dates import WEEKDAY_ABBREVIATIONS, WEEKDAY_NAMES

logger = logging.getLogger(__name__)

CALDAV_PASSWORD_SECRET = "caldav.password"
"""The credential name of the CalDAV password (the environment fallback is `CALDAV_PASSWORD`)."""


DEFAULT_WORKING_HOURS = "09:00-17:30"
DEFAULT_WORKING_DAYS = "mon-fri"
DEFAULT_CALDAV_TIMEOUT = 30.0
CALENDAR_FILE_NAME = "calendar.ics"
DAY_NAMES = tuple(name[:3] for name in WEEKDAY_NAMES)
"""`mon` … `sun`: a working-days setting names a day by its first three letters."""


class CalendarConfigError(ValueError):
    """A calendar setting is unusable; the message names the variable and says why."""


def env_secret_lookup(environ: Mapping[str, str] | None = None) -> SecretLookup:
    """A `SecretLookup` reading each credential from its environment variable."""
    return environment_secrets(environ)


@dataclass(frozen=True)
class WorkingHours:
    """When the user takes meetings: a daily window on some days of the week."""

    start: time
    end: time
    days: frozenset[int] = frozenset(range(5))
    """Working weekdays, 0 = Monday."""

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise CalendarConfigError(
                f"working hours must end after they start, not {self.describe()}"
            )
        if not self.days:
            raise CalendarConfigError("at least one working day is needed")

    def describe(self) -> str:
        """`09:00-17:30`."""
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def describe_days(self) -> str:
        """`Mon-Fri`, or the days listed."""
        days = sorted(self.days)
        if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
            return f"{WEEKDAY_ABBREVIATIONS[days[0]]}-{WEEKDAY_ABBREVIATIONS[days[-1]]}"
        return ", ".join(WEEKDAY_ABBREVIATIONS[d] for d in days)

    def is_working_day(self, day: date) -> bool:
        """True on the user's working weekdays."""
        return day.weekday() in self.days


def parse_working_hours(
    value: str, *, variable: str = "SMART_INBOX_WORKING_HOURS"
) -> tuple[time, time]:
    """`09:00-17:30` (also `9-17:30`, `09.00–17.30`) → (start, end)."""
    match = re.fullmatch(
        r"\s*(\d{1,2})(?:[:.](\d{2}))?\s*[-–]\s*(\d{1,2})(?:[:.](\d{2}))?\s*", value
    )
    if not match:
        raise CalendarConfigError(f"{variable} must look like 09:00-17:30, not {value!r}")
    h1, m1, h2, m2 = (int(g) if g else 0 for g in match.groups())
    if h2 == 24 and m2 == 0:
        h2, m2 = 23, 59
    if not (h1 < 24 and h2 < 24 and m1 < 60 and m2 < 60):
        raise CalendarConfigError(f"{variable} has a time that does not exist: {value!r}")
    start, end = time(h1, m1), time(h2, m2)
    if end <= start:
        raise CalendarConfigError(f"{variable} must end after it starts, not {value!r}")
    return start, end


def parse_working_days(value: str, *, variable: str = "SMART_INBOX_WORKING_DAYS") -> frozenset[int]:
    """`mon-fri`, `sun-thu` or `mon,tue,thu` → weekday numbers (0 = Monday)."""
    days: set[int] = set()
    for part in value.lower().replace(" ", "").split(","):
        if not part:
            continue
        first, _, last = part.partition("-")
        try:
            a = DAY_NAMES.index(first[:3])
            b = DAY_NAMES.index(last[:3]) if last else a
        except ValueError:
            raise CalendarConfigError(
                f"{variable} must name days like mon-fri or mon,tue,thu, not {value!r}"
            ) from None
        days.update((a + i) % 7 for i in range((b - a) % 7 + 1))
    if not days:
        raise CalendarConfigError(f"{variable} names no day: {value!r}")
    return frozenset(days)


LOCALTIME = Path("/etc/localtime")
TIMEZONE_FILE = Path("/etc/timezone")
_ZONEINFO_VARIANTS = ("posix/", "right/")


def system_time_zone(localtime: Path | None = None, timezone_file: Path | None = None) -> ZoneInfo:
    """The machine's zone by its IANA name: `/etc/localtime`'s link, else `/etc/timezone`, else UTC.

    A name rather than today's offset, which would be an hour off after the next daylight
    saving change. No package is needed for this: Linux and macOS keep `/etc/localtime` as a
    link into the zoneinfo database, and Debian-like systems also name the zone in
    `/etc/timezone`; elsewhere (or in a container with neither) it is UTC, and the log says
    how to choose (`SMART_INBOX_TZ`).
    """
    names = (
        _linked_zone_name(localtime or LOCALTIME),
        _zone_file_name(timezone_file or TIMEZONE_FILE),
    )
    for name in names:
        if not name:
            continue
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            logger.info("the machine's time zone %r is not in the zone database", name)
    logger.info("the machine's time zone has no name here: using UTC (set SMART_INBOX_TZ)")
    return ZoneInfo("UTC")


def _linked_zone_name(localtime: Path) -> str:
    """`Europe/Berlin` when `localtime` links into a zoneinfo directory, else ''."""
    try:
        target = localtime.resolve().as_posix() if localtime.is_symlink() else ""
    except OSError as err:  # a link loop
        logger.info("%s cannot be resolved: %s", localtime, err)
        return ""
    if "zoneinfo/" not in target:
        return ""
    name = target.rsplit("zoneinfo/", 1)[1]
    for variant in _ZONEINFO_VARIANTS:
        name = name.removeprefix(variant)
    return name


def _zone_file_name(timezone_file: Path) -> str:
    """The zone named on the first line of `/etc/timezone`, or '' without that file."""
    try:
        lines = timezone_file.read_text("utf-8").splitlines()
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as err:
        logger.info("%s cannot be read: %s", timezone_file, err)
        return ""
    return lines[0].strip() if lines else ""


def configured_time_zone(environ: Mapping[str, str] | None = None) -> tzinfo:
    """The user's zone: `SMART_INBOX_TZ`, else `TZ`, else the machine's.

    Raises:
        CalendarConfigError: the variable that decides is set but names no zone.

    """
    env = os.environ if environ is None else environ
    for variable in ("SMART_INBOX_TZ", "TZ"):
        value = env.get(variable, "").strip()
        if value:
            return parse_time_zone(value, variable=variable)
    return system_time_zone()


def user_time_zone(environ: Mapping[str, str] | None = None) -> tzinfo:
    """The user's zone for showing times: a bad setting falls back to the machine's zone.

    The calendar itself reports the bad setting (`calendar_settings_from_env` raises); a card
    or a list still needs a zone to show its times in.
    """
    try:
        return configured_time_zone(environ)
    except CalendarConfigError as err:
        logger.warning("%s; times are shown in the machine's zone", err)
        return system_time_zone()


def parse_time_zone(value: str, *, variable: str) -> ZoneInfo:
    """An IANA zone name (`Europe/Berlin`; a leading `:` as in `TZ=:Europe/Berlin` is allowed)."""
    name = value.strip().removeprefix(":")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarConfigError(
            f"{variable}={value!r} is not a time zone name; use one like Europe/Berlin"
        ) from None


def zone_name(zone: tzinfo) -> str:
    """`Europe/Berlin` for a named zone, else what the zone calls itself."""
    return getattr(zone, "key", None) or str(zone)


@dataclass(frozen=True)
class CalDavSettings:
    """Where the CalDAV calendar is and who logs in; the password is looked up when needed."""

    url: str
    """The calendar collection, or the server / principal URL to discover calendars from."""
    username: str
    calendar: str = ""
    """Which calendar to use when `url` holds several (its display name or last path part)."""
    timeout: float = DEFAULT_CALDAV_TIMEOUT
    secrets: SecretLookup = field(default_factory=env_secret_lookup, repr=False, compare=False)

    def password(self) -> str | None:
        """The password from the credential store (`caldav.password`)."""
        return self.secrets(CALDAV_PASSWORD_SECRET)


def check_caldav_url(url: str) -> str:
    """`CALDAV_URL` as given, or `CalendarConfigError`.

    No login inside the URL, and no plain http to another machine.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port
    except ValueError:
        raise CalendarConfigError("CALDAV_URL has a bad host or port") from None
    if parts.scheme not in ("http", "https") or not host:
        raise CalendarConfigError("CALDAV_URL must be an http:// or https:// URL with a host")
    if parts.username or parts.password:
        raise CalendarConfigError(
            "CALDAV_URL must not contain a login: set CALDAV_USER and CALDAV_PASSWORD instead"
        )
    if parts.scheme == "http" and not is_loopback_host(host):
        raise CalendarConfigError(
            f"CALDAV_URL uses plain http to {host}: the password would travel unencrypted; "
            "use https://"
        )
    return url


@dataclass(frozen=True)
class OutlookCalendarSettings:
    """The Microsoft 365 account whose Outlook calendar is used (`SMART_INBOX_CALENDAR`)."""

    account: str
    secrets: SecretLookup = field(default_factory=env_secret_lookup, repr=False, compare=False)


def parse_calendar_choice(value: str, secrets: SecretLookup) -> OutlookCalendarSettings | None:
    """`SMART_INBOX_CALENDAR`: empty for the file or CalDAV, `outlook:ACCOUNT` for Outlook."""
    scheme, _, account = value.strip().partition(":")
    if not value.strip() or scheme.lower() == "google":  # google: is `google_calendar_settings`
        return None
    if scheme.lower() != "outlook" or not account.strip():
        raise CalendarConfigError(
            "SMART_INBOX_CALENDAR must be outlook:ACCOUNT or google:ACCOUNT (or unset), "
            f"not {value!r}"
        )
    return OutlookCalendarSettings(account.strip(), secrets)


@dataclass(frozen=True)
class CalendarSettings:
    """The user's time zone and working hours, and the calendar to read and write."""

    time_zone: tzinfo
    working_hours: WorkingHours
    calendar_file: Path
    """The local iCalendar file, used when `caldav` is None."""
    caldav: CalDavSettings | None = None
    outlook: OutlookCalendarSettings | None = None
    """The Outlook calendar of a Microsoft 365 account: used before CalDAV and the file."""
    google: GoogleCalendarSettings | None = None
    """A Google calendar (`SMART_INBOX_CALENDAR=google:ACCOUNT`): used before CalDAV, the file."""

    @property
    def zone_name(self) -> str:
        """The time zone's IANA name (or its own name for a fixed offset)."""
        return zone_name(self.time_zone)


def calendar_settings_from_env(
    home: Path,
    environ: Mapping[str, str] | None = None,
    *,
    secrets: SecretLookup | None = None,
) -> CalendarSettings:
    """Read the calendar settings from the environment; `home` is the data directory.

    Time zone: `SMART_INBOX_TZ`, else `TZ`, else the machine's zone. Working hours:
    `SMART_INBOX_WORKING_HOURS` (default 09:00-17:30) on `SMART_INBOX_WORKING_DAYS`
    (default mon-fri). With `CALDAV_URL` set the calendar is on that CalDAV server (login
    `CALDAV_USER`, password from `secrets` under `caldav.password`, by default the
    `CALDAV_PASSWORD` variable); otherwise it is the file `calendar.ics` in `home`. With
    `SMART_INBOX_CALENDAR=outlook:ACCOUNT` it is that Microsoft 365 account's Outlook calendar.
    With `SMART_INBOX_CALENDAR=google:ACCOUNT` it is that Google account's calendar
    (`GOOGLE_CALENDAR_ID`, default `primary`).

    Raises:
        CalendarConfigError: a variable is set but unusable.

    """
    env = os.environ if environ is None else environ
    zone = configured_time_zone(env)
    start, end = parse_working_hours(
        env.get("SMART_INBOX_WORKING_HOURS", "").strip() or DEFAULT_WORKING_HOURS
    )
    days = parse_working_days(
        env.get("SMART_INBOX_WORKING_DAYS", "").strip() or DEFAULT_WORKING_DAYS
    )
    caldav = None
    if env.get("CALDAV_URL", "").strip():
        username = env.get("CALDAV_USER", "").strip()
        if not username:
            raise CalendarConfigError("CALDAV_URL is set but CALDAV_USER is not")
        try:
            timeout = positive_seconds(env, "CALDAV_TIMEOUT", DEFAULT_CALDAV_TIMEOUT)
        except ValueError as err:
            raise CalendarConfigError(str(err)) from None
        caldav = CalDavSettings(
            url=check_caldav_url(env["CALDAV_URL"]),
            username=username,
            calendar=env.get("CALDAV_CALENDAR", "").strip(),
            timeout=timeout,
            secrets=secrets or env_secret_lookup(env),
        )
    return CalendarSettings(
        time_zone=zone,
        working_hours=WorkingHours(start, end, days),
        calendar_file=home / CALENDAR_FILE_NAME,
        caldav=caldav,
        outlook=parse_calendar_choice(
            env.get("SMART_INBOX_CALENDAR", ""), secrets or env_secret_lookup(env)
        ),
        google=_google_calendar(env, secrets),
    )


def _google_calendar(
    env: Mapping[str, str], secrets: SecretLookup | None
) -> GoogleCalendarSettings | None:
    try:
        return google_calendar_choice(env, secrets or env_secret_lookup(env))
    except ValueError as err:
        raise CalendarConfigError(str(err)) from None


def local_day_bounds(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """The first and last instant of `day` in `zone`, as aware datetimes (23 or 25 h at DST)."""
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start, end
