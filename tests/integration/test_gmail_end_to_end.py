"""A Gmail mailbox and a Google calendar through the real command, on local API servers.

The demo's mail is put in a Gmail mailbox (`gmail:work`) and the command is pointed at it
and at a Google calendar of the same account, its token in the vault: triage, a cited
answer, a reply approved and sent exactly once in its thread, the newsletters archived (their
INBOX label removed), a meeting booked on Google Calendar with Google inviting.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.gmail_server import FakeGmail
from tests.fakes.google_calendar_server import FakeGoogleCalendar
from tests.integration.cli_runner import DEMO, run_cli

pytestmark = pytest.mark.integration

DANA = "dana@northwind.example"
SOFIA = "sofia.marchetti@northwind.example"
SOFIA_ID = "CAF9s0fia.Q1road.20261116@mail.northwind.example"
TOKEN = "ya29.fake-gmail-token"


@pytest.fixture
def google(tmp_path: Path) -> Iterator[tuple[FakeGmail, FakeGoogleCalendar, dict[str, str]]]:
    gmail = FakeGmail(token=TOKEN, address=DANA)
    calendar = FakeGoogleCalendar(token=TOKEN, owner=DANA)
    for sub, labels in (("cur", ("INBOX",)), ("new", ("INBOX", "UNREAD"))):
        for path in sorted((DEMO / sub).glob("*")):
            gmail.add(path.read_bytes(), labels)
    gmail.start()
    calendar.start()
    env = {
        "INBOX": "gmail:work",
        "SMART_INBOX_GMAIL_API": gmail.base_url,
        "SMART_INBOX_CALENDAR": "google:work",
        "SMART_INBOX_GOOGLE_CALENDAR_API": calendar.base_url,
        "SMART_INBOX_USER_EMAILS": DANA,
        "SMART_INBOX_TZ": "Europe/Berlin",
    }
    run_cli(tmp_path, "credentials", "set", "google.token:work", "--stdin", stdin=TOKEN + "\n")
    try:
        yield gmail, calendar, env
    finally:
        gmail.stop()
        calendar.stop()


def cli(home: Path, env: dict[str, str], *args: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(run_cli(home, *args, "--json", env=env).stdout)
    return result


def test_triage_and_a_cited_answer_on_gmail(tmp_path: Path, google: Any) -> None:
    gmail, _, env = google
    rows = cli(tmp_path, env, "triage")
    threads = {m.thread_id for m in gmail.messages.values()}
    assert len(rows) == len(threads) < len(gmail.messages), "one row per Gmail thread"
    assert len(cli(tmp_path, env, "triage", "--messages")) == len(gmail.messages)
    answered = cli(tmp_path, env, "ask", "any invoices?")
    assert answered["citations"], answered
    assert all(c in {m.message_id for m in gmail.messages.values()} for c in answered["citations"])
    reads = [r for r in gmail.requests if r.query.get("format") == ["raw"]]
    assert len(reads) == len(gmail.messages), "the second run read no message again"


def test_a_reply_is_sent_once_through_gmail_in_its_thread(tmp_path: Path, google: Any) -> None:
    gmail, _, env = google
    asked = cli(
        tmp_path, env, "ask", "reply to the meeting request from Sofia and say Thursday works"
    )
    [request] = asked["pending"]
    assert request["action"] == "reply_to_email"
    assert "SMTP_URL" not in request["description"]
    done = cli(tmp_path, env, "resume", "--thread", asked["thread_id"], "--accept")
    assert [(e["action"], e["status"]) for e in done["executed"]] == [("reply_to_email", "ok")]
    assert "Sent through gmail:work" in done["answer"]
    [sent] = gmail.calls("POST", "/gmail/v1/users/me/messages/send")
    original = next(m for m in gmail.messages.values() if m.message_id == SOFIA_ID)
    assert sent.json["threadId"] == original.thread_id
    [reply] = gmail.sent
    assert reply["threadId"] == original.thread_id
    assert f"In-Reply-To: <{SOFIA_ID}>".encode() in reply["raw"]
    again = run_cli(
        tmp_path, "resume", "--thread", asked["thread_id"], "--accept", env=env, check=False
    )
    assert again.returncode == 2 and len(gmail.sent) == 1, "sent exactly once"


def test_archiving_removes_the_inbox_label(tmp_path: Path, google: Any) -> None:
    gmail, _, env = google
    asked = cli(tmp_path, env, "ask", "archive the newsletters")
    assert {p["action"] for p in asked["pending"]} == {"archive_conversations"}
    done = cli(tmp_path, env, "resume", "--thread", asked["thread_id"], "--accept")
    assert done["executed"] and all(e["status"] == "ok" for e in done["executed"])
    modified = [r for r in gmail.requests if r.path.endswith("/modify")]
    assert modified and all(r.json["removeLabelIds"] == ["INBOX"] for r in modified)
    archived = [m for m in gmail.messages.values() if "INBOX" not in m.labels]
    assert len(archived) == len(modified)


def test_a_meeting_is_booked_on_google_calendar(tmp_path: Path, google: Any) -> None:
    gmail, calendar, env = google
    triaged = run_cli(tmp_path, "triage", "--limit", "3", env=env).stdout
    thread = triaged.split('book the first slot for NAME" --thread ', 1)[1].split()[0]
    asked = cli(tmp_path, env, "ask", "book the first slot for Sofia", "--thread", thread)
    [request] = asked["pending"]
    assert request["action"] == "create_calendar_event"
    assert "mailed by the Google calendar of the account work" in request["description"]
    done = cli(tmp_path, env, "resume", "--thread", thread, "--accept")
    assert [(e["action"], e["status"]) for e in done["executed"]] == [
        ("create_calendar_event", "ok")
    ]
    [event] = calendar.events.values()
    assert [a["email"] for a in event["attendees"]] == [SOFIA]
    assert calendar.invitations == [(SOFIA, event["summary"])]
    assert gmail.sent == [], "Google mails the invitation: none of ours"
    assert calendar.calls("POST", "/calendar/v3/freeBusy"), "the slots came from freeBusy"


def test_health_checks_the_gmail_account_with_one_call(tmp_path: Path, google: Any) -> None:
    gmail, _, env = google
    healthy = run_cli(tmp_path, "health", "--json", env=env)
    parts = {p["part"]: p for p in json.loads(healthy.stdout)["parts"]}
    assert parts["mail source"]["state"] == "ok", parts["mail source"]
    assert parts["calendar"]["state"] == "ok", parts["calendar"]
    assert [r.path for r in gmail.requests].count("/gmail/v1/users/me/profile") == 1
    assert not [r for r in gmail.requests if r.method != "GET"], "the check changes nothing"
    gmail.token = "ya29.rotated-elsewhere"  # the stored token no longer works
    broken = run_cli(tmp_path, "health", "--json", env=env, check=False)
    assert broken.returncode == 1
    source = {p["part"]: p for p in json.loads(broken.stdout)["parts"]}["mail source"]
    assert source["state"] == "down" and "gmail" in source["reason"].lower()
    assert TOKEN not in broken.stdout + broken.stderr
