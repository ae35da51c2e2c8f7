"""The IMAP source against a real Dovecot: incremental fetch, read-only, drafts, errors, TLS."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from memory.db import AppDatabase
from memory.email_ids import disambiguated_id
from tests.fakes.imap_server import DovecotServer
from tests.fakes.smtp_server import SmtpSink
from tools.mail import imap
from tools.mail.compose import new_message
from tools.mail.delivery import deliver
from tools.mail.imap import ImapSource
from tools.mail.imap_spec import parse_imap_spec
from tools.mail.imap_wire import encode_mailbox
from tools.mail.mailbox import MailboxEnv
from tools.mail.outgoing import store_draft
from tools.mail.smtp_settings import SmtpSettings
from tools.mail.source_protocol import MailSourceError
from tools.mail.sync import sync_source
from tools.toolkit import ToolFailure

pytestmark = pytest.mark.integration


def message(n: int, subject: str = "", *, message_id: bool = True) -> bytes:
    headers = [
        f"From: Sender {n} <sender{n}@example.com>",
        "To: dana@example.com",
        f"Subject: {subject or f'Message number {n}'}",
        f"Date: Mon, 16 Nov 2026 08:{n % 60:02d}:00 +0000",
    ]
    if message_id:
        headers.append(f"Message-ID: <msg-{n}@example.com>")
    return ("\r\n".join(headers) + f"\r\n\r\nBody of message {n}.\r\n").encode()


def lookup(server: DovecotServer) -> Callable[[str], str | None]:
    return {"imap.password": server.password}.get


def open_source(
    server: DovecotServer,
    folder: str = "INBOX",
    *,
    tls: str = "implicit",
    ca_file: str | None = "server",
    password: str | None = None,
    timeout: float = 10,
) -> ImapSource:
    secrets = lookup(server) if password is None else {"imap.password": password}.get
    return ImapSource(
        parse_imap_spec(server.spec(folder, tls=tls)),
        secrets=secrets,
        ca_file=server.ca_file if ca_file == "server" else ca_file,
        timeout=timeout,
    )


@pytest.fixture
def db(tmp_path: Path) -> AppDatabase:
    return AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")


def cached(db: AppDatabase, source: ImapSource) -> list[str]:
    return sorted(e.id for e in db.list_emails(source=source.spec, limit=1000))


# --------------------------------------------------------------------------- incremental fetch


def test_first_fetch_reads_all_second_reads_none_and_flags_never_change(
    dovecot: DovecotServer, db: AppDatabase
) -> None:
    uids = [
        dovecot.append(message(1), flags="\\Seen"),
        dovecot.append(message(2)),
        dovecot.append(message(3), flags="\\Flagged"),
    ]
    flags_before = dovecot.flags()
    assert flags_before[uids[1]] == set(), flags_before
    source = open_source(dovecot)

    mark = dovecot.quiet_mark()
    first = source.sync(db)
    assert sorted(e.id for e in first.new) == [
        "msg-1@example.com",
        "msg-2@example.com",
        "msg-3@example.com",
    ]
    assert first.read_count == 3 and not first.errors and not first.skipped
    assert dovecot.bodies_read_since(mark) == 3  # the server's own count
    validity, _ = dovecot.status()
    assert {e.key for e in first.new} == {f"{validity}:{uid}" for uid in uids}
    assert all(e.folder == "INBOX" and e.source == source.spec for e in first.new)
    cursor = db.get_cursor(source.spec)
    assert cursor is not None and cursor.signature == f"uidvalidity={validity} uid={uids[-1]}"
    assert cursor.message_count == 3
    # Read-only: the unread message is still unread, nothing else changed either.
    assert dovecot.flags() == flags_before

    mark = dovecot.quiet_mark()
    second = source.sync(db)
    assert second.skipped and second.new == [] and second.read_count == 0
    assert dovecot.bodies_read_since(mark) == 0
    assert dovecot.flags() == flags_before


def test_new_mail_is_the_only_mail_read(dovecot: DovecotServer, db: AppDatabase) -> None:
    for n in (1, 2):
        dovecot.append(message(n))
    source = open_source(dovecot)
    assert len(source.sync(db).new) == 2
    uid = dovecot.append(message(3, "Fresh news"))

    mark = dovecot.quiet_mark()
    result = source.sync(db)
    assert [e.subject for e in result.new] == ["Fresh news"]
    assert result.read_count == 1
    assert dovecot.bodies_read_since(mark) == 1
    cursor = db.get_cursor(source.spec)
    assert cursor is not None and cursor.signature.endswith(f" uid={uid}")
    assert len(cached(db, source)) == 3


def test_sync_source_with_the_environment(
    dovecot: DovecotServer, db: AppDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The path the graph takes: a spec string, the password and CA from the environment."""
    dovecot.append(message(1))
    for name, value in dovecot.env().items():
        monkeypatch.setenv(name, value)
    result = sync_source(db, dovecot.spec())
    assert [e.id for e in result.new] == ["msg-1@example.com"]
    assert result.source == f"imap://dana@127.0.0.1:{dovecot.tls_port}/INBOX"


def test_uidvalidity_change_reads_only_mail_not_cached(
    dovecot: DovecotServer, db: AppDatabase
) -> None:
    dovecot.create("Work")
    dovecot.append(message(1), "Work")
    dovecot.append(message(2, "No id here", message_id=False), "Work")
    source = open_source(dovecot, "Work")
    first = source.sync(db)
    assert len(first.new) == 2
    before = cached(db, source)
    validity_before, _ = dovecot.status("Work")

    # The folder is deleted and made again: same mail, new UIDVALIDITY, every UID new.
    dovecot.delete("Work")
    dovecot.create("Work")
    dovecot.append(message(2, "No id here", message_id=False), "Work")
    dovecot.append(message(1), "Work")
    dovecot.append(message(3, "Only this is new"), "Work")
    validity_after, count = dovecot.status("Work")
    assert validity_after != validity_before and count == 3

    mark = dovecot.quiet_mark()
    result = source.sync(db)
    assert [e.subject for e in result.new] == ["Only this is new"]
    # Message 1 is recognised by its Message-ID alone; message 2 has none, so it is read again
    # to compute its content id, which is cached: it is not stored twice.
    assert result.read_count == 2
    assert dovecot.bodies_read_since(mark) == 2
    after = cached(db, source)
    assert len(after) == len(set(after)) == 3
    assert set(before) < set(after)
    cursor = db.get_cursor(source.spec)
    assert cursor is not None and cursor.signature.startswith(f"uidvalidity={validity_after} ")
    assert source.sync(db).skipped


def test_a_later_message_reusing_a_message_id_is_kept_under_its_own_id(
    dovecot: DovecotServer, db: AppDatabase
) -> None:
    """A forged copy of a Message-ID is a message of its own: stored, never the genuine one."""
    dovecot.append(message(1))
    source = open_source(dovecot)
    source.sync(db)
    forged = message(1).replace(b"sender1@example.com", b"billing@forged.example")
    uid = dovecot.append(forged)
    [new] = source.sync(db).new
    validity, _ = dovecot.status("INBOX")
    assert new.id == disambiguated_id("msg-1@example.com", source.spec, f"{validity}:{uid}")
    assert new.from_addr == "billing@forged.example"
    genuine = db.get_email("msg-1@example.com")
    assert genuine is not None and genuine.from_addr == "sender1@example.com"
    assert len(cached(db, source)) == 2


def test_cache_lost_cursor_relists_without_duplicates(
    dovecot: DovecotServer, db: AppDatabase
) -> None:
    """A cursor that is gone (say, a copied database) is treated like a new UIDVALIDITY."""
    for n in (1, 2, 3):
        dovecot.append(message(n))
    source = open_source(dovecot)
    source.sync(db)
    db.set_cursor(source.spec, "", 0)
    mark = dovecot.quiet_mark()
    result = source.sync(db)
    assert result.new == [] and result.read_count == 0
    assert dovecot.bodies_read_since(mark) == 0
    assert len(cached(db, source)) == 3


# --------------------------------------------------------------------------- bad messages


def test_malformed_message_is_a_per_message_error(dovecot: DovecotServer, db: AppDatabase) -> None:
    broken = (
        b"From: broken@example.com\r\nSubject: Broken\r\nMessage-ID: <broken@example.com>\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="never-there"\r\n\r\n'
        b"no boundary ever appears\r\n"
    )
    dovecot.append(message(1))
    dovecot.append(broken)
    dovecot.append(message(3))
    result = open_source(dovecot).sync(db)
    assert len(result.new) == 3
    assert [e.id for e in result.errors] == ["broken@example.com"]
    assert "boundary" in result.errors[0].error
    assert open_source(dovecot).sync(db).skipped


def test_message_the_server_cannot_send_does_not_stop_the_fetch(
    dovecot: DovecotServer, db: AppDatabase
) -> None:
    for n in (1, 2, 3):
        dovecot.append(message(n))
    # Dovecot cannot open the file of the second message: it ends the session on that FETCH.
    dovecot.message_file(1).chmod(0)
    result = open_source(dovecot).sync(db)
    read = sorted(e.id for e in result.new if not e.error)
    if not result.errors and "msg-2@example.com" in read:
        # Dovecot kept the message in its own cache when it was appended and never opened the
        # file: the unreadable-file case did not happen on this run, so there is nothing to see.
        pytest.skip("Dovecot served message 2 from its cache; the unreadable file was not read")
    assert read == [
        "msg-1@example.com",
        "msg-3@example.com",
    ]
    assert len(result.errors) == 1
    assert "dropped the connection" in result.errors[0].error
    cursor = db.get_cursor(open_source(dovecot).spec)
    assert cursor is not None and cursor.signature.endswith(" uid=3")


def test_server_dying_mid_fetch_keeps_what_was_read(
    dovecot: DovecotServer, db: AppDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(1, 7):
        dovecot.append(message(n))
    monkeypatch.setattr(imap, "FETCH_BATCH", 2)
    source = open_source(dovecot)
    real_read_batch = ImapSource._read_batch
    batches = 0

    def read_then_die(self: ImapSource, *args: object, **kwargs: object) -> object:
        nonlocal batches
        result = real_read_batch(self, *args, **kwargs)  # type: ignore[arg-type]
        batches += 1
        if batches == 2:
            dovecot.halt()
        return result

    monkeypatch.setattr(ImapSource, "_read_batch", read_then_die)
    with pytest.raises(MailSourceError) as info:
        source.sync(db)
    assert f"inbox {source.spec}: " in str(info.value)
    assert "refused" in str(info.value) or "closed the connection" in str(info.value)
    # The two batches read before the server died are cached, and the cursor says so.
    assert cached(db, source) == [f"msg-{n}@example.com" for n in (1, 2, 3, 4)]
    cursor = db.get_cursor(source.spec)
    assert cursor is not None and cursor.signature.endswith(" uid=4")


# --------------------------------------------------------------------------- writing


def draft_message() -> EmailMessage:
    return new_message(
        sender="dana@example.com",
        to=["bob@example.com"],
        subject="Roadmap notes",
        body="Here are my notes.",
    )


@pytest.mark.parametrize(
    ("options", "folder"),
    [
        ({}, "Drafts"),
        ({"drafts": "Brouillons"}, "Brouillons"),
        ({"drafts": "Entwürfe"}, "Entwürfe"),
        ({"drafts": None, "special_use": False}, "Drafts"),
    ],
    ids=["special-use", "special-use-other-name", "special-use-utf7-name", "created"],
)
def test_draft_lands_in_the_drafts_folder_flagged_draft(
    start_dovecot: Callable[..., DovecotServer],
    db: AppDatabase,
    monkeypatch: pytest.MonkeyPatch,
    options: dict[str, object],
    folder: str,
) -> None:
    server = start_dovecot(**options)
    server.append(message(1), flags="\\Seen")
    inbox_before = server.messages()
    monkeypatch.setenv("IMAP_CA_FILE", server.ca_file)
    env = MailboxEnv(db=db, source=server.spec(), secrets=lookup(server))
    key, text = store_draft(env, draft_message())
    assert text.startswith("Draft saved in Drafts")
    encoded = encode_mailbox(folder)
    drafts = server.messages(encoded)
    assert len(drafts) == 1
    uid, flags, raw = drafts[0]
    assert "\\Draft" in flags
    assert b"Subject: Roadmap notes" in raw and b"Here are my notes." in raw
    assert key.startswith(f"{folder};UIDVALIDITY=") and key.endswith(f"/;UID={uid}")
    assert server.messages() == inbox_before  # nothing else was touched


def test_sent_copy_lands_in_sent(
    dovecot: DovecotServer, db: AppDatabase, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAP_CA_FILE", dovecot.ca_file)
    env = MailboxEnv(
        db=db,
        source=dovecot.spec(),
        smtp=SmtpSettings.from_url(smtp_sink.url),
        sender="dana@example.com",
        secrets=lookup(dovecot),
    )
    delivery = deliver(env, draft_message())
    assert len(smtp_sink.wait_for(1)) == 1
    assert delivery.sent_copy_key.startswith("Sent;UIDVALIDITY=")
    sent = dovecot.messages("Sent")
    assert len(sent) == 1
    assert sent[0][1] == {"\\Seen"}
    assert delivery.receipt.message_id.encode() in sent[0][2]


def test_a_sent_copy_is_found_by_its_message_id(
    dovecot: DovecotServer, db: AppDatabase, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAP_CA_FILE", dovecot.ca_file)
    source = open_source(dovecot)
    wanted = "<retry-1@smart-inbox.local>"
    assert source.find_sent([wanted]) == {}, "no Sent folder yet: nothing was kept in it"
    dovecot.append(message(7), folder="INBOX")  # the same id elsewhere is not a Sent copy
    env = MailboxEnv(
        db=db,
        source=dovecot.spec(),
        smtp=SmtpSettings.from_url(smtp_sink.url),
        sender="dana@example.com",
        secrets=lookup(dovecot),
    )
    other = draft_message()
    deliver(env, other)
    sent = draft_message()
    del sent["Message-ID"]
    sent["Message-ID"] = wanted
    delivery = deliver(env, sent)
    found = source.find_sent([wanted, "msg-7@example.com", "<never@sent.example>"])
    assert found == {wanted: delivery.sent_copy_key}
    assert source.find_sent([str(other["Message-ID"])]) != {}
    assert len(dovecot.messages("Sent")) == 2, "looking writes nothing"


def test_draft_with_a_wrong_password_is_a_tool_failure(
    dovecot: DovecotServer, db: AppDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAP_CA_FILE", dovecot.ca_file)
    env = MailboxEnv(db=db, source=dovecot.spec(), secrets={"imap.password": "wrong-one"}.get)
    with pytest.raises(ToolFailure) as info:
        store_draft(env, draft_message())
    assert str(info.value).startswith("the draft was not saved: ")
    assert "login failed for user 'dana'" in str(info.value)
    assert "wrong-one" not in str(info.value)
    assert dovecot.messages("Drafts") == []


# --------------------------------------------------------------------------- connecting


def test_starttls_and_plain_to_localhost_work(dovecot: DovecotServer, tmp_path: Path) -> None:
    dovecot.append(message(1))
    for n, tls in enumerate(("starttls", "none")):
        db = AppDatabase(f"sqlite:///{tmp_path / f'{n}.db'}")
        result = open_source(dovecot, tls=tls).sync(db)
        assert [e.id for e in result.new] == ["msg-1@example.com"], tls
    assert "TLS" in dovecot.log()


def test_wrong_password_is_a_clear_error(dovecot: DovecotServer, db: AppDatabase) -> None:
    with pytest.raises(MailSourceError) as info:
        open_source(dovecot, password="not-the-password").sync(db)
    text = str(info.value)
    assert text.startswith(f"inbox imap://dana@127.0.0.1:{dovecot.tls_port}/INBOX: ")
    assert "login failed for user 'dana'" in text
    assert "AUTHENTICATIONFAILED" in text
    assert "not-the-password" not in text
    assert db.get_cursor(open_source(dovecot).spec) is None


def test_missing_password_names_the_variable(dovecot: DovecotServer, db: AppDatabase) -> None:
    source = ImapSource(
        parse_imap_spec(dovecot.spec()), secrets=lambda _name: None, ca_file=dovecot.ca_file
    )
    with pytest.raises(
        MailSourceError,
        match=r"no IMAP password: store the credential .imap.password:.*IMAP_PASSWORD",
    ):
        source.sync(db)


def test_missing_folder_lists_the_folders(dovecot: DovecotServer, db: AppDatabase) -> None:
    with pytest.raises(MailSourceError) as info:
        open_source(dovecot, "Nope").sync(db)
    assert "folder 'Nope' cannot be opened" in str(info.value)
    assert "folders on the server: Drafts, INBOX, Sent" in str(info.value)


def test_dead_port_is_a_clear_error(db: AppDatabase) -> None:
    from tests.fakes.smtp_server import free_port

    port = free_port()
    source = ImapSource(parse_imap_spec(f"imap://dana@127.0.0.1:{port}"), secrets=lambda _: "x")
    with pytest.raises(MailSourceError) as info:
        source.sync(db)
    assert str(info.value) == (
        f"inbox imap://dana@127.0.0.1:{port}/INBOX: connection refused by 127.0.0.1:{port} "
        "(is the IMAP server running?)"
    )


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never says a word."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in accepted:
            conn.close()
        listener.close()


def test_server_that_never_answers_times_out(silent_server: int, db: AppDatabase) -> None:
    spec = parse_imap_spec(f"imap://dana@127.0.0.1:{silent_server}/INBOX?tls=starttls")
    source = ImapSource(spec, secrets=lambda _: "x", timeout=0.5)
    with pytest.raises(MailSourceError, match=r"timed out after 0\.5s waiting for the server"):
        source.sync(db)


def test_untrusted_certificate_fails_unless_its_ca_is_given(
    dovecot: DovecotServer, db: AppDatabase
) -> None:
    dovecot.append(message(1))
    with pytest.raises(MailSourceError) as info:
        open_source(dovecot, ca_file=None).sync(db)
    assert "TLS certificate verification failed" in str(info.value)
    assert "set IMAP_CA_FILE" in str(info.value)
    with pytest.raises(MailSourceError, match="TLS certificate verification failed"):
        open_source(dovecot, tls="starttls", ca_file=None).sync(db)
    assert db.get_cursor(open_source(dovecot).spec) is None
    assert len(open_source(dovecot).sync(db).new) == 1


def test_tls_to_the_plain_port_says_to_use_starttls(
    dovecot: DovecotServer, db: AppDatabase
) -> None:
    spec = parse_imap_spec(f"imap://dana@127.0.0.1:{dovecot.plain_port}/INBOX")
    source = ImapSource(spec, secrets=lookup(dovecot), ca_file=dovecot.ca_file, timeout=5)
    with pytest.raises(MailSourceError, match=r"use \?tls=starttls"):
        source.sync(db)


def test_missing_dovecot_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fakes import imap_server

    monkeypatch.setattr(imap_server, "dovecot_binary", lambda: None)
    with pytest.raises(
        RuntimeError, match="apt-get install -y --no-install-recommends dovecot-imapd"
    ):
        DovecotServer().start()


def test_the_account_credential_comes_first_and_an_unreadable_vault_is_one_line(
    dovecot: DovecotServer, db: AppDatabase
) -> None:
    from memory.credential_cipher import VaultKeyError

    asked: list[str] = []

    def generic_only(name: str) -> str | None:
        asked.append(name)
        return dovecot.password if name == "imap.password" else None

    source = ImapSource(
        parse_imap_spec(dovecot.spec()), secrets=generic_only, ca_file=dovecot.ca_file
    )
    source.sync(db)  # logs in with the generic credential after asking for the account's own
    assert asked[:2] == [f"imap.password:{source.imap.user}@{source.imap.host}", "imap.password"]

    def locked(name: str) -> str | None:
        raise VaultKeyError("credential imap.password is under key 1a2b3c, which the ring lacks")

    source = ImapSource(parse_imap_spec(dovecot.spec()), secrets=locked, ca_file=dovecot.ca_file)
    with pytest.raises(MailSourceError, match=r"the IMAP password cannot be read: credential"):
        source.sync(db)
