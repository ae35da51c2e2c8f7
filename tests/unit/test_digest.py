"""The daily digest: what it lists, the channel the user chose, delivered once a day."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from graph.context import Context
from graph.digest import Digest, DigestItem, build_digest
from graph.digest_delivery import (
    DigestChannel,
    DigestChannelError,
    deliver_digest,
    digest_channel,
)
from graph.digest_graph import build_digest_graph
from memory.audit import AuditLog
from memory.db import AppDatabase, open_database
from memory.mail_tables import TriageRecord
from memory.paths import app_database_url
from tools.calendar.backend import CalendarError
from tools.calendar.model import CalendarEvent
from tools.calendar.scheduling import CalendarEnv
from tools.calendar.settings import CalendarSettings
from tools.mail.mailbox import MailboxEnv
from tools.mail.model import Email
from tools.toolkit import ToolFailure
from ui.cli import main

ME = "me@acme.example"
NOW = datetime(2026, 12, 3, 7, 30, tzinfo=UTC)


def mail(email_id: str, hours_ago: float, **fields: Any) -> Email:
    values: dict[str, Any] = {
        "id": email_id,
        "message_id": email_id,
        "source": "maildir:/x",
        "folder": "INBOX",
        "key": email_id,
        "from_name": "Bob Stone",
        "from_addr": "bob@acme.example",
        "to": (ME,),
        "subject": f"About {email_id}",
        "date": (NOW - timedelta(hours=hours_ago)).isoformat(),
        "body": "Can you send the figures?",
    }
    values.update(fields)
    return Email(**values)


@pytest.fixture
def db(tmp_path: Path) -> AppDatabase:
    return open_database(app_database_url(tmp_path))


@pytest.fixture
def env(db: AppDatabase) -> MailboxEnv:
    db.add_emails(
        [
            mail("question", 30),
            mail("outage", 2, from_addr="kim@acme.example", body="Checkout is down."),
            mail("old-outage", 60, from_addr="lee@acme.example", body="Disk full."),
            mail("answered", 50, from_addr="ann@acme.example"),
            mail("mine", 40, from_addr=ME, folder="Sent", in_reply_to="answered", to=("ann@x",)),
        ]
    )
    db.save_triage(
        [
            TriageRecord(
                email_id=i, priority="high", category="urgent_incident", action="reply", reason=r
            )
            for i, r in (("outage", "checkout down"), ("old-outage", "disk full"))
        ]
    )
    return MailboxEnv(db=db, source="maildir:/x", user_addresses=(ME,))


class FakeCalendar:
    description = "the test calendar"

    def __init__(self, events: list[CalendarEvent] | None, *, broken: bool = False) -> None:
        self.events, self.broken = events or [], broken

    def events_between(self, start: datetime, end: datetime) -> list[CalendarEvent]:
        if self.broken:
            raise CalendarError("the test calendar is unreachable")
        return [e for e in self.events if start <= e.start < end]  # type: ignore[operator]


def calendar(env: MailboxEnv, fake: FakeCalendar) -> CalendarEnv:
    zone = ZoneInfo("Europe/Berlin")
    settings = CalendarSettings(time_zone=zone, working_hours=None, calendar_file=Path("x"))  # type: ignore[arg-type]
    return CalendarEnv(calendar=fake, settings=settings, mail=env)  # type: ignore[arg-type]


def test_needs_reply_and_urgent_are_cited_and_today_only_counts_recent_urgent_mail(
    env: MailboxEnv,
) -> None:
    digest = build_digest(env, "no calendar is set up", NOW)
    # Newest first; the one the user answered is not listed.
    assert [i.message_id for i in digest.needs_reply] == ["outage", "question", "old-outage"]
    assert digest.needs_reply[1].note == "waiting 1 day"
    assert digest.needs_reply[2].note == "waiting 2 days"
    # The outage waits on a reply, so it is listed there, not twice; the old one is not today's.
    assert digest.urgent == ()
    text = digest.text()
    assert "- Bob Stone: About question (waiting 1 day) [msg:question]" in text
    assert "today's meetings: no calendar is set up" in digest.left_out
    assert digest.meetings is None and "Meetings today" not in text
    assert digest.cleared == () and "Cleared for you in the last day: none" in text


def test_what_inbox_actions_cleared_in_the_last_day_is_listed_unless_undone(
    env: MailboxEnv,
) -> None:
    from memory.inbox_store import InboxStore, moved_in_cache

    store = InboxStore(env.db)
    env.db.add_emails([mail("news", 30, from_addr="news@letters.example")])
    for message, action in (("news", "archive_conversations"), ("old-outage", "mark_done")):
        moved_in_cache(env.db, env.source, message, "Archive")
        store.record("t", action, env.source, [{"id": message, "from": "INBOX", "to": "Archive"}])
    undone = store.record(
        "t", "trash_conversations", env.source, [{"id": "answered", "from": "INBOX", "to": "Trash"}]
    )
    store.mark_undone(undone.id)  # undone: it is back in the inbox and not listed
    digest = build_digest(env, "none", datetime.now(UTC))
    assert [(i.message_id, i.note) for i in digest.cleared] == [
        ("old-outage", "marked done"),
        ("news", "archived"),
    ]
    assert "Cleared for you in the last day: 2" in digest.text()
    a_day_later = build_digest(env, "none", datetime.now(UTC) + timedelta(days=2))
    assert a_day_later.cleared == ()


def test_urgent_mail_nobody_waits_on_is_listed_as_urgent(env: MailboxEnv) -> None:
    env.db.add_emails([mail("alert", 1, from_addr="ops@acme.example", body="Checkout down.")])
    env.db.save_triage(
        [TriageRecord(email_id="alert", priority="high", category="urgent_incident",
                      action="notify", reason="checkout down")]
    )  # fmt: skip
    digest = build_digest(env, "none", NOW)
    assert [i.message_id for i in digest.urgent] == ["alert"]
    assert digest.urgent[0].note == "urgent incident: checkout down"


def test_todays_meetings_in_the_users_zone_and_a_broken_calendar_is_said(
    env: MailboxEnv,
) -> None:
    zone = ZoneInfo("Europe/Berlin")
    standup = CalendarEvent(
        uid="s1",
        title="Standup",
        start=datetime(2026, 12, 3, 9, 30, tzinfo=zone),
        end=datetime(2026, 12, 3, 9, 45, tzinfo=zone),
    )
    tomorrow = CalendarEvent(
        uid="t1",
        title="Later",
        start=datetime(2026, 12, 4, 9, tzinfo=zone),
        end=datetime(2026, 12, 4, 10, tzinfo=zone),
    )
    digest = build_digest(env, calendar(env, FakeCalendar([standup, tomorrow])), NOW)
    assert [(m.title, m.when) for m in digest.meetings or ()] == [("Standup", "09:30–09:45")]
    assert "- 09:30–09:45 Standup" in digest.text()
    broken = build_digest(env, calendar(env, FakeCalendar(None, broken=True)), NOW)
    assert broken.meetings is None
    assert any("unreachable" in why for why in broken.left_out)


def test_a_long_section_shows_five_and_counts_the_rest() -> None:
    items = tuple(DigestItem(f"m{n}", "Bob", "Hi", "waiting today") for n in range(5))
    digest = Digest(
        day=NOW.date(), needs_reply=items, urgent=(), awaiting_reply=(), meetings=(),
        more={"needs_reply": 3},
    )  # fmt: skip
    text = digest.text()
    assert "Waiting on your reply: 8" in text and "- … and 3 more" in text
    assert "Urgent: none" in text and "Meetings today: none" in text
    assert json.loads(json.dumps(digest.to_json()))["id"] == "digest-2026-12-03"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", None),
        ("mail", DigestChannel("mail")),
        ("Slack:#inbox", DigestChannel("slack", "#inbox")),
        ("slack", DigestChannel("slack")),
        ("teams", DigestChannel("teams")),
        ("webhook:ops", DigestChannel("webhook", "ops")),
    ],
)
def test_the_channel_is_what_the_user_wrote(value: str, expected: DigestChannel | None) -> None:
    assert digest_channel({"SMART_INBOX_DIGEST_TO": value}) == expected


@pytest.mark.parametrize("value", ["pigeon", "webhook", "mail:boss@x.example", "teams:general"])
def test_a_channel_that_cannot_be_used_is_refused(value: str) -> None:
    with pytest.raises(DigestChannelError):
        digest_channel({"SMART_INBOX_DIGEST_TO": value})


class FakeTools:
    """Records posts; fails the first `failures` of them."""

    def __init__(self, env: MailboxEnv, failures: int = 0) -> None:
        self.env, self.failures, self.calls = env, failures, []  # type: ignore[var-annotated]

    def toolkit(self, name: str) -> None:
        return None

    async def invoke(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        if self.failures:
            self.failures -= 1
            raise ToolFailure("Slack is down")
        self.calls.append((name, args))
        return {"content": "ok"}


async def test_one_digest_a_day_per_channel_and_a_failure_may_be_tried_again(
    env: MailboxEnv,
) -> None:
    digest = build_digest(env, "none", NOW)
    slack = DigestChannel("slack", "#me")
    tools = FakeTools(env, failures=1)
    failed = await deliver_digest(digest, slack, tools, env.db)  # type: ignore[arg-type]
    assert (failed.status, "Slack is down" in failed.text) == ("failed", True)
    sent = await deliver_digest(digest, slack, tools, env.db)  # type: ignore[arg-type]
    again = await deliver_digest(digest, slack, tools, env.db)  # type: ignore[arg-type]
    assert (sent.status, again.status) == ("sent", "skipped")
    assert [name for name, _ in tools.calls] == ["slack_post_message"]
    assert tools.calls[0][1]["channel"] == "#me" and "[msg:question]" in tools.calls[0][1]["text"]
    audit = AuditLog(env.db).entries(thread_id="digest:slack:#me")
    assert [(row["tool"], row["outcome"], row["decided_by"]) for row in audit] == [
        ("deliver_digest", "ok", "SMART_INBOX_DIGEST_TO")
    ]
    # Mail to the user's own address is another channel: it gets today's digest too.
    mailed = await deliver_digest(digest, DigestChannel("mail"), tools, env.db)  # type: ignore[arg-type]
    assert mailed.status == "sent" and tools.calls[-1][1]["to"] == ME


def test_the_command_prints_sends_once_and_refuses_send_without_a_channel(
    tmp_path: Path,
    maildir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SMART_INBOX_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("INBOX", f"maildir:{maildir}")
    monkeypatch.setenv("MODEL", "rules")
    monkeypatch.delenv("SMART_INBOX_DIGEST_TO", raising=False)
    assert main(["digest", "--send"]) == 2
    assert "SMART_INBOX_DIGEST_TO" in capsys.readouterr().err
    assert main(["digest", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["id"].startswith("digest-") and "delivery" not in data
    assert isinstance(data["needs_reply"], list) and isinstance(data["urgent"], list)


async def test_the_scheduled_run_delivers_to_the_chosen_channel_once(
    context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph = build_digest_graph(clock=lambda: NOW)
    monkeypatch.delenv("SMART_INBOX_DIGEST_TO", raising=False)
    unset = await graph.ainvoke({}, context=context)
    assert unset["delivery"]["status"] == "failed"
    assert "SMART_INBOX_DIGEST_TO" in unset["delivery"]["text"]
    monkeypatch.setenv("SMART_INBOX_DIGEST_TO", "webhook:nobody")
    nowhere = await graph.ainvoke({}, context=context)
    assert nowhere["delivery"]["status"] == "failed"
    assert "no webhook endpoint 'nobody'" in nowhere["delivery"]["text"]
    assert nowhere["digest"]["id"] == "digest-2026-12-03"


def test_a_daily_time_becomes_a_cron_schedule() -> None:
    from ui.langgraph_server import ServerError, schedule_from_at

    assert schedule_from_at("07:30") == "30 7 * * *"
    assert schedule_from_at("7:05") == "5 7 * * *"
    for bad in ("24:00", "7.30", "noon"):
        with pytest.raises(ServerError):
            schedule_from_at(bad)


def test_who_the_user_waits_on_is_the_followups_list(
    env: MailboxEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = mail(
        "asked", 24 * 5, from_addr=ME, folder="Sent", to=("kim@acme.example",),
        subject="Contract", body="Kim, can you send the signed contract?",
    )  # fmt: skip
    env.db.add_emails([asked])
    monkeypatch.delenv("SMART_INBOX_AWAITING_DAYS", raising=False)
    digest = build_digest(env, "none", NOW)
    assert [(i.message_id, i.note) for i in digest.awaiting_reply] == [
        ("asked", "asked 5 days ago")
    ]
    assert "kim@acme.example" in digest.awaiting_reply[0].sender
    assert "You are waiting on: 1" in digest.text()
    monkeypatch.setenv("SMART_INBOX_AWAITING_DAYS", "7")
    assert build_digest(env, "none", NOW).awaiting_reply == ()
