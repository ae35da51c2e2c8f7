"""Gmail as a mail source, against a local server speaking the Gmail API's shape.

Full sync, then history; reads in batches of 50 with partial failures (a part rate limited,
a part failing, a message deleted meanwhile, a whole batch refused the token); a token that
expires mid-sync; a 429 with Retry-After; a historyId Gmail no longer has; one message that
cannot be read; sending and drafts in the thread; the inbox actions by labels.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from memory.db import AppDatabase
from memory.vault import CredentialVault
from tests.fakes.gmail_server import BATCH, ME, FakeGmail, error
from tests.fakes.http_api import Reply
from tests.fakes.oauth_server import FakeOAuth
from tools.google.api import GoogleApi, GoogleApiError, checked_base_url
from tools.http import HttpSettings
from tools.mail.compose import reply_message
from tools.mail.gmail.labels import parse_gmail_spec
from tools.mail.gmail.ops import GmailOperations
from tools.mail.gmail.source import GmailSource
from tools.mail.source_protocol import MailSourceError, SendsMail
from tools.oauth.accounts import Account, AccountStore, VaultTokens
from tools.oauth.grants import Grant
from tools.oauth.tokens import TokenError

pytestmark = pytest.mark.integration

FAST = HttpSettings(timeout=5, retries=2, max_wait=5, backoff=0)


class RotatingTokens:
    """Tokens that hand out the next one on each refresh (and count the refreshes)."""

    provider = "google"

    def __init__(self, *tokens: str, account: str = "work") -> None:
        self.account = account
        self._tokens = list(tokens)
        self.refreshes = 0

    def access_token(self) -> str:
        return self._tokens[0]

    def refreshed(self) -> str:
        self.refreshes += 1
        if len(self._tokens) == 1:
            raise TokenError("run `smart-inbox accounts add gmail work` again")
        self._tokens.pop(0)
        return self._tokens[0]

    def address(self) -> str:
        return "me@gmail.example"


def mail(number: int, *, subject: str = "", reply_to: str = "") -> bytes:
    message = EmailMessage()
    message["From"] = f"Sender {number} <sender{number}@example.org>"
    message["To"] = "me@gmail.example"
    message["Subject"] = subject or f"Message {number}"
    message["Date"] = f"Mon, 16 Nov 2026 {8 + number % 10:02d}:00:00 +0000"
    message["Message-ID"] = f"<m{number}@example.org>"
    if reply_to:
        message["In-Reply-To"] = f"<{reply_to}>"
        message["References"] = f"<{reply_to}>"
    message.set_content(f"Body of message {number}.\n")
    return bytes(message)


@pytest.fixture
def gmail() -> Iterator[FakeGmail]:
    server = FakeGmail()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def db(tmp_path: Path) -> AppDatabase:
    return AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")


def source_on(server: FakeGmail, tokens: RotatingTokens | None = None) -> GmailSource:
    tokens = tokens or RotatingTokens(server.token)
    sleeps: list[float] = []
    api = GoogleApi(server.base_url, tokens, name="Gmail", retry=FAST, sleep=sleeps.append)
    return GmailSource(parse_gmail_spec("gmail:work"), api)


def test_a_full_sync_reads_every_message_with_its_thread_and_folder(
    gmail: FakeGmail, db: AppDatabase
) -> None:
    first = gmail.add(mail(1))
    gmail.add(mail(2, reply_to="m1@example.org"))
    gmail.add(mail(3), labels=("SENT",))
    gmail.user_labels["Label_1"] = "Projects"
    gmail.add(mail(4), labels=("Label_1",))
    result = source_on(gmail).sync(db)
    assert result.read_count == 4 and not result.errors
    by_id = {e.id: e for e in result.new}
    assert by_id["m1@example.org"].thread_id == first.thread_id
    assert by_id["m2@example.org"].thread_id == first.thread_id
    assert by_id["m1@example.org"].folder == "INBOX"
    assert by_id["m3@example.org"].folder == "Sent"
    assert by_id["m4@example.org"].folder == "Projects"
    assert by_id["m1@example.org"].key == first.id
    assert db.get_cursor("gmail:work").signature == f"history:{gmail.history_id}"  # type: ignore[union-attr]


def test_a_first_sync_reads_fifty_messages_a_request(gmail: FakeGmail, db: AppDatabase) -> None:
    stored = [gmail.add(mail(number)) for number in range(120)]
    result = source_on(gmail).sync(db)
    assert result.read_count == 120 and not result.errors
    batches = gmail.calls("POST", BATCH)
    assert [len(b.body.split(b"Content-Type: application/http")) - 1 for b in batches] == [
        50,
        50,
        20,
    ]
    assert sorted(r.path.rsplit("/", 1)[1] for r in gmail.parts) == sorted(m.id for m in stored)
    # The fake answers the parts in reverse order: each message is still its own.
    by_key = {e.key: e for e in result.new}
    assert all(by_key[m.id].id == m.message_id for m in stored)


def test_parts_rate_limited_or_failing_are_asked_again_and_a_deleted_one_skipped(
    gmail: FakeGmail, db: AppDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    first, second, gone, *_ = [gmail.add(mail(number)) for number in range(5)]
    gmail.part_failures = {
        first.id: [Reply(429, {"error": {"code": 429}}, {"Retry-After": "2"})],
        second.id: [error(503, "Backend Error"), error(500, "Backend Error")],
        gone.id: [error(404, "Requested entity was not found.")],
    }
    caplog.set_level(logging.INFO, logger="tools.mail.gmail.source")
    sleeps: list[float] = []
    api = GoogleApi(gmail.base_url, RotatingTokens(gmail.token), name="Gmail", retry=FAST,
                    sleep=sleeps.append)  # fmt: skip
    result = GmailSource(parse_gmail_spec("gmail:work"), api).sync(db)
    assert result.read_count == 4 and not result.errors
    assert gone.id not in db.known_keys("gmail:work")
    assert f"message {gone.id} was deleted before it could be read" in caplog.text
    assert sleeps[0] == 2.0 and len(sleeps) == 2, "Retry-After first, then a backoff"
    sizes = [
        len(b.body.split(b"Content-Type: application/http")) - 1 for b in gmail.calls("POST", BATCH)
    ]
    assert sizes == [5, 2, 1], "only the failed parts are asked again"


def test_a_part_that_keeps_failing_is_unreadable_and_the_rest_kept(
    gmail: FakeGmail, db: AppDatabase
) -> None:
    good = gmail.add(mail(1))
    bad = gmail.add(mail(2))
    gmail.part_failures = {bad.id: [error(503, "Backend Error")] * 10}
    result = source_on(gmail).sync(db)
    [unreadable] = result.errors
    assert unreadable.key == bad.id and "503" in unreadable.error
    assert [e.key for e in result.new if not e.error] == [good.id]
    assert len(gmail.calls("POST", BATCH)) == 1 + FAST.retries, "bounded"


def test_a_part_still_rate_limited_fails_the_fetch_and_loses_nothing(
    gmail: FakeGmail, db: AppDatabase
) -> None:
    good = gmail.add(mail(1))
    limited = gmail.add(mail(2))
    gmail.part_failures = {limited.id: [error(429, "Rate Limit Exceeded")] * 3}
    with pytest.raises(MailSourceError, match="429"):
        source_on(gmail).sync(db)
    assert db.known_keys("gmail:work") == {good.id}, "what was read is kept"
    assert db.get_cursor("gmail:work") is None, "the next fetch lists again"
    again = source_on(gmail).sync(db)
    assert [e.key for e in again.new] == [limited.id], "and reads only what is missing"


def test_a_whole_batch_refused_the_token_is_refreshed_once(
    gmail: FakeGmail, db: AppDatabase
) -> None:
    for number in range(3):
        gmail.add(mail(number))
    gmail.expire_after = 2  # profile and list answered; the batch meets the next token
    tokens = RotatingTokens(gmail.token, gmail.next_token)
    result = source_on(gmail, tokens).sync(db)
    assert tokens.refreshes == 1 and result.read_count == 3
    first, second = gmail.calls("POST", BATCH)
    assert first.headers["authorization"] == "Bearer gmail-token-1"
    assert second.headers["authorization"] == "Bearer gmail-token-2"


def test_a_resync_of_an_unchanged_mailbox_is_one_history_call_and_no_read(
    gmail: FakeGmail, db: AppDatabase
) -> None:
    for number in range(3):
        gmail.add(mail(number))
    source_on(gmail).sync(db)
    gmail.requests.clear()
    again = source_on(gmail).sync(db)
    assert again.skipped and again.read_count == 0 and again.new == []
    assert [(r.method, r.path) for r in gmail.requests] == [("GET", "/gmail/v1/users/me/history")]


def test_new_mail_and_label_changes_come_from_the_history(
    gmail: FakeGmail, db: AppDatabase
) -> None:
    first = gmail.add(mail(1))
    source_on(gmail).sync(db)
    gmail.add(mail(2))
    gmail.relabel(first.id, [], ["INBOX"])  # archived in Gmail's own app
    gmail.requests.clear()
    result = source_on(gmail).sync(db)
    assert [e.id for e in result.new] == ["m2@example.org"]
    assert result.read_count == 1
    raw_reads = [r for r in gmail.requests if r.query.get("format") == ["raw"]]
    assert [r.path.rsplit("/", 1)[1] for r in raw_reads] == [
        gmail.messages[list(gmail.messages)[1]].id
    ]
    assert db.get_email("m1@example.org").folder == "Archive"  # type: ignore[union-attr]


def test_a_history_gmail_forgot_means_one_full_listing_that_reads_only_new_mail(
    gmail: FakeGmail, db: AppDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    gmail.add(mail(1))
    source_on(gmail).sync(db)
    gmail.add(mail(2))
    gmail.forget_history()
    result = source_on(gmail).sync(db)
    assert [e.id for e in result.new] == ["m2@example.org"] and result.read_count == 1
    assert "no longer has the history" in caplog.text
    assert db.get_cursor("gmail:work").signature == f"history:{gmail.history_id}"  # type: ignore[union-attr]


def test_a_token_that_expires_mid_sync_is_refreshed_once(gmail: FakeGmail, db: AppDatabase) -> None:
    for number in range(4):
        gmail.add(mail(number))
    gmail.expire_after = 3  # profile, list, one message of the batch; then the next token
    tokens = RotatingTokens(gmail.token, gmail.next_token)
    result = source_on(gmail, tokens).sync(db)
    assert tokens.refreshes == 1
    assert result.read_count == 4 and not result.errors
    refused = [r for r in gmail.requests if r.headers["authorization"] == "Bearer gmail-token-1"]
    calls = [r for r in refused if r not in gmail.parts]
    assert [r.path for r in calls] == [f"{ME}/profile", f"{ME}/messages", BATCH]
    assert len([r for r in refused if r in gmail.parts]) == 4  # one answered, three refused
    again = [r for r in gmail.parts if r.headers["authorization"] == "Bearer gmail-token-2"]
    assert len(again) == 3, "only the refused parts are asked again"


def test_a_connected_account_refreshes_its_grant_after_a_401(
    gmail: FakeGmail, db: AppDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SMART_INBOX_KEY", raising=False)
    gmail.add(mail(1))
    with FakeOAuth(client_secret="shh") as oauth:
        for name, value in oauth.endpoints("google").items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("SMART_INBOX_OAUTH_GOOGLE_CLIENT_ID", oauth.client_id)
        monkeypatch.setenv("SMART_INBOX_OAUTH_GOOGLE_CLIENT_SECRET", oauth.client_secret)
        issued = oauth._issue(refresh=True)
        grant = Grant(str(issued["access_token"]), str(issued["refresh_token"]), time.time() + 3600)
        store = AccountStore(CredentialVault(db, tmp_path))
        store.save(Account("work", "google", "me@gmail.example").with_grant(grant))
        oauth.access.clear()  # the access token died early: the vault still thinks it fresh
        gmail.accepts = oauth.live
        tokens = VaultTokens(store, "work")
        api = GoogleApi(gmail.base_url, tokens, name="Gmail", retry=FAST)
        result = GmailSource(parse_gmail_spec("gmail:work"), api).sync(db)
        assert result.read_count == 1
        assert len(oauth.calls("POST", "/token")) == 1, "refreshed exactly once"
        oauth.revoke_everything()
        gmail.add(mail(2))
        with pytest.raises(MailSourceError, match="accounts add gmail work"):
            GmailSource(parse_gmail_spec("gmail:work"), api).sync(db)


def test_a_token_that_cannot_be_refreshed_is_one_clear_error(
    gmail: FakeGmail, db: AppDatabase
) -> None:
    gmail.token = "something-else"
    with pytest.raises(MailSourceError) as caught:
        source_on(gmail, RotatingTokens("stale")).sync(db)
    assert "accounts add gmail work" in str(caught.value)
    assert "stale" not in str(caught.value)


def test_a_429_waits_as_retry_after_asks(gmail: FakeGmail, db: AppDatabase) -> None:
    gmail.add(mail(1))
    gmail.script(Reply(429, {"error": {"code": 429}}, {"Retry-After": "2"}))
    sleeps: list[float] = []
    api = GoogleApi(
        gmail.base_url, RotatingTokens(gmail.token), name="Gmail", retry=FAST, sleep=sleeps.append
    )
    result = GmailSource(parse_gmail_spec("gmail:work"), api).sync(db)
    assert sleeps == [2.0] and result.read_count == 1


def test_a_retry_after_beyond_the_bound_is_given_up_on(gmail: FakeGmail, db: AppDatabase) -> None:
    gmail.script(Reply(429, {"error": {"code": 429}}, {"Retry-After": "600"}))
    with pytest.raises(MailSourceError, match="longer than INTEGRATION_MAX_WAIT"):
        source_on(gmail).sync(db)


def test_one_message_that_fails_comes_back_unreadable_and_the_rest_are_read(
    gmail: FakeGmail, db: AppDatabase
) -> None:
    gmail.add(mail(1))
    bad = gmail.add(mail(2))
    gmail.add(mail(3))
    gmail.broken.add(bad.id)
    result = source_on(gmail).sync(db)
    [unreadable] = result.errors
    assert unreadable.key == bad.id and "500" in unreadable.error
    assert {e.id for e in result.new if not e.error} == {"m1@example.org", "m3@example.org"}
    assert len(db.known_keys("gmail:work")) == 3, "nothing lost"


def test_a_reply_is_sent_in_its_thread_and_found_in_sent(gmail: FakeGmail, db: AppDatabase) -> None:
    original = gmail.add(mail(1))
    source = source_on(gmail)
    [email] = source.sync(db).new
    assert isinstance(source, SendsMail)
    reply = reply_message(email, body="Thanks, done.", sender="me@gmail.example")
    source.send(bytes(reply))
    [sent] = gmail.calls("POST", "/gmail/v1/users/me/messages/send")
    assert sent.json["threadId"] == original.thread_id
    key = source.save_sent(bytes(reply))
    assert gmail.messages[key].thread_id == original.thread_id
    assert gmail.messages[key].labels == ["SENT"] and len(gmail.messages) == 2, "no copy added"
    message_id = str(reply["Message-ID"])
    assert source_on(gmail).find_sent([message_id]) == {message_id: key}
    assert source_on(gmail).save_sent(bytes(reply)) == key


def test_a_draft_is_kept_in_the_thread(gmail: FakeGmail, db: AppDatabase) -> None:
    original = gmail.add(mail(1))
    source = source_on(gmail)
    [email] = source.sync(db).new
    key = source.save_draft(
        bytes(reply_message(email, body="Draft text", sender="me@gmail.example"))
    )
    assert gmail.messages[key].labels == ["DRAFT"]
    assert gmail.messages[key].thread_id == original.thread_id


def test_archive_trash_move_read_and_flag_are_labels(gmail: FakeGmail, db: AppDatabase) -> None:
    first, second = gmail.add(mail(1)), gmail.add(mail(2))
    source = source_on(gmail)
    emails = {e.key: e for e in source.sync(db).new}
    ops = GmailOperations(source)
    [archived] = ops.move([emails[first.id]], ops.folder_for("archive"))
    assert archived.status == "moved" and archived.to_folder == "Archive"
    assert "INBOX" not in gmail.messages[first.id].labels
    [again] = ops.move([emails[first.id]], "Archive")
    assert again.status == "already"
    [back] = ops.move([emails[first.id]], "INBOX", create=True)
    assert back.status == "moved" and "INBOX" in gmail.messages[first.id].labels
    [trashed] = ops.move([emails[second.id]], ops.folder_for("trash"))
    assert trashed.ok and "TRASH" in gmail.messages[second.id].labels
    [read] = ops.set_flag([emails[first.id]], "seen", True)
    assert read.status == "changed" and "UNREAD" not in gmail.messages[first.id].labels
    [starred] = ops.set_flag([emails[first.id]], "flagged", True)
    assert starred.flags_before == ("seen",) and "STARRED" in gmail.messages[first.id].labels
    with pytest.raises(Exception, match="does not exist"):
        ops.move([emails[first.id]], "Receipts")
    [filed] = ops.move([emails[first.id]], "Receipts", create=True)
    assert filed.to_folder == "Receipts" and "INBOX" not in gmail.messages[first.id].labels
    assert ops.folder_for("snoozed") == "Snoozed" and "Snoozed" in gmail.user_labels.values()


def test_errors_name_gmail_and_never_the_token(gmail: FakeGmail) -> None:
    api = GoogleApi(gmail.base_url, RotatingTokens("secret-token-xyz"), name="Gmail", retry=FAST)
    with pytest.raises(GoogleApiError) as caught:
        api.request("GET", "/gmail/v1/users/me/profile", params={"q": "private words"})
    text = str(caught.value)
    assert text.startswith("Gmail") and "secret-token-xyz" not in text
    assert "private words" not in text


def test_plain_http_is_only_for_this_machine() -> None:
    assert checked_base_url("http://127.0.0.1:8080/", variable="X") == "http://127.0.0.1:8080"
    with pytest.raises(GoogleApiError, match="plain http"):
        checked_base_url("http://gmail.example.com", variable="SMART_INBOX_GMAIL_API")
