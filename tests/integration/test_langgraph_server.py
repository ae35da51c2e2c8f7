"""The agent through the LangGraph server API, as embedding teams and Studio reach it.

A real `smart-inbox serve` (the in-memory `langgraph dev`) runs in its own process on a free
port, with a real SMTP server and a local server speaking Slack's Web API; every call goes
through `langgraph_sdk`. Covered: the graphs and their node names, a cited answer, the approval
interrupt in Agent Inbox shape resumed with accept (the mail arrives) and ignore (nothing is
sent), two concurrent threads, a restart that keeps a pending request, a crash, scheduled triage
through the cron API whose Slack notification waits for approval, a taken port, and the
repository's `langgraph.json` under a bare `langgraph dev`.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from graph.state import State
from memory.db import open_database
from memory.paths import app_database_url
from tests.fakes.slack_server import FakeSlack
from tests.fakes.smtp_server import SmtpSink, free_port
from tests.integration.cli_runner import DEMO, ROOT, run_cli
from tests.integration.integrations.fixtures import SLACK_TOKEN, slack_env
from tests.integration.langgraph_server import OWN_ADDRESS, LangGraphServer
from ui.langgraph_server import SCHEDULE_METADATA, SERVER_DIR

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

RAFAEL = "rafael.ortiz@northwind.example"
RAFAEL_ID = "CAR4f0rt1z.sync-fri@mail.northwind.example"
SOFIA = "sofia.marchetti@northwind.example"
SOFIA_ID = "CAF9s0fia.Q1road.20261116@mail.northwind.example"
REPLY_RAFAEL = "reply to the meeting request from Rafael and say 09:30 works for me"
REPLY_SOFIA = "reply to the meeting request from Sofia and say Thursday works"
RUN_TIMEOUT = 120.0


def client_of(server: LangGraphServer) -> LangGraphClient:
    return get_client(url=server.url, api_key=None, timeout=RUN_TIMEOUT)


def user(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


def requests_of(state: dict[str, Any]) -> list[dict[str, Any]]:
    """The pending approval requests of a thread state, flattened."""
    found: list[dict[str, Any]] = []
    for item in state.get("interrupts") or []:
        value = item["value"]
        found.extend(value if isinstance(value, list) else [value])
    return found


def last_answer(values: dict[str, Any]) -> str:
    messages = values.get("messages") or []
    assert messages and messages[-1]["type"] == "ai", messages[-1:]
    return str(messages[-1]["content"])


@pytest.fixture(scope="module")
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as server:
        yield server


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(SLACK_TOKEN) as api:
        assert isinstance(api, FakeSlack)
        yield api


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, sink: SmtpSink, slack: FakeSlack
) -> Iterator[LangGraphServer]:
    """One server for the module: starting one takes seconds."""
    home = tmp_path_factory.mktemp("served")
    env = {
        "SMTP_URL": sink.url,
        "SMART_INBOX_USER_EMAILS": OWN_ADDRESS,
        "SMART_INBOX_SIGNATURE": "Best,",
        "SMART_INBOX_DIGEST_TO": "slack:#ops",
        **slack_env(slack),
    }
    with LangGraphServer(home, env=env) as running:
        yield running


async def reply_interrupted(client: LangGraphClient, text: str) -> tuple[str, dict[str, Any]]:
    """A new thread asked `text`; returns its id and the one pending request."""
    thread = await client.threads.create()
    await client.runs.wait(thread["thread_id"], "agent", input=user(text))
    state = await client.threads.get_state(thread["thread_id"])
    pending = requests_of(state)
    assert len(pending) == 1, pending
    return thread["thread_id"], pending[0]


async def test_both_graphs_are_served_with_their_context_schema(server: LangGraphServer) -> None:
    client = client_of(server)
    assistants = {a["graph_id"]: a for a in await client.assistants.search(limit=20)}
    assert set(assistants) == {"agent", "triage", "digest"}
    schemas = await client.assistants.get_schemas(assistants["agent"]["assistant_id"])
    context = schemas["context_schema"]["properties"]
    assert {"model", "inbox", "home", "max_steps", "user_addresses"} <= set(context)
    assert "messages" in schemas["input_schema"]["properties"]
    triage = await client.assistants.get_schemas(assistants["triage"]["assistant_id"])
    assert "messages" not in triage["input_schema"].get("properties", {})


async def test_question_gets_an_answer_citing_messages_it_read(server: LangGraphServer) -> None:
    client = client_of(server)
    thread = await client.threads.create()
    nodes: list[str] = []
    async for part in client.runs.stream(
        thread["thread_id"],
        "agent",
        input=user("what needs my attention today?"),
        stream_mode="updates",
    ):
        if part.event == "updates" and isinstance(part.data, dict):
            nodes.extend(part.data)
    # `classify` runs when mail waits for its triage (a fresh data directory's first run).
    assert [node for node in nodes if node != "classify"][:2] == ["fetch", "detect_follow_up"]
    assert nodes[-1] == "answer"
    state = await client.threads.get_state(thread["thread_id"])
    values = state["values"]
    answer = last_answer(values)
    assert values["citations"], answer
    shown = {m["id"] for record in values["evidence"] for m in record["messages"]}
    for cited in values["citations"]:
        assert f"[msg:{cited}]" in answer
        assert cited in shown, f"{cited} cited but never shown by a tool"
    # What Studio shows: the documented, plain fields.
    assert set(values) <= set(State.__annotations__), set(values) - set(State.__annotations__)
    assert values["triage"] and {"priority", "category", "action", "reason"} <= set(
        values["triage"][0]
    )
    assert {"id", "tool", "completeness", "content", "messages", "error"} <= set(
        values["evidence"][0]
    )
    assert state["next"] == []


async def test_reply_interrupts_and_accept_delivers_it(
    server: LangGraphServer, sink: SmtpSink
) -> None:
    client = client_of(server)
    before = len(sink.messages)
    thread_id, request = await reply_interrupted(client, REPLY_RAFAEL)
    # The Agent Inbox shape, with the real recipient in the description.
    assert request["action_request"] == {
        "action": "reply_to_email",
        "args": {"email_id": RAFAEL_ID, "body": "Hi Rafael,\n\n09:30 works for me.\n\nBest,"},
    }
    assert request["config"] == {
        "allow_accept": True,
        "allow_edit": True,
        "allow_respond": True,
        "allow_ignore": True,
    }
    assert RAFAEL in request["description"]
    assert (await client.threads.get(thread_id))["status"] == "interrupted"
    assert len(sink.messages) == before, "nothing is sent before approval"

    await client.runs.wait(thread_id, "agent", command={"resume": {"type": "accept"}})
    received = sink.wait_for(before + 1, timeout=30)[before:]
    assert len(received) == 1
    message = received[0].message
    assert received[0].rcpt_tos == [RAFAEL]
    assert message["Subject"] == "Re: Sync tomorrow (Fri 20 Nov) 09:30?"
    assert message["In-Reply-To"] == f"<{RAFAEL_ID}>"
    assert "09:30 works for me" in message.get_body(("plain",)).get_content()
    state = await client.threads.get_state(thread_id)
    assert requests_of(state) == []
    assert [(e["action"], e["status"]) for e in state["values"]["executed"]] == [
        ("search_emails", "ok"),
        ("reply_to_email", "ok"),
    ]
    assert "Sent to rafael.ortiz@northwind.example" in last_answer(state["values"])
    assert (await client.threads.get(thread_id))["status"] == "idle"


async def test_ignore_sends_nothing_and_says_so(server: LangGraphServer, sink: SmtpSink) -> None:
    client = client_of(server)
    thread_id, request = await reply_interrupted(client, REPLY_SOFIA)
    assert request["action_request"]["args"]["email_id"] == SOFIA_ID
    before = len(sink.messages)
    await client.runs.wait(thread_id, "agent", command={"resume": {"type": "ignore"}})
    state = await client.threads.get_state(thread_id)
    values = state["values"]
    # On a server's first turn the fetch's triage already names Sofia's mail; later turns
    # search for it first. Either way only reads ran, and the reply was declined.
    assert {e["action"] for e in values["executed"]} <= {"search_emails"}
    assert [(d["action"], d["type"]) for d in values["decisions"]][-1] == (
        "reply_to_email",
        "ignore",
    )
    answer = last_answer(values)
    assert f"Not done: you declined `reply_to_email` ({SOFIA_ID})." in answer
    assert "could not tell what to look up" not in answer
    assert requests_of(state) == []
    assert len(sink.messages) == before, "an ignored reply was sent"


async def test_two_concurrent_threads_do_not_mix(server: LangGraphServer, sink: SmtpSink) -> None:
    client = client_of(server)
    before = len(sink.messages)
    (rafael_thread, rafael), (sofia_thread, sofia) = await asyncio.gather(
        reply_interrupted(client, REPLY_RAFAEL.replace("09:30", "10:15")),
        reply_interrupted(client, REPLY_SOFIA.replace("Thursday", "Wednesday")),
    )
    assert rafael["action_request"]["args"] == {
        "email_id": RAFAEL_ID,
        "body": "Hi Rafael,\n\n10:15 works for me.\n\nBest,",
    }
    assert sofia["action_request"]["args"] == {
        "email_id": SOFIA_ID,
        "body": "Hi Sofia,\n\nWednesday works.\n\nBest,",
    }
    for thread_id, text in ((rafael_thread, "10:15"), (sofia_thread, "Wednesday")):
        values = (await client.threads.get_state(thread_id))["values"]
        asked = [m["content"] for m in values["messages"] if m["type"] == "human"]
        assert len(asked) == 1 and text in asked[0], asked

    await asyncio.gather(
        client.runs.wait(rafael_thread, "agent", command={"resume": {"type": "accept"}}),
        client.runs.wait(sofia_thread, "agent", command={"resume": {"type": "accept"}}),
    )
    received = sink.wait_for(before + 2, timeout=30)[before:]
    by_recipient = {tuple(r.rcpt_tos): r.message for r in received}
    assert set(by_recipient) == {(RAFAEL,), (SOFIA,)}
    assert "10:15 works for me" in by_recipient[(RAFAEL,)].get_body(("plain",)).get_content()
    assert "Wednesday works" in by_recipient[(SOFIA,)].get_body(("plain",)).get_content()
    for thread_id, target in ((rafael_thread, RAFAEL_ID), (sofia_thread, SOFIA_ID)):
        executed = (await client.threads.get_state(thread_id))["values"]["executed"]
        sent = [e["args"]["email_id"] for e in executed if e["action"] == "reply_to_email"]
        assert sent == [target]


NEW_MAIL = """\
From: Priya Nair <priya.nair@northwind.example>
To: Dana Whitfield <dana@northwind.example>
Subject: Scheduled triage probe: staging database is down
Date: Fri, 20 Nov 2026 10:00:00 +0100
Message-ID: <scheduled-probe@mail.northwind.example>

The staging database is down since 09:40 and the release is blocked. Can you look now?
"""
PROBE_ID = "scheduled-probe@mail.northwind.example"


async def test_scheduled_triage_runs_and_its_notification_waits_for_approval(
    server: LangGraphServer, slack: FakeSlack
) -> None:
    """The cron API runs the triage graph; its Slack post for urgent mail waits on a card."""
    client = client_of(server)
    home = server.home
    (home / "inbox" / "new" / "1795500000.M1P1.probe").write_text(NEW_MAIL, "utf-8")
    # Every two seconds (the server's cron parser takes an optional sixth field, seconds), so
    # the test need not wait for a minute boundary.
    created = json.loads(
        run_cli(
            home, "schedule-triage", "--cron", "* * * * * */2", "--server", server.url, "--json"
        ).stdout
    )
    try:
        listed = json.loads(
            run_cli(home, "schedule-triage", "--list", "--server", server.url, "--json").stdout
        )
        assert [c["id"] for c in listed] == [created["id"]]
        thread = await wait_for_triage_of(client, PROBE_ID)
    finally:
        run_cli(home, "schedule-triage", "--delete", created["id"], "--server", server.url)
    assert (
        json.loads(
            run_cli(home, "schedule-triage", "--list", "--server", server.url, "--json").stdout
        )
        == []
    )
    # The triage is in the app database, where the CLI and the chat read it.
    db = open_database(app_database_url(home))
    stored = {email.id: triage for email, triage in db.triaged_emails(
        f"maildir:{(home / 'inbox').resolve()}"
    )}  # fmt: skip
    assert (stored[PROBE_ID].priority, stored[PROBE_ID].category) == ("high", "urgent_incident")

    # The run stopped at the approval step with the triage's notification on its card.
    state = await client.threads.get_state(thread["thread_id"])
    assert state["next"] == ["request_approval"]
    assert thread["status"] == "interrupted"
    pending = requests_of(state)
    probe = [r for r in pending if r["action_request"]["args"].get("email_id") == PROBE_ID]
    assert [r["action_request"]["action"] for r in probe] == ["slack_post_message"]
    assert slack.posted == [], "nothing is posted before approval"
    decisions = {r["call_id"]: {"type": "accept" if r in probe else "ignore"} for r in pending}
    await client.runs.wait(thread["thread_id"], "triage", command={"resume": decisions})
    assert len(slack.posted) == 1
    assert slack.posted[0]["channel"] == slack.channels["inbox-alerts"]
    assert "staging database is down" in json.dumps(slack.posted[0])
    values = (await client.threads.get_state(thread["thread_id"]))["values"]
    # Other mail in the same run may have had read-only calls (they need no approval); the
    # probe's only call is the approved post, and no rejected request ran.
    executed = values["executed"]
    assert [
        (e["action"], e["status"]) for e in executed if e["args"].get("email_id") == PROBE_ID
    ] == [("slack_post_message", "ok")]
    rejected = {r["call_id"] for r in pending if r not in probe}
    assert [e["action"] for e in executed if e["call_id"] in rejected] == []
    assert values["mode"] == "chat", "a finished triage run hands the thread back to chat"
    assert (await client.threads.get(thread["thread_id"]))["status"] == "idle"


async def wait_for_triage_of(
    client: LangGraphClient, email_id: str, deadline: float = 90.0
) -> dict[str, Any]:
    """The scheduled-triage thread whose run triaged `email_id`, once it stopped for approval."""
    ends = time.monotonic() + deadline
    while time.monotonic() < ends:
        threads = await client.threads.search(
            metadata=SCHEDULE_METADATA, status="interrupted", limit=100
        )
        for thread in threads:
            values = thread.get("values") or {}
            if any(row["id"] == email_id for row in values.get("triage") or []):
                return dict(thread)
        await asyncio.sleep(0.5)
    raise AssertionError(f"no scheduled triage run stopped for approval on {email_id}")


def test_restart_keeps_threads_a_pending_request_and_schedules(
    tmp_path: Path, sink: SmtpSink
) -> None:
    env = {"SMTP_URL": sink.url, "SMART_INBOX_USER_EMAILS": OWN_ADDRESS}

    async def before_restart(server: LangGraphServer) -> tuple[str, dict[str, Any]]:
        client = client_of(server)
        thread_id, request = await reply_interrupted(client, REPLY_RAFAEL)
        return thread_id, (await client.threads.get_state(thread_id))["values"]

    with LangGraphServer(tmp_path, env=env) as first:
        thread_id, values = asyncio.run(before_restart(first))
        schedule = ("schedule-triage", "--server", first.url, "--json")
        created = json.loads(run_cli(tmp_path, *schedule, "--every", "2h").stdout)
        # uvicorn re-raises the signal once it has shut down cleanly.
        assert first.stop() in (0, -signal.SIGTERM), first.log()[-3000:]
    saved = tmp_path / SERVER_DIR / ".langgraph_api"
    assert (saved / ".langgraph_ops.pckl").is_file()

    async def after_restart(server: LangGraphServer) -> None:
        client = client_of(server)
        state = await client.threads.get_state(thread_id)
        assert state["values"]["messages"] == values["messages"]
        assert state["values"]["evidence"] == values["evidence"]
        (request,) = requests_of(state)
        assert request["action_request"]["args"]["email_id"] == RAFAEL_ID
        before = len(sink.messages)
        await client.runs.wait(thread_id, "agent", command={"resume": {"type": "accept"}})
        received = sink.wait_for(before + 1, timeout=30)[before:]
        assert [r.rcpt_tos for r in received] == [[RAFAEL]]

    with LangGraphServer(tmp_path, env=env, log_name="server-2.log") as second:
        asyncio.run(after_restart(second))
        listed = json.loads(
            run_cli(tmp_path, "schedule-triage", "--list", "--server", second.url, "--json").stdout
        )
    assert [(s["id"], s["schedule"]) for s in listed] == [(created["id"], "0 */2 * * *")]


def test_after_a_crash_the_last_flushed_state_comes_back(tmp_path: Path) -> None:
    """The server saves its state every 10 s and at a clean stop; a crash loses only the rest."""

    async def ask(server: LangGraphServer) -> str:
        client = client_of(server)
        thread = await client.threads.create()
        await client.runs.wait(thread["thread_id"], "agent", input=user("any invoices?"))
        return str(thread["thread_id"])

    saved = tmp_path / SERVER_DIR / ".langgraph_api"
    with LangGraphServer(tmp_path) as first:
        thread_id = asyncio.run(ask(first))
        asked_at = time.time()
        ends = time.monotonic() + 60
        while time.monotonic() < ends:
            files = list(saved.glob(".langgraph_*.pckl"))
            if files and all(f.stat().st_mtime > asked_at for f in files):
                break
            time.sleep(0.5)
        else:
            raise AssertionError("the server never saved its state after the run")
        first.kill()

    async def read(server: LangGraphServer) -> dict[str, Any]:
        return dict(await client_of(server).threads.get_state(thread_id))

    with LangGraphServer(tmp_path, log_name="server-2.log") as second:
        state = asyncio.run(read(second))
    assert "invoice" in last_answer(state["values"]).lower()


def test_a_taken_port_is_a_clear_error_not_another_port(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(tmp_path, "serve", "--port", str(port), check=False)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"smart-inbox: port {port} on 127.0.0.1 is already in use: stop what listens there "
        "or pick another with --port"
    ]
    assert not (tmp_path / SERVER_DIR).exists(), "nothing was set up for a server that never ran"


def test_serve_refuses_other_addresses_without_consent(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "serve", "--host", "0.0.0.0", check=False)
    assert result.returncode == 2
    assert "no authentication" in result.stderr and "--allow-remote" in result.stderr


def test_serve_reports_a_bad_setting_before_starting(tmp_path: Path) -> None:
    result = run_cli(
        tmp_path, "serve", "--port", str(free_port()), env={"MODEL": "nonsense"}, check=False
    )
    assert result.returncode == 2
    assert "unknown model spec 'nonsense'" in result.stderr


async def test_the_repository_config_serves_under_plain_langgraph_dev(tmp_path: Path) -> None:
    """`langgraph dev` with the repository's `langgraph.json` and its env file, unchanged."""
    workdir = tmp_path / "project"
    workdir.mkdir()
    shutil.copy(ROOT / "langgraph.json", workdir / "langgraph.json")
    (workdir / "graph").symlink_to(ROOT / "graph", target_is_directory=True)
    home = tmp_path / "home"
    inbox = tmp_path / "mail"
    shutil.copytree(DEMO, inbox, ignore=shutil.ignore_patterns(".Drafts", ".Sent"))
    # Only the env file says where the data and the mail are.
    (workdir / ".env").write_text(f"SMART_INBOX_HOME={home}\nINBOX=maildir:{inbox}\n", "utf-8")
    port = free_port()
    command = [sys.executable, "-m", "langgraph_cli", "dev", "--port", str(port)]
    command += ["--no-browser", "--no-reload"]
    env = {
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
        "LANGGRAPH_NO_VERSION_CHECK": "true",
        "LANGGRAPH_STRICT_MSGPACK": "true",
        "LANGSMITH_TRACING": "false",
    }
    server = LangGraphServer(tmp_path / "log", env=env, command=command, cwd=workdir, port=port)
    server.env.pop("SMART_INBOX_HOME")
    server.env.pop("INBOX")
    with server:
        client = client_of(server)
        thread = await client.threads.create()
        values = await client.runs.wait(thread["thread_id"], "triage", input={})
    assert isinstance(values, dict)
    assert "Triaged 50 new message(s)" in last_answer(values)
    # The data directory and the mailbox came from the env file.
    db = open_database(app_database_url(home))
    assert len(db.triaged_emails(f"maildir:{inbox.resolve()}")) == 50
    assert (workdir / ".langgraph_api").is_dir()


async def test_a_correction_through_the_api_is_a_card_then_a_kept_rule(
    server: LangGraphServer,
) -> None:
    """Teaching triage through the server API: the same card as in the chat, kept once accepted,
    and `smart-inbox rules list` on the same data directory shows it."""
    client = client_of(server)
    thread_id, request = await reply_interrupted(
        client, "mail from backendweekly.example is not important"
    )
    assert request["action_request"]["action"] == "correct_triage"
    assert request["action_request"]["args"]["scope"] == "domain"
    await client.runs.wait(thread_id, "agent", command={"resume": {"type": "accept"}})
    values = (await client.threads.get_state(thread_id))["values"]
    assert ("correct_triage", "ok") in [(e["action"], e["status"]) for e in values["executed"]]
    assert "Remembered" in last_answer(values)
    listed = json.loads(run_cli(server.home, "rules", "list", "--json").stdout)
    assert [(r["scope"], r["key"], r["decision"], r["origin"]) for r in listed] == [
        ("domain", "backendweekly.example", "ignore", "chat")
    ]


async def test_the_scheduled_digest_is_posted_once_a_day_to_the_chosen_channel(
    server: LangGraphServer, slack: FakeSlack
) -> None:
    """Every two seconds the cron runs the digest graph; Slack gets one digest, not one a run."""
    client = client_of(server)
    # The digest reads what the server fetched: one triage run fetches the demo mail first.
    await client.runs.wait((await client.threads.create())["thread_id"], "triage", input={})
    home, before = server.home, len(slack.posted)
    schedule = ("schedule-digest", "--server", server.url, "--json")
    created = json.loads(run_cli(home, *schedule, "--cron", "* * * * * */2").stdout)
    try:
        listed = json.loads(run_cli(home, *schedule, "--list").stdout)
        assert [c["id"] for c in listed] == [created["id"]]
        ends = time.monotonic() + 90
        while len(slack.posted) == before and time.monotonic() < ends:
            await asyncio.sleep(0.5)
        await asyncio.sleep(6)  # three more runs, each finding today's digest delivered
    finally:
        run_cli(home, *schedule, "--delete", created["id"])
    assert json.loads(run_cli(home, *schedule, "--list").stdout) == []
    posts = slack.posted[before:]
    assert len(posts) == 1, posts
    assert posts[0]["channel"] == slack.channels["ops"]
    assert "Your inbox on" in posts[0]["text"] and "[msg:" in posts[0]["text"]
