"""Calendar configuration from the environment: zone, working hours and days, CalDAV."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tools.calendar.settings import (
    CALDAV_PASSWORD_SECRET,
    CalendarConfigError,
    calendar_settings_from_env,
    env_secret_lookup,
    parse_working_days,
    parse_working_hours,
    system_time_zone,
)


def test_defaults_are_the_local_file_and_office_hours(tmp_path: Path) -> None:
    settings = calendar_settings_from_env(tmp_path, {"TZ": "Europe/Berlin"})
    assert settings.calendar_file == tmp_path / "calendar.ics"
    assert settings.caldav is None
    assert settings.time_zone == ZoneInfo("Europe/Berlin")
    assert settings.zone_name == "Europe/Berlin"
    assert (settings.working_hours.start, settings.working_hours.end) == (time(9), time(17, 30))
    assert settings.working_hours.days == frozenset(range(5))


def test_smart_inbox_tz_wins_over_tz(tmp_path: Path) -> None:
    settings = calendar_settings_from_env(
        tmp_path, {"TZ": ":America/Chicago", "SMART_INBOX_TZ": "Asia/Tokyo"}
    )
    assert settings.zone_name == "Asia/Tokyo"
    assert calendar_settings_from_env(tmp_path, {"TZ": ":America/Chicago"}).zone_name == (
        "America/Chicago"
    )


@pytest.mark.parametrize(
    ("value", "start", "end"),
    [
        ("09:00-17:30", time(9), time(17, 30)),
        ("8-16", time(8), time(16)),
        ("7.30–15.00", time(7, 30), time(15)),
    ],
)
def test_working_hours_formats(value: str, start: time, end: time) -> None:
    assert parse_working_hours(value) == (start, end)


@pytest.mark.parametrize("value", ["9am-5pm", "17:00-09:00", "25:00-26:00", "09:00"])
def test_bad_working_hours_name_the_variable(value: str) -> None:
    with pytest.raises(CalendarConfigError, match="SMART_INBOX_WORKING_HOURS"):
        parse_working_hours(value)


def test_working_days_ranges_wrap_around_the_week() -> None:
    assert parse_working_days("mon-fri") == frozenset({0, 1, 2, 3, 4})
    assert parse_working_days("sun-thu") == frozenset({6, 0, 1, 2, 3})
    assert parse_working_days("Mon, Wed,fri") == frozenset({0, 2, 4})
    with pytest.raises(CalendarConfigError, match="SMART_INBOX_WORKING_DAYS"):
        parse_working_days("weekdays")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SMART_INBOX_TZ": "Mars/Olympus"}, "SMART_INBOX_TZ='Mars/Olympus' is not a time zone"),
        ({"CALDAV_URL": "https://dav.example.com/"}, "CALDAV_USER is not"),
        (
            {"CALDAV_URL": "https://dana:pw@dav.example.com/", "CALDAV_USER": "dana"},
            "must not contain a login",
        ),
        (
            {"CALDAV_URL": "http://dav.example.com/", "CALDAV_USER": "dana"},
            "plain http to dav.example.com",
        ),
        ({"CALDAV_URL": "ftp://dav.example.com/", "CALDAV_USER": "dana"}, "http:// or https://"),
        (
            {"CALDAV_URL": "https://dav.example.com/", "CALDAV_USER": "d", "CALDAV_TIMEOUT": "0"},
            "CALDAV_TIMEOUT",
        ),
    ],
)
def test_unusable_settings_are_one_clear_error(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    with pytest.raises(CalendarConfigError, match=message.replace("(", r"\(")) as err:
        calendar_settings_from_env(tmp_path, {"TZ": "UTC", **env})
    assert "pw" not in str(err.value)


def test_caldav_settings_look_the_password_up_by_its_credential_name(tmp_path: Path) -> None:
    asked: list[str] = []

    def vault(name: str) -> str | None:
        asked.append(name)
        return "from-the-vault"

    settings = calendar_settings_from_env(
        tmp_path,
        {
            "TZ": "UTC",
            "CALDAV_URL": "http://127.0.0.1:5232/dana/",
            "CALDAV_USER": "dana",
            "CALDAV_CALENDAR": "Work",
        },
        secrets=vault,
    )
    assert settings.caldav is not None
    assert (settings.caldav.username, settings.caldav.calendar) == ("dana", "Work")
    assert settings.caldav.password() == "from-the-vault"
    assert asked == [CALDAV_PASSWORD_SECRET] == ["caldav.password"]
    assert "from-the-vault" not in repr(settings)


def test_the_default_lookup_reads_caldav_password() -> None:
    lookup = env_secret_lookup({"CALDAV_PASSWORD": "pw"})
    assert lookup("caldav.password") == "pw"
    assert lookup("jira.token") is None
    assert env_secret_lookup({})("caldav.password") is None


def test_the_machine_zone_is_named_by_the_localtime_link(tmp_path: Path) -> None:
    zoneinfo = tmp_path / "usr" / "share" / "zoneinfo"
    (zoneinfo / "Europe").mkdir(parents=True)
    (zoneinfo / "Europe" / "Berlin").write_bytes(b"TZif")
    link = tmp_path / "localtime"
    link.symlink_to(zoneinfo / "Europe" / "Berlin")
    named = tmp_path / "timezone"
    named.write_text("Asia/Tokyo\n")
    assert system_time_zone(link, named) == ZoneInfo("Europe/Berlin"), "the link comes first"
    posix = tmp_path / "posix-localtime"
    posix.symlink_to(zoneinfo / "posix" / "America" / "Chicago")
    assert system_time_zone(posix, tmp_path / "none") == ZoneInfo("America/Chicago")


def test_without_a_link_the_zone_file_names_the_zone(tmp_path: Path) -> None:
    copied = tmp_path / "localtime"
    copied.write_bytes(b"TZif")  # a copy of a zone file, as some images have: no name in it
    named = tmp_path / "timezone"
    named.write_text("America/Sao_Paulo\n")
    assert system_time_zone(copied, named).key == "America/Sao_Paulo"


@pytest.mark.parametrize("content", [None, "", "Mars/Olympus\n"])
def test_a_machine_zone_without_a_usable_name_is_utc(tmp_path: Path, content: str | None) -> None:
    named = tmp_path / "timezone"
    if content is not None:
        named.write_text(content)
    zone = system_time_zone(tmp_path / "no-localtime", named)
    assert zone == ZoneInfo("UTC") and zone.key == "UTC"


def test_the_default_zone_is_the_machines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tools.calendar.settings as settings_module

    named = tmp_path / "timezone"
    named.write_text("Pacific/Auckland\n")
    monkeypatch.setattr(settings_module, "LOCALTIME", tmp_path / "no-localtime")
    monkeypatch.setattr(settings_module, "TIMEZONE_FILE", named)
    settings = calendar_settings_from_env(tmp_path, {})
    assert settings.zone_name == "Pacific/Auckland", "not UTC when the machine says otherwise"
    assert calendar_settings_from_env(tmp_path, {"TZ": "Europe/Berlin"}).zone_name == (
        "Europe/Berlin"
    ), "TZ still wins"
