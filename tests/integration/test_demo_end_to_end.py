"""The demo end to end as a new user's `make run` meets it: the real command, the bundled demo
inbox, no settings at all. Its own suggestions work: booking a slot and replying both end in
the local outbox, From the demo's owner, and the repository's demo folder is never written."""

from __future__ import annotations

import hashlib
import json
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import icalendar
import pytest

from tests.integration.cli_runner import DEMO, run_cli

pytestmark = pytest.mark.integration

DANA_FROM = "Dana Whitfield <dana@northwind.example>"
SOFIA = "sofia.marchetti@northwind.example"
SOFIA_ID = "CAF9s0fia.Q1road.20261116@mail.northwind.example"


def repository_demo() -> dict[str, str]:
    """Every file of the bundled demo folder (hidden folders included) with a hash of its bytes."""
    return {
        str(p.relative_to(DEMO)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(DEMO.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def untouched_demo() -> Any:
    """Fails the test if anything in the repository's demo folder was written."""
    before = repository_demo()
    yield
    assert repository_demo() == before, "the repository's demo folder was written to"


def on_demo(home: Path, *args: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(run_cli(home, *args, "--json", demo=True).stdout)
    return result


def outbox(home: Path) -> list[EmailMessage]:
    folder = home / "demo-outbox"
    files = (
        sorted(p for sub in ("new", "cur") for p in (folder / sub).glob("*"))
        if folder.is_dir()
        else []
    )
    return [message_from_bytes(p.read_bytes(), policy=policy.default) for p in files]  # type: ignore[misc]


def sent_copies(home: Path) -> list[Path]:
    """The Sent copies made by the run: the demo's own two sent questions left out."""
    folder = home / "demo-inbox" / ".Sent" / "cur"
    bundled = {p.name for p in (DEMO / ".Sent" / "cur").iterdir()}
    return sorted(p for p in folder.iterdir() if p.name not in bundled) if folder.is_dir() else []


def test_booking_the_first_slot_for_sofia_invites_her_through_the_outbox(
    tmp_path: Path, untouched_demo: None
) -> None:
    triaged = run_cli(tmp_path, "triage", "--limit", "3", demo=True).stdout
    thread = triaged.split('book the first slot for NAME" --thread ', 1)[1].split()[0]
    asked = on_demo(tmp_path, "ask", "book the first slot for Sofia", "--thread", thread)
    [request] = asked["pending"]
    assert request["action"] == "create_calendar_event"
    assert request["args"]["in_reply_to_id"] == SOFIA_ID
    card = request["description"]
    assert f"one mail from {DANA_FROM} to each attendee (1)" in card
    assert "Nothing leaves this machine: the bundled demo delivers to its local outbox" in card
    assert "This call will fail" not in card
    assert outbox(tmp_path) == []

    done = on_demo(tmp_path, "resume", "--thread", thread, "--accept")
    assert [(e["action"], e["status"]) for e in done["executed"]] == [
        ("create_calendar_event", "ok")
    ]
    assert (
        f"Invitation delivered to the local demo outbox ({tmp_path / 'demo-outbox'}) for {SOFIA}"
        in (done["answer"])
    )
    [event] = icalendar.Calendar.from_ical((tmp_path / "calendar.ics").read_bytes()).walk("VEVENT")
    assert str(event["SUMMARY"]).endswith("for the Q1 roadmap")
    [invitation] = outbox(tmp_path)
    assert invitation["From"] == DANA_FROM
    assert invitation["To"] == f"Sofia Marchetti <{SOFIA}>"
    assert invitation["In-Reply-To"] == f"<{SOFIA_ID}>"
    [itip] = [part for part in invitation.walk() if part.get_content_type() == "text/calendar"]
    sent_event = icalendar.Calendar.from_ical(itip.get_content())
    assert str(sent_event["METHOD"]) == "REQUEST"
    assert [str(e["UID"]) for e in sent_event.walk("VEVENT")] == [str(event["UID"])]
    assert len(sent_copies(tmp_path)) == 1, "a Sent copy, as for real sending"

    listed = on_demo(tmp_path, "ask", "what did I send?")
    assert [e["action"] for e in listed["executed"]] == ["list_outbox"]
    assert "1 message(s) in the local demo outbox" in listed["answer"]
    assert f"to: {SOFIA}" in listed["answer"] and f"from: {DANA_FROM}" in listed["answer"]


def test_a_reply_goes_to_the_outbox_with_a_from_header(
    tmp_path: Path, untouched_demo: None
) -> None:
    asked = on_demo(
        tmp_path, "ask", "reply to the meeting request from Sofia and say Thursday works"
    )
    [request] = asked["pending"]
    assert request["action"] == "reply_to_email", "sending works on the demo: no draft instead"
    assert f"- **From:** {DANA_FROM}" in request["description"]
    done = on_demo(tmp_path, "resume", "--thread", asked["thread_id"], "--accept")
    assert [(e["action"], e["status"]) for e in done["executed"]] == [("reply_to_email", "ok")]
    assert "Delivered to the local demo outbox" in done["answer"]
    assert "set SMTP_URL to send for real" in done["answer"]
    assert "sending is unavailable" not in done["answer"]
    [reply] = outbox(tmp_path)
    assert reply["From"] == DANA_FROM
    assert reply["To"] == SOFIA
    assert reply["In-Reply-To"] == f"<{SOFIA_ID}>"
    assert "Thursday works" in reply.get_content()
    [copy] = sent_copies(tmp_path)
    assert message_from_bytes(copy.read_bytes())["Message-ID"] == reply["Message-ID"]
    assert not (tmp_path / "demo-inbox" / ".Drafts").exists()


def test_integrations_call_configured_only_what_can_run(tmp_path: Path) -> None:
    demo = {k["name"]: k for k in on_demo(tmp_path / "demo", "integrations")["integrations"]}
    assert demo["mail"]["configured"] is True
    assert demo["mail"]["sends_through"] == (
        f"the local demo outbox {tmp_path / 'demo' / 'demo-outbox'} (set SMTP_URL to send for real)"
    )
    assert demo["calendar"]["configured"] is True

    home = tmp_path / "copy"  # a copy of the demo is an ordinary Maildir: no owner, no outbox
    shown = json.loads(run_cli(home, "integrations", "--json").stdout)["integrations"]
    kits = {k["name"]: k for k in shown}
    assert kits["mail"]["configured"] is False
    assert kits["mail"]["sends_through"] == ""
    assert kits["mail"]["why_not"].startswith(
        "send_email, reply_to_email: sending is unavailable: SMTP_URL is not set and no From "
        "address is known"
    )
    assert kits["calendar"]["configured"] is False
    assert (
        "create_calendar_event: creating calendar events needs your address"
        in (kits["calendar"]["why_not"])
    )
    assert "set SMTP_URL to your mail server" in kits["calendar"]["why_not"]
    tools = {t["name"]: t for t in kits["calendar"]["tools"]}
    assert tools["check_availability"]["available"] is True
    assert tools["create_calendar_event"]["available"] is False

    text = run_cli(home, "integrations").stdout
    assert text.splitlines()[0].startswith(
        "mail: send_email, reply_to_email: sending is unavailable"
    )
    assert "calendar: configured" not in text
