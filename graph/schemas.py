"""Pydantic models for structured model output."""

from __future__ import annotations

from pydantic import BaseModel, Field

from tools.language.categories import Action, Category, Priority, TriageDecision


class TriageOutput(BaseModel):
    """The model's triage of one message."""

    priority: Priority
    category: Category
    action: Action
    decision: TriageDecision | None = Field(
        default=None,
        description=(
            "respond: a reply or an action is expected of the owner; notify: worth seeing, "
            "nothing to do; ignore: safe to skip."
        ),
    )
    reason: str = Field(
        description=(
            "A short phrase (under 60 characters) naming the signal used; no quoted subject."
        )
    )
