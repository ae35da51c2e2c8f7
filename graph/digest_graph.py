"""The scheduled digest: a one-node graph the LangGraph server's cron runs every morning.

`smart-inbox schedule-digest` creates the cron; each run builds the day's digest from what the
mail cache holds (a scheduled triage keeps it fresh) and delivers it to the channel the user
chose (`graph.digest_delivery`), at most once a day.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from graph.context import Context
from graph.digest import build_digest, calendar_of
from graph.digest_delivery import DIGEST_TO, DigestChannelError, deliver_digest, digest_channel
from graph.services import services_for
from tools.mail.reply_tracking import AwaitingDaysError
from tools.toolkit import ToolFailure


class DigestState(TypedDict, total=False):
    """What one scheduled digest run did."""

    digest: dict[str, Any]
    """The digest it built (`Digest.to_json`)."""
    delivery: dict[str, str]
    """What became of its delivery: `status` (sent, skipped, failed) and `text`."""


def _now() -> datetime:
    return datetime.now(UTC)


def make_send_digest(clock: Callable[[], datetime] = _now) -> Any:
    """The node, with the clock it reads (tests pass their own)."""

    async def send_digest(state: DigestState, runtime: Runtime[Context]) -> dict[str, Any]:
        """Build today's digest and deliver it to the chosen channel, once."""
        try:
            channel = digest_channel()
        except DigestChannelError as err:
            return {"delivery": {"status": "failed", "text": str(err)}}
        if channel is None:
            text = f"{DIGEST_TO} is not set: choose where the digest goes (mail, slack, ...)"
            return {"delivery": {"status": "failed", "text": text}}
        services = await services_for(runtime)
        calendar = calendar_of(services.tools)
        try:
            digest = await asyncio.to_thread(build_digest, services.mailbox, calendar, clock())
        except (AwaitingDaysError, ToolFailure) as err:
            return {"delivery": {"status": "failed", "text": f"no digest: {err}"}}
        delivery = await deliver_digest(digest, channel, services.tools, services.db)
        return {
            "digest": digest.to_json(),
            "delivery": {"status": delivery.status, "text": delivery.text},
        }

    return send_digest


def build_digest_graph(
    checkpointer: Any = None, clock: Callable[[], datetime] = _now
) -> CompiledStateGraph[DigestState, Context, Any, DigestState]:
    """Compile the digest graph, with the caller's checkpointer if any."""
    builder = StateGraph(DigestState, context_schema=Context)
    builder.add_node("send_digest", make_send_digest(clock))
    builder.add_edge(START, "send_digest")
    builder.add_edge("send_digest", END)
    return builder.compile(checkpointer=checkpointer, name="smart-inbox-digest")


digest_graph = build_digest_graph()
