"""Services that repeat their credential: nothing anyone sees or keeps holds it.

Every local server here answers once with the credential the request carried (the
`Authorization` header, the token, the Teams URL, the webhook signing secret) plainly, in
base64 at two alignments, in base64url, URL-encoded and split by a JSON escape, in an error
body and in a successful one. The real graph runs against them; then the answer, the evidence
and executed errors in the checkpoint read back from the saver (and its raw bytes), the audit
log and every file of the data directory, the DEBUG logs, and the prompts the Groq engine sent,
are searched for each secret in every form it could take.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from graph.context import DEMO_INBOX, Context
from memory.audit import AuditLog
from memory.db import open_database
from memory.paths import app_database_url
from tests.fakes.groq_server import FakeGroqServer, completion
from tests.fakes.http_api import Echo
from tests.fakes.hubspot_server import FakeHubSpot
from tests.fakes.jira_server import FakeJira
from tests.fakes.slack_server import FakeSlack
from tests.fakes.teams_server import WEBHOOK_PATH, FakeTeams
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.integration.conftest import FAKE_GROQ_API_KEY
from tests.integration.integrations.fixtures import (
    HUBSPOT_TOKEN,
    JIRA_TOKEN,
    ME,
    SLACK_TOKEN,
    WEBHOOK_SECRET,
    Run,
    hubspot_env,
    jira_env,
    slack_env,
    teams_env,
    use,
    webhook_env,
)
from tests.integration.test_no_plaintext_secrets import forms

pytestmark = pytest.mark.integration

SECRETS = {
    "jira.api_token": JIRA_TOKEN,
    "slack.bot_token": SLACK_TOKEN,
    "hubspot.token": HUBSPOT_TOKEN,
    "teams.webhook_url": WEBHOOK_PATH,
    "webhook.secret": WEBHOOK_SECRET,
}
SEARCH_JQL = "/rest/api/3/search/jql"
HUBSPOT_SEARCH = "/crm/v3/objects/contacts/search"
ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def leaks(text: str | bytes) -> list[tuple[str, str]]:
    """(credential, form) for every secret `text` still holds, escaped or encoded."""
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    readable = data.decode("utf-8", "replace")
    decoded = unquote(ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), readable))
    found = [
        (name, form)
        for name, value in SECRETS.items()
        for form, needle in forms(value).items()
        if needle in data
    ]
    found += [(name, "escaped") for name, value in SECRETS.items() if value in decoded]
    return found


def stored(value: Any) -> bytes:
    """Every byte and string an in-memory saver holds, as it would be written."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, dict):
        return b"\n".join(stored(k) + b"=" + stored(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return b"\n".join(stored(item) for item in value)
    return b""


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in (
        "JIRA_BASE_URL JIRA_EMAIL JIRA_API_TOKEN JIRA_PROJECT JIRA_PROJECT_KEYS SLACK_API_URL "
        "SLACK_BOT_TOKEN SLACK_CHANNEL TEAMS_WEBHOOK_URL HUBSPOT_API_URL HUBSPOT_TOKEN "
        "WEBHOOK_URL WEBHOOK_SECRET WEBHOOK_EVENTS WEBHOOKS_CONFIG MAIL_LINK_URL SMTP_URL "
        "GROQ_API_KEY GROQ_BASE_URL"
    ).split():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INTEGRATION_RETRIES", "0")
    yield


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    return shutil.copytree(DEMO_INBOX, tmp_path / "inbox", ignore=shutil.ignore_patterns(".*"))


def context_for(tmp_path: Path, inbox: Path, model: str) -> Context:
    return Context(
        model=model, inbox=f"maildir:{inbox}", home=str(tmp_path / "home"), user_addresses=(ME,)
    )


def replay(tmp_path: Path, *calls: tuple[str, dict[str, Any]]) -> str:
    """A model that proposes `calls` at once, then stops (the rules write the answer)."""
    script = tmp_path / "model.jsonl"
    lines = [
        {"node": "select_tools", "tool_calls": [{"name": n, "args": a} for n, a in calls]},
        {"node": "select_tools", "content": "That is all."},
    ]
    script.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return f"replay:{script}"


async def kept_everywhere(run: Run, context: Context, caplog: pytest.LogCaptureFixture) -> str:
    """Everything the run showed or kept, as one text, after checking none of it leaks."""
    snapshot = await run.graph.aget_state(run.config)
    saver = run.graph.checkpointer
    assert isinstance(saver, InMemorySaver)
    read_back = await saver.aget_tuple(run.config)
    assert read_back is not None
    state = read_back.checkpoint["channel_values"]
    home = Path(context.home).resolve()
    rows = AuditLog(open_database(app_database_url(home))).entries()
    assert rows, "the audit log has the calls"
    places: dict[str, str | bytes] = {
        "answer": snapshot.values["messages"][-1].text,
        "evidence": json.dumps(state.get("evidence"), default=str),
        "executed": json.dumps(state.get("executed"), default=str),
        "checkpoint bytes": stored([saver.storage, saver.writes, saver.blobs]),
        "audit rows": json.dumps(rows),
        "data directory": b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file()),
        "logs": caplog.text
        + "".join(r.exc_text or "" for r in caplog.records)
        + "".join(r.getMessage() for r in caplog.records),
    }
    found = {where: leaks(text) for where, text in places.items()}
    assert {where: hits for where, hits in found.items() if hits} == {}
    return json.dumps({k: v for k, v in places.items() if isinstance(v, str)})


async def test_echoes_of_every_integration_are_masked_in_the_answer_state_audit_and_logs(
    tmp_path: Path,
    inbox: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    jira: FakeJira,
    slack: FakeSlack,
    teams: FakeTeams,
    hubspot: FakeHubSpot,
) -> None:
    use(monkeypatch, jira_env(jira), slack_env(slack), teams_env(teams), hubspot_env(hubspot))
    jira.script(
        Echo(200, {"issues": [{"key": "NW-7", "fields": {"summary": "coupon {echo}"}}]}),
        path=SEARCH_JQL,
    )
    jira.script(
        Echo(400, {"errorMessages": ["bad credentials: {echo}"], "errors": {}}),
        path="/rest/api/3/issue",
    )
    slack.script(
        Echo(200, {"ok": True, "channel": "C0OPS0001", "ts": "{echo}"}),
        Echo(200, {"ok": False, "error": "invalid_auth {echo}"}),
    )
    teams.script(Echo(400, "Bad payload for {echo}"))
    found = {"id": "901", "properties": {"email": "j.alvarez@meridianhealth.example"}}
    found["properties"]["firstname"] = "{echo}"
    # Both HubSpot calls search first, concurrently: each finds the echoing contact.
    hubspot.script(*[Echo(200, {"total": 1, "results": [found]})] * 2, path=HUBSPOT_SEARCH)
    model = replay(
        tmp_path,
        ("jira_search", {"query": "coupon"}),
        ("jira_create_issue", {"summary": "Checkout fails", "issue_type": "Bug"}),
        ("slack_post_message", {"text": "Checkout is down", "channel": "#ops"}),
        ("slack_post_message", {"text": "Still down", "channel": "#ops"}),
        ("teams_post_message", {"text": "Checkout is down"}),
        ("hubspot_find_contact", {"email": "j.alvarez@meridianhealth.example"}),
        ("hubspot_create_contact", {"email": "new.lead@meridianhealth.example"}),
    )
    context = context_for(tmp_path, inbox, model)
    run = Run(context)
    with caplog.at_level(logging.DEBUG):
        await run.ask("check the integrations")
        assert len(await run.pending()) == 5, "the five side effects wait for a decision"
        result = await run.decide({"type": "accept"})

    for server in (jira, slack, teams, hubspot):
        assert server.unused_script == 0, f"{server.name} echoed every scripted answer"
    outcomes = sorted((e["action"], e["status"]) for e in result["executed"])
    assert ("jira_search", "ok") in outcomes and ("jira_create_issue", "error") in outcomes
    assert ("teams_post_message", "error") in outcomes
    assert ("hubspot_find_contact", "ok") in outcomes
    assert ("hubspot_create_contact", "ok") in outcomes, "it found the contact: no create"
    assert sorted(s for a, s in outcomes if a == "slack_post_message") == ["error", "ok"]

    shown = await kept_everywhere(run, context, caplog)
    for name in SECRETS.keys() - {"webhook.secret"}:
        assert f"[REDACTED:{name}" in shown, f"the echo of {name} reached the run, masked"
    assert "DEBUG" in caplog.text or any(r.levelno == logging.DEBUG for r in caplog.records)


async def test_a_webhook_receiver_echoing_its_signing_secret(
    tmp_path: Path,
    inbox: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    receiver: WebhookReceiver,
) -> None:
    use(monkeypatch, webhook_env(receiver))
    receiver.script(Echo(401, "signature does not match HMAC-SHA256 with secret {echo}"))
    context = context_for(tmp_path, inbox, "rules")
    run = Run(context)
    with caplog.at_level(logging.DEBUG):
        result = await run.triage()
    assert receiver.unused_script == 0
    [delivery] = [e for e in result["executed"] if e["action"] == "deliver_webhook_event"]
    assert delivery["status"] == "error"
    assert "[REDACTED:webhook.secret]" in delivery["error"]
    await kept_everywhere(run, context, caplog)


async def test_the_prompt_sent_to_groq_holds_no_echoed_secret(
    tmp_path: Path,
    inbox: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    groq_server: FakeGroqServer,
    jira: FakeJira,
    hubspot: FakeHubSpot,
) -> None:
    use(monkeypatch, jira_env(jira), hubspot_env(hubspot))
    await Run(context_for(tmp_path, inbox, "rules"), thread="pre").triage()
    monkeypatch.setenv("GROQ_API_KEY", FAKE_GROQ_API_KEY)
    monkeypatch.setenv("GROQ_BASE_URL", groq_server.base_url)
    jira.script(
        Echo(200, {"issues": [{"key": "NW-7", "fields": {"summary": "coupon {echo}"}}]}),
        path=SEARCH_JQL,
    )
    hubspot.script(
        Echo(401, {"status": "error", "message": "{echo}", "category": "INVALID_AUTHENTICATION"}),
        path=HUBSPOT_SEARCH,
    )
    groq_server.script(
        completion(
            tool_calls=[
                ("jira_search", {"query": "coupon"}),
                ("hubspot_find_contact", {"email": "j.alvarez@meridianhealth.example"}),
            ]
        ),
        completion("I have what I need."),
        completion("Jira has issue NW-7; HubSpot refused the lookup."),
        completion("Jira has issue NW-7; HubSpot refused the lookup."),
    )
    context = context_for(tmp_path, inbox, "groq:llama-3.3-70b-versatile")
    run = Run(context)
    with caplog.at_level(logging.DEBUG):
        result = await run.send({"messages": [HumanMessage("any coupon bugs in Jira?")]})
    assert jira.unused_script == 0 and hubspot.unused_script == 0
    assert [e["action"] for e in result["executed"]] == ["jira_search", "hubspot_find_contact"]
    assert len(groq_server.requests) >= 3, "the tool results went back to the model"

    prompts = [json.dumps(r.body) for r in groq_server.requests]
    assert {n: leaks(p) for n, p in enumerate(prompts) if leaks(p)} == {}
    after_tools = "".join(prompts[1:])
    assert "[REDACTED:jira.api_token" in after_tools, "the 200 echo reached the model, masked"
    assert "[REDACTED:hubspot.token" in after_tools, "so did the 401's"
    await kept_everywhere(run, context, caplog)
