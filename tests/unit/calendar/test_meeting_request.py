"""Meeting requests: the times a mail proposes, checked against free/busy, then other free slots.

Run on the demo inbox's meeting requests (as its labels say) and on held-out ones.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.offer_text import read_offered_slots
from tools.calendar.meeting_request import (
    read_meeting_request,
    requested_time_of,
)
from tools.calendar.model import Interval
from tools.calendar.proposal import (
    MeetingProposal,
    meeting_proposal,
    propose_slots,
    render_proposal,
    search_window,
)
from tools.calendar.settings import WorkingHours
from tools.mail.maildir import message_key
from tools.mail.mime import parse_email
from tools.mail.model import Email

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "data" / "demo-inbox"
HELD_OUT = ROOT / "tests" / "data" / "triage-mail"
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
CHICAGO = ZoneInfo("America/Chicago")
HOURS = WorkingHours(time(9), time(17, 30))
DANA = ("dana@northwind.example",)


def demo_meeting_requests() -> dict[str, Email]:
    labels = json.loads((DEMO / "labels.json").read_text("utf-8"))
    found = {}
    for path in sorted([*(DEMO / "cur").iterdir(), *(DEMO / "new").iterdir()]):
        key = message_key(path.name)
        if labels.get(key, {}).get("category") == "meeting_request":
            email = parse_email(path.read_bytes(), source="maildir:demo", folder="INBOX", key=key)
            found[email.from_addr] = email
    return found


@pytest.fixture(scope="module")
def demo() -> dict[str, Email]:
    found = demo_meeting_requests()
    assert set(found) == {
        "sofia.marchetti@northwind.example",
        "lukas.brenner@alpenrail.example",
        "rafael.ortiz@northwind.example",
    }, "the demo inbox's meeting requests changed"
    return found


def held_out(name: str) -> Email:
    return parse_email((HELD_OUT / name).read_bytes(), source="maildir:x", folder="INBOX", key=name)


def sent_at(email: Email) -> datetime:
    return datetime.fromisoformat(email.date)


def at(day: date, hour: int, minute: int = 0, zone: ZoneInfo = BERLIN) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def shown(proposal: MeetingProposal, zone: ZoneInfo = BERLIN) -> list[tuple[str, bool]]:
    """Each offered slot as `Tue 24 Nov 10:00-10:30` and whether the mail asked for it."""
    return [
        (
            f"{p.slot.start.astimezone(zone):%a %d %b %H:%M}-{p.slot.end.astimezone(zone):%H:%M}",
            bool(p.requested),
        )
        for p in proposal.slots
    ]


def mail(
    body: str, *, subject: str = "Meeting request", date: str = "2026-11-16T09:00:00+01:00"
) -> Email:
    return Email(
        id="req-1@example.com",
        source="maildir:x",
        folder="INBOX",
        key="k",
        from_name="Bob Stone",
        from_addr="bob@example.com",
        to=DANA,
        subject=subject,
        date=date,
        body=body,
    )


# --- the demo inbox ------------------------------------------------------------------------


def test_sofias_request_offers_her_two_times_first(demo: dict[str, Email]) -> None:
    email = demo["sofia.marchetti@northwind.example"]
    proposal = meeting_proposal(
        email, busy=[], zone=BERLIN, hours=HOURS, now=sent_at(email), own_addresses=DANA
    )
    request = proposal.request
    assert request.email_id == "CAF9s0fia.Q1road.20261116@mail.northwind.example"
    assert [a.display() for a in request.attendees] == [
        "Sofia Marchetti <sofia.marchetti@northwind.example>"
    ]
    assert request.title == "30 min on Tue 24 Nov 10:00-10:30 for the Q1 roadmap"
    assert request.duration == timedelta(minutes=30)
    assert "30 min" in request.duration_source
    assert [r.text for r in request.requested] == [
        "Tue 24 Nov 10:00-10:30",
        "Wed 25 Nov after 14:00",
    ]
    assert request.requested[0].start == at(date(2026, 11, 24), 10)
    assert request.requested[0].exact and not request.requested[1].exact
    assert shown(proposal) == [
        ("Tue 24 Nov 10:00-10:30", True),
        ("Wed 25 Nov 14:00-14:30", True),
        ("Tue 24 Nov 09:00-09:30", False),
    ]
    assert proposal.notes == ()


def test_the_offer_reads_back_from_its_text_exactly(demo: dict[str, Email]) -> None:
    email = demo["sofia.marchetti@northwind.example"]
    proposal = meeting_proposal(
        email, busy=[], zone=BERLIN, hours=HOURS, now=sent_at(email), own_addresses=DANA
    )
    offer = read_offered_slots(render_proposal(proposal, BERLIN))
    assert offer.email_id == email.id
    assert offer.title == "30 min on Tue 24 Nov 10:00-10:30 for the Q1 roadmap"
    assert offer.attendees == "Sofia Marchetti <sofia.marchetti@northwind.example>"
    assert [(s.number, s.start, s.end, s.asked_for) for s in offer.slots] == [
        (n, item.slot.start, item.slot.end, bool(item.requested))
        for n, item in enumerate(proposal.slots, 1)
    ]
    assert offer.slots[0].start_text == "2026-11-24T10:00:00+01:00"
    assert offer.slots[0].label == "Tue 24 Nov 2026 10:00-10:30"
    # Which of the mail's times a slot answers: her exact time, a slot inside her window.
    request = proposal.request
    first, second, other = offer.slots
    assert requested_time_of(request, first.start, first.end) == request.requested[0]
    assert requested_time_of(request, second.start, second.end) == request.requested[1]
    assert requested_time_of(request, other.start, other.end) is None


def test_a_busy_requested_time_is_not_offered_and_says_why(demo: dict[str, Email]) -> None:
    email = demo["sofia.marchetti@northwind.example"]
    tuesday, wednesday = date(2026, 11, 24), date(2026, 11, 25)
    busy = [
        Interval(at(tuesday, 9, 30), at(tuesday, 11), "Board prep"),
        Interval(at(wednesday, 14), at(wednesday, 15, 30), "Hiring panel"),
    ]
    proposal = meeting_proposal(
        email, busy=busy, zone=BERLIN, hours=HOURS, now=sent_at(email), count=3
    )
    first, second = proposal.checks
    assert first.problem == "it conflicts with “Board prep” (09:30-11:00)"
    assert first.slot is None
    # Her Wednesday window ("after 14:00") still has room once the panel is over.
    assert second.problem == "" and second.slot is not None
    assert shown(proposal) == [
        ("Wed 25 Nov 15:30-16:00", True),
        ("Tue 24 Nov 09:00-09:30", False),
        ("Tue 24 Nov 11:00-11:30", False),
    ]
    text = render_proposal(proposal, BERLIN)
    assert "“Tue 24 Nov 10:00-10:30”: not offered: it conflicts with “Board prep”" in text
    assert (
        "1. Wed 25 Nov 2026 15:30-16:00 [2026-11-25T15:30:00+01:00/2026-11-25T16:00:00+01:00]"
        in text
    )


def test_lukas_request_reads_cet_one_hour_and_the_friday_morning(demo: dict[str, Email]) -> None:
    email = demo["lukas.brenner@alpenrail.example"]
    friday = date(2026, 11, 27)
    busy = [Interval(at(friday, 8), at(friday, 10, 15), "Ops review")]
    proposal = meeting_proposal(email, busy=busy, zone=BERLIN, hours=HOURS, now=sent_at(email))
    request = proposal.request
    assert request.duration == timedelta(hours=1)
    assert request.duration_source == "the mail says “One hour”"
    assert [r.text for r in request.requested] == [
        "Thursday 2026-11-26 14:00 CET",
        "Friday 27 November in the morning",
    ]
    assert shown(proposal)[:2] == [
        ("Thu 26 Nov 14:00-15:00", True),
        ("Fri 27 Nov 10:30-11:30", True),
    ]


def test_the_same_request_for_a_user_in_new_york(demo: dict[str, Email]) -> None:
    email = demo["lukas.brenner@alpenrail.example"]
    proposal = meeting_proposal(email, busy=[], zone=NEW_YORK, hours=HOURS, now=sent_at(email))
    # 14:00 CET is 08:00 in New York, before the working day starts there.
    assert proposal.checks[0].problem == "08:00-09:00 is outside your working hours (09:00-17:30)"
    # Friday morning in Berlin ends at 06:00 in New York: no working time in that window.
    assert "no free 60 minutes" in proposal.checks[1].problem
    assert all(not p.requested for p in proposal.slots)
    assert "none of the times in the mail is free" in " ".join(proposal.notes)
    assert len(proposal.slots) == 3


def test_rafaels_sync_tomorrow_and_his_before_eleven_fallback(demo: dict[str, Email]) -> None:
    email = demo["rafael.ortiz@northwind.example"]
    friday = date(2026, 11, 20)
    busy = [Interval(at(friday, 9), at(friday, 10), "Interview")]
    proposal = meeting_proposal(email, busy=busy, zone=BERLIN, hours=HOURS, now=sent_at(email))
    request = proposal.request
    assert [r.text for r in request.requested] == ["tomorrow (Fri 20 Nov) 09:30", "before 11:00"]
    assert request.duration == timedelta(minutes=30)
    assert proposal.checks[0].problem.startswith("it conflicts with “Interview”")
    # "send me another slot before 11:00": the same Friday, before eleven.
    assert shown(proposal)[0] == ("Fri 20 Nov 10:00-10:30", True)
    # "Helena needs a date by Friday" is a deadline, not a proposal.
    assert len(request.requested) == 2


# --- held-out meeting requests ---------------------------------------------------------------


def test_a_us_request_with_numeric_dates_and_central_time() -> None:
    email = held_out("21-qbr-this-week.eml")
    request = read_meeting_request(email, zone=CHICAGO)
    assert [(r.text, r.start) for r in request.requested] == [
        ("Thursday (3/12) at 1:00 pm CT", at(date(2026, 3, 12), 13, zone=CHICAGO)),
        ("Friday (3/13) at 10:00 am CT", at(date(2026, 3, 13), 10, zone=CHICAGO)),
    ]
    assert request.duration == timedelta(hours=1)
    assert request.title == "Q1 business review"
    # The quoted original ("an hour in the next two weeks") is not read as a proposal.
    assert all(r.exact for r in request.requested)


def test_no_zone_named_reads_the_senders_zone_with_its_dst_change() -> None:
    email = held_out("14-thesis-meeting-request.eml")
    # Sent on 6 March at -05:00 (EST); the meeting is on 18 March, after the US clocks
    # changed: the user's own New York zone applies, so 15:00 is 15:00 EDT (-04:00).
    request = read_meeting_request(email, zone=NEW_YORK)
    exact, window = request.requested
    assert exact.start == at(date(2026, 3, 18), 15, zone=NEW_YORK)
    assert exact.start.utcoffset() == timedelta(hours=-4)
    assert exact.end - exact.start == timedelta(minutes=45)
    assert window.text == "Thursday 19 March any time after 13:00" and not window.exact
    assert request.notes == ()
    # For a user in Berlin the same mail names no zone, so it is read at the sender's -05:00
    # and the answer says so.
    abroad = read_meeting_request(email, zone=BERLIN)
    assert abroad.requested[0].start.utcoffset() == timedelta(hours=-5)
    assert any("names no time zone" in note and "UTC-05:00" in note for note in abroad.notes)
    # "by Monday 16 March" is when the PDF comes, not a meeting time.
    assert all(r.start.date() != date(2026, 3, 16) for r in request.requested)


def test_a_short_note_with_am_pm_and_minutes() -> None:
    email = held_out("05-talk-tomorrow-9am.eml")  # sent on 10 March at -05:00 (CDT)
    request = read_meeting_request(email, zone=CHICAGO)
    assert [r.text for r in request.requested] == ["tomorrow 9am"]
    assert request.requested[0].start == at(date(2026, 3, 11), 9, zone=CHICAGO)
    assert request.duration == timedelta(minutes=15)
    assert request.notes == ()


# --- what cannot be read ----------------------------------------------------------------------


def test_without_a_readable_time_it_says_so_and_offers_free_slots() -> None:
    email = mail("Hi Dana, can we find some time to talk about the roadmap? Cheers, Bob")
    now = at(date(2026, 11, 16), 9)
    proposal = meeting_proposal(email, busy=[], zone=BERLIN, hours=HOURS, now=now)
    assert proposal.request.requested == ()
    assert "no proposed time could be read from the mail" in proposal.notes
    assert "the slots offered are free times from your calendar" in proposal.notes
    assert "30 minutes assumed" in proposal.request.duration_source
    assert shown(proposal) == [
        ("Mon 16 Nov 09:00-09:30", False),
        ("Tue 17 Nov 09:00-09:30", False),
        ("Wed 18 Nov 09:00-09:30", False),
    ]


def test_a_time_without_a_day_is_named_not_guessed() -> None:
    request = read_meeting_request(
        mail("Would 15:00 work for a quick call?"), zone=BERLIN, own_addresses=DANA
    )
    assert request.requested == ()
    assert "could not tell which day “15:00” is on" in request.notes


def test_a_weekday_that_does_not_match_the_date_is_noted() -> None:
    request = read_meeting_request(mail("Could we meet on Tue 25 Nov at 10:00?"), zone=BERLIN)
    assert request.requested[0].start == at(date(2026, 11, 25), 10)
    assert any("25 Nov 2026 is a Wednesday" in note for note in request.notes)


def test_deadlines_and_if_clauses_are_not_proposals() -> None:
    body = (
        "Can we meet Thursday at 14:00? If Thursday doesn't work, Friday at 11:00 is fine too.\n"
        "I need the numbers by Wednesday, and we said so last Monday.\n"
    )
    request = read_meeting_request(mail(body), zone=BERLIN)
    assert [(r.text, r.start) for r in request.requested] == [
        ("Thursday at 14:00", at(date(2026, 11, 19), 14)),
        ("Friday at 11:00", at(date(2026, 11, 20), 11)),
    ]


def test_a_day_without_a_time_is_a_window_for_that_day() -> None:
    email = mail("Are you free next Tuesday for the roadmap review? An hour should do.")
    request = read_meeting_request(email, zone=BERLIN)
    [window] = request.requested
    assert not window.exact
    assert window.start == at(date(2026, 11, 24), 0)
    assert any("next Tuesday" in note for note in request.notes)
    busy = [Interval(at(date(2026, 11, 24), 9), at(date(2026, 11, 24), 12), "Offsite prep")]
    proposal = propose_slots(
        request, busy=busy, zone=BERLIN, hours=HOURS, now=at(date(2026, 11, 16), 9)
    )
    assert shown(proposal)[0] == ("Tue 24 Nov 12:00-13:00", True)


def test_a_past_proposal_is_not_offered() -> None:
    email = mail("Can we meet on Tue 17 Nov at 10:00?")
    proposal = meeting_proposal(
        email, busy=[], zone=BERLIN, hours=HOURS, now=at(date(2026, 11, 18), 9), count=1
    )
    assert proposal.checks[0].problem == "it is already past"
    assert shown(proposal) == [("Wed 18 Nov 09:00-09:30", False)]


def test_the_search_window_covers_the_requests_and_the_horizon() -> None:
    request = read_meeting_request(mail("Can we meet on Tue 24 Nov at 10:00?"), zone=BERLIN)
    now = at(date(2026, 11, 16), 9)
    window = search_window(request, now=now)
    assert window.start == now
    assert window.end == at(date(2026, 11, 24), 10) + timedelta(days=14)


def test_a_parenthesised_date_that_contradicts_the_day_before_it_is_noted() -> None:
    request = read_meeting_request(
        mail("Can we talk tomorrow (Thu 19 Nov) at 10:00? I need it by next Friday."),
        zone=BERLIN,
    )
    assert [r.start for r in request.requested] == [at(date(2026, 11, 19), 10)]
    # The deadline's own reading ("next Friday") is no proposal, so it is not mentioned.
    assert request.notes == ("“tomorrow” and “Thu 19 Nov” are different days; read as 19 Nov 2026",)
