"""The SMTP password and the Groq key kept only in the vault, used for real.

A reply is approved and sent through the command line to a real SMTP server that demands AUTH,
with the password stored by `smart-inbox credentials set` and nowhere else; without one,
sending fails with one line naming the credential while everything else works. The Groq engine
is built with the key stored in the vault and talks to a local server speaking Groq's API; it is
also what the default `auto` engine picks then.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from graph.builder import build_graph
from graph.context import Context
from graph.engines import EngineSpecError, load_engine
from graph.engines.model import ModelEngine
from memory.db import open_database
from memory.paths import app_database_url, data_dir
from memory.vault import CredentialVault
from tests.fakes.groq_server import FakeGroqServer, completion
from tests.fakes.smtp_server import SmtpSink
from tests.integration.cli_runner import DEMO, run_cli
from tests.integration.conftest import FAKE_GROQ_API_KEY
from tools.mail.delivery import deliver
from tools.mail.outgoing import compose_new
from tools.mail.smtp import SmtpSendError
from tools.toolkit import ToolFailure

pytestmark = pytest.mark.integration

ME = "dana@northwind.example"
SOFIA_ID = "CAF9s0fia.Q1road.20261116@mail.northwind.example"
REPLY = "reply to the meeting request from Sofia and say Thursday works"
PASSWORD = "vault-only-Smtp-Pw-4417"
ACCOUNT = f"smtp.password:{ME}@127.0.0.1"


def store(home: Path, name: str, value: str) -> None:
    run_cli(home, "credentials", "set", name, "--stdin", stdin=value + "\n")


def sending(sink: SmtpSink, **extra: str) -> dict[str, str]:
    """`SMTP_URL` with the user but no password, the offline engine, and our address."""
    return {
        "SMTP_URL": f"smtp://dana%40northwind.example@{sink.host}:{sink.port}",
        "SMART_INBOX_USER_EMAILS": ME,
        "MODEL": "rules",
        **extra,
    }


def cli_json(home: Path, env: dict[str, str], *args: str) -> dict[str, Any]:
    result = run_cli(home, *args, "--json", env=env)
    assert PASSWORD not in result.stdout + result.stderr
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def test_a_reply_is_sent_with_the_password_only_in_the_vault(tmp_path: Path) -> None:
    store(tmp_path, ACCOUNT, PASSWORD)
    with SmtpSink(auth={ME: PASSWORD}) as sink:
        # The stored credential comes before SMTP_PASSWORD: a wrong one there changes nothing.
        env = sending(sink, SMTP_PASSWORD="not-the-password")
        asked = cli_json(tmp_path, env, "ask", REPLY)
        [request] = asked["pending"]
        assert request["action"] == "reply_to_email"
        assert sink.messages == []
        done = cli_json(tmp_path, env, "resume", "--thread", asked["thread_id"], "--accept")
        assert [(e["action"], e["status"]) for e in done["executed"]] == [("reply_to_email", "ok")]
        [received] = sink.wait_for(1)
    assert received.authenticated_as == ME
    assert received.message["In-Reply-To"] == f"<{SOFIA_ID}>"
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path


def test_the_generic_credential_serves_any_login(tmp_path: Path) -> None:
    store(tmp_path, "smtp.password", PASSWORD)
    with SmtpSink(auth={ME: PASSWORD}) as sink:
        env = sending(sink)
        asked = cli_json(tmp_path, env, "ask", REPLY)
        done = cli_json(tmp_path, env, "resume", "--thread", asked["thread_id"], "--accept")
        assert [e["status"] for e in done["executed"]] == ["ok"]
        [received] = sink.wait_for(1)
    assert received.authenticated_as == ME


def test_without_a_password_only_sending_fails_with_one_line(tmp_path: Path) -> None:
    with SmtpSink(auth={ME: PASSWORD}) as sink:
        env = sending(sink)
        expected = (
            f"SMTP server 127.0.0.1:{sink.port}: no password for user '{ME}': store it with "
            f"`smart-inbox credentials set {ACCOUNT}` (or set SMTP_PASSWORD)"
        )
        triaged = run_cli(tmp_path, "triage", "--limit", "3", env=env)
        assert "newly triaged" in triaged.stdout, "a command that does not send still works"
        assert f"mail cannot be sent through 127.0.0.1:{sink.port}: no password" in triaged.stderr

        asked = cli_json(tmp_path, env, "ask", REPLY)
        assert [p["action"] for p in asked["pending"]] == ["reply_to_email"]
        # Said on the card already, with how to fix it before approving.
        assert (
            f"This will fail until it is fixed: no password for user '{ME}': store it with "
            f"`smart-inbox credentials set {ACCOUNT}`"
        ) in asked["pending"][0]["description"]
        done = cli_json(tmp_path, env, "resume", "--thread", asked["thread_id"], "--accept")
        [executed] = [e for e in done["executed"] if e["action"] == "reply_to_email"]
        assert executed["status"] == "error"
        assert executed["error"] == f"not sent: {expected}"
        assert expected in done["answer"]
        assert sink.messages == []


def test_the_mail_mcp_server_finds_the_password_in_the_vault(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui.mcp_server.served_mailbox import open_mailbox

    inbox = shutil.copytree(DEMO, tmp_path / "inbox", ignore=shutil.ignore_patterns(".Drafts"))
    home = data_dir(tmp_path / "home")
    CredentialVault(open_database(app_database_url(home)), home).set(ACCOUNT, PASSWORD)
    with SmtpSink(auth={ME: PASSWORD}) as sink:
        for name, value in sending(sink).items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("SMTP_PASSWORD", raising=False)
        mailbox = open_mailbox(inbox=f"maildir:{inbox}", home=str(home))
        message = compose_new(mailbox.env, to="lena@partner.example", subject="Hi", body="Signed.")
        deliver(mailbox.env, message)
        [received] = sink.wait_for(1)

        CredentialVault(open_database(app_database_url(home)), home).delete(ACCOUNT)
        without = open_mailbox(inbox=f"maildir:{inbox}", home=str(home))
        with pytest.raises(ToolFailure, match=f"credentials set {ACCOUNT}") as caught:
            deliver(
                without.env,
                compose_new(without.env, to="x@partner.example", subject="Hi", body="."),
            )
        assert isinstance(caught.value.__cause__, SmtpSendError)
    assert received.authenticated_as == ME
    assert len(sink.messages) == 1


# ------------------------------------------------------------------ Groq


@pytest.fixture
def groq_home(tmp_path: Path, groq_server: FakeGroqServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data directory whose vault holds the Groq key; no key in the environment."""
    monkeypatch.delenv("GROQ_API_KEY", raising=False)
    monkeypatch.delenv("MODEL", raising=False)
    monkeypatch.setenv("GROQ_BASE_URL", groq_server.base_url)
    home = data_dir(tmp_path / "home")
    CredentialVault(open_database(app_database_url(home)), home).set(
        "groq.api_key", FAKE_GROQ_API_KEY
    )
    return home


async def test_a_groq_turn_with_the_key_only_in_the_vault(
    tmp_path: Path, groq_server: FakeGroqServer, groq_home: Path
) -> None:
    inbox = shutil.copytree(DEMO, tmp_path / "inbox", ignore=shutil.ignore_patterns(".Drafts"))
    graph = build_graph(checkpointer=InMemorySaver())
    rules = Context(model="rules", inbox=f"maildir:{inbox}", home=str(groq_home))
    await graph.ainvoke(
        {"mode": "triage", "messages": []}, {"configurable": {"thread_id": "t"}}, context=rules
    )
    groq_server.script(
        completion(tool_calls=[("list_inbox", {"category": "billing"})]),
        completion("I have what I need."),
        completion("Nothing here is overdue [msg:no-such-message@example.com]."),
        completion("Nothing here is overdue [msg:no-such-message@example.com]."),
    )
    context = Context(inbox=f"maildir:{inbox}", home=str(groq_home))
    assert context.model == "auto", "no MODEL: the engine is chosen where it is built"
    result = await graph.ainvoke(
        {"messages": [HumanMessage("any invoices?")], "mode": "chat"},
        {"configurable": {"thread_id": "g"}},
        context=context,
    )
    assert groq_server.unused_responses == 0, "the turn ran on the Groq engine"
    assert len(groq_server.requests) == 4
    assert all(request.authorized for request in groq_server.requests)
    assert [e["action"] for e in result["executed"]] == ["list_inbox"]
    assert "no-such-message" not in result["messages"][-1].content, "the verifier still works"
    assert FAKE_GROQ_API_KEY not in json.dumps(result, default=str)


def test_auto_is_groq_with_a_stored_key_and_rules_without(groq_home: Path, tmp_path: Path) -> None:
    assert load_engine("auto", str(groq_home)).name == "groq:llama-3.3-70b-versatile"
    assert load_engine("auto", str(data_dir(tmp_path / "empty"))).name == "rules"


def test_the_environment_key_wins_over_the_stored_one(
    groq_home: Path, groq_server: FakeGroqServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    CredentialVault(open_database(app_database_url(groq_home)), groq_home).set(
        "groq.api_key", "gsk_stale_stored_key"
    )
    monkeypatch.setenv("GROQ_API_KEY", FAKE_GROQ_API_KEY)
    groq_server.script(completion("pong"))
    engine = load_engine("groq:llama-3.3-70b-versatile", str(groq_home))
    assert isinstance(engine, ModelEngine)
    reply = engine.model.invoke("ping")
    assert reply.content == "pong"
    assert [request.authorized for request in groq_server.requests] == [True]


def test_no_groq_key_anywhere_names_both_places(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GROQ_API_KEY", raising=False)
    with pytest.raises(EngineSpecError) as caught:
        load_engine("groq:llama-3.3-70b-versatile", str(data_dir(tmp_path / "home")))
    assert str(caught.value) == (
        "model 'groq:llama-3.3-70b-versatile' needs a Groq key: set GROQ_API_KEY or store it "
        "with `smart-inbox credentials set groq.api_key`"
    )
