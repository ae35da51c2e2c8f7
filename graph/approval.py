"""Approval requests in the Agent Inbox shape, and reading a person's answers to them.

The card's description is written here from the real arguments, never by a model.
"""

from __future__ import annotations

import json
from typing import Any

from graph.state import ToolCallRequest

DECISION_TYPES = ("accept", "edit", "response", "ignore")


class ResumeError(ValueError):
    """A resume value that does not answer the pending requests."""


def approval_request(call: ToolCallRequest) -> dict[str, Any]:
    """The interrupt payload of one call (Agent Inbox `HumanInterrupt`, plus its call id)."""
    return {
        "action_request": {"action": call["name"], "args": call["args"]},
        "config": {
            "allow_accept": True,
            "allow_edit": True,
            "allow_respond": True,
            "allow_ignore": True,
        },
        "description": describe_call(call),
        "call_id": call["id"],
    }


def describe_call(call: ToolCallRequest) -> str:
    """Markdown that says what will happen, with every argument as it will be used."""
    lines = [f"**{call['name']}** will run with:"]
    for name, value in call["args"].items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if isinstance(shown, str) and "\n" in shown:
            lines.append(f"- `{name}`:\n\n  > " + shown.replace("\n", "\n  > "))
        else:
            lines.append(f"- `{name}`: {shown}")
    lines.append(f"\nProposed by: {call['proposed_by']}.")
    return "\n".join(lines)


def read_responses(value: Any, calls: list[ToolCallRequest]) -> dict[str, dict[str, Any]]:
    """Map each pending call id to its response.

    Accepts a list aligned with the requests (Agent Inbox), a dict keyed by call id, or
    one response (a dict with `type`) that answers every pending call.
    """
    if isinstance(value, dict) and "type" in value:
        responses = {call["id"]: value for call in calls}
    elif isinstance(value, dict):
        responses = {key: item for key, item in value.items()}
    elif isinstance(value, list) and len(value) == len(calls):
        responses = {call["id"]: item for call, item in zip(calls, value, strict=True)}
    else:
        raise ResumeError(
            f"resume value must answer {len(calls)} request(s): a list, a dict by call id, or one response"
        )
    for call_id, response in responses.items():
        if not isinstance(response, dict) or response.get("type") not in DECISION_TYPES:
            raise ResumeError(
                f"response for {call_id} must be {{'type': one of {', '.join(DECISION_TYPES)}, 'args': ...}}"
            )
    return responses
