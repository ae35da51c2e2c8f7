"""A chat thread driven turn by turn in-process, and what the triage view would list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from graph.builder import build_graph
from graph.context import Context
from graph.services import build_services
from tools.calendar.settings import user_time_zone
from ui.chat.inbox_rows import inbox_conversations, woken_first
from ui.chat.render import conversation_rows


class Chat:
    """One chat thread on the demo, turn by turn."""

    def __init__(self, context: Context, thread: str = "inbox-chat") -> None:
        self.context = context
        self.graph = build_graph(checkpointer=InMemorySaver())
        self.config: RunnableConfig = {"configurable": {"thread_id": thread}}

    async def say(self, text: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.graph.ainvoke(
            {"messages": [HumanMessage(text)]}, config=self.config, context=self.context
        )
        return result

    async def pending(self) -> list[dict[str, Any]]:
        snapshot = await self.graph.aget_state(self.config)
        return [r for item in snapshot.interrupts for r in item.value]

    async def decide(self, decision: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self.graph.ainvoke(
            Command(resume=decision), config=self.config, context=self.context
        )
        return result


def in_view(context: Context, now: datetime | None = None) -> list[str]:
    services = build_services(context)
    states, woken, _ = inbox_conversations(services.mailbox, now)
    return [row.id for row in woken_first(conversation_rows(states, user_time_zone()), woken)]
