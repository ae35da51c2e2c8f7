"""The daily digest delivered to the one channel the user chose, at most once a day per channel.

`SMART_INBOX_DIGEST_TO` is the choice, and setting it is the consent: `mail` (to the user's own
address, through the configured sending), `slack` or `slack:#channel`, `teams`, `webhook:NAME`
(an endpoint of `webhooks.json`, signed like its events). Unset, nothing is delivered anywhere.
Each delivery is claimed in the side-effect ledger under the digest's day before it is sent, so
a second scheduled run, a retry or `smart-inbox digest --send` on the same day never sends it
again; a delivery that failed releases its claim and may be tried again.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Literal

from graph.digest import Digest
from memory.audit import AuditLog
from memory.db import AppDatabase
from memory.ledger import SideEffectLedger
from tools.api_requests import send
from tools.integrations.webhook_endpoints import Endpoint
from tools.integrations.webhooks import Event, WebhooksEnv, signed_request
from tools.mail.mailbox import MailboxEnv
from tools.registry import ToolRegistry, UnknownToolError
from tools.toolkit import ToolFailure

DIGEST_TO = "SMART_INBOX_DIGEST_TO"
DELIVERY_TOOL = "deliver_digest"
"""The name its deliveries are recorded under in the ledger."""
DIGEST_EVENT = "daily_digest"
"""The event type of a digest POSTed to a webhook."""
KINDS = ("mail", "slack", "teams", "webhook")
Status = Literal["sent", "skipped", "failed"]


class DigestChannelError(ValueError):
    """`SMART_INBOX_DIGEST_TO` names no channel the digest can go to."""


@dataclass(frozen=True)
class DigestChannel:
    """Where the user chose to get the digest."""

    kind: str
    target: str = ""
    """The Slack channel (else `SLACK_CHANNEL`), or the webhook endpoint's name."""

    @property
    def name(self) -> str:
        """As written in `SMART_INBOX_DIGEST_TO`."""
        return f"{self.kind}:{self.target}" if self.target else self.kind


@dataclass(frozen=True)
class DigestDelivery:
    """What became of one delivery."""

    status: Status
    text: str


def digest_channel(
    environ: Mapping[str, str] | None = None,
    variable: str = DIGEST_TO,
    kinds: Sequence[str] = KINDS,
) -> DigestChannel | None:
    """The channel chosen in `variable`, None when the user chose none.

    `DigestChannelError` when it is none of `kinds` or cannot be used. The health alerts read
    their own variable the same way (`ui.health.watch`).
    """
    value = (os.environ if environ is None else environ).get(variable, "").strip()
    if not value:
        return None
    kind, _, target = value.partition(":")
    kind, target = kind.strip().lower(), target.strip()
    if kind not in kinds:
        shapes = {"mail": "mail", "slack": "slack[:#channel]", "teams": "teams"}
        shapes["webhook"] = "webhook:NAME"
        said = ", ".join(shapes[k] for k in kinds[:-1]) + f" or {shapes[kinds[-1]]}"
        raise DigestChannelError(f"{variable}={value!r}: use {said}")
    if kind == "webhook" and not target:
        raise DigestChannelError(f"{variable}={value!r}: name the endpoint, webhook:NAME")
    if kind in ("mail", "teams") and target:
        where = "your own address" if kind == "mail" else "the configured Teams channel"
        raise DigestChannelError(f"{variable}={value!r}: {kind} goes to {where}; write {kind}")
    return DigestChannel(kind, target)


def own_address(env: MailboxEnv) -> str:
    """The user's own address: the digest mail goes there and nowhere else."""
    address = parseaddr(env.sender)[1].strip() or next(iter(env.user_addresses), "")
    if not address:
        raise ToolFailure(
            "no address of yours is configured (SMTP_FROM or SMART_INBOX_USER_EMAILS)"
        )
    return address


async def _send(digest: Digest, channel: DigestChannel, tools: ToolRegistry) -> str:
    text = digest.text()
    if channel.kind == "mail":
        to = own_address(tools.env)
        subject = f"Your inbox digest, {digest.day:%a %d %b}"
        await tools.invoke("send_email", {"to": to, "subject": subject, "body": text})
        return f"mailed to {to}"
    if channel.kind == "slack":
        await tools.invoke("slack_post_message", {"text": text, "channel": channel.target})
        return "posted to Slack" + (f" {channel.target}" if channel.target else "")
    if channel.kind == "teams":
        await tools.invoke("teams_post_message", {"text": text})
        return "posted to Teams"
    return await _post_to_webhook(digest, channel.target, tools, text)


async def _post_to_webhook(digest: Digest, name: str, tools: ToolRegistry, text: str) -> str:
    """POST the digest as a signed `daily_digest` event, as `tools.integrations.webhooks` signs."""
    kit = tools.toolkit("webhooks")
    env = kit.env if kit is not None else None
    endpoints: tuple[Endpoint, ...] = env.endpoints if isinstance(env, WebhooksEnv) else ()
    endpoint = next((e for e in endpoints if e.name == name), None)
    if endpoint is None or not isinstance(env, WebhooksEnv):
        raise ToolFailure(f"no webhook endpoint {name!r} is configured (webhooks.json)")
    event = Event(f"evt_{digest.key}", DIGEST_EVENT, {**digest.to_json(), "text": text})
    request = signed_request(endpoint, event, f"deliver the digest {digest.key}")
    response = await send(request, env.http)
    return f"delivered to webhook {endpoint.name} ({response.status_code})"


async def deliver_digest(
    digest: Digest, channel: DigestChannel, tools: ToolRegistry, db: AppDatabase
) -> DigestDelivery:
    """Deliver `digest` to `channel` unless it was delivered there before (the ledger decides)."""
    ledger = SideEffectLedger(db)
    claim = f"digest:{channel.name}"
    earlier = await asyncio.to_thread(
        ledger.begin, claim, digest.key, DELIVERY_TOOL, {"channel": channel.name}
    )
    if earlier is not None:
        said = {
            "done": "already delivered, not sent again",
            "started": "a delivery was started and its outcome is unknown; not sent again",
        }.get(earlier.status, f"an earlier delivery {earlier.status}; not sent again")
        return DigestDelivery("skipped", f"{digest.key} to {channel.name}: {said}")
    try:
        done = await _send(digest, channel, tools)
    except (ToolFailure, UnknownToolError, TimeoutError) as err:
        reason = str(err) or type(err).__name__
        if isinstance(err, UnknownToolError):
            reason = f"{channel.kind} is not set up here ({reason})"
        # Nothing went out: the claim is released, so a later run may try again.
        await asyncio.to_thread(ledger.settle_unknown, claim, digest.key, retry=True)
        await asyncio.to_thread(_audit, db, claim, digest.key, channel, "error", reason)
        return DigestDelivery("failed", f"{digest.key} to {channel.name}: {reason}")
    await asyncio.to_thread(ledger.finish, claim, digest.key, "done", {"delivered": done})
    await asyncio.to_thread(_audit, db, claim, digest.key, channel, "ok", done)
    return DigestDelivery("sent", f"{digest.key} {done}")


def _audit(
    db: AppDatabase,
    thread_id: str,
    call_id: str,
    channel: DigestChannel,
    outcome: Literal["ok", "error"],
    detail: str,
) -> None:
    """One audit row per delivery tried: run without a card, as the user's chosen channel."""
    AuditLog(db).record(
        thread_id=thread_id,
        call_id=call_id,
        tool=DELIVERY_TOOL,
        args={"channel": channel.name},
        level=2,
        flags=[],
        decision="auto",
        decided_by=DIGEST_TO,
        outcome=outcome,
        detail=detail,
    )
