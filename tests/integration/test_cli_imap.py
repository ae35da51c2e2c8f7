"""The `smart-inbox` command on an IMAP inbox: the demo mail served by a real Dovecot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.imap_server import DovecotServer
from tests.integration.cli_runner import DEMO, run_cli

pytestmark = pytest.mark.integration


def seed_demo_inbox(server: DovecotServer) -> int:
    """APPEND every demo message to INBOX, seen where its Maildir file says so."""
    files = sorted(p for sub in ("cur", "new") for p in (DEMO / sub).iterdir() if p.is_file())
    for path in files:
        seen = ":2," in path.name and "S" in path.name.split(":2,", 1)[1]
        server.append(path.read_bytes(), flags="\\Seen" if seen else "")
    return len(files)


def test_triage_ask_and_draft_over_imap(dovecot: DovecotServer, tmp_path: Path) -> None:
    count = seed_demo_inbox(dovecot)
    flags_before = dovecot.flags()
    assert any(not flags for flags in flags_before.values()), "some demo mail is unread"
    spec = dovecot.spec()
    env = dovecot.env()

    def cli(*args: str) -> dict:
        result = run_cli(tmp_path, *args, "--inbox", spec, "--json", env=env)
        assert dovecot.password not in result.stdout + result.stderr
        return json.loads(result.stdout)

    rows = cli("triage", "--messages")
    assert len(rows) == count
    assert len({row["id"] for row in rows}) == count
    assert [row for row in rows if row.get("error")], "the malformed demo message is reported"
    assert dovecot.flags() == flags_before  # read-only: no \Seen set by reading

    first = cli("ask", "what needs my attention today?")
    assert first["citations"], first["answer"]
    high = {row["id"] for row in rows if row["priority"] == "high"}
    assert set(first["citations"]) <= high

    thread = first["thread_id"]
    drafted = cli("ask", "draft a reply to the first one saying paid on Friday", "--thread", thread)
    assert [p["action"] for p in drafted["pending"]] == ["save_draft"]
    target = drafted["pending"][0]["args"]["in_reply_to_id"]
    assert target == first["citations"][0]
    assert dovecot.messages("Drafts") == []  # nothing is written before approval

    accepted = cli("resume", "--thread", thread, "--accept")
    assert [e["status"] for e in accepted["executed"]] == ["ok"]
    drafts = dovecot.messages("Drafts")
    assert len(drafts) == 1
    _, flags, raw = drafts[0]
    assert "\\Draft" in flags
    assert b"paid on Friday" in raw
    assert f"In-Reply-To: <{target}>".encode() in raw
    assert dovecot.flags() == flags_before

    mark = dovecot.quiet_mark()
    again = run_cli(tmp_path, "triage", "--inbox", spec, env=env).stdout
    assert ", 0 newly triaged." in again
    assert dovecot.bodies_read_since(mark) == 0

    # The password is in no file of the data directory (databases, checkpoints, audit log).
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert dovecot.password.encode() not in path.read_bytes(), path


def test_bad_imap_specs_are_one_line_errors(tmp_path: Path) -> None:
    cases = [
        ("imap://dana:secret-pw@mail.example.com/INBOX", "must not hold a password"),
        ("imap://mail.example.com", "has no user name"),
        ("imap://dana@mail.example.com/INBOX?tls=none", "tls=none is allowed only to"),
        ("imap://dana@mail.example.com/INBOX?tls=maybe", "tls=maybe is not one of"),
    ]
    for spec, reason in cases:
        result = run_cli(tmp_path, "triage", "--inbox", spec, check=False)
        assert result.returncode == 2, (spec, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert reason in result.stderr, result.stderr
        assert "secret-pw" not in result.stderr


def test_unreachable_imap_server_is_reported(tmp_path: Path) -> None:
    from tests.fakes.smtp_server import free_port

    port = free_port()
    result = run_cli(
        tmp_path,
        "triage",
        "--inbox",
        f"imap://dana@127.0.0.1:{port}/INBOX",
        env={"IMAP_PASSWORD": "x"},
        check=False,
    )
    assert result.returncode == 2, "an inbox that cannot be read is not an empty one"
    assert f"could not fetch: inbox imap://dana@127.0.0.1:{port}/INBOX: connection refused" in (
        result.stderr
    )
    assert "0 conversation(s) shown" in result.stdout
