"""One shape for the health of every part, and running many checks at once, each bounded.

A part is `ok`, `degraded` (it answers, but something it offers cannot run, or it is
rate-limited), `down` (it does not answer or refuses us) or `not configured`. A hung server
costs at most its own check's timeout: the checks run concurrently.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

logger = logging.getLogger(__name__)

HealthState = Literal["ok", "degraded", "down", "not configured"]
STATES: tuple[HealthState, ...] = ("ok", "degraded", "down", "not configured")
TROUBLE: frozenset[str] = frozenset({"degraded", "down"})
"""States that make `smart-inbox health` exit 1 and the chat mention the part."""
DEFAULT_TIMEOUT = 5.0
"""Seconds one check may take, unless the part's own setting is shorter."""


@dataclass(frozen=True)
class Verdict:
    """What one check found: a state and, unless all is well, why."""

    state: HealthState
    reason: str = ""


Probe = Callable[[], Awaitable[Verdict]]
"""A cheap check with no side effect: a login, NOOP or EHLO, a list call, a `HEAD`."""


@dataclass(frozen=True)
class Check:
    """One part to check, or a part that is not configured (no probe) with why."""

    part: str
    """What it is called in the table: `smtp`, `calendar`, `webhook alerts`, `mcp files`."""
    kind: str
    """The group: mail, calendar, integration, webhook, mcp, model, database, vault."""
    probe: Probe | None = None
    reason: str = ""
    """Why it is not configured (no probe), or what its `ok` means (the demo mailbox)."""
    timeout: float = DEFAULT_TIMEOUT
    tools: tuple[str, ...] = ()
    """The tools whose calls need this part: their cards warn while it is in trouble."""


@dataclass(frozen=True)
class PartHealth:
    """Where one part stands, with what is known of its past."""

    part: str
    kind: str
    state: HealthState
    reason: str = ""
    latency_ms: float | None = None
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    last_success: datetime | None = None
    last_error: str = ""
    since: datetime | None = None
    """Since when the part has been in this state (this check, when it just changed)."""
    tools: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The `--json` and `GET /health` shape of one part."""
        return {
            "part": self.part,
            "kind": self.kind,
            "state": self.state,
            "reason": self.reason,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 1),
            "checked_at": _iso(self.checked_at),
            "last_success": _iso(self.last_success),
            "last_error": self.last_error,
            "since": _iso(self.since),
        }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds")


async def run_check(check: Check, clock: Callable[[], datetime] | None = None) -> PartHealth:
    """Run one check within its timeout; a failure of the check itself is the part down."""
    now = (clock or (lambda: datetime.now(UTC)))()
    base = PartHealth(check.part, check.kind, "not configured", check.reason, None, now)
    base = replace(base, tools=check.tools)
    if check.probe is None:
        return base
    started = time.perf_counter()
    try:
        verdict = await asyncio.wait_for(check.probe(), check.timeout)
    except TimeoutError:
        verdict = Verdict("down", f"no answer within {check.timeout:g} s")
    except Exception as exc:  # a check that breaks says so; it never breaks the others
        logger.warning("the %s check failed: %s", check.part, exc, exc_info=True)
        verdict = Verdict("down", f"the check failed: {exc}")
    latency = (time.perf_counter() - started) * 1000
    reason = verdict.reason or (check.reason if verdict.state == "ok" else "")
    return replace(base, state=verdict.state, reason=reason, latency_ms=latency)


async def run_checks(
    checks: Sequence[Check], clock: Callable[[], datetime] | None = None
) -> list[PartHealth]:
    """Every check at once, in the order given."""
    return list(await asyncio.gather(*(run_check(check, clock) for check in checks)))


def in_trouble(parts: Sequence[PartHealth]) -> list[PartHealth]:
    """The parts that are degraded or down."""
    return [p for p in parts if p.state in TROUBLE]


def exit_code(parts: Sequence[PartHealth]) -> int:
    """0 when every configured part is ok, 1 when one is degraded or down."""
    return 1 if in_trouble(parts) else 0
