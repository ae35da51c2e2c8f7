"""Which Google calendar is the calendar: `SMART_INBOX_CALENDAR=google:ACCOUNT`.

Kept apart from `tools.calendar.settings`, which reads it with the other calendar settings
and turns a refusal into its `CalendarConfigError`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from memory.secrets import SecretLookup, environment_secrets

GOOGLE_CALENDAR_API_VARIABLE = "SMART_INBOX_GOOGLE_CALENDAR_API"
DEFAULT_GOOGLE_CALENDAR_API = "https://www.googleapis.com"
ACCOUNT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")


@dataclass(frozen=True)
class GoogleCalendarSettings:
    """Which Google calendar of which connected account; the token is looked up when needed."""

    account: str
    """The account's name, as given to `smart-inbox accounts add`."""
    calendar_id: str = "primary"
    api_url: str = DEFAULT_GOOGLE_CALENDAR_API
    secrets: SecretLookup = field(default_factory=environment_secrets, repr=False, compare=False)


def google_calendar_choice(
    env: Mapping[str, str], secrets: SecretLookup
) -> GoogleCalendarSettings | None:
    """`SMART_INBOX_CALENDAR=google:ACCOUNT` (+ `GOOGLE_CALENDAR_ID`), else None.

    Raises:
        ValueError: the account name cannot be one, or `CALDAV_URL` is set too.

    """
    scheme, _, account = env.get("SMART_INBOX_CALENDAR", "").strip().partition(":")
    if scheme.lower() != "google":
        return None
    account = account.strip()
    if env.get("CALDAV_URL", "").strip():
        raise ValueError(
            "CALDAV_URL and SMART_INBOX_CALENDAR=google:… are both set: choose one calendar"
        )
    if not ACCOUNT_NAME.fullmatch(account):
        raise ValueError(
            "SMART_INBOX_CALENDAR=google:ACCOUNT needs an account name as given to `smart-inbox "
            f"accounts add`, not {account!r}"
        )
    return GoogleCalendarSettings(
        account=account,
        calendar_id=env.get("GOOGLE_CALENDAR_ID", "").strip() or "primary",
        api_url=env.get(GOOGLE_CALENDAR_API_VARIABLE, "").strip() or DEFAULT_GOOGLE_CALENDAR_API,
        secrets=secrets,
    )
