"""Inbox actions against a real Dovecot: MOVE, the copy-and-expunge fallback, flags, errors."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from memory.db import AppDatabase
from tests.fakes.imap_server import DOVECOT_MISSING, DovecotServer, dovecot_binary
from tools.mail import inbox_moves as moves
from tools.mail.inbox_actions import open_operations
from tools.mail.inbox_ops import MailboxOperations
from tools.mail.inbox_undo import undo
from tools.mail.mailbox import MailboxEnv
from tools.mail.snoozes import wake_snoozed
from tools.mail.sync import sync_source
from tools.toolkit import ToolFailure

pytestmark = pytest.mark.integration

NO_MOVE = (
    "imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT LITERAL+ "
    "NAMESPACE SPECIAL-USE UIDPLUS\n"
)


class ConfiguredDovecot(DovecotServer):
    """Dovecot with extra settings: another capability list, an `\\Archive` folder."""

    def __init__(self, *, extra: str = "", archive: str = "", **options: Any) -> None:
        super().__init__(**options)
        self.extra = extra
        self.archive = archive

    def _config(self, user: str, group: str, uid: int, gid: int, cert: object) -> str:
        text = super()._config(user, group, uid, gid, cert)
        if self.archive:
            folder = (
                f'  mailbox "{self.archive}" {{\n    auto = create\n'
                "    special_use = \\Archive\n  }\n"
            )
            text = text.replace("namespace inbox {\n", "namespace inbox {\n" + folder, 1)
        return text + self.extra


def message(n: int, *, subject: str = "", reply_to: int | None = None) -> bytes:
    headers = [
        f"From: Sender {n} <sender{n}@example.com>",
        "To: dana@example.com",
        f"Subject: {subject or f'Message number {n}'}",
        f"Date: Mon, 16 Nov 2026 08:{n % 60:02d}:00 +0000",
        f"Message-ID: <msg-{n}@example.com>",
    ]
    if reply_to is not None:
        headers.append(f"In-Reply-To: <msg-{reply_to}@example.com>")
    return ("\r\n".join(headers) + f"\r\n\r\nBody of message {n}.\r\n").encode()


@pytest.fixture
def start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., tuple[ConfiguredDovecot, MailboxEnv]]]:
    """Start a Dovecot (options as `ConfiguredDovecot`) for an inbox folder; (server, mailbox)."""
    if dovecot_binary() is None:
        pytest.fail(DOVECOT_MISSING)
    servers: list[ConfiguredDovecot] = []

    def started(folder: str = "INBOX", **options: Any) -> tuple[ConfiguredDovecot, MailboxEnv]:
        server = ConfiguredDovecot(**options)
        servers.append(server)
        server.start()
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        db = AppDatabase(f"sqlite:///{tmp_path / f'app-{server.tls_port}.db'}")
        return server, MailboxEnv(db=db, source=server.spec(folder))

    try:
        yield started
    finally:
        for server in servers:
            server.stop()


def uids(server: DovecotServer, folder: str) -> list[int]:
    return [uid for uid, _, _ in server.messages(folder)]


def ids_in(server: DovecotServer, folder: str) -> list[str]:
    found = []
    for _, _, raw in server.messages(folder):
        for line in raw.decode().splitlines():
            if line.lower().startswith("message-id:"):
                found.append(line.split(":", 1)[1].strip().strip("<>"))
    return sorted(found)


def test_archive_moves_the_conversation_with_move_and_undo_brings_it_back(start) -> None:
    server, env = start()
    for n, parent in ((1, None), (2, 1), (3, None)):
        server.append(
            message(n, subject="Re: plan" if parent else "plan" if n == 1 else "", reply_to=parent)
        )
    sync_source(env.db, env.source)

    result = moves.archive(env, ["msg-1@example.com"], action="archive_conversations")

    assert "MOVE" in capabilities(server)
    assert ids_in(server, "Archive") == ["msg-1@example.com", "msg-2@example.com"]
    assert ids_in(server, "INBOX") == ["msg-3@example.com"]
    assert [r["status"] for r in result["data"]["results"]] == ["moved", "moved"]
    assert {e.folder for e in env.db.emails_by_ids(["msg-1@example.com", "msg-2@example.com"])} == {
        "Archive"
    }

    undone = undo(env, {})
    assert "2 of 2" in undone["content"]
    assert ids_in(server, "INBOX") == [
        "msg-1@example.com",
        "msg-2@example.com",
        "msg-3@example.com",
    ]
    # The messages came back under new UIDs: the fetch reads them, but stores nothing twice.
    again = sync_source(env.db, env.source)
    assert again.new == []
    assert len(env.db.list_emails(source=env.source, limit=50)) == 3
    assert {e.folder for e in env.db.list_emails(source=env.source, limit=50)} == {"INBOX"}


def capabilities(server: DovecotServer) -> set[str]:
    conn = server.client()
    try:
        typ, data = conn.capability()
        assert typ == "OK", data
        return set(data[-1].decode().upper().split())
    finally:
        conn.logout()


def test_without_move_it_copies_and_expunges_only_that_message(start) -> None:
    server, env = start(extra=NO_MOVE)
    assert "MOVE" not in capabilities(server) and "UIDPLUS" in capabilities(server)
    server.append(message(1))
    server.append(message(2), flags="\\Deleted")  # someone else's deletion, not expunged yet
    sync_source(env.db, env.source)

    result = moves.archive(env, ["msg-1@example.com"], action="archive_conversations")

    assert result["data"]["failed"] == 0
    assert ids_in(server, "Archive") == ["msg-1@example.com"]
    # A plain EXPUNGE would have removed message 2 as well.
    assert ids_in(server, "INBOX") == ["msg-2@example.com"]
    assert "\\Deleted" in server.messages("INBOX")[0][1]


def test_archive_goes_to_the_special_use_folder(start) -> None:
    server, env = start(archive="Old Mail")
    server.append(message(1))
    sync_source(env.db, env.source)

    moves.archive(env, ["msg-1@example.com"], action="mark_done")

    assert ids_in(server, "Old Mail") == ["msg-1@example.com"]
    assert "Archive" not in server.folders()
    assert env.db.get_email("msg-1@example.com").folder == "Old Mail"


def test_flags_are_set_and_undone(start) -> None:
    server, env = start()
    server.append(message(1))
    server.append(message(2), flags="\\Seen")
    sync_source(env.db, env.source)

    moves.mark_read(env, ["msg-1@example.com", "msg-2@example.com"], True)
    moves.flag(env, ["msg-1@example.com"], True)
    flags = {uid: f for uid, f, _ in server.messages("INBOX")}
    assert all("\\Seen" in f for f in flags.values())
    assert "\\Flagged" in flags[min(flags)]

    undo(env, {})  # the flag
    undo(env, {})  # the read marks: message 2 was read before, message 1 was not
    flags = {uid: f for uid, f, _ in server.messages("INBOX")}
    assert flags[min(flags)] == set()
    assert flags[max(flags)] == {"\\Seen"}


def test_trash_never_deletes(start) -> None:
    server, env = start()
    server.append(message(1))
    sync_source(env.db, env.source)

    moves.trash(env, ["msg-1@example.com"])

    assert ids_in(server, "Trash") == ["msg-1@example.com"]
    assert all("\\Deleted" not in f for _, f, _ in server.messages("Trash"))


def test_a_missing_folder_a_tricky_name_and_a_gone_message_are_each_one_line(start) -> None:
    server, env = start()
    server.append(message(1))
    server.append(message(2))
    sync_source(env.db, env.source)

    with pytest.raises(ToolFailure, match="does not exist"):
        moves.move_to(env, ["msg-1@example.com"], "Projects", False)
    for name in ('Work" (\\Deleted', "../INBOX", "a/../../b", "*", "x%"):
        with pytest.raises(ToolFailure, match="not a folder name"):
            moves.move_to(env, ["msg-1@example.com"], name, True)
    assert sorted(server.folders()) == sorted(["INBOX", "Drafts", "Sent"])

    conn = server.client()
    conn.select('"INBOX"')
    conn.uid("STORE", str(uids(server, "INBOX")[1]), "+FLAGS", "(\\Deleted)")
    conn.expunge()
    conn.logout()
    result = moves.move_to(env, ["msg-1@example.com", "msg-2@example.com"], "Projects", True)
    assert result["content"].startswith("Partly done")
    assert ids_in(server, "Projects") == ["msg-1@example.com"]
    failed = [r for r in result["data"]["results"] if r["status"] == "failed"]
    assert [r["id"] for r in failed] == ["msg-2@example.com"]
    assert "no longer in the mailbox" in failed[0]["detail"]


def test_a_read_only_folder_is_one_clear_line(start) -> None:
    server, env = start("Shared")
    server.create("Shared")
    server.append(message(1), folder="Shared")
    sync_source(env.db, env.source)
    folder = Path(server.root) / "home" / server.user / "Maildir" / ".Shared"
    for sub in ("", "cur", "new", "tmp"):
        os.chmod(folder / sub, 0o555)
    try:
        with pytest.raises(ToolFailure, match="read-only") as failure:
            moves.archive(env, ["msg-1@example.com"], action="archive_conversations")
    finally:
        for sub in ("", "cur", "new", "tmp"):
            os.chmod(folder / sub, 0o755)
    assert str(failure.value).count("\n") == 0
    assert ids_in(server, "Shared") == ["msg-1@example.com"]
    assert env.db.get_email("msg-1@example.com").folder == "Shared"


def test_snooze_and_wake_on_imap(start) -> None:
    server, env = start()
    server.append(message(1))
    sync_source(env.db, env.source)
    now = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)

    moves.snooze(env, ["msg-1@example.com"], "2026-12-03T10:00:00+01:00", now=now)
    assert ids_in(server, "Snoozed") == ["msg-1@example.com"]

    def ops() -> MailboxOperations:
        return open_operations(env)

    assert wake_snoozed(env.db, env.source, ops, now + timedelta(minutes=59)) == []
    woken = wake_snoozed(env.db, env.source, ops, now + timedelta(hours=1))
    assert [(o.id, o.status) for o in woken] == [("msg-1@example.com", "moved")]
    assert ids_in(server, "INBOX") == ["msg-1@example.com"]
    assert sync_source(env.db, env.source).new == []


def test_a_message_id_that_cannot_go_into_a_command_is_found_by_its_uid(start) -> None:
    server, env = start()
    raw = message(1).replace(b"<msg-1@example.com>", '<m\u00fc" OR ALL@example.com>'.encode())
    server.append(raw)
    server.append(message(2))
    sync_source(env.db, env.source)
    [odd] = [
        e for e in env.db.list_emails(source=env.source, limit=5) if e.id != "msg-2@example.com"
    ]

    result = moves.archive(env, [odd.id], action="archive_conversations")

    assert result["data"]["failed"] == 0
    assert len(server.messages("Archive")) == 1
    assert ids_in(server, "INBOX") == ["msg-2@example.com"]


def test_without_move_or_uidplus_the_original_is_left_marked_deleted_and_said_so(start) -> None:
    server, env = start(extra=NO_MOVE.replace(" UIDPLUS", ""))
    assert not {"MOVE", "UIDPLUS"} & capabilities(server)
    server.append(message(1))
    server.append(message(2), flags="\\Deleted")
    sync_source(env.db, env.source)

    result = moves.archive(env, ["msg-1@example.com"], action="archive_conversations")

    assert ids_in(server, "Archive") == ["msg-1@example.com"]
    assert ids_in(server, "INBOX") == ["msg-1@example.com", "msg-2@example.com"]
    assert all("\\Deleted" in flags for _, flags, _ in server.messages("INBOX"))
    [line] = [x for x in result["content"].splitlines() if x.startswith("- ")]
    assert "moved INBOX → Archive (the original stays in INBOX marked deleted" in line
