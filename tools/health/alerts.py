"""Alerts of health changes: to the webhooks subscribed to them, and a Slack channel named.

Each webhook endpoint gets a signed POST (the body and signature of every webhook), the channel
a post. Subscribing an endpoint to `health_changed` (in `webhooks.json` or `WEBHOOK_EVENTS`),
or naming a channel in `SMART_INBOX_HEALTH_SLACK_CHANNEL`, is the consent; nothing else hears
of it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import httpx

from tools.http import shared_client
from tools.integrations.slack import SlackEnv
from tools.integrations.webhook_endpoints import HEALTH_EVENT, Endpoint
from tools.integrations.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    event_id,
    sign,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HealthChange:
    """One part that changed state between two checks."""

    part: str
    before: str
    """Its previous state; `unknown` on the first check ever."""
    after: str
    reason: str
    at: datetime

    def to_json(self) -> dict[str, str]:
        """The change as an alert carries it."""
        return {
            "part": self.part,
            "from": self.before,
            "to": self.after,
            "reason": self.reason,
            "at": self.at.isoformat(timespec="seconds"),
        }


def subscribers(endpoints: Sequence[Endpoint]) -> list[Endpoint]:
    """The endpoints that asked for health alerts."""
    return [e for e in endpoints if HEALTH_EVENT in e.events]


async def send_alerts(
    endpoints: Sequence[Endpoint], changes: Sequence[HealthChange], timeout: float = 10.0
) -> dict[str, str]:
    """POST one alert listing `changes` to each subscriber; endpoint name → what came of it."""
    if not changes:
        return {}
    changes_json = [c.to_json() for c in changes]
    delivery = event_id(HEALTH_EVENT, *(f"{c['part']}:{c['to']}:{c['at']}" for c in changes_json))
    body = json.dumps(
        {"event": HEALTH_EVENT, "id": delivery, "changes": changes_json},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    outcomes: dict[str, str] = {}
    client = await shared_client()
    for endpoint in subscribers(endpoints):
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            EVENT_HEADER: HEALTH_EVENT,
            DELIVERY_HEADER: delivery,
            TIMESTAMP_HEADER: stamp,
            SIGNATURE_HEADER: sign(endpoint.secret, stamp, body),
        }
        try:
            response = await client.post(
                endpoint.url, content=body, headers=headers, timeout=timeout
            )
            outcomes[endpoint.name] = f"sent ({response.status_code})"
        except httpx.HTTPError as err:
            outcomes[endpoint.name] = f"failed ({type(err).__name__})"
            logger.warning("the health alert to webhook %s failed: %s", endpoint.name, err)
    return outcomes


def alert_text(changes: Sequence[HealthChange]) -> str:
    """The alert as one line per change, for a person."""
    return "Smart Inbox health changed:\n" + "\n".join(
        f"- {c.part}: {c.before} → {c.after}" + (f" ({c.reason})" if c.reason else "")
        for c in changes
    )


async def post_to_slack(
    env: SlackEnv, channel: str, changes: Sequence[HealthChange], timeout: float = 10.0
) -> str:
    """Post the alert to `channel` with the Slack toolkit's token; what came of it."""
    client = await shared_client()
    try:
        response = await client.post(
            f"{env.api_url}/chat.postMessage",
            json={"channel": channel, "text": alert_text(changes)},
            headers={"Authorization": f"Bearer {env.token}"},
            timeout=timeout,
        )
        body = response.json() if "json" in response.headers.get("content-type", "") else {}
    except (httpx.HTTPError, ValueError) as err:
        logger.warning("the health alert to Slack failed: %s", type(err).__name__)
        return f"failed ({type(err).__name__})"
    if not isinstance(body, dict) or not body.get("ok"):
        error = body.get("error") if isinstance(body, dict) else response.status_code
        logger.warning("Slack refused the health alert: %s", error)
        return f"failed ({error})"
    return "sent"
