"""Reading the slots back from the text a person sees (an answer, a `propose_meeting_slots` text).

The product keeps offers structured (`tools.calendar.offered_slots`); tests that only see text
(the command line's answer, a fixture written as the tool's text) read it here.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from tools.calendar.offered_slots import OfferedSlot, OfferedSlots

_OFFERED_LINE = re.compile(
    r"^(?P<number>\d+)\. (?P<label>[^\[\n]+?) \[(?P<start>[^/\]\n]+)/(?P<end>[^\]\n]+)\]"
    r"(?: — (?P<origin>[^\n]*))?$",
    re.MULTILINE,
)
_HEADER_LINE = re.compile(
    r"^(?P<key>Meeting request|Title|Attendees): (?P<value>.*)$", re.MULTILINE
)


def read_offered_slots(text: str) -> OfferedSlots:
    """The numbered slots (and, for a meeting request, its id, title and attendees) of `text`."""
    header = {m.group("key"): m.group("value").strip() for m in _HEADER_LINE.finditer(text)}
    slots = []
    for match in _OFFERED_LINE.finditer(text):
        try:
            start = datetime.fromisoformat(match.group("start"))
            end = datetime.fromisoformat(match.group("end"))
        except ValueError:
            continue
        origin = match.group("origin") or ""
        slots.append(
            OfferedSlot(
                number=int(match.group("number")),
                label=match.group("label").strip(),
                start=start,
                end=end,
                asked_for=origin.startswith("asked for in the mail"),
            )
        )
    attendees = header.get("Attendees", "")
    return OfferedSlots(
        email_id=header.get("Meeting request", "").removeprefix("message id ").strip(),
        title=header.get("Title", ""),
        attendees="" if attendees == "none found" else attendees,
        slots=tuple(slots),
    )


def offer_data(text: str) -> dict[str, Any]:
    """The structured `data` the tool returns beside an offer's text (for evidence fixtures)."""
    offer = read_offered_slots(text)
    return {
        "email_id": offer.email_id,
        "title": offer.title,
        "attendees": [offer.attendees] if offer.attendees else [],
        "slots": [
            {"start": s.start_text, "end": s.end_text, "asked_for": "yes" if s.asked_for else ""}
            for s in offer.slots
        ],
    }
