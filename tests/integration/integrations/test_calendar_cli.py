"""The calendar from the `smart-inbox` command, each call in its own process, with a real SMTP
server: ask for slots, ask for the event, decide it with `resume`, and die in the middle."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import icalendar
import pytest

from tests.fakes.smtp_server import ReceivedMessage, SmtpSink
from tests.integration.cli_runner import ROOT, cli_env, run_cli
from tests.integration.integrations.fixtures import ME
from tests.offer_text import read_offered_slots
from tools.calendar.offered_slots import OfferedSlot

pytestmark = pytest.mark.integration

SOFIA_ID = "CAF9s0fia.Q1road.20261116@mail.northwind.example"
SOFIA = "sofia.marchetti@northwind.example"


def settings(sink: SmtpSink) -> dict[str, str]:
    return {
        "SMTP_URL": sink.url,
        "SMART_INBOX_USER_EMAILS": ME,
        "SMART_INBOX_TZ": "Europe/Berlin",
    }


def as_json(home: Path, env: dict[str, str], *args: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(run_cli(home, *args, "--json", env=env).stdout)
    return result


def events_in(home: Path) -> list[icalendar.Event]:
    path = home / "calendar.ics"
    if not path.exists():
        return []
    return list(icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT"))


def pending_event(home: Path, env: dict[str, str]) -> tuple[str, OfferedSlot]:
    """Ask for slots, then for the first one: the thread waits on the event's card."""
    asked = as_json(home, env, "ask", "propose times for the meeting request from Sofia")
    assert asked["pending"] == [] and SOFIA_ID in asked["citations"]
    first = read_offered_slots(asked["answer"]).slots[0]
    thread = str(asked["thread_id"])
    scheduled = as_json(home, env, "ask", "schedule the first one", "--thread", thread)
    [request] = scheduled["pending"]
    assert request["action"] == "create_calendar_event"
    assert (request["args"]["start"], request["args"]["end"]) == (first.start_text, first.end_text)
    assert request["args"]["in_reply_to_id"] == SOFIA_ID
    assert request["flags"] == []
    assert events_in(home) == []
    return thread, first


def nothing_more_arrives(sink: SmtpSink, count: int, wait: float = 1.0) -> None:
    time.sleep(wait)
    assert len(sink.messages) == count


def test_ask_for_slots_and_the_event_then_accept_it(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    env = settings(smtp_sink)
    thread, first = pending_event(tmp_path, env)
    assert smtp_sink.messages == []
    done = as_json(tmp_path, env, "resume", "--thread", thread, "--accept")
    assert [(e["action"], e["status"]) for e in done["executed"]] == [
        ("create_calendar_event", "ok")
    ]
    assert f"Invitation sent to {SOFIA}." in done["answer"]
    [event] = events_in(tmp_path)
    assert event.start == first.start
    [sent] = smtp_sink.wait_for(1)
    assert sent.rcpt_tos == [SOFIA]
    audit = json.loads(run_cli(tmp_path, "audit", "--thread", thread, "--json").stdout)
    created = [row for row in audit if row["tool"] == "create_calendar_event"]
    assert [(r["decision"], r["outcome"]) for r in created] == [("accept", "ok")]


def test_a_rejected_event_is_neither_stored_nor_mailed(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    env = settings(smtp_sink)
    thread, _ = pending_event(tmp_path, env)
    done = as_json(tmp_path, env, "resume", "--thread", thread, "--reject")
    assert done["executed"] == []
    assert "Not done: you declined `create_calendar_event`" in done["answer"]
    assert events_in(tmp_path) == []
    nothing_more_arrives(smtp_sink, 0)


def test_an_event_made_just_before_a_crash_is_not_made_again(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    env = settings(smtp_sink)
    thread, _ = pending_event(tmp_path, env)
    crashed = run_cli(
        tmp_path,
        "resume",
        "--thread",
        thread,
        "--accept",
        check=False,
        env={**env, "SMART_INBOX_CRASH_AFTER_SIDE_EFFECT": "1"},
    )
    assert crashed.returncode == -9, crashed.stderr  # killed right after the event was made
    smtp_sink.wait_for(1)
    carried_on = as_json(tmp_path, env, "resume", "--thread", thread)
    assert [(e["action"], e["status"]) for e in carried_on["executed"]] == [
        ("create_calendar_event", "ok")
    ]
    assert "not repeated" in carried_on["answer"]
    assert len(events_in(tmp_path)) == 1
    nothing_more_arrives(smtp_sink, 1)


@pytest.mark.parametrize("choice", ["--reject", "--accept"])
def test_an_event_cut_off_while_inviting_is_not_redone_blindly(tmp_path: Path, choice: str) -> None:
    holder: dict[str, subprocess.Popen[str]] = {}

    def kill_while_inviting(_: ReceivedMessage) -> None:
        # The invitation is in; the process dies before it can record anything.
        holder["process"].kill()
        holder["process"].wait(timeout=30)

    with SmtpSink(on_data=kill_while_inviting) as sink:
        env = settings(sink)
        sink.on_data = None
        thread, _ = pending_event(tmp_path, env)
        sink.on_data = kill_while_inviting
        holder["process"] = subprocess.Popen(
            [sys.executable, "-m", "ui.cli", "resume", "--thread", thread, "--accept"],
            cwd=ROOT,
            env=cli_env(tmp_path, env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert holder["process"].wait(timeout=120) == -9
        sink.wait_for(1)
        sink.on_data = None
        assert len(events_in(tmp_path)) == 1, "the event is stored before anyone is invited"

        asked = as_json(tmp_path, env, "resume", "--thread", thread)
        [request] = asked["pending"]
        assert request["action"] == "create_calendar_event"
        assert "may already have happened" in request["description"]
        [received] = sink.messages
        invitation = str(received.message["Message-ID"])
        assert f"- Message-ID `{invitation}` to " in request["description"]
        assert "No copy in Sent." in request["description"]
        nothing_more_arrives(sink, 1)

        done = as_json(tmp_path, env, "resume", "--thread", thread, choice)
        assert len(events_in(tmp_path)) == 1, "never a second event"
        if choice == "--reject":
            assert [e["status"] for e in done["executed"]] == ["unknown"]
            nothing_more_arrives(sink, 1)
        else:
            # Accepting after the warning runs the call again: the event is found, not
            # duplicated; the invitation whose sending was never recorded goes out again.
            assert [e["status"] for e in done["executed"]] == ["ok"]
            assert "was already in the calendar file" in done["answer"]
            first, again = sink.wait_for(2)
            nothing_more_arrives(sink, 2)
            # The same invitation: a calendar program or mail server can drop the copy.
            assert again.message["Message-ID"] == first.message["Message-ID"]


def test_triage_shows_the_slots_and_how_to_book_one(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    env = settings(smtp_sink)
    out = run_cli(tmp_path, "triage", env=env).stdout
    assert "Slots for the new meeting requests:" in out
    match = re.search(r'smart-inbox ask "book the first slot for NAME" --thread (\S+)', out)
    assert match, out
    [sofia] = [
        block
        for block in out.split("\n\n")
        if block.startswith(f"Meeting request: message id {SOFIA_ID}")
    ]
    first = read_offered_slots(sofia).slots[0]
    booked = as_json(
        tmp_path, env, "ask", "book the first slot for Sofia", "--thread", match.group(1)
    )
    [request] = booked["pending"]
    assert request["action"] == "create_calendar_event"
    assert request["args"]["in_reply_to_id"] == SOFIA_ID
    assert (request["args"]["start"], request["args"]["end"]) == (first.start_text, first.end_text)
    assert smtp_sink.messages == [] and events_in(tmp_path) == []
