"""Checking every part again and again in the chat and the server, and alerting each change once.

Every round is recorded in the app database (`memory.health_history`, bounded). A part whose
state differs from its last recorded one has changed: the change is alerted once, to the
webhook endpoints subscribed to `health_changed` and to the Slack channel named for alerts. A
part seen for the first time is a change only when it is in trouble. Between two processes on
one database, the one that records a change first alerts it; the other finds the new state
already recorded.

The alert channels and their secrets are settings read with the database, so the watch keeps
the last round's in memory: a round without the database still alerts its going down, and the
first round back writes the outage to the history, which makes the way back a change like any
other.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

from sqlalchemy.exc import SQLAlchemyError

from graph.context import Context
from graph.digest_delivery import DigestChannelError, digest_channel, own_address
from graph.services import Services
from memory.db import AppDatabase, DatabaseUnavailableError
from memory.health_history import HealthHistory, HealthRow, PartPast
from tools.health.alerts import HealthChange, alert_text, post_to_slack, send_alerts
from tools.health.model import TROUBLE, PartHealth
from tools.registry import UnknownToolError
from tools.toolkit import ToolFailure
from ui.health.checks import DatabaseDown, check_everything

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL = 60.0
SLACK_CHANNEL_VARIABLE = "SMART_INBOX_HEALTH_SLACK_CHANNEL"
ALERT_TO = "SMART_INBOX_HEALTH_ALERT_TO"
"""`mail` (to the user's own address) or `teams`: setting it is the consent, as for the digest."""
"""A Slack channel for health alerts (the Slack toolkit's token posts them); unset: none."""

Round = Callable[[], Awaitable[tuple[list[PartHealth], Services]]]
Alert = Callable[[Services, list[HealthChange]], Awaitable[object]]

NO_CHANNELS = (
    "no alert can be sent: the alert channels are read from the app database, which this "
    "watch has not reached since it started"
)

_LATEST: list[PartHealth] = []
"""The last round of this process's watch (the chat's welcome, `GET /health`)."""


def watch_interval() -> float:
    """`SMART_INBOX_HEALTH_INTERVAL` in seconds (default 60); 0 turns the watch off."""
    raw = os.environ.get("SMART_INBOX_HEALTH_INTERVAL", "").strip()
    try:
        value = float(raw) if raw else DEFAULT_INTERVAL
    except ValueError:
        logger.warning("SMART_INBOX_HEALTH_INTERVAL %r is not a number; using 60", raw)
        return DEFAULT_INTERVAL
    return max(value, 0.0)


def latest_health() -> list[PartHealth]:
    """What this process's watch found last (empty before its first round)."""
    return list(_LATEST)


def with_past(parts: Sequence[PartHealth], pasts: dict[str, PartPast]) -> list[PartHealth]:
    """Each part with its last success, last error and since when, from the history."""
    merged = []
    for part in parts:
        past = pasts.get(part.part)
        ok_now = part.checked_at if part.state == "ok" else None
        error_now = part.reason if part.state in TROUBLE else ""
        same = past is not None and past.state == part.state
        merged.append(
            replace(
                part,
                last_success=ok_now or (past.last_success if past else None),
                last_error=error_now or (past.last_error if past else ""),
                since=past.since if same and past else part.checked_at,
            )
        )
    return merged


def changes(parts: Sequence[PartHealth], before: dict[str, str]) -> list[HealthChange]:
    """The parts whose state is not the one recorded before them."""
    found = []
    for part in parts:
        previous = before.get(part.part)
        if previous == part.state or (previous is None and part.state not in TROUBLE):
            continue
        found.append(
            HealthChange(part.part, previous or "unknown", part.state, part.reason, part.checked_at)
        )
    return found


async def _to_chosen_channel(services: Services, found: list[HealthChange]) -> dict[str, str]:
    """The alert by mail to the user's own address or to Teams, as `ALERT_TO` chose."""
    try:
        channel = digest_channel(variable=ALERT_TO, kinds=("mail", "teams"))
    except DigestChannelError as err:
        logger.warning("%s", err)
        return {ALERT_TO: f"failed ({err})"}
    if channel is None:
        return {}
    text = alert_text(found)
    try:
        if channel.kind == "mail":
            to = own_address(services.tools.env)
            args = {"to": to, "subject": "Smart Inbox health changed", "body": text}
            await services.tools.invoke("send_email", args)
        else:
            await services.tools.invoke("teams_post_message", {"text": text})
    except (ToolFailure, UnknownToolError) as err:
        logger.warning("the health alert by %s failed: %s", channel.kind, err)
        return {channel.kind: f"failed ({err})"}
    return {channel.kind: "sent"}


async def send_change_alerts(services: Services, found: list[HealthChange]) -> dict[str, str]:
    """Send the changes where the user asked for them: webhooks, Slack, mail or Teams."""
    kits = {k.name: k for k in services.tools.toolkits}
    webhooks, slack = kits.get("webhooks"), kits.get("slack")
    endpoints = webhooks.env.endpoints if webhooks is not None and webhooks.env else ()
    outcomes = await send_alerts(endpoints, found)
    channel = os.environ.get(SLACK_CHANNEL_VARIABLE, "").strip()
    if channel and slack is not None and slack.env is not None:
        outcomes["slack"] = await post_to_slack(slack.env, channel, found)
    elif channel:
        logger.warning("%s is set but Slack is not configured", SLACK_CHANNEL_VARIABLE)
    return outcomes | await _to_chosen_channel(services, found)


class HealthWatch:
    """Rounds of checks, their history, and an alert for each change."""

    def __init__(
        self, check: Round | None = None, alert: Alert = send_change_alerts, interval: float = 60.0
    ) -> None:
        self.check = check or check_everything
        self.alert = alert
        self.interval = interval
        self.alerted: list[HealthChange] = []
        """Every change this watch alerted, oldest first."""
        self.states: dict[str, str] = {}
        """Each part's state at the last round, kept here too for when the database is down."""
        self.kept: Services | None = None
        """The services of the last round that could build them: the alert channels with
        their secrets, held in this process's memory only, for rounds the database misses."""
        self.outage: HealthRow | None = None
        """The database down as this watch first saw it in the outage going on, if one is."""
        self.seen: int | None = None
        """The id of the newest `database` row of the history when this watch last read it."""

    async def round(self) -> list[PartHealth]:
        """Check everything once, record it, and alert what changed."""
        global _LATEST
        try:
            parts, services = await self.check()
        except DatabaseDown as down:
            _LATEST = await self._without_database(down.parts[0])
            return list(_LATEST)
        self.kept = services
        try:
            merged, before = await asyncio.to_thread(self._record, services.db, parts)
        except (SQLAlchemyError, DatabaseUnavailableError) as exc:  # gone since the checks
            _LATEST = await self._without_database(DatabaseDown.because(exc).parts[0])
            return list(_LATEST)
        _LATEST = merged
        self.states = {p.part: p.state for p in merged}
        self.outage = None
        await self._alert(services, changes(merged, before))
        return merged

    def _record(
        self, db: AppDatabase, parts: list[PartHealth]
    ) -> tuple[list[PartHealth], dict[str, str]]:
        """Write the outage (if one), then the round; the parts with their past, and `before`.

        Blocking. The outage goes first so that the round finds the database `down` before
        it: the way back is then a change like any other, alerted by whichever process
        records it first.
        """
        history = HealthHistory(db)
        if self.outage is not None:
            history.record_outage(self.outage, self.seen)
        pasts = history.pasts([p.part for p in parts])
        rows = [HealthRow(p.part, p.state, p.reason, p.latency_ms, p.checked_at) for p in parts]
        before = history.record(rows)
        self.seen = history.newest_id("database")
        return with_past(parts, pasts), before

    async def _alert(self, services: Services, found: list[HealthChange]) -> None:
        if not found:
            return
        logger.warning(
            "health changed: %s", "; ".join(f"{c.part} {c.before} -> {c.after}" for c in found)
        )
        self.alerted.extend(found)
        await self.alert(services, found)

    async def _without_database(self, down: PartHealth) -> list[PartHealth]:
        """A round the database could not hold: alerted with the channels kept from before.

        Nothing is recorded: the outage is written to the history by the first round back
        (one `down` row, at the time this watch first saw it), so the way back is found there.
        When no round of this watch ever reached the database, the channels were never read:
        the change is logged, with why it cannot be alerted.
        """
        found = changes([down], self.states)
        self.states[down.part] = down.state
        if self.outage is None:
            self.outage = HealthRow(down.part, down.state, down.reason, None, down.checked_at)
        parts = [replace(down, since=self.outage.checked_at)]
        if not found:
            return parts
        if self.kept is None:
            [change] = found
            logger.error(
                "health changed: %s %s -> %s (%s); %s",
                change.part, change.before, change.after, change.reason, NO_CHANNELS,
            )  # fmt: skip
            return parts
        await self._alert(self.kept, found)
        return parts

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Rounds every `interval` seconds until `stop` is set (or the task is cancelled)."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                await self.round()
            except Exception as exc:  # a failed round is logged; the watch goes on
                logger.warning("the health round failed: %s", exc, exc_info=True)
            try:
                await asyncio.wait_for(stop.wait(), self.interval)
            except TimeoutError:
                continue


def start_watch(context: Context | None = None) -> asyncio.Task[None] | None:
    """Start the background watch on the running loop, unless the interval is 0."""
    interval = watch_interval()
    if interval == 0:
        return None

    async def check() -> tuple[list[PartHealth], Services]:
        return await check_everything(context)

    watch = HealthWatch(check, interval=interval)
    return asyncio.create_task(watch.run(), name="smart-inbox-health-watch")
