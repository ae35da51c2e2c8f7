"""The offline engine: deterministic triage rules, intent patterns and template answers.

It needs no key and no network, and every answer it writes is composed from evidence, so
it is grounded by construction. It understands fewer phrasings than a model does.
"""

from __future__ import annotations

from graph.engines.base import AnswerRequest, ProposedCall, ToolPlanRequest, TriageResult
from graph.engines.intents.matcher import intent_of, plan_from_intents
from graph.engines.template_answers import compose_answer
from graph.engines.triage import RuleTriage
from tools.mail.model import Email

# Intents that may need a second round (search first, then act on what was found).
MULTI_STEP_INTENTS = frozenset(
    {
        "correct_triage",
        "draft_reply",
        "reply",
        "jira_create",
        "slack",
        "teams",
        "crm",
        "crm_log",
        "propose_slots",
        "schedule",
        "summary",
        "snooze",
        "unsubscribe",
        "block_sender",
        "mark_done",
        "mark_read",
        "flag",
        "archive",
        "trash",
        "move_to_folder",
        "nudge",
    }  # fmt: skip
)


class RulesEngine:
    """The embedded offline engine."""

    name = "rules"

    async def classify(
        self, email: Email, rules: RuleTriage, preferences: str = "", examples: str = ""
    ) -> TriageResult:
        """Take the rules' triage as it is (the user's corrections are already in it)."""
        return TriageResult(
            priority=rules.priority,
            category=rules.category,
            action=rules.action,
            reason=rules.reason,
            confidence=rules.confidence,
            engine=self.name,
            decision=rules.decision,
            suspicious=rules.suspicious,
            unsure=rules.unsure,
        )

    async def plan_tools(self, request: ToolPlanRequest) -> list[ProposedCall]:
        """One round of calls from the first matching intent; triage runs propose nothing."""
        if request.mode == "triage" or not request.user_text.strip():
            return []
        intent, calls = plan_from_intents(request)
        if request.turn_evidence and intent not in MULTI_STEP_INTENTS:
            return []
        return calls

    def last_round(self, request: ToolPlanRequest) -> bool:
        """True unless the intent may act on what its first round finds (`MULTI_STEP_INTENTS`).

        The next step has this step's results as its turn evidence, so `plan_tools` gives
        nothing then for any other intent.
        """
        if request.mode == "triage" or not request.user_text.strip():
            return True
        return intent_of(request.user_text) not in MULTI_STEP_INTENTS

    async def write_answer(self, request: AnswerRequest) -> str:
        """Compose the answer from the evidence."""
        return compose_answer(request)
