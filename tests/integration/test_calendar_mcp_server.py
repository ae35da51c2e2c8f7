"""The calendar on our MCP server, in its own process, reached by a real MCP client over stdio and
HTTP: the local calendar file and a real Radicale, invitations through a real SMTP server, a
calendar that cannot be used, and this product booking through its own server from `mcp.json`.

The server runs on the real clock, so every day used here is computed from today.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import InitializeResult

from tests.fakes.radicale_server import RadicaleServer
from tests.fakes.smtp_server import ReceivedMessage, SmtpSink
from tests.integration.cli_runner import ROOT, run_cli
from tests.integration.test_mail_mcp_server import (
    CALENDAR_TOOLS,
    DEMO,
    INBOX_TOOLS,
    READ_ONLY_TOOLS,
    data_of,
    http_server,
    server_args,
    server_env,
    text_of,
    tool_map,
)
from tests.unit.conftest import write_script

pytestmark = pytest.mark.integration

BERLIN = ZoneInfo("Europe/Berlin")
ME = "dana@northwind.example"
SOFIA = "sofia.marchetti@northwind.example"
OWEN = "owen@northwind.example"
SOFIA_ID = "CAF9s0fia.Q1road.20261116@mail.northwind.example"
CALDAV_USER, CALDAV_PASSWORD = "dana", "caldav-vault-pw-5e1f"
MAIL_TOOLS = READ_ONLY_TOOLS | INBOX_TOOLS | {"save_draft"}


def wednesday_ahead() -> date:
    """A Wednesday at least a week away in Berlin: in the future whatever today is."""
    today = datetime.now(BERLIN).date()
    return today + timedelta(days=7 + (2 - today.weekday()) % 7)


DAY = wednesday_ahead()


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN)


def local(day: date, hour: int, minute: int = 0) -> str:
    """A time as the tools take it: ISO 8601 without offset, in the user's zone."""
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}"


def span(day: date, start: tuple[int, int], end: tuple[int, int]) -> dict[str, str]:
    return {"start": at(day, *start).isoformat(), "end": at(day, *end).isoformat()}


def utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def vevent(uid: str, title: str, start: str, end: str) -> str:
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261101T000000Z\r\n{start}\r\n{end}\r\n"
        f"SUMMARY:{title}\r\nEND:VEVENT\r\n"
    )


def ics(*events: str) -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Another client//EN\r\n"
        + "".join(events)
        + "END:VCALENDAR\r\n"
    )


DESIGN_REVIEW = vevent(
    "design-review@example.com",
    "Design review",
    f"DTSTART:{utc_stamp(at(DAY, 11))}",
    f"DTEND:{utc_stamp(at(DAY, 12))}",
)
OFFSITE = vevent(
    "offsite@example.com",
    "Team offsite",
    f"DTSTART;VALUE=DATE:{DAY + timedelta(days=1):%Y%m%d}",
    f"DTEND;VALUE=DATE:{DAY + timedelta(days=2):%Y%m%d}",
)


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    copy = tmp_path / "inbox"
    shutil.copytree(DEMO, copy, ignore=shutil.ignore_patterns(".Drafts", ".Sent"))
    return copy


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """The server's data directory, holding a calendar file with a meeting and an offsite."""
    path = tmp_path / "home"
    path.mkdir()
    (path / "calendar.ics").write_text(ics(DESIGN_REVIEW, OFFSITE), encoding="utf-8")
    return path


def settings(**more: str) -> dict[str, str]:
    return {"SMART_INBOX_TZ": "Europe/Berlin", **more}


@asynccontextmanager
async def stdio_session(
    inbox: Path, home: Path, log: Path, env: dict[str, str]
) -> AsyncIterator[tuple[ClientSession, InitializeResult]]:
    """A client session with the server spawned over stdio, and what the server said at start."""
    params = StdioServerParameters(
        command=sys.executable,
        args=server_args("stdio", inbox, home),
        env=server_env(env),
        cwd=ROOT,
    )
    with log.open("w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            yield session, await session.initialize()


def events_in(path: Path) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT"))


def invitation(received: ReceivedMessage) -> icalendar.Event:
    [part] = [p for p in received.message.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") == "REQUEST"
    [event] = icalendar.Calendar.from_ical(part.get_content()).walk("VEVENT")
    return event


def in_working_hours(slot: dict[str, Any], minutes: int) -> bool:
    start, end = datetime.fromisoformat(slot["start"]), datetime.fromisoformat(slot["end"])
    return (
        end - start == timedelta(minutes=minutes)
        and start >= datetime.now(UTC)
        and start.astimezone(BERLIN).weekday() < 5
        and time(9) <= start.astimezone(BERLIN).time()
        and end.astimezone(BERLIN).time() <= time(17, 30)
        and end.astimezone(BERLIN).date() == start.astimezone(BERLIN).date()
    )


async def test_calendar_tools_over_stdio(inbox: Path, home: Path, tmp_path: Path) -> None:
    async with stdio_session(inbox, home, tmp_path / "server.log", settings()) as (session, init):
        assert init.instructions is not None
        assert "in the Europe/Berlin time zone" in init.instructions
        assert "confirm it with the user before calling create_calendar_event" in init.instructions
        # No address and no SMTP here: the instructions say what creating events lacks.
        assert "SMTP_FROM or SMART_INBOX_USER_EMAILS" in init.instructions

        tools = await tool_map(session)
        assert set(tools) == MAIL_TOOLS | CALENDAR_TOOLS
        for name in ("check_availability", "propose_meeting_slots"):
            hints = tools[name].annotations
            assert (hints.readOnlyHint, hints.destructiveHint) == (True, False), name
            assert tools[name].outputSchema is not None, name
        create = tools["create_calendar_event"]
        assert create.annotations.readOnlyHint is False
        assert create.annotations.destructiveHint is False
        assert create.annotations.idempotentHint is True
        assert create.annotations.openWorldHint is True
        assert set(create.inputSchema["required"]) == {"title", "start", "end"}
        assert create.outputSchema is not None
        assert set(create.outputSchema["properties"]) >= {"uid", "created", "invited"}

        result = await session.call_tool("check_availability", {"day": DAY.isoformat()})
        day = data_of(result)
        assert day == {
            "day": DAY.isoformat(),
            "time_zone": "Europe/Berlin",
            "working_hours": "09:00-17:30",
            "working_days": "Mon-Fri",
            "working_day": True,
            "busy": [{**span(DAY, (11, 0), (12, 0)), "title": "Design review", "all_day": False}],
            "free": [span(DAY, (9, 0), (11, 0)), span(DAY, (12, 0), (17, 30))],
        }
        assert "11:00-12:00" in text_of(result) and "“Design review”" in text_of(result)

        offsite_day = DAY + timedelta(days=1)
        offsite = data_of(
            await session.call_tool("check_availability", {"day": offsite_day.isoformat()})
        )
        assert [(b["title"], b["all_day"]) for b in offsite["busy"]] == [("Team offsite", True)]
        assert offsite["free"] == []
        saturday = data_of(
            await session.call_tool(
                "check_availability", {"day": (DAY + timedelta(days=3)).isoformat()}
            )
        )
        assert saturday["working_day"] is False and saturday["free"] == []

        bad_day = await session.call_tool("check_availability", {"day": "someday"})
        assert bad_day.isError
        assert "'someday' is not a day" in text_of(bad_day)

        hour_slots = data_of(
            await session.call_tool(
                "propose_meeting_slots",
                {"duration_minutes": 60, "from_date": DAY.isoformat(), "to_date": DAY.isoformat()},
            )
        )
        assert [(s["start"], s["end"]) for s in hour_slots["slots"]] == [
            (at(DAY, 9).isoformat(), at(DAY, 10).isoformat()),
            (at(DAY, 10).isoformat(), at(DAY, 11).isoformat()),
            (at(DAY, 12).isoformat(), at(DAY, 13).isoformat()),
        ]
        assert (hour_slots["from_date"], hour_slots["to_date"]) == (DAY.isoformat(),) * 2
        assert hour_slots["email_id"] == "" and hour_slots["duration_minutes"] == 60

        # Sofia's demo meeting request: 30 minutes, her times first while they are ahead.
        result = await session.call_tool("propose_meeting_slots", {"email_id": f"<{SOFIA_ID}>"})
        proposal = data_of(result)
        assert proposal["email_id"] == SOFIA_ID
        assert proposal["duration_minutes"] == 30
        assert proposal["attendees"] == [f"Sofia Marchetti <{SOFIA}>"]
        assert [r["text"] for r in proposal["requested"]] == [
            "Tue 24 Nov 10:00-10:30",
            "Wed 25 Nov after 14:00",
        ]
        assert len(proposal["slots"]) == 3
        assert all(in_working_hours(slot, 30) for slot in proposal["slots"]), proposal["slots"]
        review = (at(DAY, 11), at(DAY, 12))
        for slot in proposal["slots"]:
            start, end = datetime.fromisoformat(slot["start"]), datetime.fromisoformat(slot["end"])
            assert end <= review[0] or start >= review[1], "never over the design review"
        text = text_of(result)
        assert f"Meeting request: message id {SOFIA_ID}" in text
        for slot in proposal["slots"]:
            assert f"[{slot['start']}/{slot['end']}]" in text

        unknown = await session.call_tool("propose_meeting_slots", {"email_id": "gone@example"})
        assert unknown.isError
        assert "no message with id 'gone@example' in this mailbox" in text_of(unknown)


async def test_an_event_is_stored_and_invited_once_over_http(
    inbox: Path, home: Path, tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    calendar_file = home / "calendar.ics"
    call = {
        "title": "Q1 roadmap",
        "start": local(DAY, 14),
        "end": local(DAY, 14, 30),
        "attendees": f"Sofia Marchetti <{SOFIA}>",
        "description": "SCIM first, then the roadmap draft.",
        "in_reply_to_id": SOFIA_ID,
    }
    env = settings(SMTP_URL=smtp_sink.url, SMTP_FROM=ME)
    with http_server(inbox, home, tmp_path / "server.log", env) as url:
        async with (
            streamable_http_client(url) as (read, write, _),
            ClientSession(read, write) as session,
        ):
            init = await session.initialize()
            assert init.instructions is not None and "Note:" not in init.instructions
            result = await session.call_tool("create_calendar_event", call)
            created = data_of(result)
            assert created["created"] is True
            assert created["invited"] == [SOFIA] and created["attendees"] == [SOFIA]
            assert created["organizer"] == ME and created["calendar"] == "file"
            assert created["start"] == at(DAY, 14).isoformat()
            assert created["in_reply_to"] == SOFIA_ID
            assert f"Invitation sent to {SOFIA}." in text_of(result)

            [sent] = smtp_sink.wait_for(1)
            assert sent.rcpt_tos == [SOFIA] and sent.mail_from == ME
            assert sent.message["In-Reply-To"] == f"<{SOFIA_ID}>"
            invited = invitation(sent)
            assert str(invited["UID"]) == created["uid"]
            assert invited.start == at(DAY, 14)
            stored = [e for e in events_in(calendar_file) if str(e["UID"]) == created["uid"]]
            assert len(stored) == 1 and str(stored[0]["SUMMARY"]) == "Q1 roadmap"

            again = await session.call_tool("create_calendar_event", call)
            repeated = data_of(again)
            assert repeated["uid"] == created["uid"]
            assert repeated["created"] is False and repeated["invited"] == [SOFIA]
            assert "not created again" in text_of(again)
            assert "Invitation sent" not in text_of(again)

            busy = data_of(await session.call_tool("check_availability", {"day": DAY.isoformat()}))
            assert [b["title"] for b in busy["busy"]] == ["Design review", "Q1 roadmap"]

            # The same call twice at once (a client retrying while the first still runs):
            # one event, one invitation.
            sync = {
                "title": "Sync",
                "start": local(DAY, 16),
                "end": local(DAY, 16, 30),
                "attendees": OWEN,
            }
            both = await asyncio.gather(
                session.call_tool("create_calendar_event", sync),
                session.call_tool("create_calendar_event", sync),
            )
            outcomes = [data_of(r) for r in both]
            assert sorted(o["created"] for o in outcomes) == [False, True]
            assert outcomes[0]["uid"] == outcomes[1]["uid"]
            received = smtp_sink.wait_for(2)
            assert received[1].rcpt_tos == [OWEN]

            past = await session.call_tool(
                "create_calendar_event",
                {"title": "Too late", "start": "2020-01-06T10:00", "end": "2020-01-06T11:00"},
            )
            assert past.isError and "is in the past" in text_of(past)
        await asyncio.sleep(1.0)
    assert len(smtp_sink.messages) == 2
    uids = [str(e["UID"]) for e in events_in(calendar_file)]
    assert len(uids) == len(set(uids)) == 4  # the two seeded, the roadmap, the sync


async def test_what_creating_an_event_lacks_is_said(
    inbox: Path, home: Path, tmp_path: Path
) -> None:
    call = {"title": "Focus", "start": local(DAY, 15), "end": local(DAY, 15, 30)}
    async with stdio_session(inbox, home, tmp_path / "a.log", settings()) as (session, _):
        nobody = await session.call_tool("create_calendar_event", call)
        assert nobody.isError
        assert "set SMTP_FROM or SMART_INBOX_USER_EMAILS; no event was created" in text_of(nobody)
    assert len(events_in(home / "calendar.ics")) == 2
    assert "create_calendar_event cannot run yet" in (tmp_path / "a.log").read_text()

    env = settings(SMART_INBOX_USER_EMAILS=ME)
    async with stdio_session(inbox, home, tmp_path / "b.log", env) as (session, init):
        assert init.instructions is not None
        assert "SMTP_URL is not set" in init.instructions
        inviting = await session.call_tool("create_calendar_event", {**call, "attendees": SOFIA})
        assert inviting.isError
        assert "invitations cannot be sent: SMTP_URL is not set, so no event was created" in (
            text_of(inviting)
        )
        alone = data_of(await session.call_tool("create_calendar_event", call))
        assert alone["created"] is True and alone["attendees"] == []
    assert [str(e["SUMMARY"]) for e in events_in(home / "calendar.ics")] == [
        "Design review",
        "Team offsite",
        "Focus",
    ]


async def test_caldav_through_the_server_with_the_password_in_the_vault(
    inbox: Path, tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    home = tmp_path / "caldav-home"
    stored = run_cli(
        home, "credentials", "set", "caldav.password", "--stdin", stdin=CALDAV_PASSWORD + "\n"
    )
    assert stored.stdout.strip() == "stored caldav.password"
    vendor = vevent(
        "vendor@example.com",
        "Vendor call",
        f"DTSTART:{utc_stamp(at(DAY, 13))}",
        f"DTEND:{utc_stamp(at(DAY, 13, 30))}",
    )
    with RadicaleServer(tmp_path / "radicale", CALDAV_USER, CALDAV_PASSWORD) as radicale:
        radicale.make_calendar("work", display_name="Work")
        radicale.put_event("work", "vendor.ics", ics(vendor))
        env = settings(
            CALDAV_URL=radicale.url,
            CALDAV_USER=CALDAV_USER,
            CALDAV_CALENDAR="Work",
            SMTP_URL=smtp_sink.url,
            SMTP_FROM=ME,
        )
        log = tmp_path / "server.log"
        async with stdio_session(inbox, home, log, env) as (session, init):
            assert init.instructions is not None and "not available" not in init.instructions
            day = data_of(await session.call_tool("check_availability", {"day": DAY.isoformat()}))
            assert day["busy"] == [
                {**span(DAY, (13, 0), (13, 30)), "title": "Vendor call", "all_day": False}
            ]
            call = {
                "title": "Q1 roadmap",
                "start": local(DAY, 10),
                "end": local(DAY, 10, 30),
                "attendees": SOFIA,
                "in_reply_to_id": SOFIA_ID,
            }
            created = data_of(await session.call_tool("create_calendar_event", call))
            assert created["calendar"] == "caldav" and created["created"] is True
            [sent] = smtp_sink.wait_for(1)
            assert sent.rcpt_tos == [SOFIA]
            assert str(invitation(sent)["UID"]) == created["uid"]
            on_server = radicale.events("work")
            assert len(on_server) == 2
            assert sum(created["uid"] in body for body in on_server.values()) == 1

            again = data_of(await session.call_tool("create_calendar_event", call))
            assert again["created"] is False and again["uid"] == created["uid"]
            assert len(radicale.events("work")) == 2
            busy = data_of(await session.call_tool("check_availability", {"day": DAY.isoformat()}))
            assert [b["title"] for b in busy["busy"]] == ["Q1 roadmap", "Vendor call"]
        await asyncio.sleep(1.0)
    assert len(smtp_sink.messages) == 1
    assert CALDAV_PASSWORD not in log.read_text()


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        (
            {"SMART_INBOX_TZ": "Mars/Olympus"},
            "SMART_INBOX_TZ='Mars/Olympus' is not a time zone name",
        ),
        ({"CALDAV_URL": "https://caldav.example/"}, "CALDAV_URL is set but CALDAV_USER is not"),
        (
            {"CALDAV_URL": "https://caldav.example/", "CALDAV_USER": "dana"},
            "CALDAV_URL is set but there is no password for dana",
        ),
    ],
    ids=["time-zone", "caldav-without-user", "caldav-without-password"],
)
async def test_a_calendar_that_cannot_be_used_leaves_the_mail_tools_working(
    inbox: Path, home: Path, tmp_path: Path, broken: dict[str, str], reason: str
) -> None:
    log = tmp_path / "server.log"
    async with stdio_session(inbox, home, log, {**settings(), **broken}) as (session, init):
        assert init.instructions is not None
        assert "The calendar tools are not available: the calendar is not configured: " in (
            init.instructions
        )
        assert reason in init.instructions
        assert set(await tool_map(session)) == MAIL_TOOLS
        found = data_of(await session.call_tool("search_emails", {"sender": SOFIA}))
        assert SOFIA_ID in {m["id"] for m in found["messages"]}
        missing = await session.call_tool("check_availability", {"day": "today"})
        assert missing.isError
    assert f"the calendar is left out: {reason}" in log.read_text()


def turn(*calls: tuple[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One chat turn of a replay model: these calls, then nothing more."""
    return [
        {"node": "select_tools", "tool_calls": [{"name": n, "args": a} for n, a in calls]},
        {"node": "select_tools", "content": "", "tool_calls": []},
    ]


def test_this_product_books_through_its_own_server_after_approval(
    tmp_path: Path, inbox: Path, smtp_sink: SmtpSink
) -> None:
    """`mcp.json` runs `smart-inbox mcp-server` as server "self"; its event waits on a card."""
    agent, served = tmp_path / "agent", tmp_path / "served-home"
    agent.mkdir()
    (agent / "mcp.json").write_text(
        json.dumps(
            {
                "mcpServers": {
                    "self": {
                        "command": sys.executable,
                        "args": ["-m", "ui.cli", "mcp-server", "--inbox", f"maildir:{inbox}"],
                        "cwd": str(ROOT),
                        "env": {
                            "SMART_INBOX_HOME": str(served),
                            "SMART_INBOX_TZ": "Europe/Berlin",
                            "SMTP_URL": smtp_sink.url,
                            "SMART_INBOX_USER_EMAILS": ME,
                        },
                    }
                }
            }
        ),
        encoding="utf-8",
    )
    listed = json.loads(run_cli(agent, "mcp", "list", "--json").stdout)
    [server] = listed["servers"]
    assert server["state"] == "connected", server
    levels = {tool["name"]: tool["level"] for tool in server["tools"]}
    # The product has its own calendar tools, so the server's carry its name.
    assert levels["self__check_availability"] == 0
    assert levels["self__propose_meeting_slots"] == 0
    assert levels["self__create_calendar_event"] == 1
    assert "create_calendar_event" not in levels

    args = {
        "title": "Q1 roadmap",
        "start": local(DAY, 14),
        "end": local(DAY, 14, 30),
        "attendees": SOFIA,
    }
    script = write_script(tmp_path / "book.jsonl", turn(("self__create_calendar_event", args)))
    asked = json.loads(
        run_cli(
            agent,
            "ask",
            f"book the Q1 roadmap with {SOFIA} on {DAY.isoformat()} at 14:00",
            "--model",
            f"replay:{script}",
            "--json",
        ).stdout
    )
    [request] = asked["pending"]
    assert request["action"] == "self__create_calendar_event"
    assert request["args"] == args
    assert request["flags"] == []
    assert not (served / "calendar.ics").exists()
    assert smtp_sink.messages == []

    done = json.loads(
        run_cli(agent, "resume", "--thread", asked["thread_id"], "--accept", "--json").stdout
    )
    assert [(e["action"], e["status"]) for e in done["executed"]] == [
        ("self__create_calendar_event", "ok")
    ]
    [event] = events_in(served / "calendar.ics")
    assert str(event["SUMMARY"]) == "Q1 roadmap"
    assert event.start == at(DAY, 14)
    [sent] = smtp_sink.wait_for(1)
    assert sent.rcpt_tos == [SOFIA]
    audit = json.loads(run_cli(agent, "audit", "--json").stdout)
    assert [(r["tool"], r["level"], r["decision"], r["outcome"]) for r in audit] == [
        ("self__create_calendar_event", 1, "accept", "ok")
    ]
