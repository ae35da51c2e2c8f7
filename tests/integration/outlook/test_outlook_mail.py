"""An `outlook:` inbox against a local server speaking Microsoft Graph: sync, send, act."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from memory.db import AppDatabase
from tests.fakes.graph_server import FakeGraph, GraphTokens, throttled
from tools.http import HttpSettings, HttpSettingsError
from tools.mail.compose import reply_message
from tools.mail.delivery import _deliver_by_source, deliver
from tools.mail.mailbox import MailboxEnv, missing_for_sending
from tools.mail.msgraph.ops import OutlookOperations
from tools.mail.msgraph.source import OutlookSource
from tools.mail.source_protocol import MailSourceError
from tools.mail.sources import parse_source_spec
from tools.msgraph.client import GraphClient, graph_api_url

pytestmark = pytest.mark.integration


def mail(n: int, subject: str = "Quarterly numbers", **headers: str) -> bytes:
    extra = "".join(f"{k.replace('_', '-')}: {v}\n" for k, v in headers.items())
    return (
        f"From: Sofia Lind <sofia@fabrikam.example>\nTo: me@contoso.example\n"
        f"Subject: {subject}\nDate: Tue, 1 Dec 2026 09:0{n % 10}:00 +0000\n"
        f"Message-ID: <m{n}@fabrikam.example>\n{extra}\nHello, message number {n}.\n"
    ).encode()


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph() as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def db(tmp_path: Path) -> AppDatabase:
    return AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")


class Waits(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def source_on(graph: FakeGraph, tokens: GraphTokens | None = None) -> tuple[OutlookSource, Waits]:
    waits = Waits()
    client = GraphClient(tokens or graph.tokens(), graph.base_url, HttpSettings(timeout=5), waits)
    return OutlookSource("work", client), waits


def test_sync_reads_each_message_once_and_an_unchanged_mailbox_costs_one_delta_call_a_folder(
    graph: FakeGraph, db: AppDatabase
) -> None:
    ids = [graph.deliver(mail(n), conversation_id="conv-q") for n in range(5)]
    sent = graph.deliver(mail(9, "Re: Quarterly numbers"), "sentitems", conversation_id="conv-q")
    source, _ = source_on(graph)

    first = source.sync(db)

    assert sorted(e.key for e in first.new) == sorted([*ids, sent])
    assert first.read_count == 6
    assert {e.thread_id for e in first.new} == {"conv-q"}
    assert {e.folder for e in first.new} == {"INBOX", "Sent"}
    assert not first.errors

    graph.requests.clear()
    again = source.sync(db)

    assert again.new == [] and again.read_count == 0 and again.skipped
    assert [r.path.rsplit("/", 3)[-3] for r in graph.requests] == ["inbox", "sentitems"]
    assert all(r.path.endswith("/delta") for r in graph.requests)

    graph.deliver(mail(7))
    newer = source.sync(db)
    assert [e.id for e in newer.new] == ["m7@fabrikam.example"]


def test_a_token_that_lapses_mid_sync_is_refreshed_once(graph: FakeGraph, db: AppDatabase) -> None:
    for n in range(4):
        graph.deliver(mail(n))
    tokens = graph.tokens()
    source, _ = source_on(graph, tokens)
    graph.expire_token_after(3)

    result = source.sync(db)

    assert len(result.new) == 4
    assert tokens.refreshes == 1
    used = [r.headers["authorization"].removeprefix("Bearer ") for r in graph.requests]
    # Three answered, the fourth refused, then the same request again with the new token.
    assert used[:4] == ["graph-token-1"] * 4 and set(used[4:]) == {graph.token}
    assert graph.requests[3].path == graph.requests[4].path


def test_a_token_refused_after_its_refresh_is_one_line_saying_what_to_run(
    graph: FakeGraph, db: AppDatabase
) -> None:
    graph.deliver(mail(1))
    tokens = GraphTokens(graph, _token="stale")
    graph.refresh = lambda: "still-wrong"  # type: ignore[method-assign]
    source, _ = source_on(graph, tokens)

    with pytest.raises(MailSourceError) as caught:
        source.sync(db)

    assert tokens.refreshes == 1
    assert "smart-inbox accounts add microsoft work" in str(caught.value)
    assert "still-wrong" not in str(caught.value) and "Bearer" not in str(caught.value)


def test_429_waits_what_retry_after_asks_and_too_long_a_wait_is_given_up(
    graph: FakeGraph, db: AppDatabase
) -> None:
    graph.deliver(mail(1))
    graph.script(throttled("2"), path="/v1.0/me/mailFolders/inbox/messages/delta")
    source, waits = source_on(graph)

    assert len(source.sync(db).new) == 1
    assert waits == [2.0]

    graph.script(throttled("600"))
    with pytest.raises(MailSourceError, match="longer than the 30 s allowed") as caught:
        source.sync(db)
    assert "deltatoken" not in str(caught.value) and graph.token not in str(caught.value)


def test_an_expired_delta_link_lists_the_folder_again_and_reads_nothing_again(
    graph: FakeGraph, db: AppDatabase
) -> None:
    for n in range(3):
        graph.deliver(mail(n))
    source, _ = source_on(graph)
    source.sync(db)
    graph.expire_delta_links()
    graph.deliver(mail(8))

    result = source.sync(db)

    assert [e.id for e in result.new] == ["m8@fabrikam.example"]
    assert result.read_count == 1
    assert len([r for r in graph.requests if r.path.endswith("/$value")]) == 4


def test_a_message_that_cannot_be_read_comes_back_unreadable_and_the_rest_is_kept(
    graph: FakeGraph, db: AppDatabase
) -> None:
    good = graph.deliver(mail(1))
    bad = graph.deliver(mail(2))
    graph.unreadable.add(bad)
    source, _ = source_on(graph)

    result = source.sync(db)

    assert {e.key for e in result.new} == {good, bad}
    assert [e.key for e in result.errors] == [bad]
    assert "Microsoft Graph" in result.errors[0].error
    assert db.get_email("m1@fabrikam.example") is not None


def test_a_reply_goes_out_once_as_mime_with_its_threading_and_its_sent_copy_is_found(
    graph: FakeGraph, db: AppDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph.deliver(mail(1), conversation_id="conv-1")
    source, _ = source_on(graph)
    original = source.sync(db).new[0]
    monkeypatch.setenv("SMART_INBOX_GRAPH_API", graph.base_url)
    env = MailboxEnv(
        db=db,
        source="outlook:work",
        sender="me@contoso.example",
        secrets=lambda name: graph.token if name == "outlook.token:work" else None,
    )
    assert missing_for_sending(env) == []

    message = reply_message(original, sender=env.sender, body="Thursday works.")
    delivery = deliver(env, message)

    assert len(graph.sent) == 1
    assert b"In-Reply-To: <m1@fabrikam.example>" in graph.sent[0]
    assert delivery.receipt.recipients == ["sofia@fabrikam.example"]
    assert delivery.sent_copy_key and graph.folder_of(delivery.sent_copy_key) == "sentitems"
    assert source.find_sent([delivery.receipt.message_id]) == {
        delivery.receipt.message_id: delivery.sent_copy_key
    }


def test_a_draft_is_kept_in_drafts(graph: FakeGraph) -> None:
    source, _ = source_on(graph)
    key = source.save_draft(mail(3))
    assert graph.folder_of(key) == "drafts" and graph.messages[key].is_draft


def test_archive_trash_a_named_folder_and_flags_each_once(
    graph: FakeGraph, db: AppDatabase
) -> None:
    for n in range(3):
        graph.deliver(mail(n))
    source, _ = source_on(graph)
    first, second, third = sorted(source.sync(db).new, key=lambda e: e.id)
    ops = OutlookOperations(source)

    archived = ops.move([first], ops.folder_for("archive"))
    again = ops.move([first], ops.folder_for("archive"))
    trashed = ops.move([second], ops.folder_for("trash"))
    projects = ops.move([third], "Projects", create=True)

    assert [o.status for o in archived + again + trashed + projects] == [
        "moved",
        "already",
        "moved",
        "moved",
    ]
    assert graph.folder_of(first.key) == "archive" and graph.folder_of(second.key) == "deleteditems"
    assert graph.folder_of(third.key) == "Projects" and ops.folder_exists("Projects")
    assert ops.folder_for("snoozed") == "Snoozed" and "Snoozed" in graph.folders

    read = ops.set_flag([first], "seen", True)
    flagged = ops.set_flag([first], "flagged", True)
    read_again = ops.set_flag([first], "seen", True)
    assert [o.status for o in read + flagged + read_again] == ["changed", "changed", "already"]
    assert read_again[0].flags_before == ("seen", "flagged")
    assert graph.messages[first.key].is_read and graph.messages[first.key].flagged

    del graph.messages[third.key]
    assert ops.move([third], "Archive")[0].status == "failed"


def test_the_spec_opens_without_connecting_and_plain_http_goes_to_this_machine_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMART_INBOX_GRAPH_API", "http://graph.example/v1.0")
    with pytest.raises(MailSourceError, match="https"):
        parse_source_spec("outlook:work", secrets=lambda name: None)
    with pytest.raises(HttpSettingsError):
        graph_api_url({"SMART_INBOX_GRAPH_API": "http://10.0.0.1/v1.0"})
    assert graph_api_url({}) == "https://graph.microsoft.com/v1.0"
    monkeypatch.delenv("SMART_INBOX_GRAPH_API")
    assert parse_source_spec("outlook:work", secrets=lambda name: None).spec == "outlook:work"
    with pytest.raises(MailSourceError, match="names no account"):
        parse_source_spec("outlook:")


def test_a_source_without_a_token_says_what_to_run(db: AppDatabase) -> None:
    source = parse_source_spec("outlook:home", secrets=lambda name: None)
    with pytest.raises(MailSourceError, match="smart-inbox accounts add microsoft home"):
        source.sync(db)


def test_a_retried_send_that_already_went_out_is_found_in_sent_items_and_not_sent_again(
    graph: FakeGraph, db: AppDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph.deliver(mail(1))
    source, _ = source_on(graph)
    original = source.sync(db).new[0]
    monkeypatch.setenv("SMART_INBOX_GRAPH_API", graph.base_url)
    env = MailboxEnv(
        db=db,
        source="outlook:work",
        sender="me@contoso.example",
        secrets=lambda name: graph.token if name == "outlook.token:work" else None,
    )
    message = reply_message(original, sender=env.sender, body="Thursday works.")
    first = deliver(env, message)
    stages: list[str] = []

    # A second attempt of the same call (the process died before it recorded the outcome).
    again = _deliver_by_source(env, message, SimpleNamespace(attempts=2), stages.append)  # type: ignore[arg-type]

    assert len(graph.sent) == 1
    assert again.text.startswith("Already sent by an earlier attempt")
    assert again.sent_copy_key == first.sent_copy_key and stages == ["copied"]
