"""Checks run at once, each within its own timeout; a hung one costs only its timeout."""

from __future__ import annotations

import asyncio
import time

from tools.health.model import Check, Verdict, exit_code, run_checks


async def _ok() -> Verdict:
    return Verdict("ok")


async def _hangs() -> Verdict:
    await asyncio.sleep(60)
    return Verdict("ok")


async def _breaks() -> Verdict:
    raise RuntimeError("socket closed")


async def test_a_hung_check_is_down_after_its_timeout_and_the_others_are_not_held_up() -> None:
    checks = [
        Check("a", "mail", _ok),
        Check("hung", "mcp", _hangs, timeout=0.3),
        Check("b", "mail", _ok),
        Check("c", "integration", None, "set C_TOKEN"),
    ]
    started = time.perf_counter()
    parts = await run_checks(checks)
    took = time.perf_counter() - started
    assert took < 1.0
    assert [p.state for p in parts] == ["ok", "down", "ok", "not configured"]
    assert parts[1].reason == "no answer within 0.3 s"
    assert parts[1].latency_ms is not None and parts[1].latency_ms >= 290
    assert parts[3].reason == "set C_TOKEN" and parts[3].latency_ms is None
    assert exit_code(parts) == 1


async def test_a_check_that_breaks_is_down_with_its_error() -> None:
    [part] = await run_checks([Check("x", "mail", _breaks)])
    assert part.state == "down"
    assert "socket closed" in part.reason


async def test_not_configured_parts_and_ok_parts_exit_0() -> None:
    parts = await run_checks([Check("a", "mail", _ok, "the demo mailbox"), Check("b", "x")])
    assert exit_code(parts) == 0
    assert parts[0].reason == "the demo mailbox"
    assert parts[0].to_json()["state"] == "ok"
