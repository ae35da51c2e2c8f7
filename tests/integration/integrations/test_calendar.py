"""The calendar through the whole graph: offline engine, demo inbox, a real SMTP server, the
local calendar file or a real CalDAV server (Radicale), a webhook receiver and a Slack stand-in.

A meeting request leads to slots in a grounded answer; "schedule the first one" to a card with
the slot's exact times, the mail's title and its sender; only an accepted card stores the
event and mails exactly one invitation, and doing it again repeats neither.

Times are not frozen: the slots are whatever the calendar offers now, and every expectation
is read back from the evidence the graph produced.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest

from graph.context import DEMO_INBOX, Context
from graph.grounding import verify_answer
from graph.state import Evidence
from tests.fakes.radicale_server import RadicaleServer
from tests.fakes.slack_server import FakeSlack
from tests.fakes.smtp_server import ReceivedMessage, SmtpSink
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.integration.integrations.fixtures import (
    ME,
    SLACK_TOKEN,
    Run,
    slack_env,
    use,
    webhook_env,
)
from tests.offer_text import read_offered_slots
from tools.calendar.offered_slots import OfferedSlot, OfferedSlots

pytestmark = pytest.mark.integration

BERLIN = ZoneInfo("Europe/Berlin")
SOFIA_ID = "CAF9s0fia.Q1road.20261116@mail.northwind.example"
SOFIA = "sofia.marchetti@northwind.example"
SOFIA_TITLE = "30 min on Tue 24 Nov 10:00-10:30 for the Q1 roadmap"
LUKAS_ID = "ZRH0P278MB0412C3A9F1E7D6B5@ZRH0P278MB0412.alpenrail.example"
NEW_REQUEST_ID = "planning-2027@partner.example"
VARIABLES = (
    "SLACK_API_URL SLACK_BOT_TOKEN SLACK_CHANNEL SLACK_MEETINGS_CHANNEL WEBHOOK_URL "
    "WEBHOOK_SECRET WEBHOOK_EVENTS WEBHOOKS_CONFIG SMTP_URL SMTP_FROM CALDAV_URL CALDAV_USER "
    "CALDAV_PASSWORD CALDAV_CALENDAR SMART_INBOX_WORKING_HOURS SMART_INBOX_WORKING_DAYS TZ "
    "JIRA_BASE_URL JIRA_API_TOKEN HUBSPOT_TOKEN TEAMS_WEBHOOK_URL"
).split()
CALDAV_USER, CALDAV_PASSWORD = "dana", "caldav-test-password"


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, smtp_sink: SmtpSink) -> Iterator[None]:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SMART_INBOX_TZ", "Europe/Berlin")
    monkeypatch.setenv("SMTP_URL", smtp_sink.url)
    yield


@pytest.fixture
def context(tmp_path: Path) -> Context:
    inbox = shutil.copytree(DEMO_INBOX, tmp_path / "inbox", ignore=shutil.ignore_patterns(".*"))
    return Context(
        model="rules", inbox=f"maildir:{inbox}", home=str(tmp_path / "home"), user_addresses=(ME,)
    )


def calendar_file(context: Context) -> Path:
    return Path(context.home) / "calendar.ics"


def stored_events(context: Context) -> list[icalendar.Event]:
    path = calendar_file(context)
    if not path.exists():
        return []
    return list(icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT"))


def offered(result: dict[str, Any], email_id: str = SOFIA_ID) -> OfferedSlots:
    """The slots the graph offered for a meeting request, as its evidence says."""
    [record] = [
        e
        for e in result["evidence"]
        if e["tool"] == "propose_meeting_slots" and e["args"].get("email_id") == email_id
    ]
    assert record["error"] == ""
    offer = read_offered_slots(record["content"])
    assert offer.slots, record["content"]
    return offer


def grounded(result: dict[str, Any]) -> str:
    """The answer, checked again against the thread's evidence by the product's verifier."""
    answer: str = result["messages"][-1].text
    evidence: list[Evidence] = result["evidence"]
    report = verify_answer(answer, evidence)
    assert report.ok, report.problems
    assert result.get("answer_note", "") == ""
    return answer


def invitation(received: ReceivedMessage) -> icalendar.Event:
    [part] = [p for p in received.message.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") == "REQUEST"
    [event] = icalendar.Calendar.from_ical(part.get_content()).walk("VEVENT")
    return event


def when(slot: OfferedSlot) -> str:
    start, end = slot.start.astimezone(BERLIN), slot.end.astimezone(BERLIN)
    return f"{start:%a %d %b %Y}, {start:%H:%M}-{end:%H:%M} (Europe/Berlin)"


async def test_a_meeting_request_leads_to_slots_then_after_approval_one_event(
    context: Context,
    monkeypatch: pytest.MonkeyPatch,
    smtp_sink: SmtpSink,
    receiver: WebhookReceiver,
) -> None:
    use(monkeypatch, webhook_env(receiver, events="meeting_scheduled"))
    run = Run(context)
    proposed = await run.ask("propose times for the meeting request from Sofia")
    assert await run.pending() == [], "reading the calendar needs no card"
    offer = offered(proposed)
    answer = grounded(proposed)
    assert f"[msg:{SOFIA_ID}]" in answer
    assert "Slots to offer (Europe/Berlin):" in answer
    for slot in offer.slots:
        assert f"{slot.number}. {slot.label} [{slot.start_text}/{slot.end_text}]" in answer
    first = offer.slots[0]

    await run.ask("schedule the first one")
    [card] = await run.pending()
    assert card["action_request"] == {
        "action": "create_calendar_event",
        "args": {
            "title": SOFIA_TITLE,
            "start": first.start_text,
            "end": first.end_text,
            "attendees": f"Sofia Marchetti <{SOFIA}>",
            "in_reply_to_id": SOFIA_ID,
        },
    }
    text = card["description"]
    assert text.startswith(f"### Schedule “{SOFIA_TITLE}” and invite 1 attendee")
    assert f"- **When:** {when(first)}" in text
    assert f"- **Attendees:** Sofia Marchetti <{SOFIA}>" in text
    assert f"[msg:{SOFIA_ID}]" in text and "- **Invitations:** one mail from" in text
    assert card["flags"] == [], "Sofia is the sender of the mail the user pointed to"
    assert stored_events(context) == [] and smtp_sink.messages == [], "nothing before approval"

    done = await run.decide({"type": "accept"})
    assert [(e["action"], e["status"]) for e in done["executed"]] == [
        ("create_calendar_event", "ok"),
        ("deliver_webhook_event", "ok"),
    ]
    answer = grounded(done)
    assert f"Created “{SOFIA_TITLE}” on {when(first)}" in answer
    assert f"Invitation sent to {SOFIA}." in answer
    [stored] = stored_events(context)
    assert stored.start == first.start and stored.end == first.end
    assert str(stored["X-SMART-INBOX-INVITED"]) == SOFIA
    [sent] = smtp_sink.wait_for(1)
    assert sent.rcpt_tos == [SOFIA]
    assert sent.message["In-Reply-To"] == f"<{SOFIA_ID}>"
    assert str(invitation(sent)["UID"]) == str(stored["UID"])
    [event] = receiver.events
    assert receiver.rejected == []
    assert event["type"] == "meeting_scheduled"
    assert event["data"]["uid"] == str(stored["UID"])
    assert (event["data"]["start"], event["data"]["attendees"]) == (first.start_text, [SOFIA])

    # Asked again, the same slot is the same event: nothing is stored, mailed or reported twice.
    await run.ask("schedule the first one")
    [again] = await run.pending()
    assert again["action_request"]["args"] == card["action_request"]["args"]
    repeated = await run.decide({"type": "accept"})
    text = repeated["messages"][-1].text
    assert "was already in the calendar file" in text and "not created again" in text
    assert f"Already invited earlier (not sent again): {SOFIA}." in text
    assert len(stored_events(context)) == 1
    assert len(smtp_sink.messages) == 1
    assert len(receiver.events) == 1, "the same event is delivered once"


async def test_a_rejected_event_stores_and_sends_nothing(
    context: Context, smtp_sink: SmtpSink
) -> None:
    run = Run(context)
    offer = offered(await run.ask("suggest slots for the meeting request from Lukas"), LUKAS_ID)
    await run.ask("book the second slot")
    [card] = await run.pending()
    args = card["action_request"]["args"]
    assert (args["start"], args["end"]) == (offer.slots[1].start_text, offer.slots[1].end_text)
    assert args["attendees"] == "Lukas Brenner <lukas.brenner@alpenrail.example>"
    done = await run.decide({"type": "ignore"})
    assert done["executed"] == []
    assert "Not done: you declined `create_calendar_event`" in done["messages"][-1].text
    assert stored_events(context) == []
    assert smtp_sink.messages == []


async def test_when_am_i_free_is_answered_from_the_calendar(context: Context) -> None:
    today = datetime.now(BERLIN).date()
    thursday = today + timedelta(days=(3 - today.weekday()) % 7)
    busy = icalendar.Calendar()
    busy.add("prodid", "-//test//EN")
    busy.add("version", "2.0")
    meeting = icalendar.Event()
    meeting.add("uid", "board@northwind.example")
    meeting.add("summary", "Board prep")
    meeting.add("dtstart", datetime.combine(thursday, time(10), tzinfo=BERLIN))
    meeting.add("dtend", datetime.combine(thursday, time(11, 30), tzinfo=BERLIN))
    meeting.add("dtstamp", datetime.now(BERLIN))
    busy.add_component(meeting)
    calendar_file(context).parent.mkdir(parents=True)
    calendar_file(context).write_bytes(busy.to_ical())

    result = await Run(context).ask("when am I free on Thursday?")
    answer = grounded(result)

    def span(start: time, end: time) -> str:
        a = datetime.combine(thursday, start, tzinfo=BERLIN)
        b = datetime.combine(thursday, end, tzinfo=BERLIN)
        return f"{start:%H:%M}-{end:%H:%M} [{a.isoformat()}/{b.isoformat()}]"

    assert f"Availability on {thursday:%a %d %b %Y} (Europe/Berlin" in answer
    assert f"- {span(time(10), time(11, 30))} “Board prep”" in answer
    assert "Free in working hours:" in answer
    assert f"- {span(time(9), time(10))}" in answer
    assert f"- {span(time(11, 30), time(17, 30))}" in answer


def new_meeting_request(inbox: Path) -> datetime:
    """A meeting request that arrived an hour ago, for a free time a week or two ahead."""
    today = datetime.now(BERLIN).date()
    day = today + timedelta(days=7 + (1 - today.weekday()) % 7)  # a Tuesday
    start = datetime.combine(day, time(10), tzinfo=BERLIN)
    (inbox / "new" / "1799000000.M1P1.calendar-test").write_text(
        f"""\
From: Ana Ruiz <ana.ruiz@partner.example>
To: {ME}
Subject: Meeting request: 2027 planning
Date: {format_datetime(datetime.now(BERLIN) - timedelta(hours=1))}
Message-ID: <{NEW_REQUEST_ID}>

Hi Dana, could we meet on {start:%a %d %b} 10:00-10:30 (CET) to plan 2027?
Ana
""",
        encoding="utf-8",
    )
    return start


async def test_a_triage_run_offers_slots_and_proposes_the_time_a_mail_asked_for(
    context: Context, smtp_sink: SmtpSink
) -> None:
    start = new_meeting_request(Path(context.inbox.removeprefix("maildir:")))
    run = Run(context)
    await run.triage()
    cards = await run.pending()
    events = [c for c in cards if c["action_request"]["action"] == "create_calendar_event"]
    # The demo's meeting requests ask for times long past: only Ana's is proposed as an event.
    [card] = events
    assert card["action_request"]["args"] == {
        "title": "2027 planning",
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=30)).isoformat(),
        "attendees": "Ana Ruiz <ana.ruiz@partner.example>",
        "in_reply_to_id": NEW_REQUEST_ID,
    }
    assert "- **Note:** The mail asked for this time" in card["description"]
    # Proposed by the triage, not chosen by the user: the address is flagged as read, not typed,
    # and named as coming from the mail the event answers.
    [flag] = card["flags"]
    assert (flag["arg"], flag["value"]) == ("attendees", "ana.ruiz@partner.example")
    assert flag["seen_in"] == f"msg:{NEW_REQUEST_ID}"
    done = await run.decide({"type": "accept"})
    answer = grounded(done)
    meetings = [r["id"] for r in done["triage"] if r["category"] == "meeting_request"]
    assert {SOFIA_ID, LUKAS_ID, NEW_REQUEST_ID} <= set(meetings)
    for email_id in meetings:
        offered(done, email_id)
        assert f"Meeting request: message id {email_id}" in answer
    assert "Slots to offer (Europe/Berlin):" in answer
    assert "Created “2027 planning”" in answer
    [stored] = stored_events(context)
    assert stored.start == start
    [sent] = smtp_sink.wait_for(1)
    assert sent.rcpt_tos == ["ana.ruiz@partner.example"]


async def test_the_calendar_on_a_caldav_server(
    context: Context, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    with RadicaleServer(tmp_path / "radicale", CALDAV_USER, CALDAV_PASSWORD) as radicale:
        radicale.make_calendar("work", display_name="Work")
        today = datetime.now(BERLIN).date()
        thursday = today + timedelta(days=(3 - today.weekday()) % 7)
        vendor = datetime.combine(thursday, time(13), tzinfo=BERLIN)
        radicale.put_event(
            "work",
            "vendor.ics",
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//other//EN\r\nBEGIN:VEVENT\r\n"
            f"UID:vendor@example.com\r\nDTSTAMP:20261101T000000Z\r\n"
            f"DTSTART:{vendor.astimezone(ZoneInfo('UTC')):%Y%m%dT%H%M%SZ}\r\n"
            f"DTEND:{(vendor + timedelta(hours=1)).astimezone(ZoneInfo('UTC')):%Y%m%dT%H%M%SZ}\r\n"
            "SUMMARY:Vendor call\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        )
        use(
            monkeypatch,
            {
                "CALDAV_URL": radicale.url,
                "CALDAV_USER": CALDAV_USER,
                "CALDAV_PASSWORD": CALDAV_PASSWORD,
                "CALDAV_CALENDAR": "Work",
            },
        )
        run = Run(context)
        free = grounded(await run.ask("am I free on Thursday?"))
        assert "13:00-14:00" in free and "“Vendor call”" in free

        offer = offered(await run.ask("propose times for the meeting request from Lukas"), LUKAS_ID)
        await run.ask("book the first slot")
        [card] = await run.pending()
        assert "- **Calendar:** the CalDAV calendar " in card["description"]
        done = await run.decide({"type": "accept"})
        assert [e["status"] for e in done["executed"]] == ["ok"]
        stored = [
            event
            for ics in radicale.events("work").values()
            for event in icalendar.Calendar.from_ical(ics).walk("VEVENT")
            if str(event["UID"]) != "vendor@example.com"
        ]
        [event] = stored
        assert event.start == offer.slots[0].start
        assert str(event["ATTENDEE"]) == "mailto:lukas.brenner@alpenrail.example"
        [sent] = smtp_sink.wait_for(1)
        assert sent.rcpt_tos == ["lukas.brenner@alpenrail.example"]
        assert not calendar_file(context).exists(), "the local file is not used"


async def test_a_scheduled_meeting_is_announced_on_slack_after_its_own_card(
    context: Context, monkeypatch: pytest.MonkeyPatch, smtp_sink: SmtpSink
) -> None:
    with FakeSlack(SLACK_TOKEN, channels={"meetings": "C0MEET003"}) as slack:
        assert isinstance(slack, FakeSlack)
        use(monkeypatch, slack_env(slack, "#alerts"), {"SLACK_MEETINGS_CHANNEL": "#meetings"})
        run = Run(context)
        offer = offered(await run.ask("propose times for the meeting request from Sofia"))
        await run.ask("schedule it")
        await run.decide({"type": "accept"})
        assert len(smtp_sink.messages) == 1
        [card] = await run.pending()
        assert card["action_request"]["action"] == "slack_announce_meeting"
        text = card["description"]
        assert text.startswith("### Announce the meeting in Slack #meetings")
        assert SOFIA_TITLE in text and when(offer.slots[0]) in text and SOFIA in text
        assert card["flags"] == [] and card["level"] == 1
        assert slack.posted == [], "not posted before approval"
        await run.decide({"type": "accept"})
        [post] = slack.posted
        assert post["channel"] == "C0MEET003"
        assert post["blocks"][0]["text"]["text"] == "Meeting scheduled"
        assert SOFIA_TITLE in post["blocks"][1]["text"]["text"]

        # The same slot again: the event is found, and its announcement is not repeated.
        await run.ask("schedule it")
        await run.decide({"type": "accept"})
        [again] = await run.pending()
        assert "already announced there: nothing will be posted again" in again["description"]
        done = await run.decide({"type": "accept"})
        assert "was not posted again" in done["messages"][-1].text
        assert len(slack.posted) == 1 and len(smtp_sink.messages) == 1
