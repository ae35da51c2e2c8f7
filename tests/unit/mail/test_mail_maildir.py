"""The Maildir source: listing without reading, stable keys across flag changes, saving."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from memory.db import NOT_TRIAGED_FOLDERS, AppDatabase
from tools.mail.compose import reply_message
from tools.mail.maildir import FetchResult, MaildirSource, message_key
from tools.mail.message_refs import message_ref, render_refs
from tools.mail.mime import parse_email
from tools.mail.model import DRAFTS, SENT, Email
from tools.mail.source_protocol import MailSourceError


def raw(n: int, subject: str | None = None) -> bytes:
    return (
        f"From: sender{n}@example.com\r\nTo: me@example.com\r\n"
        f"Subject: {subject or f'Message {n}'}\r\nMessage-ID: <m{n}@example.com>\r\n\r\n"
        f"Body {n}\r\n"
    ).encode()


def make_maildir(root: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return root


def deliver(root: Path, name: str, data: bytes, sub: str = "cur") -> Path:
    path = root / sub / name
    path.write_bytes(data)
    return path


@pytest.fixture
def maildir(tmp_path: Path) -> Path:
    root = make_maildir(tmp_path / "Mail")
    deliver(root, "1700000001.M1P1.host:2,S", raw(1))
    deliver(root, "1700000002.M2P1.host:2,", raw(2))
    deliver(root, "1700000003.M3P1.host", raw(3), sub="new")
    return root


def source(path: Path) -> MaildirSource:
    return MaildirSource(path, "maildir:test")


def test_message_key_drops_flags() -> None:
    assert message_key("123.M1P2.host:2,RS") == "123.M1P2.host"
    assert message_key("123.M1P2.host!2,S") == "123.M1P2.host"
    assert message_key("123.M1P2.host") == "123.M1P2.host"


def test_list_keys_only_lists(maildir: Path) -> None:
    src = source(maildir)
    keys = src.list_keys()
    assert keys == {
        "1700000001.M1P1.host": ("INBOX", "cur/1700000001.M1P1.host:2,S"),
        "1700000002.M2P1.host": ("INBOX", "cur/1700000002.M2P1.host:2,"),
        "1700000003.M3P1.host": ("INBOX", "new/1700000003.M3P1.host"),
    }
    assert src.read_count == 0


def test_fetch_new_then_unchanged_refetch_opens_nothing(maildir: Path) -> None:
    src = source(maildir)
    first = src.fetch_new(set())
    assert isinstance(first, FetchResult)
    assert first.read_count == 3
    assert sorted(e.subject for e in first.emails) == ["Message 1", "Message 2", "Message 3"]
    assert all(e.source == "maildir:test" and e.folder == "INBOX" for e in first.emails)
    assert first.errors == []

    second = src.fetch_new(first.seen_keys)
    assert second.read_count == 0
    assert second.emails == []
    assert second.seen_keys == first.seen_keys

    # A fresh source object (as after a restart) also opens nothing.
    third = source(maildir).fetch_new(first.seen_keys)
    assert third.read_count == 0


def test_flag_rename_keeps_the_key(maildir: Path) -> None:
    src = source(maildir)
    seen = src.fetch_new(set()).seen_keys
    os.rename(maildir / "cur/1700000001.M1P1.host:2,S", maildir / "cur/1700000001.M1P1.host:2,RS")
    os.rename(maildir / "new/1700000003.M3P1.host", maildir / "cur/1700000003.M3P1.host:2,S")
    result = src.fetch_new(seen)
    assert result.seen_keys == seen
    assert result.emails == []
    assert result.read_count == 0


def test_new_message_is_picked_up(maildir: Path) -> None:
    src = source(maildir)
    seen = src.fetch_new(set()).seen_keys
    deliver(maildir, "1700000004.M4P1.host", raw(4, "Fresh"), sub="new")
    result = src.fetch_new(seen)
    assert [e.subject for e in result.emails] == ["Fresh"]
    assert result.emails[0].key == "1700000004.M4P1.host"
    assert result.read_count == 1
    assert "1700000004.M4P1.host" in result.seen_keys


def test_read_by_key_and_by_relative_path(maildir: Path) -> None:
    src = source(maildir)
    by_key = src.read("1700000002.M2P1.host")
    by_path = src.read("cur/1700000002.M2P1.host:2,")
    assert by_key == by_path
    assert by_key.subject == "Message 2"
    assert by_key.key == "1700000002.M2P1.host"


def test_read_follows_a_flag_rename(maildir: Path) -> None:
    src = source(maildir)
    src.list_keys()
    os.rename(maildir / "cur/1700000002.M2P1.host:2,", maildir / "cur/1700000002.M2P1.host:2,S")
    assert src.read("1700000002.M2P1.host").subject == "Message 2"
    assert src.read("cur/1700000002.M2P1.host:2,").subject == "Message 2"


def test_vanished_file(maildir: Path) -> None:
    src = source(maildir)
    src.list_keys()
    (maildir / "cur/1700000001.M1P1.host:2,S").unlink()
    email = src.read("1700000001.M1P1.host")
    assert email.error == "message file disappeared"
    assert email.key == "1700000001.M1P1.host"
    assert email.id.startswith("sha256:")
    assert src.read("no-such-key").error == "message file disappeared"
    assert src.read("../../etc/passwd").error == "message file disappeared"


def test_vanished_during_fetch_is_left_out(maildir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = source(maildir)
    real_list = src.list_keys

    def list_then_delete() -> dict[str, tuple[str, str]]:
        listing = real_list()
        (maildir / "cur/1700000001.M1P1.host:2,S").unlink(missing_ok=True)
        return listing

    monkeypatch.setattr(src, "list_keys", list_then_delete)
    result = src.fetch_new(set())
    assert sorted(e.key for e in result.emails) == ["1700000002.M2P1.host", "1700000003.M3P1.host"]
    assert "1700000001.M1P1.host" not in result.seen_keys


def test_bad_message_comes_back_with_error(maildir: Path) -> None:
    deliver(maildir, "1700000009.M9P1.host:2,", b"\x00\x01\x02 not mail at all")
    result = source(maildir).fetch_new(set())
    assert len(result.emails) == 4
    assert [e.key for e in result.errors] == ["1700000009.M9P1.host"]
    assert result.errors[0].error.startswith("not an email")


def test_maildir_plus_plus_subfolders(maildir: Path) -> None:
    make_maildir(maildir / ".Archive")
    make_maildir(maildir / ".Work.Projects")
    (maildir / ".notafolder").mkdir()
    deliver(maildir / ".Archive", "1600000000.M1P1.host:2,S", raw(10, "Old"))
    deliver(maildir / ".Work.Projects", "1600000001.M1P1.host", raw(11, "Plan"), sub="new")
    src = source(maildir)
    keys = src.list_keys()
    assert keys["1600000000.M1P1.host"] == ("Archive", ".Archive/cur/1600000000.M1P1.host:2,S")
    assert keys["1600000001.M1P1.host"] == (
        "Work.Projects",
        ".Work.Projects/new/1600000001.M1P1.host",
    )
    emails = {e.subject: e for e in src.fetch_new(set()).emails}
    assert emails["Old"].folder == "Archive"
    assert emails["Plan"].folder == "Work.Projects"
    assert src.read(".Archive/cur/1600000000.M1P1.host:2,S").subject == "Old"


def test_hidden_files_in_cur_are_ignored(maildir: Path) -> None:
    deliver(maildir, ".dotfile", b"junk")
    assert ".dotfile" not in source(maildir).list_keys()


def test_save_draft_lands_in_drafts_cur_with_d_flag(maildir: Path) -> None:
    src = source(maildir)
    draft = raw(20, "My draft")
    key = src.save_draft(draft)
    path = maildir / ".Drafts" / "cur" / f"{key}:2,D"
    assert path.read_bytes() == draft
    assert sorted(p.name for p in (maildir / ".Drafts").iterdir()) == ["cur", "new", "tmp"]
    assert list((maildir / ".Drafts" / "tmp").iterdir()) == []
    assert src.list_keys()[key] == ("Drafts", f".Drafts/cur/{key}:2,D")
    email = src.read(key)
    assert (email.folder, email.subject) == ("Drafts", "My draft")

    second = src.save_draft(draft)
    assert second != key


def test_save_sent_lands_in_sent_cur_with_s_flag(maildir: Path) -> None:
    sent = raw(21, "Sent by me")
    key = source(maildir).save_sent(sent)
    assert (maildir / ".Sent" / "cur" / f"{key}:2,S").read_bytes() == sent
    assert list((maildir / ".Sent" / "tmp").iterdir()) == []

    # Read again from scratch, as after a restart: the copy is in folder "Sent", never INBOX.
    fresh = source(maildir)
    assert fresh.list_keys()[key] == ("Sent", f".Sent/cur/{key}:2,S")
    emails = {e.key: e for e in fresh.fetch_new(set()).emails}
    assert (emails[key].folder, emails[key].subject) == ("Sent", "Sent by me")
    assert {e.folder for k, e in emails.items() if k != key} == {"INBOX"}


SOFIA = (
    b"From: Sofia Marchetti <sofia.marchetti@example.com>\r\nTo: me@example.com\r\n"
    b"Subject: Q1 roadmap\r\nMessage-ID: <sofia-1@example.com>\r\n"
    b"Date: Tue, 17 Nov 2026 09:00:00 +0000\r\n\r\nCan we meet on Tuesday?\r\n"
)


def test_a_draft_is_searchable_and_shows_as_yours(maildir: Path, tmp_path: Path) -> None:
    deliver(maildir, "1700000010.M10P1.host:2,S", SOFIA)
    src = source(maildir)
    db = AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")
    try:
        src.sync(db)
        original = db.get_email("sofia-1@example.com")
        assert original is not None
        # No address configured yet: the draft has no From, yet it is the user's.
        draft = reply_message(original, sender="", body="Tuesday works for me.")
        assert "From" not in draft
        src.save_draft(bytes(draft))
        src.sync(db)

        [found] = db.list_emails(source=src.spec, query="draft Sofia")
        assert (found.folder, found.subject, found.sender) == (
            DRAFTS,
            "Re: Q1 roadmap",
            "you (draft)",
        )
        assert found.to == ("sofia.marchetti@example.com",)
        both = db.list_emails(source=src.spec, query="Sofia")
        assert sorted(e.sender for e in both) == [
            "Sofia Marchetti <sofia.marchetti@example.com>",
            "you (draft)",
        ]
        shown = render_refs([message_ref(found, full=False)], full=False)
        assert "from: you (draft)\n   to: sofia.marchetti@example.com\n" in shown
        assert "to:" not in render_refs([message_ref(original, full=False)], full=False)
        assert found.id not in db.untriaged_ids(src.spec)
        assert original.id in db.untriaged_ids(src.spec)
    finally:
        db.engine.dispose()


def test_a_draft_with_a_from_is_still_yours() -> None:
    draft = Email(
        id="d1", source="s", folder=DRAFTS, key="k", from_name="Dana", from_addr="dana@x.example"
    )
    assert draft.is_draft and draft.sender == "you (draft) <dana@x.example>"
    sent = Email(
        id="s1", source="s", folder=SENT, key="k", from_name="Dana", from_addr="dana@x.example"
    )
    assert not sent.is_draft and sent.sender == "Dana <dana@x.example>"
    assert Email(id="i1", source="s", folder="INBOX", key="k").sender == ""


def test_sent_and_drafts_are_folders_triage_skips() -> None:
    assert {DRAFTS, SENT} <= set(NOT_TRIAGED_FOLDERS)


def test_save_message_sorts_flags_and_creates_the_folder(maildir: Path) -> None:
    src = source(maildir)
    key = src.save_message(raw(22), "Archive.2026", "SFS")
    assert (maildir / ".Archive.2026" / "cur" / f"{key}:2,FS").is_file()
    assert src.read(key).folder == "Archive.2026"
    assert source(maildir).list_keys()[key] == ("Archive.2026", f".Archive.2026/cur/{key}:2,FS")


def test_save_message_to_inbox_uses_the_top_level(maildir: Path) -> None:
    key = source(maildir).save_message(raw(23), "INBOX", "")
    assert (maildir / "cur" / f"{key}:2,").is_file()
    assert not (maildir / ".INBOX").exists()
    assert source(maildir).list_keys()[key] == ("INBOX", f"cur/{key}:2,")


@pytest.mark.parametrize("folder", ["", ".Sent", "..", "a/b", "../escape", "a\\b", "nul\0"])
def test_save_message_rejects_bad_folder_names(maildir: Path, folder: str) -> None:
    with pytest.raises(ValueError, match="not a Maildir folder name"):
        source(maildir).save_message(raw(24), folder, "S")
    assert not (maildir.parent / "escape").exists()


@pytest.mark.parametrize("flags", ["S,", "2", ":", "é"])
def test_save_message_rejects_bad_flags(maildir: Path, flags: str) -> None:
    with pytest.raises(ValueError, match="flags must be ASCII letters"):
        source(maildir).save_message(raw(25), "Sent", flags)
    assert not (maildir / ".Sent").exists()


def test_signature_changes_with_the_mailbox(maildir: Path) -> None:
    src = source(maildir)

    def settle() -> None:
        # Age every directory so the signature is stable, as in a mailbox left alone.
        for directory in [maildir, *maildir.glob("*"), *maildir.glob(".*/*")]:
            if directory.is_dir():
                os.utime(directory, (1_600_000_000, 1_600_000_000))

    settle()
    before = src.signature()
    assert src.signature() == before
    assert src.read_count == 0

    deliver(maildir, "1700000005.M5P1.host", raw(5), sub="new")
    after_delivery = src.signature()
    assert after_delivery != before

    settle()
    os.rename(maildir / "cur/1700000001.M1P1.host:2,S", maildir / "cur/1700000001.M1P1.host:2,RS")
    os.utime(maildir / "cur", (1_600_000_100, 1_600_000_100))
    assert src.signature() != before


def test_missing_path_raises(tmp_path: Path) -> None:
    with pytest.raises(MailSourceError, match="does not exist"):
        source(tmp_path / "nowhere")
    (tmp_path / "plain").mkdir()
    with pytest.raises(MailSourceError, match="is not a Maildir"):
        source(tmp_path / "plain")
    (tmp_path / "file").write_text("x")
    with pytest.raises(MailSourceError, match="not a directory"):
        source(tmp_path / "file")


def test_maildir_removed_after_open_raises(maildir: Path) -> None:
    src = source(maildir)
    for sub in ("cur", "new", "tmp"):
        for child in (maildir / sub).iterdir():
            child.unlink()
        (maildir / sub).rmdir()
    maildir.rmdir()
    with pytest.raises(MailSourceError, match="cannot be listed"):
        src.fetch_new(set())


def test_parse_email_matches_read(maildir: Path) -> None:
    src = source(maildir)
    data = (maildir / "cur/1700000001.M1P1.host:2,S").read_bytes()
    expected = parse_email(data, source="maildir:test", folder="INBOX", key="1700000001.M1P1.host")
    assert src.read("1700000001.M1P1.host") == expected


def test_a_sync_reports_each_new_message_by_id_and_place_its_content_stays_in_the_cache(
    maildir: Path, tmp_path: Path
) -> None:
    deliver(maildir, "1700000004.M4P1.host:2,", b"\xff\xfe not a message")
    db = AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")
    new = source(maildir).sync(db).new
    by_key = {e.key: e for e in new}
    assert sorted(e.id for e in new if not e.error) == [
        "m1@example.com", "m2@example.com", "m3@example.com",
    ]  # fmt: skip
    assert {(e.source, e.folder) for e in new} == {("maildir:test", "INBOX")}
    # Nothing of a message's content is held for a first fetch of any size: it is in the cache.
    assert all((e.body, e.headers) == ("", {}) for e in new)
    assert all(
        (e.subject, e.from_addr, e.date, e.to, e.digest) == ("", "", "", (), "") for e in new
    )
    cached = {e.id: e for e in db.emails_by_ids([e.id for e in new])}
    assert cached["m2@example.com"].subject == "Message 2"
    assert cached["m2@example.com"].body.strip() == "Body 2"
    assert by_key["1700000004.M4P1.host"].error  # the unreadable one says why
