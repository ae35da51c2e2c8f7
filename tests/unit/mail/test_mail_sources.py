"""Inbox spec strings: which ones open a mailbox, and the errors for the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.mail.maildir import MaildirSource
from tools.mail.source_protocol import MailSourceError
from tools.mail.sources import parse_source_spec


def make_maildir(root: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    return root


def test_absolute_maildir_spec(tmp_path: Path) -> None:
    root = make_maildir(tmp_path / "box")
    src = parse_source_spec(f"maildir:{root}")
    assert isinstance(src, MaildirSource)
    assert src.path == root
    assert src.spec == f"maildir:{root}"


def test_relative_path_uses_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_maildir(tmp_path / "data" / "inbox")
    monkeypatch.chdir(tmp_path)
    src = parse_source_spec("maildir:data/inbox")
    assert src.path == tmp_path / "data" / "inbox"
    assert src.spec == "maildir:data/inbox"


def test_home_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_maildir(tmp_path / "Maildir")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert parse_source_spec("maildir:~/Maildir").path == tmp_path / "Maildir"


@pytest.mark.parametrize("spec", ["xyz", "pop3://mail.example.com", "mbox:/tmp/x", ""])
def test_unsupported_spec(spec: str) -> None:
    with pytest.raises(MailSourceError) as info:
        parse_source_spec(spec)
    assert str(info.value) == (
        f"unsupported inbox spec '{spec}': "
        "use maildir:PATH, imap://user@host[:port][/FOLDER], gmail:ACCOUNT, outlook:ACCOUNT or mcp:NAME"
    )


def test_mcp_spec_cannot_keep_drafts() -> None:
    with pytest.raises(MailSourceError, match="need a Maildir or IMAP inbox"):
        parse_source_spec("mcp:gmail")


def test_bad_maildir_paths(tmp_path: Path) -> None:
    with pytest.raises(MailSourceError, match="no path"):
        parse_source_spec("maildir:")
    missing = tmp_path / "missing"
    with pytest.raises(MailSourceError, match=str(missing)):
        parse_source_spec(f"maildir:{missing}")
    (tmp_path / "notmaildir").mkdir()
    with pytest.raises(MailSourceError, match="is not a Maildir"):
        parse_source_spec(f"maildir:{tmp_path / 'notmaildir'}")
