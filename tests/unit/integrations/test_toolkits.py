"""Toolkits in the catalogue, secrets from the environment, and the Jira/Slack/webhook helpers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from graph.context import Context
from graph.services import build_services
from memory.audit import redact
from memory.db import open_database
from memory.ledger import SideEffectLedger
from memory.secrets import environment_secrets
from tests.unit.conftest import MESSAGES, write_maildir
from tools.http import HttpSettings
from tools.integrations.jira import jira_settings, jira_toolkit
from tools.integrations.jira_documents import adf_document, adf_paragraphs, adf_to_text
from tools.integrations.jira_issues import (
    JiraEnv,
    JiraSettings,
    checked_key,
    issue_keys,
    search_jql,
)
from tools.integrations.slack import escape, meeting_blocks
from tools.integrations.webhooks import Event, WebhooksEnv, build_events, event_id, sign
from tools.registry import ToolRegistry
from tools.toolkit import ToolFailure

INTEGRATION_VARIABLES = (
    "JIRA_BASE_URL JIRA_EMAIL JIRA_API_TOKEN JIRA_PROJECT SLACK_BOT_TOKEN TEAMS_WEBHOOK_URL "
    "HUBSPOT_TOKEN WEBHOOK_URL WEBHOOK_SECRET WEBHOOKS_CONFIG SMTP_FROM SMART_INBOX_USER_EMAILS "
    "CALDAV_URL SLACK_MEETINGS_CHANNEL"
).split()


@pytest.fixture
def bare(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Context:
    for name in INTEGRATION_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    inbox = write_maildir(tmp_path / "mbox", MESSAGES)
    return Context(model="rules", inbox=f"maildir:{inbox}", home=str(tmp_path / "home"))


def test_with_nothing_set_up_only_the_mail_tools_the_corrections_and_the_local_calendar_are_offered(
    bare: Context,
) -> None:
    tools = build_services(bare).tools
    assert tools.names() == [
        "search_emails",
        "list_inbox",
        "get_email",
        "save_draft",
        "list_conversations",
        "get_conversation",
        "list_awaiting_reply",
        "list_awaiting_their_reply",
        "archive_conversations",
        "mark_done",
        "move_to_folder",
        "trash_conversations",
        "mark_read",
        "flag_messages",
        "snooze_conversations",
        "unsubscribe",
        "block_sender",
        "undo_inbox_action",
        "list_snoozed",
        "correct_triage",
        "check_availability",
        "propose_meeting_slots",
    ]
    assert tools.unavailable["create_calendar_event"].startswith(
        "creating calendar events needs your address as their organizer"
    )
    assert [kit.name for kit in tools.toolkits] == [
        "mail",
        "conversations",
        "inbox",
        "triage_corrections",
        "calendar",
        "jira",
        "slack",
        "teams",
        "hubspot",
        "salesforce",
        "webhooks",
    ]
    assert tools.unavailable["jira_create_issue"].startswith(
        "Jira is not configured: set JIRA_BASE_URL"
    )
    assert tools.unavailable["slack_post_message"].startswith("Slack is not configured")
    assert tools.unavailable["deliver_webhook_event"].startswith("webhooks are not configured")
    assert tools.is_read_only("jira_search") and not tools.is_read_only("jira_create_issue")
    assert tools.default_level("jira_search") == 0
    assert tools.default_level("slack_post_message") == 1
    assert tools.default_level("deliver_webhook_event") == 2


async def test_a_call_to_an_absent_integration_fails_with_what_to_set(bare: Context) -> None:
    tools = build_services(bare).tools
    with pytest.raises(ToolFailure, match="Jira is not configured: set JIRA_BASE_URL"):
        await tools.invoke("jira_search", {"query": "x"})


def test_a_half_configured_jira_says_what_is_missing(
    bare: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JIRA_BASE_URL", "https://site.atlassian.net")
    monkeypatch.setenv("JIRA_API_TOKEN", "ATATT3xsecretsecretsecretsecret")
    tools = build_services(bare).tools
    assert tools.unavailable["jira_create_issue"] == (
        "Jira is not configured: JIRA_EMAIL, JIRA_PROJECT are not set"
    )
    monkeypatch.setenv("JIRA_EMAIL", "me@x.example")
    monkeypatch.setenv("JIRA_PROJECT", "NW")
    tools = build_services(bare).tools
    assert "jira_create_issue" in tools.names() and "jira_create_issue" not in tools.unavailable
    kit = tools.toolkit("jira")
    assert kit is not None and "ATATT3xsecret" not in repr(kit.env)


def test_hidden_tools_are_runnable_but_never_offered(
    bare: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBHOOK_URL", "https://hooks.example/in")
    monkeypatch.setenv("WEBHOOK_SECRET", "s")
    tools = build_services(bare).tools
    assert "deliver_webhook_event" not in tools.names()
    assert tools.is_hidden("deliver_webhook_event")
    assert tools.get("deliver_webhook_event").name == "deliver_webhook_event"


def test_secrets_come_from_the_environment_by_credential_name() -> None:
    lookup = environment_secrets(
        {
            "JIRA_API_TOKEN": "j",
            "SLACK_BOT_TOKEN": "s",
            "TEAMS_WEBHOOK_URL": "t",
            "HUBSPOT_TOKEN": "h",
            "WEBHOOK_SECRET_OPS_BRIDGE": "w1",
            "WEBHOOK_SECRET": "w",
        }
    )
    assert [lookup(n) for n in ("jira.api_token", "slack.bot_token", "teams.webhook_url")] == [
        "j",
        "s",
        "t",
    ]
    assert lookup("hubspot.token") == "h"
    assert lookup("webhook.secret:ops-bridge") == "w1"
    assert lookup("webhook.secret:crm") == "w"
    assert lookup("smtp.password") is None


def test_integration_secrets_are_redacted_in_the_audit_log() -> None:
    text = (
        "Authorization: Basic ZGFuYUBub3J0aHdpbmQuZXhhbXBsZTpBVEFUVDN4RmZHRjA= "
        "token ATATT3xFfGF0abcdefghijklmnopqrstuvwxyz "
        "hubspot pat-na1-0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b "
        "slack xoxb-1111-2222-abcdefghij "
        "https://x.logic.azure.com/workflows/1/invoke?api-version=1&sig=AbCdEf123"
    )
    cleaned = redact(text)
    for secret in ("ZGFuYUBub3J0", "ATATT3x", "pat-na1", "xoxb-", "AbCdEf123"):
        assert secret not in cleaned
    assert redact("a basic troubleshooting guide") == "a basic troubleshooting guide"


def test_adf_from_text_has_no_empty_nodes_and_reads_back() -> None:
    blocks = adf_paragraphs("First line\nsecond line\n\n\n  \nNext paragraph\n")
    assert blocks == [
        {
            "type": "paragraph",
            "content": [
                {"type": "text", "text": "First line"},
                {"type": "hardBreak"},
                {"type": "text", "text": "second line"},
            ],
        },
        {"type": "paragraph", "content": [{"type": "text", "text": "Next paragraph"}]},
    ]
    assert adf_to_text(adf_document(blocks)).strip() == "First line\nsecond line\n\nNext paragraph"
    assert adf_document([]) == {"type": "doc", "version": 1, "content": [{"type": "paragraph"}]}


def test_issue_keys_and_jql() -> None:
    projects = frozenset({"NW", "OPS"})
    text = (
        "See NW-1432 and OPS-311, not UTF-8, ISO-8859-1, SHA-256, INV-2026 or NW-0; NW-1432 again."
    )
    assert issue_keys(text, projects) == ["NW-1432", "OPS-311"]
    assert checked_key(" nw-12 ") == "NW-12"
    with pytest.raises(ToolFailure, match="not a Jira issue key"):
        checked_key("NW 12")
    env = JiraEnv(
        settings=JiraSettings("https://x", "e", "NW", projects),
        token="t",
        db=None,  # type: ignore[arg-type]
    )
    assert search_jql(env, 'check"out (v2) \\ now', "") == (
        'project in ("NW", "OPS") AND text ~ "check out v2 now" ORDER BY updated DESC'
    )
    assert search_jql(env, "", "assignee = currentUser()") == "assignee = currentUser()"
    assert search_jql(env, "", "") == 'project in ("NW", "OPS") ORDER BY updated DESC'


def test_jira_settings_are_checked() -> None:
    good = {"JIRA_BASE_URL": "https://x.atlassian.net/", "JIRA_EMAIL": "e@x", "JIRA_PROJECT": "nw"}
    settings = jira_settings({**good, "JIRA_PROJECT_KEYS": "ops, sup"})
    assert settings.base_url == "https://x.atlassian.net"
    assert settings.project == "NW" and settings.project_keys == {"NW", "OPS", "SUP"}
    with pytest.raises(ValueError, match="JIRA_PROJECT must be a project key"):
        jira_settings({**good, "JIRA_PROJECT": "my project"})
    kit = jira_toolkit(
        None,  # type: ignore[arg-type]
        lambda _: "token",
        HttpSettings(),
        {**good, "JIRA_BASE_URL": "http://jira.internal.example"},
    )
    assert kit.missing == (
        "Jira is not configured: JIRA_BASE_URL must use https:// (plain http is only allowed "
        "to 127.0.0.1 or localhost)"
    )


def test_slack_escaping_and_meeting_blocks() -> None:
    assert escape("<!channel> A & B <x@y>") == "&lt;!channel&gt; A &amp; B &lt;x@y&gt;"
    header, section, context = meeting_blocks(
        "Q1 roadmap <review>", "2026-11-24 10:00", "10:30", ["Sofia <s@x>"], "https://cal/1"
    )
    assert header["text"] == {"type": "plain_text", "text": "Meeting scheduled"}
    assert section["text"]["text"] == "*Q1 roadmap &lt;review&gt;*"
    assert section["fields"][1]["text"] == "*With*\nSofia &lt;s@x&gt;"
    assert context["elements"][0]["text"] == "<https://cal/1|Open the event>"


def test_a_signature_matches_an_independent_hmac() -> None:
    body = json.dumps(
        {"data": {"x": 1}, "id": "evt_1", "type": "reply_sent"},
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
    # printf '%s' '1795250000.<body>' | openssl dgst -sha256 -hmac 'whsec-test'
    assert sign("whsec-test", "1795250000", body) == (
        "sha256=0fc5baf9483e77853c13b36a454155236bbe1c5619b51e6d1dc3a3527a330cbb"
    )


def test_events_have_stable_ids_and_compact_sorted_bodies() -> None:
    assert event_id("email_classified", "m1") == event_id("email_classified", "m1")
    assert event_id("email_classified", "m1") != event_id("email_classified", "m2")
    event = Event(event_id("reply_sent", "t", "c"), "reply_sent", {"b": 1, "a": "é"})
    body: dict[str, Any] = json.loads(event.body("2026-11-21T10:00:00+00:00"))
    assert list(body) == ["created_at", "data", "id", "type"]
    assert event.body("x").decode() == (
        '{"created_at":"x","data":{"a":"é","b":1},"id":"' + event.id + '","type":"reply_sent"}'
    )


def test_a_meeting_scheduled_event_is_the_stored_event_once(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'app.db'}")
    ledger = SideEffectLedger(db)
    data = {"uid": "u1@smart-inbox.local", "title": "Q1 roadmap", "attendees": ["s@x.example"]}
    for call in ("c1", "c2"):  # the same event, created once and found again by a retry
        ledger.begin("t", call, "create_calendar_event", {})
        ledger.finish("t", call, "done", {"content": "Created", "data": data})
    ledger.begin("t", "c3", "create_calendar_event", {})
    ledger.finish("t", "c3", "failed", {"error": "no"})
    env = WebhooksEnv(endpoints=(), db=db)

    def one(call: str) -> Event:
        [event] = build_events(
            env, {"event": "meeting_scheduled", "thread_id": "t", "call_id": call}
        )
        return event

    first, again = one("c1"), one("c2")
    assert first.type == "meeting_scheduled" and first.id == again.id
    assert first.data["title"] == "Q1 roadmap" and first.data["at"]
    with pytest.raises(ToolFailure, match="no meeting_scheduled happened in call 'c3'"):
        one("c3")


def test_the_registry_offers_configured_toolkits_in_order() -> None:
    from tools.mail.mailbox import MailboxEnv

    registry = ToolRegistry.for_mailbox(MailboxEnv(db=None, source="maildir:/x"))  # type: ignore[arg-type]
    assert registry.configured("mail") and not registry.configured("jira")
    assert registry.toolkit("jira") is None
