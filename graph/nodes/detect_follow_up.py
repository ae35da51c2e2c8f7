"""`detect_follow_up`: answer from the thread when the user refers back to a message.

"what does it say?", "the second one", "that invoice": resolved to message ids from the
evidence already in the thread. A message seen only as a preview is fetched in full
(a read-only `get_email`) instead of being answered from the preview.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from langgraph.types import Command

from graph.followup import has_full_copy, resolve_reference
from graph.state import State, ToolCallRequest


def last_user_text(state: State) -> str:
    """The text of the newest user message ('' when there is none)."""
    for message in reversed(state.get("messages") or []):
        if message.type == "human":
            return str(message.text)
    return ""


async def detect_follow_up(
    state: State,
) -> Command[Literal["answer", "select_tools", "request_approval"]]:
    """Resolve references; route to `answer`, to a full fetch, or on to tool selection."""
    if state.get("requested_calls"):
        return Command(goto="select_tools", update={"focus": []})  # the user said what to run
    evidence = state.get("evidence") or []
    resolution = resolve_reference(last_user_text(state), evidence, state.get("citations") or [])
    if resolution is None:
        return Command(goto="select_tools", update={"focus": []})
    focus = list(resolution.ids)
    if resolution.wants_action:
        return Command(goto="select_tools", update={"focus": focus})
    missing = [i for i in focus if not has_full_copy(i, evidence)]
    if not missing:
        return Command(goto="answer", update={"focus": focus})
    calls: list[ToolCallRequest] = [
        {
            "id": f"call-{uuid.uuid4().hex[:12]}",
            "name": "get_email",
            "args": {"email_id": message_id},
            "proposed_by": "detect_follow_up",
        }
        for message_id in missing
    ]
    update: dict[str, Any] = {"focus": focus, "proposed_calls": calls}
    return Command(goto="request_approval", update=update)
