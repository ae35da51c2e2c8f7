"""The triage vocabulary: priorities, categories and actions, as every engine and view names them.

`Category` and friends are `Literal` types so a model's structured output is checked against the
same list the rules engine and the views use; the tuples are the same lists for iteration.
"""

from __future__ import annotations

from typing import Literal, get_args

Priority = Literal["high", "normal", "low"]
Category = Literal[
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
Action = Literal[
    "reply",
    "schedule_meeting",
    "create_ticket",
    "notify_team",
    "create_lead",
    "archive",
    "none",
]

TriageDecision = Literal["respond", "notify", "ignore"]
"""What the person does with a message, the standard three of email assistants: `respond` (a
reply or an action is expected of them), `notify` (worth seeing, nothing to do), `ignore` (safe
to skip). docs/engines.md gives the mapping from categories and signals."""

PRIORITIES: tuple[Priority, ...] = get_args(Priority)
CATEGORIES: tuple[Category, ...] = get_args(Category)
ACTIONS: tuple[Action, ...] = get_args(Action)
DECISIONS: tuple[TriageDecision, ...] = get_args(TriageDecision)
