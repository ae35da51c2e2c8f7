"""Offline triage of one message by rules a person can read and edit (`rules/*.toml`).

`triage_by_rules` gives every message a priority, category, action and short reason with a
confidence; a model is asked only where the rules are unsure (below `UNSURE_BELOW`).
"""

from __future__ import annotations

from graph.engines.triage.reading import BODY_CHARS, RAW_BODY_CHARS, SUBJECT_CHARS
from graph.engines.triage.reasons import REASON_CHARS, unreadable_reason
from graph.engines.triage.rulebook import RuleBook, RuleFileError, load_categories, load_rules
from graph.engines.triage.scorer import MIN_SCORE, triage_by_rules
from graph.engines.triage.verdict import (
    UNREADABLE_CATEGORY,
    UNREADABLE_PRIORITY,
    UNSURE_BELOW,
    RuleTriage,
    UnreadableCategory,
    UnreadablePriority,
)
from tools.language.categories import (
    ACTIONS,
    CATEGORIES,
    PRIORITIES,
    Action,
    Category,
    Priority,
)

PRIORITY_BY_CATEGORY, ACTION_BY_CATEGORY = load_categories()
"""Each category's usual priority and suggested action (`rules/categories.toml`)."""

__all__ = [
    "ACTIONS",
    "ACTION_BY_CATEGORY",
    "BODY_CHARS",
    "CATEGORIES",
    "MIN_SCORE",
    "PRIORITIES",
    "PRIORITY_BY_CATEGORY",
    "RAW_BODY_CHARS",
    "REASON_CHARS",
    "SUBJECT_CHARS",
    "UNREADABLE_CATEGORY",
    "UNREADABLE_PRIORITY",
    "UNSURE_BELOW",
    "Action",
    "Category",
    "Priority",
    "RuleBook",
    "RuleFileError",
    "RuleTriage",
    "UnreadableCategory",
    "UnreadablePriority",
    "load_rules",
    "triage_by_rules",
    "unreadable_reason",
]
