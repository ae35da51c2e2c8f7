"""The one matcher: tries the intents of `intents.toml` in order; the first that matches plans.

The table says which words make which intent; the plans (Python, by name) say which calls an
intent leads to. Every plan the table names must exist, checked when the table is first read.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from graph.engines.base import ProposedCall, ToolPlanRequest
from graph.engines.intents import (
    calendar_plans,
    inbox_plans,
    mail_plans,
    summary_plans,
    triage_plans,
    work_plans,
)
from graph.engines.intents.phrases import (
    INTENTS_FILE,
    Condition,
    IntentTableError,
    PhraseTable,
    phrase_table,
)
from tools.language.category_words import categories_named

Plan = Callable[[ToolPlanRequest], list[ProposedCall]]

PLANS: dict[str, Plan] = {
    "jira_comment": work_plans.jira_comment,
    "jira_create": work_plans.jira_create,
    "jira_search": work_plans.jira_search,
    "jira_lookup": work_plans.jira_lookup,
    "slack": work_plans.slack,
    "teams": work_plans.teams,
    "crm": work_plans.crm,
    "crm_lookup": work_plans.crm_lookup,
    "crm_log": work_plans.crm_log,
    "correct_triage": triage_plans.correct_triage,
    "undo_inbox_action": inbox_plans.undo_inbox_action,
    "snooze": inbox_plans.snooze,
    "unsubscribe": inbox_plans.unsubscribe,
    "block_sender": inbox_plans.block_sender,
    "mark_done": inbox_plans.mark_done,
    "mark_read": inbox_plans.mark_read,
    "flag": inbox_plans.flag,
    "archive": inbox_plans.archive,
    "trash": inbox_plans.trash,
    "move_to_folder": inbox_plans.move_to_folder,
    "draft_reply": mail_plans.draft_reply,
    "send": mail_plans.send,
    "reply": mail_plans.reply,
    "outbox": mail_plans.outbox,
    "awaiting_their_reply": mail_plans.awaiting_their_reply,
    "awaiting_reply": mail_plans.awaiting_reply,
    "nudge": mail_plans.nudge,
    "summary": summary_plans.summary,
    "availability": calendar_plans.availability,
    "propose_slots": calendar_plans.propose_slots,
    "schedule": calendar_plans.schedule,
    "attention": mail_plans.attention,
    "from_sender": mail_plans.from_sender,
    "about": mail_plans.about,
    "category": mail_plans.category,
    "overview": mail_plans.overview,
    "search": mail_plans.search,
}
"""Every plan an intent of the table may name."""


@dataclass(frozen=True)
class Intent:
    """One intent of the table: when it matches, and the plan it leads to."""

    name: str
    matches: Callable[[str], bool]
    plan: Plan


def _holds(condition: Condition, patterns: dict[str, re.Pattern[str]], text: str) -> bool:
    def found(name: str) -> bool:
        if name == "always":
            return True
        if name == "category":
            return bool(categories_named(text))
        return bool(patterns[name].search(text))

    return all(found(n) for n in condition.required) and not any(
        found(n) for n in condition.forbidden
    )


def build_intents(table: PhraseTable, plans: dict[str, Plan] = PLANS) -> list[Intent]:
    """The table's intents with their plans; a plan it names that does not exist raises."""
    intents = []
    for number, spec in enumerate(table.intents, 1):
        plan = plans.get(spec.plan)
        if plan is None:
            raise IntentTableError(
                f"{INTENTS_FILE.name}: intent {number} ({spec.name!r}) names no plan "
                f"{spec.plan!r}; known: {', '.join(plans)}"
            )

        def matches(text: str, when: tuple[Condition, ...] = spec.when) -> bool:
            return any(_holds(c, table.patterns, text) for c in when)

        intents.append(Intent(spec.name, matches, plan))
    return intents


@cache
def intents() -> list[Intent]:
    """The product's intents, in the order they are tried (built once)."""
    return build_intents(phrase_table())


def plan_from_intents(request: ToolPlanRequest) -> tuple[str, list[ProposedCall]]:
    """The first matching intent's name and calls (tools the run lacks are dropped).

    A tool that exists but cannot run here (an integration that is not configured) is kept:
    its call then fails with what to set, and the answer says so.
    """
    available = {tool.name for tool in request.tools} | set(request.unavailable)
    number = _first_match(request.user_text)
    if number is None:
        return "none", []
    intent = intents()[number]
    return intent.name, [c for c in intent.plan(request) if c.name in available]


@lru_cache(maxsize=256)
def _first_match(text: str) -> int | None:
    """The index of the first intent `text` matches (the same words are tried every round)."""
    return next((n for n, intent in enumerate(intents()) if intent.matches(text)), None)


def intent_of(text: str) -> str:
    """The name of the first intent `text` matches, or `none`."""
    number = _first_match(text)
    return "none" if number is None else intents()[number].name


def describe(calls: list[ProposedCall]) -> list[dict[str, Any]]:
    """Calls as plain dicts (for logs and tests)."""
    return [{"name": c.name, "args": c.args} for c in calls]
