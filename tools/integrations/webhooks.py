"""Webhooks: signed event payloads POSTed to the endpoints the user subscribed.

Events: `email_classified` (a newly triaged mail), `reply_sent` (a reply that was really
sent) and `meeting_scheduled` (an event a calendar tool really created). Each is one JSON
POST per endpoint, signed with HMAC-SHA256 over `timestamp + "." + body` in
`X-Smart-Inbox-Signature: sha256=<hex>`, with the timestamp in `X-Smart-Inbox-Timestamp`
and the event id in `X-Smart-Inbox-Delivery`.

Delivery is at most once per event and endpoint: before a POST, the (endpoint, event id)
pair is claimed in the side-effect ledger, so a re-run, a resume or a second proposal of the
same event never sends it again. Deliveries are proposed by code (never by a model) through
the hidden `deliver_webhook_event` tool, so they are audited and approved like any call.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from langchain_core.tools import InjectedToolArg, tool

from memory.db import AppDatabase
from memory.ledger import SideEffectLedger
from memory.secrets import SecretLookup
from tools.api_requests import ApiRequest, IntegrationError, send
from tools.http import HttpSettings
from tools.integrations.webhook_endpoints import (
    EVENTS,
    Endpoint,
    WebhookConfigError,
    load_endpoints,
    webhooks_path,
)
from tools.toolkit import ActionPreview, ToolFailure, Toolkit, ToolResult, text_result

logger = logging.getLogger(__name__)


EVENT_OF_TOOL: dict[str, str] = {
    "reply_to_email": "reply_sent",
    "create_calendar_event": "meeting_scheduled",
}
"""Tools whose successful run is an event; each returns what happened as its result's `data`
(the sent reply; the calendar event as stored)."""


DELIVERY_TOOL = "deliver_webhook_event"
SIGNATURE_HEADER = "X-Smart-Inbox-Signature"
TIMESTAMP_HEADER = "X-Smart-Inbox-Timestamp"
EVENT_HEADER = "X-Smart-Inbox-Event"
DELIVERY_HEADER = "X-Smart-Inbox-Delivery"


CONCURRENT_DELIVERIES = 4


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value: `sha256=` + hex HMAC-SHA256(secret, timestamp + "." + body)."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def event_id(event: str, *parts: str) -> str:
    """A stable id for one event: the same mail or the same sent reply always gives the same id."""
    digest = hashlib.sha256("|".join([event, *parts]).encode("utf-8")).hexdigest()
    return f"evt_{digest[:24]}"


@dataclass(frozen=True)
class Event:
    """One event to deliver."""

    id: str
    type: str
    data: dict[str, Any]

    def body(self, created_at: str) -> bytes:
        """The JSON body, compact and with sorted keys (what is signed is what is sent)."""
        payload = {"id": self.id, "type": self.type, "created_at": created_at, "data": self.data}
        return json.dumps(
            payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")
        ).encode()


@dataclass(frozen=True)
class WebhooksEnv:
    """The subscribed endpoints and what building events needs (the mailbox and the ledger)."""

    endpoints: tuple[Endpoint, ...]
    db: AppDatabase = field(repr=False)
    http: HttpSettings = field(default_factory=HttpSettings)

    def subscribed(self, event: str) -> list[Endpoint]:
        """Endpoints that asked for this event."""
        return [e for e in self.endpoints if event in e.events]


def build_events(env: WebhooksEnv, args: Mapping[str, Any]) -> list[Event]:
    """The events of one delivery call, from the mailbox or from the ledger (blocking)."""
    event = str(args.get("event") or "")
    if event not in EVENTS:
        raise ToolFailure(f"unknown event {event!r}; known: {', '.join(EVENTS)}")
    if event == "email_classified":
        ids = [str(i) for i in args.get("email_ids") or []]
        if not ids:
            raise ToolFailure("email_classified needs the ids of the classified mail")
        emails = {e.id: e for e in env.db.emails_by_ids(ids)}
        triage = env.db.triage_for(ids)
        events = []
        for email_id in dict.fromkeys(ids):
            email, record = emails.get(email_id), triage.get(email_id)
            if email is None or record is None or email.error:
                logger.info("no email_classified event for %s: unreadable or not triaged", email_id)
                continue
            data = {
                "email": {
                    "id": email.id,
                    "from": email.sender,
                    "subject": email.subject,
                    "date": email.date,
                },
                "triage": {
                    "priority": record.priority,
                    "category": record.category,
                    "action": record.action,
                    "reason": record.reason,
                },
            }
            events.append(Event(event_id(event, email.id), event, data))
        if not events:
            raise ToolFailure("none of these messages is a readable, classified message")
        return events
    thread, call = str(args.get("thread_id") or ""), str(args.get("call_id") or "")
    entry = SideEffectLedger(env.db).get(thread, call)
    if entry is None or entry.status != "done" or EVENT_OF_TOOL.get(entry.tool) != event:
        raise ToolFailure(f"no {event} happened in call {call!r}: nothing to report")
    done: dict[str, Any] = dict(entry.result_dict().get("data") or {})
    done["at"] = entry.finished_at
    # One calendar event is one meeting_scheduled, whichever call (or retry) stored it.
    key = (
        (str(done["uid"]),) if event == "meeting_scheduled" and done.get("uid") else (thread, call)
    )
    return [Event(event_id(event, *key), event, done)]


def signed_request(endpoint: Endpoint, event: Event, action: str) -> ApiRequest:
    """The POST of one event to one endpoint, timestamped and signed with its secret now."""
    timestamp = str(int(time.time()))
    body = event.body(datetime.now(UTC).isoformat(timespec="seconds"))
    return ApiRequest(
        integration=f"webhook {endpoint.name}",
        method="POST",
        url=endpoint.url,
        action=action,
        content=body,
        headers={
            "Content-Type": "application/json",
            EVENT_HEADER: event.type,
            DELIVERY_HEADER: event.id,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(endpoint.secret, timestamp, body),
        },
    )


async def _deliver(env: WebhooksEnv, endpoint: Endpoint, event: Event) -> tuple[str, str]:
    """Deliver one event to one endpoint at most once: ('sent' | 'skipped' | 'failed', text)."""
    ledger = SideEffectLedger(env.db)
    claim_thread = f"webhook:{endpoint.name}"
    earlier = await asyncio.to_thread(
        ledger.begin, claim_thread, event.id, DELIVERY_TOOL, {"event": event.type}
    )
    if earlier is not None:
        said = {
            "done": "already delivered earlier, not sent again",
            "started": "a delivery was started earlier and its outcome is unknown; not sent again",
        }.get(earlier.status, f"an earlier delivery {earlier.status}; not sent again")
        return "skipped", f"{event.type} {event.id} to {endpoint.name}: {said}"
    request = signed_request(endpoint, event, f"deliver {event.type} {event.id}")
    try:
        response = await send(request, env.http)
    except IntegrationError as err:
        await asyncio.to_thread(
            ledger.finish, claim_thread, event.id, "failed", {"error": str(err)}
        )
        return "failed", str(err)
    await asyncio.to_thread(
        ledger.finish, claim_thread, event.id, "done", {"status": response.status_code}
    )
    return "sent", f"{event.type} {event.id} to {endpoint.name} ({response.status_code})"


@tool
async def deliver_webhook_event(
    event: str,
    email_ids: list[str] | None = None,
    thread_id: str = "",
    call_id: str = "",
    *,
    env: Annotated[WebhooksEnv, InjectedToolArg],
) -> ToolResult:
    """Deliver an event to the subscribed webhooks."""
    args = {
        "event": event,
        "email_ids": email_ids or [],
        "thread_id": thread_id,
        "call_id": call_id,
    }
    events = await asyncio.to_thread(build_events, env, args)
    endpoints = env.subscribed(event)
    if not endpoints:
        return text_result(f"No webhook is subscribed to {event}; nothing was sent.")
    gate = asyncio.Semaphore(CONCURRENT_DELIVERIES)

    async def one(endpoint: Endpoint, item: Event) -> tuple[str, str]:
        async with gate:
            return await _deliver(env, endpoint, item)

    outcomes = await asyncio.gather(*(one(e, item) for e in endpoints for item in events))
    sent = [text for status, text in outcomes if status == "sent"]
    skipped = [text for status, text in outcomes if status == "skipped"]
    failed = [text for status, text in outcomes if status == "failed"]
    lines = [f"Delivered {len(sent)} of {len(outcomes)} {event} event(s) to webhooks."]
    lines += [f"- {text}" for text in skipped]
    if failed:
        raise ToolFailure("\n".join([*lines, "Failed:", *(f"- {text}" for text in failed)]))
    return text_result("\n".join(lines), data={"sent": len(sent), "skipped": len(skipped)})


WEBHOOK_TOOLS = [deliver_webhook_event]


def preview(env: WebhooksEnv, name: str, args: dict[str, Any]) -> ActionPreview | None:
    """The card of a delivery: which endpoints get which events, and the events' data."""
    if name != DELIVERY_TOOL:
        return None
    events = build_events(env, args)
    endpoints = env.subscribed(str(args.get("event")))
    content = "\n".join(
        json.dumps({"id": e.id, "type": e.type, "data": e.data}, ensure_ascii=False) for e in events
    )
    return ActionPreview(
        title=f"Deliver {len(events)} {args.get('event')} event(s) to webhooks",
        fields=tuple(("Endpoint", f"{e.name} ({e.host})") for e in endpoints),
        content=content,
        notes=("Each event is signed with the endpoint's secret and delivered at most once.",),
    )


def webhooks_toolkit(
    db: AppDatabase,
    secrets: SecretLookup,
    http: HttpSettings,
    environ: Mapping[str, str],
    home: Path,
) -> Toolkit:
    """The delivery tool with the subscribed endpoints, or the toolkit absent with why.

    Delivery runs without asking by default (level 2): subscribing an endpoint to an event in
    the webhooks file is the user's consent to deliver those events. It is still audited, and
    `smart-inbox policy set deliver_webhook_event 1` makes every delivery wait for a person.
    """
    base = Toolkit(
        name="webhooks",
        tools=WEBHOOK_TOOLS,
        hidden=frozenset({DELIVERY_TOOL}),
        levels={DELIVERY_TOOL: 2},
        timeout=None,
    )
    path = webhooks_path(home, environ)
    try:
        endpoints = load_endpoints(path, environ, secrets)
    except WebhookConfigError as err:
        logger.warning("webhooks are left out: %s", err)
        return _absent(base, f"webhooks are not configured: {err}")
    if not endpoints:
        return _absent(base, f"webhooks are not configured: no {path.name} and no WEBHOOK_URL")
    env = WebhooksEnv(endpoints=tuple(endpoints), db=db, http=http)
    return replace(base, env=env, preview=lambda name, args: preview(env, name, args))


def _absent(base: Toolkit, why: str) -> Toolkit:
    return replace(base, missing=why)
