"""Nothing the graph runs blocks the event loop.

The LangGraph server rejects blocking calls in async code: it runs blockbuster with some checks
relaxed (file reads, `os.stat`). Here blockbuster runs with every check on, for calls made from
our own packages, while the whole graph works: fetch and triage, questions and follow-ups, an
approved send over SMTP, a saved draft, a rejected call, the SQLite checkpointer, MCP tools over
stdio, mail read over MCP, the replay engine, the Groq engine through a rate limit, a
triage run whose Jira and Slack proposals are approved and sent, and a reply the Groq engine
proposes and SMTP sends with the key and the password read from the vault.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from blockbuster import BlockBuster, BlockingError, blockbuster_ctx
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from graph.builder import build_graph
from graph.context import Context
from memory.checkpointer import open_checkpointer
from memory.db import open_database
from memory.paths import app_database_url, data_dir
from memory.vault import CredentialVault
from tests.fakes.groq_server import FakeGroqServer, completion, rate_limited
from tests.fakes.jira_server import FakeJira
from tests.fakes.slack_server import FakeSlack
from tests.fakes.smtp_server import SmtpSink
from tests.integration.cli_runner import DEMO, ROOT
from tests.integration.conftest import FAKE_GROQ_API_KEY
from tests.integration.integrations.fixtures import (
    JIRA_EMAIL,
    JIRA_TOKEN,
    SLACK_TOKEN,
    jira_env,
    slack_env,
)
from tests.unit.conftest import write_script
from tools.http import close_shared_clients
from tools.mcp.shared_hub import close_shared_hubs

pytestmark = pytest.mark.integration

SCANNED = ["graph", "tools", "memory", "prompts"]
"""A blocking call fails when one of these packages is on its stack (on the event loop)."""
ME = "dana@northwind.example"


@contextmanager
def every_blocking_call_fails() -> Iterator[BlockBuster]:
    with blockbuster_ctx(SCANNED) as buster:
        yield buster


def copy_demo(tmp_path: Path) -> Path:
    return shutil.copytree(DEMO, tmp_path / "inbox", ignore=shutil.ignore_patterns(".Drafts"))


async def test_the_check_catches_a_blocking_call_from_our_code(tmp_path: Path) -> None:
    with every_blocking_call_fails(), pytest.raises(BlockingError):
        data_dir(tmp_path / "made-on-the-loop")  # mkdir and resolve, right on the event loop


async def test_chat_triage_and_actions_never_block(
    tmp_path: Path, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMTP_URL", smtp_sink.url)
    inbox = copy_demo(tmp_path)
    context = Context(
        model="rules", inbox=f"maildir:{inbox}", home=str(tmp_path / "home"), user_addresses=(ME,)
    )
    checkpoints = tmp_path / "checkpoints.db"
    config: RunnableConfig = {"configurable": {"thread_id": "loop"}}
    turns: list[Any] = [
        {"mode": "triage", "messages": []},
        {"messages": [HumanMessage("what needs my attention today?")]},
        {"messages": [HumanMessage("what does the first one say?")]},
        {"messages": [HumanMessage("any invoices?")]},
        {
            "messages": [
                HumanMessage("reply to the meeting request from Sofia and say Thursday works")
            ]
        },
        Command(resume={"type": "accept"}),
        {"messages": [HumanMessage("draft a reply to the second one saying we paid on Friday")]},
        Command(resume={"type": "accept"}),
        {"messages": [HumanMessage("reply to the meeting request from Rafael and say 10:00")]},
        Command(resume={"type": "ignore"}),
    ]
    answers = []
    with every_blocking_call_fails():
        async with open_checkpointer(checkpoints) as saver:
            graph = build_graph(checkpointer=saver)
            for turn in turns:
                state = await graph.ainvoke(turn, config=config, context=context)
                pending = (await graph.aget_state(config)).interrupts
                answers.append("(waiting)" if pending else str(state["messages"][-1].content))
    assert answers[0].startswith("Triaged 50 new message(s)")
    assert "[msg:" in answers[1] and "[msg:" in answers[2]
    assert answers[4] == answers[6] == answers[8] == "(waiting)"
    assert answers[5].startswith("Sent to sofia.marchetti@northwind.example")
    assert answers[7].startswith("Draft saved")
    assert "Not done" in answers[9]
    assert [m.rcpt_tos for m in smtp_sink.messages] == [["sofia.marchetti@northwind.example"]]
    assert list((inbox / ".Drafts" / "cur").iterdir())


async def test_mcp_tools_and_mail_over_mcp_never_block(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    served = copy_demo(tmp_path)
    (home / "mcp.json").write_text(
        json.dumps(
            {
                "mcpServers": {
                    "echo": {
                        "command": sys.executable,
                        "args": ["-m", "tests.fakes.mcp.echo_server"],
                        "cwd": str(ROOT),
                    },
                    "mail": {
                        "command": sys.executable,
                        "args": ["-m", "ui.cli", "mcp-server", "--inbox", f"maildir:{served}"],
                        "cwd": str(ROOT),
                        "env": {"SMART_INBOX_HOME": str(tmp_path / "server-home")},
                    },
                }
            }
        ),
        "utf-8",
    )
    script = write_script(
        tmp_path / "echo.jsonl",
        [
            {"node": "select_tools", "tool_calls": [{"name": "echo", "args": {"text": "hello"}}]},
            {"node": "select_tools", "content": "", "tool_calls": []},
        ],
    )
    context = Context(model=f"replay:{script}", inbox="mcp:mail", home=str(home))
    graph = build_graph(checkpointer=None)
    try:
        with every_blocking_call_fails():
            triage = await graph.ainvoke({"mode": "triage", "messages": []}, context=context)
            chat = await graph.ainvoke({"messages": [HumanMessage("echo hello")]}, context=context)
    finally:
        await close_shared_hubs()
    assert len(triage["triage"]) == 50, "read over MCP from our own mail server"
    [echoed] = [e for e in chat["evidence"] if e["tool"] == "echo"]
    assert echoed["error"] == "" and echoed["content"].splitlines()[0] == "hello"


async def test_a_groq_turn_with_a_rate_limit_never_blocks(
    tmp_path: Path, groq_server: FakeGroqServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GROQ_API_KEY", FAKE_GROQ_API_KEY)
    monkeypatch.setenv("GROQ_BASE_URL", groq_server.base_url)
    inbox = copy_demo(tmp_path)
    home = str(tmp_path / "home")
    graph = build_graph(checkpointer=None)
    await graph.ainvoke(
        {"mode": "triage", "messages": []},
        context=Context(model="rules", inbox=f"maildir:{inbox}", home=home),
    )
    grounded = (
        'The invoice "Invoice INV-2026-0412 is 30 days overdue: EUR 12,480.00" is overdue '
        "[msg:dunning-1-INV-2026-0412@erp.vireo-dc.example]."
    )
    groq_server.script(
        rate_limited(retry_after=1),
        completion(tool_calls=[("search_emails", {"query": "invoice"})]),
        completion("I have what I need."),
        completion(grounded),
    )
    context = Context(model="groq:llama-3.3-70b-versatile", inbox=f"maildir:{inbox}", home=home)
    with every_blocking_call_fails():
        state = await graph.ainvoke(
            {"messages": [HumanMessage("any overdue invoices?")]}, context=context
        )
    assert state["messages"][-1].content == grounded
    assert groq_server.unused_responses == 0


async def test_secrets_from_the_vault_never_block(
    tmp_path: Path, groq_server: FakeGroqServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default engine finds the Groq key, and sending the SMTP password, in the vault."""
    password = "vault-Smtp-Pw-0042"
    home = data_dir(tmp_path / "home")
    vault = CredentialVault(open_database(app_database_url(home)), home)
    vault.set(f"smtp.password:{ME}@127.0.0.1", password)
    vault.set("groq.api_key", FAKE_GROQ_API_KEY)
    for name in ("GROQ_API_KEY", "MODEL", "SMTP_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GROQ_BASE_URL", groq_server.base_url)
    inbox = copy_demo(tmp_path)
    sofia = "CAF9s0fia.Q1road.20261116@mail.northwind.example"
    groq_server.script(
        completion(tool_calls=[("reply_to_email", {"email_id": sofia, "body": "Thursday works"})]),
        completion("Done."),
        completion("Sent [msg:no-such-message@example.com]."),
        completion("Sent [msg:no-such-message@example.com]."),
    )
    config: RunnableConfig = {"configurable": {"thread_id": "vault"}}
    with SmtpSink(auth={ME: password}) as sink:
        monkeypatch.setenv("SMTP_URL", f"smtp://dana%40northwind.example@{sink.host}:{sink.port}")
        graph = build_graph(checkpointer=InMemorySaver())
        with every_blocking_call_fails():
            rules = Context(model="rules", inbox=f"maildir:{inbox}", home=str(home))
            await graph.ainvoke(
                {"mode": "triage", "messages": []},
                config={"configurable": {"thread_id": "triage"}},
                context=rules,
            )
            context = Context(inbox=f"maildir:{inbox}", home=str(home), user_addresses=(ME,))
            ask = "reply to the meeting request from Sofia and say Thursday works"
            await graph.ainvoke({"messages": [HumanMessage(ask)]}, config=config, context=context)
            assert (await graph.aget_state(config)).interrupts, "the reply waits for approval"
            state = await graph.ainvoke(
                Command(resume={"type": "accept"}), config=config, context=context
            )
        [received] = sink.wait_for(1)
    assert received.authenticated_as == ME
    assert [(e["action"], e["status"]) for e in state["executed"]] == [("reply_to_email", "ok")]
    assert groq_server.unused_responses == 0
    assert all(request.authorized for request in groq_server.requests)


async def test_a_triage_run_with_integrations_never_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Code-made proposals (Jira issues, Slack posts), approved, then sent over HTTP."""
    inbox = copy_demo(tmp_path)
    context = Context(
        model="rules", inbox=f"maildir:{inbox}", home=str(tmp_path / "home"), user_addresses=(ME,)
    )
    config: RunnableConfig = {"configurable": {"thread_id": "integrations"}}
    with (
        FakeJira(JIRA_EMAIL, JIRA_TOKEN, projects=("NW", "OPS")) as jira,
        FakeSlack(SLACK_TOKEN) as slack,
    ):
        assert isinstance(jira, FakeJira) and isinstance(slack, FakeSlack)
        for name, value in {**jira_env(jira), **slack_env(slack)}.items():
            monkeypatch.setenv(name, value)
        graph = build_graph(checkpointer=InMemorySaver())
        try:
            with every_blocking_call_fails():
                await graph.ainvoke({"mode": "triage", "messages": []}, config, context=context)
                pending = (await graph.aget_state(config)).interrupts
                assert pending, "the triage proposed nothing"
                state = await graph.ainvoke(
                    Command(resume={"type": "accept"}), config, context=context
                )
        finally:
            await close_shared_clients()
        executed = state["executed"]
        assert executed and all(e["status"] == "ok" for e in executed), executed
        assert {e["action"] for e in executed} >= {"jira_create_issue", "slack_post_message"}
        assert slack.posted and jira.calls("POST", "/rest/api/3/issue")
