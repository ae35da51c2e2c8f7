"""Slack and Teams posts against local servers speaking their documented APIs."""

from __future__ import annotations

import pytest

from memory.db import AppDatabase
from tests.fakes.http_api import Reply
from tests.fakes.slack_server import FakeSlack, rate_limited
from tests.fakes.teams_server import FakeTeams, throttled
from tests.integration.integrations.fixtures import (
    FAST,
    OUTAGE_ID,
    SLACK_TOKEN,
    lookup,
    slack_env,
    teams_env,
)
from tools.api_requests import IntegrationError
from tools.integrations.slack import slack_toolkit
from tools.integrations.teams import teams_toolkit
from tools.registry import ToolRegistry
from tools.toolkit import ToolFailure

pytestmark = pytest.mark.integration


def slack_tools(db: AppDatabase, server: FakeSlack, **extra: str) -> ToolRegistry:
    env = {**slack_env(server), **extra}
    kit = slack_toolkit(db, lookup(env), FAST, env)
    assert not kit.missing, kit.missing
    return ToolRegistry.from_toolkits([kit])


def teams_tools(db: AppDatabase, server: FakeTeams) -> ToolRegistry:
    env = teams_env(server)
    kit = teams_toolkit(db, lookup(env), FAST, env)
    assert not kit.missing, kit.missing
    return ToolRegistry.from_toolkits([kit])


async def test_a_post_about_a_high_priority_mail_carries_blocks(
    demo_db: AppDatabase, slack: FakeSlack
) -> None:
    result = await slack_tools(demo_db, slack).invoke("slack_post_message", {"email_id": OUTAGE_ID})
    [request] = slack.requests
    assert (request.method, request.path) == ("POST", "/api/chat.postMessage")
    assert request.headers["authorization"] == f"Bearer {SLACK_TOKEN}"
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    body = request.json
    assert body["channel"] == "#inbox-alerts"  # SLACK_CHANNEL
    assert body["text"] == (
        "High-priority mail from Marcus Lee &lt;marcus.lee@northwind.example&gt;: "
        "URGENT: checkout API returning 500s in production"
    )
    assert (body["unfurl_links"], body["unfurl_media"]) == (False, False)
    header, section, context = body["blocks"]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": "High-priority mail"},
    }
    assert section["text"]["text"] == (
        "*URGENT: checkout API returning 500s in production*\n"
        "from Marcus Lee &lt;marcus.lee@northwind.example&gt;"
    )
    assert "*Triage*\nhigh · urgent_incident" in [f["text"] for f in section["fields"]]
    assert f"Message-ID `{OUTAGE_ID}`" in context["elements"][0]["text"]
    assert (
        result["content"]
        == f"Posted to Slack #inbox-alerts (message ts 1795250000.000001). [msg:{OUTAGE_ID}]"
    )
    assert slack.posted[0]["channel"] == "C0ALRT002"


async def test_text_from_the_user_is_escaped_and_goes_to_the_named_channel(
    demo_db: AppDatabase, slack: FakeSlack
) -> None:
    await slack_tools(demo_db, slack).invoke(
        "slack_post_message", {"text": "<!channel> deploy done & verified", "channel": "#ops"}
    )
    body = slack.requests[0].json
    assert body["channel"] == "#ops"
    assert body["text"] == "&lt;!channel&gt; deploy done &amp; verified"
    assert body["blocks"] == [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "&lt;!channel&gt; deploy done &amp; verified"},
        }
    ]


async def test_slacks_ok_false_is_an_error_with_a_hint(
    demo_db: AppDatabase, slack: FakeSlack
) -> None:
    with pytest.raises(ToolFailure) as caught:
        await slack_tools(demo_db, slack).invoke(
            "slack_post_message", {"text": "hi", "channel": "#nowhere"}
        )
    assert str(caught.value) == (
        "Slack could not post the message to #nowhere: channel_not_found (no such channel, "
        "or the app cannot see it: check the channel name)"
    )
    assert len(slack.requests) == 1


async def test_a_wrong_slack_token(demo_db: AppDatabase, slack: FakeSlack) -> None:
    tools = slack_tools(demo_db, slack, SLACK_BOT_TOKEN="xoxb-9999-wrong-token-0000")
    with pytest.raises(ToolFailure) as caught:
        await tools.invoke("slack_post_message", {"text": "hi"})
    assert "invalid_auth (the bot token is not valid" in str(caught.value)
    assert "xoxb" not in str(caught.value)


async def test_slack_429_waits_for_retry_after_then_posts_once(
    demo_db: AppDatabase, slack: FakeSlack
) -> None:
    slack.script(rate_limited("1"))
    result = await slack_tools(demo_db, slack).invoke(
        "slack_post_message", {"text": "hello", "channel": "#ops"}
    )
    assert len(slack.requests) == 2
    assert len(slack.posted) == 1
    assert result["content"].startswith("Posted to Slack #ops")


async def test_a_retry_after_beyond_the_limit_is_not_waited_for(
    demo_db: AppDatabase, slack: FakeSlack
) -> None:
    slack.script(rate_limited("120"))
    with pytest.raises(IntegrationError) as caught:
        await slack_tools(demo_db, slack).invoke("slack_post_message", {"text": "hello"})
    assert "it asks to wait 120 s, longer than the 5 s allowed" in str(caught.value)
    assert len(slack.requests) == 1 and slack.posted == []


async def test_a_teams_card_about_a_mail(demo_db: AppDatabase, teams: FakeTeams) -> None:
    result = await teams_tools(demo_db, teams).invoke(
        "teams_post_message", {"email_id": OUTAGE_ID, "text": "Please look now."}
    )
    [request] = teams.requests
    assert request.method == "POST" and request.headers["content-type"] == "application/json"
    body = request.json
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    title, text, facts = card["body"]
    assert title["text"] == "High-priority mail"
    assert text == {"type": "TextBlock", "text": "Please look now.", "wrap": True}
    assert {"title": "Message-ID", "value": OUTAGE_ID} in facts["facts"]
    assert result["content"] == f"Posted to the Teams channel. [msg:{OUTAGE_ID}]"


async def test_teams_errors_and_throttling(demo_db: AppDatabase, teams: FakeTeams) -> None:
    tools = teams_tools(demo_db, teams)
    teams.script(throttled())
    await tools.invoke("teams_post_message", {"text": "after a 429"})
    assert len(teams.requests) == 2 and len(teams.cards) == 1
    teams.script(Reply(400, "Summary or Text is required."))
    with pytest.raises(IntegrationError) as caught:
        await tools.invoke("teams_post_message", {"text": "x"})
    assert str(caught.value) == (
        "Teams could not post the message: 400 Bad Request: Summary or Text is required."
    )
    # A connector reports some failures with a 200 and a text other than "1".
    teams.script(Reply(200, "Webhook message delivery failed with error: 413"))
    with pytest.raises(ToolFailure, match="Webhook message delivery failed"):
        await tools.invoke("teams_post_message", {"text": "x"})


async def test_a_workflows_webhook_answers_202(demo_db: AppDatabase) -> None:
    with FakeTeams(workflows=True) as server:
        assert isinstance(server, FakeTeams)
        result = await teams_tools(demo_db, server).invoke("teams_post_message", {"text": "hi"})
        assert result["content"] == "Posted to the Teams channel."
        assert len(server.cards) == 1


async def test_the_webhook_url_never_appears_in_an_error(
    demo_db: AppDatabase, teams: FakeTeams
) -> None:
    teams.stop()
    with pytest.raises(IntegrationError) as caught:
        await teams_tools(demo_db, teams).invoke("teams_post_message", {"text": "hi"})
    assert "webhookb2" not in str(caught.value)
    assert str(caught.value).startswith("Teams could not post the message: could not connect")
