"""Header values as the cache stores them: Message-IDs without brackets, dates in ISO 8601."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def bare_message_id(value: str) -> str:
    """A Message-ID without its angle brackets or folding whitespace."""
    match = re.search(r"<([^<>]*)>", value)
    inner = match.group(1) if match else value.strip("<> \t")
    return "".join(inner.split())


def message_ids(value: str) -> list[str]:
    """The Message-IDs of a References header, in order, without brackets."""
    ids = ["".join(m.split()) for m in re.findall(r"<([^<>]*)>", value)]
    if not ids:
        ids = [token.strip("<>") for token in value.split()]
    return [i for i in ids if i]


def iso_date(value: str) -> str:
    """A Date header's text as ISO 8601 with its offset; '' when it is no date."""
    if not value:
        return ""
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return ""
    return _iso(parsed)


def iso_date_in_one_parse(value: str) -> str | None:
    """`iso_date` of the text the standard policy reads from this Date value; None if unsure.

    A value that parses as a date reads as that date formatted again (`format_datetime`),
    and that text parses back to the same date and offset, so one parse gives the answer.
    Any value that does not parse is left to the caller (None).
    """
    try:
        parsed = parsedate_to_datetime(value)
    except Exception:  # the caller reads it the long way, with its own fallbacks
        return None
    return _iso(parsed)


def _iso(parsed: datetime) -> str:
    if parsed.tzinfo is None:
        # "-0000" means "offset unknown"; UTC is the honest reading.
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.isoformat()
