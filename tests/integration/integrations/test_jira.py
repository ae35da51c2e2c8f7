"""The Jira tools against a local server speaking Jira Cloud's REST API v3."""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

import pytest

from memory.db import AppDatabase
from tests.fakes.http_api import Drop, Reply, Stall
from tests.fakes.jira_server import FakeJira, rate_limited
from tests.integration.integrations.fixtures import (
    BUG_ID,
    FAST,
    FEATURE_ID,
    JIRA_EMAIL,
    JIRA_TOKEN,
    jira_env,
    lookup,
)
from tools.api_requests import IntegrationError
from tools.http import HttpSettings
from tools.integrations.jira import jira_toolkit
from tools.integrations.jira_issues import JiraEnv
from tools.registry import ToolRegistry

pytestmark = pytest.mark.integration

BASIC = "Basic " + base64.b64encode(f"{JIRA_EMAIL}:{JIRA_TOKEN}".encode()).decode()


def catalogue(
    db: AppDatabase, server: FakeJira, http: HttpSettings = FAST, **extra: str
) -> ToolRegistry:
    env = {**jira_env(server), **extra}
    kit = jira_toolkit(db, lookup(env), http, env, env.get("MAIL_LINK_URL", ""))
    assert not kit.missing, kit.missing
    return ToolRegistry.from_toolkits([kit])


def texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["text"]] if node.get("type") == "text" else []
        return own + [t for child in node.get("content") or [] for t in texts(child)]
    return []


async def test_an_issue_from_a_bug_report_is_one_documented_request(
    demo_db: AppDatabase, jira: FakeJira
) -> None:
    tools = catalogue(demo_db, jira)
    result = await tools.invoke("jira_create_issue", {"email_id": BUG_ID})
    [request] = jira.requests
    assert (request.method, request.path) == ("POST", "/rest/api/3/issue")
    assert request.headers["authorization"] == BASIC
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json"
    fields = request.json["fields"]
    assert set(request.json) == {"fields"}
    assert fields["project"] == {"key": "NW"}
    assert fields["summary"] == "Bug: CSV export drops rows with non-ASCII names (v3.8.2)"
    assert fields["issuetype"] == {"name": "Bug"}
    assert fields["priority"] == {"name": "Medium"}  # triage: normal
    description = fields["description"]
    assert (description["type"], description["version"]) == ("doc", 1)
    words = texts(description)
    assert "Beatrix Holm <beatrix.holm@fjordline.example>" in words
    assert BUG_ID in words  # the mail is linked by its Message-ID
    assert any(block["type"] == "blockquote" for block in description["content"])
    assert any("non-ASCII" in w for w in words)
    assert result["content"] == (
        "Created Jira issue NW-1 (Bug, priority Medium) in project NW: Bug: CSV export drops "
        f"rows with non-ASCII names (v3.8.2) — {jira.base_url}/browse/NW-1 [msg:{BUG_ID}]"
    )
    assert jira.issues["NW-1"].fields["summary"].startswith("Bug: CSV export")


async def test_a_feature_request_becomes_a_story_and_the_mail_link_is_a_link(
    demo_db: AppDatabase, jira: FakeJira
) -> None:
    template = "https://mail.example/search/rfc822msgid:{id}"
    tools = catalogue(demo_db, jira, MAIL_LINK_URL=template)
    await tools.invoke("jira_create_issue", {"email_id": FEATURE_ID, "details": "From triage."})
    fields = jira.requests[0].json["fields"]
    assert fields["issuetype"] == {"name": "Story"}
    first = fields["description"]["content"][0]
    assert first == {"type": "paragraph", "content": [{"type": "text", "text": "From triage."}]}
    links = [
        mark["attrs"]["href"]
        for node in fields["description"]["content"][1]["content"]
        for mark in node.get("marks", [])
        if mark["type"] == "link"
    ]
    assert links == [
        "https://mail.example/search/rfc822msgid:CAT0mas.fr-darkmode.20261117%40mail.northwind.example"
    ]


async def test_search_uses_the_enhanced_jql_endpoint(demo_db: AppDatabase, jira: FakeJira) -> None:
    jira.seed("NW-1432", "Cart total off by 0.01 when checkout uses a coupon", status="In Progress")
    jira.seed("OPS-311", "Checkout API outage", issuetype="Task", priority="Highest")
    jira.seed("NW-7", "Dark mode")
    result = await catalogue(demo_db, jira).invoke("jira_search", {"query": "checkout"})
    [request] = jira.requests
    assert (request.method, request.path) == ("POST", "/rest/api/3/search/jql")
    assert request.json == {
        "jql": 'project in ("NW", "OPS") AND text ~ "checkout" ORDER BY updated DESC',
        "maxResults": 10,
        "fields": ["summary", "status", "priority", "issuetype", "assignee", "updated"],
    }
    assert "NW-1432 [Bug · In Progress · Medium] Cart total off by 0.01" in result["content"]
    assert "OPS-311 [Task · To Do · Highest] Checkout API outage" in result["content"]
    assert "NW-7" not in result["content"]


async def test_get_and_comment_on_an_issue(demo_db: AppDatabase, jira: FakeJira) -> None:
    jira.seed("NW-1432", "Cart total off by 0.01")
    tools = catalogue(demo_db, jira)
    got = await tools.invoke("jira_get_issue", {"issue_key": "nw-1432"})
    assert jira.requests[0].method == "GET"
    assert jira.requests[0].path == "/rest/api/3/issue/NW-1432"
    assert "NW-1432 [Bug · To Do · Medium] Cart total off by 0.01" in got["content"]
    done = await tools.invoke(
        "jira_add_comment", {"issue_key": "NW-1432", "text": "Seen again.", "email_id": BUG_ID}
    )
    request = jira.requests[1]
    assert (request.method, request.path) == ("POST", "/rest/api/3/issue/NW-1432/comment")
    assert request.headers["authorization"] == BASIC
    assert set(request.json) == {"body"}
    assert texts(request.json["body"])[0] == "Seen again."
    assert BUG_ID in texts(request.json["body"])
    assert jira.issues["NW-1432"].comments[0]["body"] == request.json["body"]
    assert done["content"].startswith("Added a comment (id ")


async def test_a_missing_issue_is_jiras_404_in_words(demo_db: AppDatabase, jira: FakeJira) -> None:
    with pytest.raises(IntegrationError) as caught:
        await catalogue(demo_db, jira).invoke("jira_get_issue", {"issue_key": "NW-9"})
    assert str(caught.value) == (
        "Jira could not read issue NW-9: 404 Not Found: Issue does not exist or you do not "
        "have permission to see it. (check JIRA_BASE_URL, the project key and the issue key)"
    )
    assert len(jira.requests) == 1  # a 404 is not retried


async def test_a_wrong_token_says_so_without_showing_it(
    demo_db: AppDatabase, jira: FakeJira
) -> None:
    env = {**jira_env(jira), "JIRA_API_TOKEN": "ATATT3xWRONGtoken000000000000000"}
    kit = jira_toolkit(demo_db, lookup(env), FAST, env)
    with pytest.raises(IntegrationError) as caught:
        await ToolRegistry.from_toolkits([kit]).invoke("jira_create_issue", {"email_id": BUG_ID})
    message = str(caught.value)
    assert message.startswith("Jira could not create the issue: 401 Unauthorized")
    assert "check JIRA_EMAIL and the API token" in message
    assert "ATATT3xWRONG" not in message and "Basic" not in message
    assert len(jira.requests) == 1


async def test_jiras_field_errors_are_named(demo_db: AppDatabase, jira: FakeJira) -> None:
    jira.priorities = ("P1", "P2", "P3")  # a site with renamed priorities
    with pytest.raises(IntegrationError) as caught:
        await catalogue(demo_db, jira).invoke("jira_create_issue", {"email_id": BUG_ID})
    assert "400 Bad Request: priority: Specify the Priority" in str(caught.value)
    assert jira.issues == {}


async def test_a_rate_limited_create_waits_and_is_sent_again(
    demo_db: AppDatabase, jira: FakeJira
) -> None:
    jira.script(rate_limited("1"), path="/rest/api/3/issue")
    result = await catalogue(demo_db, jira).invoke("jira_create_issue", {"email_id": BUG_ID})
    posts = jira.calls("POST", "/rest/api/3/issue")
    assert len(posts) == 2 and posts[0].json == posts[1].json
    assert list(jira.issues) == ["NW-1"]
    assert "Created Jira issue NW-1" in result["content"]


async def test_a_500_on_create_is_not_repeated(demo_db: AppDatabase, jira: FakeJira) -> None:
    jira.script(Reply(500, {"errorMessages": ["Internal server error"], "errors": {}}))
    with pytest.raises(IntegrationError) as caught:
        await catalogue(demo_db, jira).invoke("jira_create_issue", {"email_id": BUG_ID})
    assert caught.value.outcome_unknown
    assert "may or may not have happened" in str(caught.value)
    assert len(jira.requests) == 1


async def test_a_connection_dropped_after_sending_is_not_repeated(
    demo_db: AppDatabase, jira: FakeJira
) -> None:
    jira.script(Drop())
    with pytest.raises(IntegrationError) as caught:
        await catalogue(demo_db, jira).invoke(
            "jira_add_comment", {"issue_key": "NW-1", "text": "x"}
        )
    assert caught.value.outcome_unknown
    assert str(caught.value).startswith("Jira: the connection failed")
    assert len(jira.requests) == 1


async def test_a_search_that_times_out_is_tried_again(demo_db: AppDatabase, jira: FakeJira) -> None:
    jira.seed("NW-3", "Checkout slow")
    jira.script(Stall(1.5))
    tools = catalogue(demo_db, jira, http=replace(FAST, timeout=0.5))
    result = await tools.invoke("jira_search", {"query": "checkout"})
    assert len(jira.calls("POST", "/rest/api/3/search/jql")) == 2
    assert "NW-3" in result["content"]


async def test_a_dead_jira_is_reported_after_the_retries(demo_db: AppDatabase) -> None:
    server = FakeJira(JIRA_EMAIL, JIRA_TOKEN).start()
    server.stop()  # nothing listens on its port any more
    with pytest.raises(IntegrationError) as caught:
        await catalogue(demo_db, server).invoke("jira_create_issue", {"email_id": BUG_ID})
    message = str(caught.value)
    assert message.startswith("Jira could not create the issue: could not connect")
    assert "gave up after 4 attempts" in message
    assert not caught.value.outcome_unknown


def test_the_env_never_shows_the_token(demo_db: AppDatabase, jira: FakeJira) -> None:
    kit = catalogue(demo_db, jira).toolkit("jira")
    assert kit is not None and isinstance(kit.env, JiraEnv)
    assert JIRA_TOKEN not in repr(kit.env) and JIRA_TOKEN not in repr(kit)
