"""Plans for the calendar: free/busy of a day, slots for a meeting request, booking one of them.

A booking reads the slots from the structured data of the `propose_meeting_slots` result the
user means, never from its text; the event's times are the offer's exact instants.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from graph.engines.base import ProposedCall, ToolPlanRequest
from graph.engines.intents.mail_plans import category
from graph.engines.intents.user_words import QUOTED, mail_or_search, ran
from graph.followup import OFFER_TOOL, offer_for
from tools.calendar.offered_slots import OfferedSlot, OfferedSlots, offered_slots
from tools.language.addresses import ADDRESS
from tools.language.dates import ENGLISH_WEEKDAY, ORDINAL, ORDINALS, twenty_four_hour, weekday_index

_DAY = re.compile(
    rf"\b(?P<day>today|tomorrow|(?:(?:next|this)\s+)?{ENGLISH_WEEKDAY}|\d{{4}}-\d{{2}}-\d{{2}})\b",
    re.IGNORECASE,
)
_WEEKDAY = re.compile(rf"\b{ENGLISH_WEEKDAY}\b", re.IGNORECASE)
_MINUTES = re.compile(
    r"\b(?P<n>\d{1,3})\s*-?\s*min(?:ute)?s?\b|\b(?P<h>an?|one|two|\d)\s*-?\s*hours?\b",
    re.IGNORECASE,
)
_HOURS = {"a": 1, "an": 1, "one": 1, "two": 2}
_SLOT_ORDINAL = re.compile(
    rf"\b(?P<word>{ORDINAL})\b|(?:\bslot|\boption|\bnumber|\bno\.?|#)\s*(?P<n>\d{{1,2}})\b",
    re.IGNORECASE,
)
_CLOCK = re.compile(
    r"\b(?P<h>\d{1,2})[:.h](?P<m>\d{2})\s*(?P<ap>am|pm)?\b|\b(?P<h2>\d{1,2})\s*(?P<ap2>am|pm)\b",
    re.IGNORECASE,
)
_ISO_DAY = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")


def _minutes(text: str) -> int:
    """A meeting length the user typed ("45 minutes", "an hour"), in minutes; 0 for none."""
    match = _MINUTES.search(text)
    if match is None:
        return 0
    if match.group("n"):
        return int(match.group("n"))
    hours = match.group("h").lower()
    return 60 * _HOURS.get(hours, int(hours) if hours.isdigit() else 1)


def _day(text: str) -> str:
    """The day the user named (`thursday`, `next friday`, `tomorrow`, `2026-12-03`), or ''."""
    match = _DAY.search(text)
    return " ".join(match.group("day").lower().split()) if match else ""


def availability(request: ToolPlanRequest) -> list[ProposedCall]:
    """Free/busy of the day named; "when am I free?" without a day: free slots ahead."""
    day = _day(request.user_text)
    if day:
        return [ProposedCall("check_availability", {"day": day})]
    if re.search(r"\bwhen\b", request.user_text, re.IGNORECASE):
        return [ProposedCall(OFFER_TOOL, {})]
    return [ProposedCall("check_availability", {"day": "today"})]


def propose_slots(request: ToolPlanRequest) -> list[ProposedCall]:
    """Slots for the meeting request the user means, else free slots in general."""
    if ran(request, OFFER_TOOL):
        return []
    target, first = mail_or_search(request)
    if first:
        return first
    args: dict[str, Any] = {}
    minutes = _minutes(request.user_text)
    if minutes:
        args["duration_minutes"] = minutes
    if target is not None:
        args["email_id"] = target["id"]
    elif _day(request.user_text):
        args["from_date"] = _day(request.user_text)
    return [ProposedCall(OFFER_TOOL, args)]


def _offer(request: ToolPlanRequest) -> OfferedSlots | None:
    """The slots offered for the request the user means: the focused mail's, else by name.

    An offer saved without structured data (an older thread) counts as none: its slots are
    proposed again rather than read back from text.
    """
    records = [*request.evidence, *request.turn_evidence]
    if request.focus:
        wanted = request.focus[0]["id"]
        for record in reversed(records):
            if record["tool"] == OFFER_TOOL and not record["error"]:
                if record["args"].get("email_id") == wanted:
                    return offered_slots(record.get("data"))
        return None
    record = offer_for(request.user_text, records)
    return offered_slots(record.get("data")) if record is not None else None


def _clock_time(match: re.Match[str]) -> tuple[int, int]:
    """(hour, minute) of a `_CLOCK` match, 24-hour."""
    hour = int(match.group("h") or match.group("h2"))
    minute = int(match.group("m") or 0)
    return twenty_four_hour(hour, match.group("ap") or match.group("ap2") or ""), minute


def _on_named_day(text: str, slots: list[OfferedSlot]) -> tuple[list[OfferedSlot], bool]:
    """The slots on the weekday or date the user named, and whether they named one."""
    weekday = _WEEKDAY.search(text)
    iso = _ISO_DAY.search(text)
    if weekday:
        index = weekday_index(weekday.group(0))
        slots = [s for s in slots if s.start.weekday() == index]
    if iso:
        slots = [s for s in slots if s.start.date().isoformat() == iso.group(1)]
    return slots, bool(weekday or iso)


def _chosen_slot(text: str, slots: tuple[OfferedSlot, ...]) -> OfferedSlot | None:
    """The slot the user picked: by number, day and/or time; the first when they name none."""
    candidates, named = _on_named_day(text, list(slots))
    clock = _CLOCK.search(text)
    if clock:
        at = _clock_time(clock)
        candidates = [s for s in candidates if (s.start.hour, s.start.minute) == at]
        named = True
    ordinal = _SLOT_ORDINAL.search(text)
    if ordinal:
        word = ordinal.group("word")
        number = ORDINALS[word.lower()] if word else int(ordinal.group("n"))
        position = number - 1 if number > 0 else len(candidates) + number
        return candidates[position] if 0 <= position < len(candidates) else None
    if named and not candidates:
        return None
    return candidates[0] if candidates else None


def _other_time(text: str, slots: tuple[OfferedSlot, ...]) -> OfferedSlot | None:
    """A time the user named on an offered day ("Thursday 09:30" when 09:00 was offered).

    That day at that time, as long as the offered slot: the date and offset are the
    evidence's own, and the card says whether the time clashes with anything.
    """
    clock = _CLOCK.search(text)
    same_day, named = _on_named_day(text, list(slots))
    if clock is None or not named or not same_day:
        return None
    hour, minute = _clock_time(clock)
    day = same_day[0]
    start = day.start.replace(hour=hour, minute=minute)
    return replace(day, number=0, label="", start=start, end=start + (day.end - day.start))


def _event(request: ToolPlanRequest, offer: OfferedSlots, slot: OfferedSlot) -> ProposedCall:
    """The event at `slot`: title, attendees and mail from the offer, plus addresses typed."""
    typed = ADDRESS.findall(request.user_text)
    quoted = QUOTED.search(request.user_text)
    args: dict[str, Any] = {
        "title": offer.title or (quoted.group("text").strip() if quoted else "Meeting"),
        "start": slot.start_text,
        "end": slot.end_text,
    }
    attendees = ", ".join(a for a in (offer.attendees, *typed) if a)
    if attendees:
        args["attendees"] = attendees
    if offer.email_id:
        args["in_reply_to_id"] = offer.email_id
    return ProposedCall("create_calendar_event", args)


def schedule(request: ToolPlanRequest) -> list[ProposedCall]:
    """An event at the slot the user picked, from the slots offered for their meeting request.

    With no offer yet for the request, its slots are proposed first (read-only), then the
    first one is put on a card. The title, attendees and mail come from the offer, which
    read them from the mail; the times are the offer's exact ISO instants.
    """
    if ran(request, "create_calendar_event"):
        return []
    offer = _offer(request)
    if offer is None:
        target, first = mail_or_search(request)
        if first:
            return first
        if target is None:
            return category(request)  # nothing to schedule yet: show the meeting requests
        return [ProposedCall(OFFER_TOOL, {"email_id": target["id"]})]
    slot = _chosen_slot(request.user_text, offer.slots) or _other_time(
        request.user_text, offer.slots
    )
    if slot is None:
        day = _day(request.user_text)
        return [ProposedCall("check_availability", {"day": day})] if day else []
    return [_event(request, offer, slot)]
