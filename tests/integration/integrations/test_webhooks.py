"""Signed webhook events against local receivers that verify every signature."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memory.db import AppDatabase
from memory.ledger import SideEffectLedger
from tests.fakes.http_api import Reply
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.integration.integrations.fixtures import (
    BUG_ID,
    FAST,
    FEATURE_ID,
    WEBHOOK_SECRET,
    demo_database,
    lookup,
    webhook_env,
)
from tools.integrations.webhooks import event_id, webhooks_toolkit
from tools.registry import ToolRegistry
from tools.toolkit import ToolFailure

pytestmark = pytest.mark.integration


@pytest.fixture
def db(tmp_path: Path) -> AppDatabase:
    """A database per test: the delivery claims must not leak between tests."""
    return demo_database(tmp_path)


def tools_for(db: AppDatabase, home: Path, env: dict[str, str]) -> ToolRegistry:
    kit = webhooks_toolkit(db, lookup(env), FAST, env, home)
    assert not kit.missing, kit.missing
    return ToolRegistry.from_toolkits([kit])


async def test_email_classified_events_are_signed_and_verified(
    db: AppDatabase, tmp_path: Path, receiver: WebhookReceiver
) -> None:
    tools = tools_for(db, tmp_path, webhook_env(receiver))
    result = await tools.invoke(
        "deliver_webhook_event", {"event": "email_classified", "email_ids": [BUG_ID, FEATURE_ID]}
    )
    assert receiver.rejected == []
    assert len(receiver.requests) == 2
    by_id = {e["data"]["email"]["id"]: e for e in receiver.events}
    event = by_id[BUG_ID]
    assert event["id"] == event_id("email_classified", BUG_ID)
    assert event["type"] == "email_classified"
    assert event["data"]["triage"] == {
        "priority": "normal",
        "category": "bug_report",
        "action": "create_ticket",
        "reason": event["data"]["triage"]["reason"],
    }
    assert event["data"]["email"]["from"] == "Beatrix Holm <beatrix.holm@fjordline.example>"
    request = next(r for r in receiver.requests if r.json["id"] == event["id"])
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-smart-inbox-event"] == "email_classified"
    assert request.headers["x-smart-inbox-delivery"] == event["id"]
    assert request.headers["x-smart-inbox-signature"].startswith("sha256=")
    assert result["content"] == "Delivered 2 of 2 email_classified event(s) to webhooks."


async def test_an_event_is_delivered_at_most_once(
    db: AppDatabase, tmp_path: Path, receiver: WebhookReceiver
) -> None:
    tools = tools_for(db, tmp_path, webhook_env(receiver))
    args = {"event": "email_classified", "email_ids": [BUG_ID]}
    await tools.invoke("deliver_webhook_event", args)
    again = await tools.invoke("deliver_webhook_event", args)
    assert len(receiver.requests) == 1
    assert "already delivered earlier, not sent again" in again["content"]
    assert again["content"].startswith("Delivered 0 of 1")


async def test_an_interrupted_delivery_is_not_sent_again(
    db: AppDatabase, tmp_path: Path, receiver: WebhookReceiver
) -> None:
    # The process died after claiming the delivery: it may have reached the receiver.
    SideEffectLedger(db).begin(
        "webhook:default", event_id("email_classified", BUG_ID), "deliver_webhook_event", {}
    )
    tools = tools_for(db, tmp_path, webhook_env(receiver))
    result = await tools.invoke(
        "deliver_webhook_event", {"event": "email_classified", "email_ids": [BUG_ID]}
    )
    assert receiver.requests == []
    assert "its outcome is unknown; not sent again" in result["content"]


async def test_a_receiver_that_rejects_the_signature_is_a_failure(
    db: AppDatabase, tmp_path: Path
) -> None:
    with WebhookReceiver("another-secret") as other:
        assert isinstance(other, WebhookReceiver)
        tools = tools_for(db, tmp_path, webhook_env(other))
        with pytest.raises(ToolFailure) as caught:
            await tools.invoke(
                "deliver_webhook_event", {"event": "email_classified", "email_ids": [BUG_ID]}
            )
        assert other.rejected == ["bad signature"]
        assert "webhook default could not deliver email_classified" in str(caught.value)
        assert "401 Unauthorized: bad signature" in str(caught.value)
        assert other.url not in str(caught.value)


async def test_503_is_retried_and_500_is_not(
    db: AppDatabase, tmp_path: Path, receiver: WebhookReceiver
) -> None:
    tools = tools_for(db, tmp_path, webhook_env(receiver))
    receiver.script(Reply(503, "restarting"))
    await tools.invoke(
        "deliver_webhook_event", {"event": "email_classified", "email_ids": [BUG_ID]}
    )
    assert len(receiver.requests) == 2 and len(receiver.events) == 1
    receiver.script(Reply(500, "boom"))
    with pytest.raises(ToolFailure, match="may or may not have happened"):
        await tools.invoke(
            "deliver_webhook_event", {"event": "email_classified", "email_ids": [FEATURE_ID]}
        )
    assert len(receiver.requests) == 3


async def test_reply_sent_is_built_from_the_recorded_send(
    db: AppDatabase, tmp_path: Path, receiver: WebhookReceiver
) -> None:
    ledger = SideEffectLedger(db)
    ledger.begin("t1", "call-reply", "reply_to_email", {"email_id": BUG_ID, "body": "Thanks"})
    sent = {
        "message_id": "reply-1@northwind.example",
        "to": ["beatrix.holm@fjordline.example"],
        "subject": "Re: Bug: CSV export drops rows",
        "in_reply_to": BUG_ID,
    }
    ledger.finish("t1", "call-reply", "done", {"content": "Sent.", "data": sent})
    tools = tools_for(db, tmp_path, webhook_env(receiver, events="reply_sent"))
    await tools.invoke(
        "deliver_webhook_event", {"event": "reply_sent", "thread_id": "t1", "call_id": "call-reply"}
    )
    [event] = receiver.events
    assert event["type"] == "reply_sent"
    assert {k: event["data"][k] for k in sent} == sent
    with pytest.raises(ToolFailure, match="no reply_sent happened in call 'call-nothing'"):
        await tools.invoke(
            "deliver_webhook_event",
            {"event": "reply_sent", "thread_id": "t1", "call_id": "call-nothing"},
        )
    assert len(receiver.requests) == 1


async def test_endpoints_from_the_file_get_only_their_events(
    db: AppDatabase, tmp_path: Path
) -> None:
    with WebhookReceiver("s-one") as one, WebhookReceiver("s-two") as two:
        assert isinstance(one, WebhookReceiver) and isinstance(two, WebhookReceiver)
        (tmp_path / "webhooks.json").write_text(
            json.dumps(
                {
                    "endpoints": {
                        "ops-bridge": {"url": one.url, "events": ["email_classified"]},
                        "crm": {"url": "${CRM_HOOK}", "events": ["reply_sent"]},
                    }
                }
            )
        )
        env = {
            "CRM_HOOK": two.url,
            "WEBHOOK_SECRET_OPS_BRIDGE": "s-one",
            "WEBHOOK_SECRET_CRM": "s-two",
        }
        tools = tools_for(db, tmp_path, env)
        await tools.invoke(
            "deliver_webhook_event", {"event": "email_classified", "email_ids": [BUG_ID]}
        )
        assert len(one.events) == 1 and one.rejected == []
        assert two.requests == []


def test_a_broken_webhooks_file_leaves_webhooks_out_with_why(
    db: AppDatabase, tmp_path: Path
) -> None:
    (tmp_path / "webhooks.json").write_text(
        '{"endpoints": {"x": {"url": "http://hooks.example/in"}}}'
    )
    kit = webhooks_toolkit(db, lookup({"WEBHOOK_SECRET": WEBHOOK_SECRET}), FAST, {}, tmp_path)
    assert kit.missing == (
        f"webhooks are not configured: {tmp_path / 'webhooks.json'}: endpoints.x: url must use "
        "https:// (plain http is only allowed to 127.0.0.1 or localhost)"
    )
    (tmp_path / "webhooks.json").write_text(
        '{"endpoints": {"x": {"url": "https://hooks.example/in"}}}'
    )
    kit = webhooks_toolkit(db, lookup({}), FAST, {}, tmp_path)
    assert "no signing secret for webhook 'x'" in kit.missing
    assert "WEBHOOK_SECRET_X" in kit.missing
