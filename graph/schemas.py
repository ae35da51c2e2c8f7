"""Pydantic models for structured model output."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class TriageOutput(BaseModel):
    """The model's triage of one message."""

    priority: Literal["high", "normal", "low"]
    category: Literal[
        "urgent_incident",
        "bug_report",
        "feature_request",
        "meeting_request",
        "sales_inquiry",
        "billing",
        "newsletter",
        "notification",
        "personal",
        "spam_or_cold",
        "other",
    ]
    action: Literal[
        "reply",
        "schedule_meeting",
        "create_ticket",
        "notify_team",
        "create_lead",
        "archive",
        "none",
    ]
    reason: str = Field(
        description="A short phrase (under 60 characters) naming the signal used; no quoted subject."
    )
