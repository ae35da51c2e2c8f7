"""The slots a `propose_meeting_slots` result offers, read from its structured data.

The offline engine and the triage pick a slot from here to book it; the times are the tool's
exact ISO instants, never recomputed and never read back from the text shown to the user.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


def slot_label(start: datetime, end: datetime) -> str:
    """`Tue 24 Nov 2026 10:00-10:30` (both in the zone they carry)."""
    if start.date() == end.date():
        return f"{start:%a %d %b %Y %H:%M}-{end:%H:%M}"
    return f"{start:%a %d %b %Y %H:%M} - {end:%a %d %b %Y %H:%M}"


@dataclass(frozen=True)
class OfferedSlot:
    """One numbered slot of an offer, with its exact instants."""

    number: int
    label: str
    """`Tue 24 Nov 2026 10:00-10:30`, as the text shows it (in the user's zone)."""
    start: datetime
    end: datetime
    asked_for: bool
    """The meeting request itself proposed this time."""

    @property
    def start_text(self) -> str:
        """The start exactly as the evidence writes it (ISO 8601 with offset)."""
        return self.start.isoformat()

    @property
    def end_text(self) -> str:
        """The end exactly as the evidence writes it."""
        return self.end.isoformat()


@dataclass(frozen=True)
class OfferedSlots:
    """What a `propose_meeting_slots` result offers."""

    email_id: str
    """The meeting request answered; empty for plain free slots."""
    title: str
    attendees: str
    """`Name <address>, …`; empty when none were found."""
    slots: tuple[OfferedSlot, ...]


def _slot(number: int, raw: Any) -> OfferedSlot | None:
    if not isinstance(raw, Mapping):
        return None
    try:
        start = datetime.fromisoformat(str(raw["start"]))
        end = datetime.fromisoformat(str(raw["end"]))
    except (KeyError, ValueError):
        return None
    label = slot_label(start, end)
    return OfferedSlot(number, label, start, end, asked_for=bool(raw.get("asked_for")))


def offered_slots(data: Mapping[str, Any] | None) -> OfferedSlots | None:
    """The offer in a `propose_meeting_slots` result's `data`; None without data.

    Evidence saved before results carried data has none: callers treat that as no offer
    and propose the slots again (a read-only call) rather than parse the text.
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("slots"), list):
        return None
    numbered = (_slot(n, raw) for n, raw in enumerate(data["slots"], 1))
    attendees = data.get("attendees") or []
    return OfferedSlots(
        email_id=str(data.get("email_id") or ""),
        title=str(data.get("title") or ""),
        attendees=", ".join(str(a) for a in attendees) if isinstance(attendees, list) else "",
        slots=tuple(slot for slot in numbered if slot is not None),
    )
