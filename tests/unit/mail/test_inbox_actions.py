"""Inbox actions on a Maildir: each action, undo, snooze and wake, re-sync, and hostile input."""

from __future__ import annotations

import asyncio
import os
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from graph.corrections import load_learner
from memory.db import AppDatabase
from memory.inbox_store import InboxStore
from memory.ledger import ClaimedCall, SideEffectLedger, running
from memory.mail_tables import TriageRecord
from tools.mail import inbox_moves as moves
from tools.mail.inbox_actions import open_operations
from tools.mail.inbox_tools import INBOX_TOOLS, inbox_toolkit
from tools.mail.inbox_undo import undo
from tools.mail.mailbox import MailboxEnv
from tools.mail.snoozes import wake_snoozed
from tools.mail.sync import canonical_spec, sync_source
from tools.mail.tools import mail_toolkit
from tools.mail.unsubscribe import unsubscribe
from tools.registry import ToolRegistry
from tools.toolkit import ToolFailure

PLAN = "plan-1@acme.example"
PLAN_REPLY = "plan-2@acme.example"
DIGEST = "digest-9@news.example"
OTHER = "other-3@acme.example"


def mail(message_id: str, subject: str, sender: str, *extra: str) -> str:
    headers = [
        f"From: {sender}",
        "To: me@acme.example",
        f"Subject: {subject}",
        "Date: Mon, 16 Nov 2026 08:00:00 +0000",
        f"Message-ID: <{message_id}>",
        *extra,
    ]
    return "\n".join(headers) + "\n\nHello.\n"


FILES = {
    "cur/1781000001.M1P1.host:2,S": mail(PLAN, "Plan", "Bob <bob@acme.example>"),
    "new/1781000002.M2P1.host": mail(
        PLAN_REPLY, "Re: Plan", "Ann <ann@acme.example>", f"In-Reply-To: <{PLAN}>"
    ),
    "cur/1781000003.M3P1.host:2,": mail(OTHER, "Lunch", "Cy <cy@acme.example>"),
    "cur/1781000004.M4P1.host:2,": mail(
        DIGEST,
        "Weekly digest",
        "Digest <digest@news.example>",
        "List-Unsubscribe: <https://news.example/u?1>, <mailto:leave@news.example?subject=stop>",
    ),
    ".Sent/cur/1781000005.M5P1.host:2,S": mail(
        "mine-1@acme.example", "Re: Plan", "Me <me@acme.example>", f"In-Reply-To: <{PLAN}>"
    ),
}


@pytest.fixture
def env(tmp_path: Path) -> MailboxEnv:
    root = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp", ".Sent/cur", ".Sent/new", ".Sent/tmp"):
        (root / sub).mkdir(parents=True)
    for name, text in FILES.items():
        (root / name).write_text(text)
    db = AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")
    spec = canonical_spec(f"maildir:{root}")
    sync_source(db, spec)
    return MailboxEnv(db=db, source=spec, user_addresses=("me@acme.example",))


def files(env: MailboxEnv, folder: str = "") -> list[str]:
    root = Path(env.source.removeprefix("maildir:")) / (f".{folder}" if folder else "")
    return sorted(p.name for sub in ("cur", "new") for p in (root / sub).glob("*"))


def folder_of(env: MailboxEnv, message_id: str) -> str:
    email = env.db.get_email(message_id)
    assert email is not None
    return email.folder


def test_archive_moves_the_whole_conversation_but_not_the_sent_reply(env: MailboxEnv) -> None:
    result = moves.archive(env, [PLAN_REPLY], action="archive_conversations")

    assert [r["status"] for r in result["data"]["results"]] == ["moved", "moved"]
    assert files(env, "Archive") == ["1781000001.M1P1.host:2,S", "1781000002.M2P1.host"]
    assert files(env, "Sent") == ["1781000005.M5P1.host:2,S"]
    assert folder_of(env, PLAN) == folder_of(env, PLAN_REPLY) == "Archive"
    assert folder_of(env, "mine-1@acme.example") == "Sent"
    inbox = env.db.list_emails(source=env.source, folder="INBOX", limit=10)
    assert {e.id for e in inbox} == {OTHER, DIGEST}


def test_a_resync_after_a_move_neither_duplicates_nor_loses(env: MailboxEnv) -> None:
    before = len(env.db.list_emails(source=env.source, limit=50))
    moves.archive(env, [PLAN], action="archive_conversations")
    os.utime(Path(env.source.removeprefix("maildir:")) / ".Archive" / "cur", (0, 0))

    again = sync_source(env.db, env.source)

    assert again.new == []
    assert len(env.db.list_emails(source=env.source, limit=50)) == before
    assert folder_of(env, PLAN) == "Archive"


def test_each_move_and_its_undo(env: MailboxEnv) -> None:
    moves.trash(env, [OTHER])
    assert folder_of(env, OTHER) == "Trash" and files(env, "Trash")
    moves.move_to(env, [DIGEST], "Reading", True)
    assert folder_of(env, DIGEST) == "Reading"
    moves.archive(env, [PLAN], action="mark_done")
    assert InboxStore(env.db).done_ids(env.source) == {PLAN, PLAN_REPLY}

    assert "2 of 2" in undo(env, {})["content"]
    assert InboxStore(env.db).done_ids(env.source) == set()
    undo(env, {})
    undo(env, {})
    assert {folder_of(env, i) for i in (PLAN, PLAN_REPLY, OTHER, DIGEST)} == {"INBOX"}
    assert len(files(env)) == 4
    with pytest.raises(ToolFailure, match="no inbox action of this conversation to undo"):
        undo(env, {})


def test_flags_live_in_the_file_name_and_undo_restores_them(env: MailboxEnv) -> None:
    moves.mark_read(env, [PLAN], True)
    assert files(env) == [
        "1781000001.M1P1.host:2,S",
        "1781000002.M2P1.host:2,S",
        "1781000003.M3P1.host:2,",
        "1781000004.M4P1.host:2,",
    ]
    moves.flag(env, [OTHER], True)
    assert "1781000003.M3P1.host:2,F" in files(env)

    undo(env, {})
    undo(env, {})
    assert "1781000003.M3P1.host:2," in files(env)
    assert "1781000001.M1P1.host:2,S" in files(env), "it was read before: it stays read"
    assert "1781000002.M2P1.host:2," in files(env)


def test_undo_is_per_thread_and_within_the_window(env: MailboxEnv) -> None:
    ledger = SideEffectLedger(env.db)
    with running(ClaimedCall(ledger, "thread-a", "call-1")):
        moves.archive(env, [OTHER], action="archive_conversations")
    with pytest.raises(ToolFailure, match="no inbox action"):
        undo(env, {})  # another thread
    with running(ClaimedCall(ledger, "thread-a", "call-2")):
        later = datetime.now(UTC) + timedelta(minutes=31)
        with pytest.raises(ToolFailure, match="no inbox action"):
            undo(env, {"SMART_INBOX_UNDO_WINDOW": "30m"}, now=later)
        with pytest.raises(ToolFailure, match="not a duration"):
            undo(env, {"SMART_INBOX_UNDO_WINDOW": "soon"})
        undo(env, {}, now=later)
    assert folder_of(env, OTHER) == "INBOX"


def test_snooze_and_wake_with_a_clock(env: MailboxEnv) -> None:
    now = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    moves.snooze(env, [PLAN], "2026-12-04T09:00:00+01:00", now=now)
    assert folder_of(env, PLAN) == "Snoozed"
    [snooze] = InboxStore(env.db).snoozes(env.source)
    assert snooze.wake_at == "2026-12-04T08:00:00+00:00"

    def ops():
        return open_operations(env)

    assert wake_snoozed(env.db, env.source, ops, now + timedelta(hours=23)) == []
    assert folder_of(env, PLAN) == "Snoozed"
    woken = wake_snoozed(env.db, env.source, ops, now + timedelta(hours=24))
    assert {o.id for o in woken} == {PLAN, PLAN_REPLY}
    assert folder_of(env, PLAN) == folder_of(env, PLAN_REPLY) == "INBOX"
    assert set(InboxStore(env.db).woken_ids(env.source)) == {PLAN, PLAN_REPLY}
    assert wake_snoozed(env.db, env.source, ops, now + timedelta(days=2)) == []


def test_snooze_times_are_checked(env: MailboxEnv) -> None:
    now = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    with pytest.raises(ToolFailure, match="no offset"):
        moves.snooze(env, [PLAN], "2026-12-04T09:00:00", now=now)
    with pytest.raises(ToolFailure, match="not in the future"):
        moves.snooze(env, [PLAN], "2026-12-01T09:00:00+00:00", now=now)
    with pytest.raises(ToolFailure, match="not a time"):
        moves.snooze(env, [PLAN], "tomorrow", now=now)


def test_undoing_a_snooze_cancels_its_wake(env: MailboxEnv) -> None:
    now = datetime.now(UTC)
    moves.snooze(env, [OTHER], (now + timedelta(days=1)).isoformat(), now=now)
    undo(env, {})
    assert folder_of(env, OTHER) == "INBOX"
    assert InboxStore(env.db).snoozes(env.source) == []


def test_block_sender_makes_their_mail_ignored_and_undo_lifts_it(env: MailboxEnv) -> None:
    result = _invoke(env, "block_sender", {"address": "Digest <Digest@News.example>"})
    assert "digest@news.example" in result["content"]
    email = env.db.get_email(DIGEST)
    assert email is not None
    rule = load_learner(env.db).rule_for(email)
    assert rule is not None and rule.decision == "ignore"
    undo(env, {})
    assert load_learner(env.db).rule_for(email) is None


def _invoke(env: MailboxEnv, name: str, args: dict[str, object]) -> dict[str, object]:
    registry = ToolRegistry.from_toolkits([inbox_toolkit(env), mail_toolkit(env)])
    return dict(asyncio.run(registry.invoke(name, args)))


def test_the_tools_and_their_levels(env: MailboxEnv) -> None:
    registry = ToolRegistry.from_toolkits([inbox_toolkit(env)])
    assert registry.names() == [t.name for t in INBOX_TOOLS]
    assert [n for n in registry.names() if registry.is_read_only(n)] == ["list_snoozed"]
    assert {registry.default_level(n) for n in registry.names() if n != "list_snoozed"} == {1}
    assert "Nothing is snoozed" in _invoke(env, "list_snoozed", {})["content"]


# --------------------------------------------------------------------------- an adversary


def test_ids_not_in_the_mailbox_fail_each_on_one_line(env: MailboxEnv) -> None:
    with pytest.raises(ToolFailure, match="nothing was archived: nope@x: failed: no message"):
        moves.archive(env, ["nope@x"], action="archive_conversations")
    result = moves.archive(env, [OTHER, "nope@x"], action="archive_conversations")
    assert result["content"].startswith("Partly done: Archived 1 of 2 message(s); 1 failed")
    assert "- nope@x: failed: no message with id 'nope@x' in the mailbox" in result["content"]


@pytest.mark.parametrize("folder", ["../evil", "..", "a/../../b", ".hidden", "/etc", "x\x00y"])
def test_folder_names_that_escape_are_refused(env: MailboxEnv, folder: str) -> None:
    root = Path(env.source.removeprefix("maildir:"))
    before = sorted(p.name for p in root.parent.iterdir())
    with pytest.raises(ToolFailure, match="not a folder name"):
        moves.move_to(env, [OTHER], folder, True)
    assert sorted(p.name for p in root.parent.iterdir()) == before
    assert folder_of(env, OTHER) == "INBOX"


def test_a_folder_that_does_not_exist_needs_create(env: MailboxEnv) -> None:
    with pytest.raises(ToolFailure, match="the folder 'Projects' does not exist"):
        moves.move_to(env, [OTHER], "Projects", False)


def test_a_message_gone_from_the_disk_is_reported_not_lost(env: MailboxEnv) -> None:
    root = Path(env.source.removeprefix("maildir:"))
    (root / "new" / "1781000002.M2P1.host").unlink()
    result = moves.archive(env, [PLAN], action="archive_conversations")
    assert "1 failed" in result["content"]
    assert f"{PLAN_REPLY}: failed: the message is no longer in the mailbox" in result["content"]


def with_unsubscribe(env: MailboxEnv, link: str, post: bool = True) -> str:
    root = Path(env.source.removeprefix("maildir:"))
    extra = ["List-Unsubscribe-Post: List-Unsubscribe=One-Click"] if post else []
    (root / "cur" / "1781000009.M9P1.host:2,").write_text(
        mail(
            "list-9@lists.example",
            "News",
            "News <news@lists.example>",
            f"List-Unsubscribe: <{link}>",
            *extra,
        )  # fmt: skip
    )
    sync_source(env.db, env.source)
    return "list-9@lists.example"


@pytest.mark.parametrize(
    ("link", "reason"),
    [
        ("https://127.0.0.1/unsub", "private or local address"),
        ("https://10.1.2.3/unsub", "private or local address"),
        ("https://[::1]/unsub", "private or local address"),
        ("https://localhost/unsub", "this machine"),
        ("https://user@169.254.169.254/latest", "user info"),
        ("javascript:alert(1)", "no one-click https link and no mailto"),
        ("http://93.184.216.34/unsub", "no one-click https link and no mailto"),
    ],
)
def test_unsubscribe_links_that_are_refused(env: MailboxEnv, link: str, reason: str) -> None:
    message_id = with_unsubscribe(env, link)
    calls: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: calls.append(r) or httpx.Response(200))
    with pytest.raises(ToolFailure, match=reason):
        unsubscribe(env, message_id, transport=transport)
    assert calls == []


def test_one_click_unsubscribe_posts_and_the_card_shows_the_link(env: MailboxEnv) -> None:
    message_id = with_unsubscribe(env, "https://93.184.216.34/unsub?u=7")
    calls: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: calls.append(r) or httpx.Response(200))

    card = inbox_toolkit(env).preview("unsubscribe", {"message_id": message_id})  # type: ignore[misc]
    assert card is not None
    assert ("Link (from the message: untrusted)", "https://93.184.216.34/unsub?u=7") in card.fields
    result = unsubscribe(env, message_id, transport=transport)

    assert [(r.method, str(r.url), r.content) for r in calls] == [
        ("POST", "https://93.184.216.34/unsub?u=7", b"List-Unsubscribe=One-Click")
    ]
    assert "Unsubscribed with one click" in result["content"]
    with pytest.raises(ToolFailure, match="cannot be undone"):
        undo(env, {})


def answers(monkeypatch: pytest.MonkeyPatch, *addresses: str) -> list[str]:
    """Make name lookups answer `addresses` in turn (the last one from then on)."""
    asked: list[str] = []

    def lookup(host: str, *args: object, **kwargs: object) -> list[tuple[object, ...]]:
        asked.append(host)
        address = addresses[min(len(asked), len(addresses)) - 1]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, 443))]

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    return asked


def test_one_click_posts_to_the_address_it_checked_with_the_name_for_tls(
    env: MailboxEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    message_id = with_unsubscribe(env, "https://news.example.com:8443/unsub?u=7")
    answers(monkeypatch, "93.184.216.34")
    calls: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: calls.append(r) or httpx.Response(200))
    unsubscribe(env, message_id, transport=transport)
    [request] = calls
    assert str(request.url) == "https://93.184.216.34:8443/unsub?u=7"
    assert request.headers["Host"] == "news.example.com:8443"
    assert request.extensions["sni_hostname"] == "news.example.com"


def test_a_name_that_rebinds_to_this_machine_is_never_posted_to(
    env: MailboxEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Public for the card and the first check, loopback when the POST goes (DNS rebinding).

    Without pinning, the POST's own lookup (inside the HTTP client) would be the third and
    would reach this machine; here the third lookup is the one the POST uses, and it refuses.
    """
    message_id = with_unsubscribe(env, "https://news.example.com/unsub")
    asked = answers(monkeypatch, "93.184.216.34", "93.184.216.34", "127.0.0.1")
    card = inbox_toolkit(env).preview("unsubscribe", {"message_id": message_id})  # type: ignore[misc]
    assert card is not None
    calls: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: calls.append(r) or httpx.Response(200))
    with pytest.raises(ToolFailure, match=r"private or local address \(news.example.com is 127"):
        unsubscribe(env, message_id, transport=transport)
    assert calls == []
    assert len(asked) == 3, "the name is looked up again just before the POST"


def test_an_unreachable_unsubscribe_link_is_one_line(env: MailboxEnv) -> None:
    message_id = with_unsubscribe(env, "https://93.184.216.34/unsub")

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(ToolFailure) as failure:
        unsubscribe(env, message_id, transport=httpx.MockTransport(refuse))
    assert str(failure.value) == (
        "the unsubscribe link https://93.184.216.34/unsub could not be reached: connection refused"
    )


def test_without_one_click_it_mails_the_mailto_address(env: MailboxEnv, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    for sub in ("cur", "new", "tmp"):
        (outbox / sub).mkdir(parents=True)
    demo = MailboxEnv(db=env.db, source=env.source, sender="me@acme.example", outbox=outbox)
    result = unsubscribe(demo, DIGEST)
    assert "Unsubscribe mail sent to leave@news.example" in result["content"]
    [sent] = [p for sub in ("cur", "new") for p in (outbox / sub).iterdir()]
    assert "Subject: stop" in sent.read_text()
    with pytest.raises(ToolFailure, match="cannot unsubscribe by mail: sending is unavailable"):
        unsubscribe(env, DIGEST)


def test_an_mcp_source_cannot_archive(env: MailboxEnv) -> None:
    remote = MailboxEnv(db=env.db, source="mcp:gmail")
    with pytest.raises(ToolFailure, match=r"this mail source \(mcp:gmail\) cannot archive"):
        open_operations(remote)


def test_a_run_again_after_a_crash_between_the_move_and_the_record(env: MailboxEnv) -> None:
    """The files moved but the process died before the cache and the journal were written."""
    ops = open_operations(env)
    emails = env.db.emails_by_ids([PLAN, PLAN_REPLY])
    ops.move(emails, ops.folder_for("archive"))
    assert folder_of(env, PLAN) == "INBOX", "the cache was never told"

    again = moves.archive(env, [PLAN], action="archive_conversations")

    assert [r["status"] for r in again["data"]["results"]] == ["already", "already"]
    assert files(env, "Archive") == ["1781000001.M1P1.host:2,S", "1781000002.M2P1.host"]
    assert folder_of(env, PLAN) == folder_of(env, PLAN_REPLY) == "Archive"
    undo(env, {})
    assert folder_of(env, PLAN) == "INBOX"
    assert len(files(env)) == 4 and files(env, "Archive") == []


def test_the_inbox_listing_leaves_out_what_was_archived_snoozed_or_moved(env: MailboxEnv) -> None:
    env.db.save_triage(
        TriageRecord(email_id=i, priority="normal", category="other", action="read", reason="")
        for i in (PLAN, PLAN_REPLY, OTHER, DIGEST)
    )

    def listed() -> set[str]:
        result = _invoke(env, "list_inbox", {"limit": 50})
        return {str(m["id"]) for m in result["messages"]}  # type: ignore[union-attr]

    assert listed() == {PLAN, PLAN_REPLY, OTHER, DIGEST}
    moves.archive(env, [PLAN], action="archive_conversations")
    moves.move_to(env, [OTHER], "Receipts", True)
    moves.snooze(env, [DIGEST], (datetime.now(UTC) + timedelta(days=1)).isoformat())
    assert listed() == set()
    undo(env, {})
    undo(env, {})
    assert listed() == {OTHER, DIGEST}


def test_a_snoozed_message_deleted_meanwhile_does_not_hold_back_the_wake(env: MailboxEnv) -> None:
    now = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    moves.snooze(env, [PLAN], "2026-12-03T09:00:00+00:00", now=now)
    root = Path(env.source.removeprefix("maildir:"))
    (root / ".Snoozed" / "new" / "1781000002.M2P1.host").unlink()

    woken = wake_snoozed(env.db, env.source, lambda: open_operations(env), now + timedelta(hours=2))

    assert {o.id: o.status for o in woken} == {PLAN: "moved", PLAN_REPLY: "failed"}
    assert folder_of(env, PLAN) == "INBOX"
    assert InboxStore(env.db).snoozes(env.source) == []
