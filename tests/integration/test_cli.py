"""The `smart-inbox` command end to end, each call in its own process, on the demo inbox."""

from __future__ import annotations

import json
import re
import shlex
import socket
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
    rows = json.loads(run_cli(tmp_path, "triage", "--json", "--messages").stdout)
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


def test_triage_json_has_a_row_per_conversation(tmp_path: Path) -> None:
    rows = json.loads(run_cli(tmp_path, "triage", "--json").stdout)
    assert len(rows) == 47, "50 messages, two threads of 3 and 2, Dana's own questions left out"
    [incident] = [row for row in rows if row["conversation"].startswith("CAM1ee7Lk.inc-checkout")]
    assert incident["id"] == "CAM1ee7Lk.inc-checkout-500.upd1@mail.northwind.example"
    assert (incident["thread_size"], incident["people"], incident["state"]) == (
        2,
        ["Marcus Lee"],
        "respond",
    )
    assert {"triaged", "answered", "subject", "date", "priority", "reason"} <= set(incident)


def test_triage_limit_and_table(tmp_path: Path) -> None:
    out = run_cli(tmp_path, "triage", "--limit", "5").stdout
    table = [line for line in out.splitlines() if line.startswith(("respond", "notify", "ignore"))]
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
    triaged = run_cli(tmp_path, "triage", "--json", "--messages").stdout
    rows = {row["id"]: row for row in json.loads(triaged)}
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
    from ui.chat.users import UserStore

    short = run_cli(
        tmp_path, "users", "add", "carol", "--password-stdin", check=False, stdin="short"
    )
    assert short.returncode == 2 and "at least 8" in short.stderr
    added = run_cli(tmp_path, "users", "add", "carol", "--password-stdin", stdin="carol-password-1")
    assert "added carol" in added.stdout and "carol-password-1" not in added.stdout + added.stderr
    assert UserStore(tmp_path).verify("carol", "carol-password-1")
    assert run_cli(tmp_path, "users", "list").stdout.split() == ["carol"]


# -- bad input: one clear line, exit status 2, nothing lost -----------------------------------


def test_ui_on_a_busy_port_is_refused_before_announcing_the_chat(tmp_path: Path) -> None:
    from ui.chat.users import UserStore

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        result = run_cli(tmp_path, "ui", "--port", str(port), check=False)
        assert result.returncode == 2, result.stderr
        [line] = result.stderr.splitlines()
        assert line == (
            f"smart-inbox: port {port} on 127.0.0.1 is already in use: stop what listens "
            "there or pick another with --port"
        )
        assert "chat on" not in result.stdout + result.stderr
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            accepted, _ = listener.accept()
            accepted.close()
    assert not UserStore(tmp_path).has_users(), "no demo user whose password nobody saw"
    assert not (tmp_path / "chainlit-secret").exists()


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_an_empty_question_is_refused(tmp_path: Path, text: str) -> None:
    result = run_cli(tmp_path, "ask", text, check=False)
    assert result.returncode == 2
    assert result.stderr == "smart-inbox: nothing to ask: the question is empty\n"
    assert result.stdout == ""
    assert not (tmp_path / "checkpoints.db").exists(), "no thread was started"


def test_an_unknown_thread_is_announced_as_a_new_one(tmp_path: Path) -> None:
    first = run_cli(tmp_path, "ask", "any invoices?", "--thread", "my-typo")
    assert first.stderr == "smart-inbox: no thread 'my-typo' found: started a new thread my-typo\n"
    assert "previews only" in first.stdout, "the question was still answered"
    again = run_cli(tmp_path, "ask", "what does the first one say?", "--thread", "my-typo")
    assert again.stderr == "", "a known thread is not announced"
    as_json = run_cli(tmp_path, "ask", "any invoices?", "--thread", "other", "--json")
    assert "started a new thread other" in as_json.stderr
    assert json.loads(as_json.stdout)["thread_id"] == "other"
    history = json.loads(run_cli(tmp_path, "history", "--thread", "my-typo", "--json").stdout)
    assert [m["text"] for m in history["messages"] if m["role"] == "user"] == [
        "any invoices?",
        "what does the first one say?",
    ]


def test_mcp_list_without_mcp_json_is_not_an_error(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    text = run_cli(tmp_path, "mcp", "list")
    assert text.stdout == f"no MCP servers configured: to add some, write them to {path}\n"
    assert text.stderr == ""
    listed = json.loads(run_cli(tmp_path, "mcp", "list", "--json").stdout)
    assert listed == {"file": str(path), "servers": []}
    assert not path.exists()
    trust = run_cli(tmp_path, "mcp", "trust", "mail", check=False)
    assert trust.returncode == 2, "trusting a server that is not configured stays an error"


def test_answers_read_as_plain_text_and_json_keeps_the_markdown(tmp_path: Path) -> None:
    run_cli(tmp_path, "ask", "what needs my attention today?", "--thread", "t")
    printed = run_cli(tmp_path, "ask", "what does the first one say?", "--thread", "t").stdout
    raw = json.loads(run_cli(tmp_path, "history", "--thread", "t", "--json").stdout)
    answer = raw["messages"][-1]["text"]
    [cited] = re.findall(r"\[msg:([^\]\s]+)\]", answer.splitlines()[0])
    assert answer.startswith("**"), "the graph still writes Markdown for the chat"
    subject = answer.splitlines()[0].split("**")[1]
    assert printed.splitlines()[0] == f"{subject} [{cited}]"
    assert "**" not in printed and "[msg:" not in printed
    shown = run_cli(tmp_path, "history", "--thread", "t").stdout
    assert f"agent: {subject} [{cited}]" in shown and "[msg:" not in shown
    as_json = json.loads(
        run_cli(tmp_path, "ask", "what does it say?", "--thread", "t", "--json").stdout
    )
    assert as_json["answer"].startswith(f"**{subject}** [msg:{cited}]"), "--json is unchanged"


def test_a_card_ends_with_the_commands_that_decide_it(tmp_path: Path) -> None:
    run_cli(tmp_path, "ask", "any invoices?", "--thread", "t 1")
    out = run_cli(
        tmp_path, "ask", "draft a reply to the first one saying paid on Friday", "--thread", "t 1"
    ).stdout
    assert "**" not in out and "[msg:" not in out and "###" not in out
    lines = out.rstrip("\n").splitlines()
    assert lines[-3:] == [
        "To run it:     smart-inbox resume --thread 't 1' --accept",
        "To decline it: smart-inbox resume --thread 't 1' --reject",
        "(or --edit JSON to run it with other arguments, --respond TEXT to answer instead)",
    ]
    command = shlex.split(lines[-3].split(":", 1)[1])
    assert command[0] == "smart-inbox"
    done = json.loads(run_cli(tmp_path, *command[1:], "--json").stdout)
    assert [e["status"] for e in done["executed"]] == ["ok"]
    assert len(list((tmp_path / "inbox" / ".Drafts" / "cur").iterdir())) == 1


def test_several_cards_each_name_their_call(tmp_path: Path) -> None:
    script = tmp_path / "two.jsonl"
    drafts = [{"to": f"{n}@partner.example", "subject": n, "body": n} for n in ("a", "b")]
    script.write_text(
        json.dumps({"tool_calls": [{"name": "save_draft", "args": args} for args in drafts]}) + "\n"
    )
    out = run_cli(
        tmp_path, "ask", "draft notes to a and b", "--thread", "t", "--model", f"replay:{script}"
    ).stdout
    calls = re.findall(r"Waiting for your approval \((call-[0-9a-f]+)\)", out)
    assert len(calls) == 2
    for call in calls:
        assert f"To run it:     smart-inbox resume --thread t --call {call} --accept" in out
        assert f"To decline it: smart-inbox resume --thread t --call {call} --reject" in out
    run_cli(tmp_path, "resume", "--thread", "t", "--call", calls[1], "--reject")
    last = json.loads(
        run_cli(
            tmp_path,
            "resume",
            "--thread",
            "t",
            "--call",
            calls[0],
            "--accept",
            "--json",
            "--model",
            f"replay:{script}",
        ).stdout
    )
    assert [e["args"]["to"] for e in last["executed"]] == ["a@partner.example"]


def test_hostile_mail_gives_error_rows_and_one_line_each_without_a_traceback(
    tmp_path: Path,
) -> None:
    from tests.hostile_mime import deep_multipart, many_parts, nested_lists, nul_bytes
    from tests.integration.cli_runner import cli_env

    inbox = Path(cli_env(tmp_path)["INBOX"].removeprefix("maildir:"))
    hostile = {
        "1800000001.M1P1.hostile": (
            deep_multipart(),
            "too deeply nested: more than 20 levels of MIME parts",
        ),
        "1800000002.M2P1.hostile": (many_parts(), "too many parts: more than 1,000 MIME parts"),
        "1800000003.M3P1.hostile": (nested_lists(), ""),
        "1800000004.M4P1.hostile": (nul_bytes(), ""),
    }
    for number, (key, (raw, _)) in enumerate(hostile.items()):
        # One Message-ID each, so none is a copy of another.
        raw = raw.replace(b"hostile@evil.example", f"hostile-{number}@evil.example".encode())
        (inbox / "new" / key).write_bytes(raw)
    result = run_cli(tmp_path, "triage", "--json", "--messages")
    rows = json.loads(result.stdout)
    assert len(rows) == len(demo_files()) + len(hostile)
    errors = {row["id"]: row["error"] for row in rows if row.get("error")}
    for number, (_, reason) in enumerate(hostile.values()):
        assert errors.get(f"hostile-{number}@evil.example", "") == reason
    assert "Traceback" not in result.stderr
    warnings = [line for line in result.stderr.splitlines() if "tools.mail.mime" in line]
    assert warnings == [
        f"WARNING tools.mail.mime: message {key}: {reason}"
        for key, (_, reason) in hostile.items()
        if reason
    ]


def test_triage_json_is_written_as_one_indented_document(tmp_path: Path) -> None:
    # Streamed as it is encoded, the text stays what `json.dumps(rows, indent=2)` made:
    # two-space indents, names as written (not \u escapes), one newline at the end.
    out = run_cli(tmp_path, "triage", "--json").stdout
    rows = json.loads(out)
    assert out == json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    assert not out.isascii() and "\\u" not in out, "the demo has names beyond ASCII"
