"""The `smart-inbox` command end to end, each call in its own process, on the demo inbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.cli_runner import DEMO, run_cli

pytestmark = pytest.mark.integration


def demo_files() -> list[Path]:
    return [p for sub in ("cur", "new") for p in (DEMO / sub).iterdir() if p.is_file()]


def demo_body(message_id: str) -> str:
    from tools.mail.mime import parse_email

    for path in demo_files():
        email = parse_email(path.read_bytes(), source="demo", folder="INBOX", key=path.name)
        if email.id == message_id:
            return email.body
    raise AssertionError(f"{message_id} is not in the demo inbox")


def test_triage_json_classifies_every_demo_message(tmp_path: Path) -> None:
    rows = json.loads(run_cli(tmp_path, "triage", "--json").stdout)
    assert len(rows) == len(demo_files())
    assert len({row["id"] for row in rows}) == len(rows)
    for row in rows:
        assert {"id", "from", "subject", "date", "priority", "category", "action", "reason"} <= set(
            row
        )
        assert row["priority"] in ("high", "normal", "low", "unknown")
    broken = [row for row in rows if row.get("error")]
    assert broken, "the malformed demo message must be reported"
    for row in broken:  # an error row, not a blank "normal / other / none" one
        assert (row["priority"], row["category"], row["action"]) == (
            "unknown",
            "unreadable",
            "none",
        )
        assert row["reason"].startswith("unreadable: malformed MIME")
    assert all(row["priority"] != "unknown" for row in rows if not row.get("error"))
    priorities = [row["priority"] for row in rows]
    assert priorities == sorted(priorities, key=["high", "unknown", "normal", "low"].index)


def test_triage_limit_and_table(tmp_path: Path) -> None:
    out = run_cli(tmp_path, "triage", "--limit", "5").stdout
    table = [
        line for line in out.splitlines() if line.startswith(("high", "unknown", "normal", "low"))
    ]
    assert len(table) == 5
    assert "PRIORITY" in out


def test_second_triage_reads_nothing_again(tmp_path: Path) -> None:
    run_cli(tmp_path, "triage")
    out = run_cli(tmp_path, "triage").stdout
    assert ", 0 newly triaged." in out


def test_ask_then_follow_up_in_a_new_process(tmp_path: Path) -> None:
    first = json.loads(run_cli(tmp_path, "ask", "what needs my attention today?", "--json").stdout)
    assert first["thread_id"]
    assert first["citations"], first["answer"]
    rows = {row["id"]: row for row in json.loads(run_cli(tmp_path, "triage", "--json").stdout)}
    for cited in first["citations"]:
        assert cited in rows
        assert rows[cited]["priority"] == "high"
    second = json.loads(
        run_cli(
            tmp_path,
            "ask",
            "what does the first one say?",
            "--thread",
            first["thread_id"],
            "--json",
        ).stdout
    )
    target = first["citations"][0]
    assert second["citations"] == [target]
    assert [e["action"] for e in second["executed"]] == ["get_email"]
    # The full body, not the 200-character preview, reaches the answer.
    body = demo_body(target)
    assert body.strip()
    assert body[:2000].strip().splitlines()[-1].strip() in second["answer"]
    history = run_cli(tmp_path, "history", "--thread", first["thread_id"]).stdout
    assert "what does the first one say?" in history


def test_user_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    cases = [
        ("triage", "--inbox", "maildir:/nonexistent/box"),
        ("triage", "--inbox", "imap-ish:foo"),
        ("ask", "hi", "--model", "nonsense"),
        ("ask", "hi", "--model", "replay:/nonexistent.jsonl"),
        ("triage", "--limit", "zero"),
        ("history", "--thread", "no-such-thread"),
        ("frobnicate",),
    ]
    for args in cases:
        result = run_cli(tmp_path, *args, check=False)
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, (args, result.stderr)


def test_groq_spec_without_key_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "ask", "hi", "--model", "groq:llama-3.3-70b-versatile", check=False)
    assert result.returncode == 2
    assert "GROQ_API_KEY" in result.stderr


def test_draft_waits_for_approval_then_reject_and_accept(tmp_path: Path) -> None:
    first = json.loads(run_cli(tmp_path, "ask", "any invoices?", "--json").stdout)
    thread = first["thread_id"]
    drafts = tmp_path / "inbox" / ".Drafts" / "cur"

    def ask_draft() -> dict:
        return json.loads(
            run_cli(
                tmp_path,
                "ask",
                "draft a reply to the first one saying paid on Friday",
                "--thread",
                thread,
                "--json",
            ).stdout
        )

    pending = ask_draft()["pending"]
    assert [p["action"] for p in pending] == ["save_draft"]
    assert pending[0]["args"]["in_reply_to_id"] == first["citations"][0]
    assert "paid on Friday" in pending[0]["description"]
    rejected = json.loads(
        run_cli(tmp_path, "resume", "--thread", thread, "--reject", "--json").stdout
    )
    assert rejected["executed"] == []
    assert "declined" in rejected["answer"]
    assert not drafts.exists() or not any(drafts.iterdir())

    assert ask_draft()["pending"]
    accepted = json.loads(
        run_cli(tmp_path, "resume", "--thread", thread, "--accept", "--json").stdout
    )
    assert [e["status"] for e in accepted["executed"]] == ["ok"]
    saved = list(drafts.iterdir())
    assert len(saved) == 1
    assert "paid on Friday" in saved[0].read_text()
    again = run_cli(tmp_path, "resume", "--thread", thread, "--accept", check=False)
    assert again.returncode == 2


def test_ui_refuses_to_listen_beyond_loopback_without_users(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "ui", "--host", "0.0.0.0", "--port", "1", check=False)
    assert result.returncode == 2
    assert "refusing to listen on 0.0.0.0 with no users" in result.stderr
    assert not (tmp_path / "users.json").exists()


def test_users_add_reads_the_password_and_never_prints_it(tmp_path: Path) -> None:
    from ui.users import UserStore

    short = run_cli(
        tmp_path, "users", "add", "carol", "--password-stdin", check=False, stdin="short"
    )
    assert short.returncode == 2 and "at least 8" in short.stderr
    added = run_cli(tmp_path, "users", "add", "carol", "--password-stdin", stdin="carol-password-1")
    assert "added carol" in added.stdout and "carol-password-1" not in added.stdout + added.stderr
    assert UserStore(tmp_path).verify("carol", "carol-password-1")
    assert run_cli(tmp_path, "users", "list").stdout.split() == ["carol"]
