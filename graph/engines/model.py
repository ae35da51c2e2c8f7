"""An engine backed by a chat model (Groq, or a replay script), with the rules as its floor.

The rules still triage first; the model is asked only where they are unsure. Prompts come
from `prompts/`; mail and tool output are wrapped in markers and treated as data.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import date
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import Runnable

from graph.engines.base import AnswerRequest, ProposedCall, ToolPlanRequest, TriageResult
from graph.engines.recovery import ModelCallError, invoke_with_recovery
from graph.engines.replay import NODE_KEY, ReplayExhausted
from graph.engines.rules import RulesEngine
from graph.engines.triage import ACTIONS, CATEGORIES, PRIORITIES, RuleTriage
from graph.schemas import TriageOutput
from graph.state import Evidence
from memory.redaction import scrub_messages
from prompts import answer as answer_prompt
from prompts import as_data
from prompts import classify as classify_prompt
from prompts import select_tools as select_prompt
from tools.language.categories import TriageDecision
from tools.mail.model import Email

logger = logging.getLogger(__name__)

CLASSIFY_BODY_LIMIT = 4000
CONVERSATION_WINDOW = 12


class ModelEngine:
    """Triage, tool choice and answers by a chat model."""

    def __init__(self, model: BaseChatModel, name: str, *, owner: str = "the user") -> None:
        self.model = model
        self.name = name
        self.owner = owner
        self.rules = RulesEngine()

    async def _call(
        self, runnable: Runnable[Any, Any], messages: list[BaseMessage], node: str
    ) -> Any:
        config = {"metadata": {NODE_KEY: node}}
        clean = scrub_messages(messages)  # the prompt boundary: no known secret leaves
        return await invoke_with_recovery(runnable, clean, config=config)  # type: ignore[arg-type]

    async def classify(
        self, email: Email, rules: RuleTriage, preferences: str = "", examples: str = ""
    ) -> TriageResult:
        """Ask the model only when the rules are unsure; keep the rules' answer if it fails.

        The model sees the owner's triage rules (`preferences`, in its instructions) and a few
        messages they corrected (`examples`, as data beside the message). It cannot clear the
        rules' phishing warning, a suspicious mail gets no action, and a person's mail the rules
        would show is never turned into `ignore` by it (only the owner's own rule can do that).
        """
        if not rules.unsure or email.error:
            return await self.rules.classify(email, rules)
        system = classify_prompt.SYSTEM.format(
            owner=self.owner,
            priorities=", ".join(PRIORITIES),
            categories=", ".join(CATEGORIES),
            actions=", ".join(ACTIONS),
            rules_guess=f"{rules.priority}/{rules.category}/{rules.action}/{rules.decision}",
            rules_confidence=min(rules.confidence, rules.decision_confidence),
            preferences=(
                classify_prompt.PREFERENCES.format(lines=preferences) if preferences else ""
            ),
        )
        shown = classify_prompt.EXAMPLES.format(lines=examples) if examples else ""
        message = shown + classify_prompt.MESSAGE.format(
            id=as_data(email.id),
            sender=as_data(email.sender),
            subject=as_data(email.subject),
            date=as_data(email.date),
            headers=as_data(json.dumps(email.headers, ensure_ascii=False)),
            body=as_data(email.body[:CLASSIFY_BODY_LIMIT]),
        )
        try:
            output: TriageOutput = await self._call(
                self.model.with_structured_output(TriageOutput),
                [SystemMessage(system), HumanMessage(message)],
                "classify",
            )
        except ReplayExhausted:
            return await self.rules.classify(email, rules)
        except ModelCallError as err:
            logger.warning(
                "model triage of %s failed, keeping the rules' triage: %s", email.id, err
            )
            return await self.rules.classify(email, rules)
        action = output.action
        if rules.suspicious and action != "archive":
            action = "none"
        return TriageResult(
            priority=output.priority,
            category=output.category,
            action=action,
            reason=output.reason,
            confidence=0.8,
            engine=self.name,
            decision=_decision(output.decision, rules),
            suspicious=rules.suspicious,
        )

    async def plan_tools(self, request: ToolPlanRequest) -> list[ProposedCall]:
        """Let the model choose calls from the offered tools."""
        if request.mode == "triage":
            return await self.rules.plan_tools(request)
        focus = (
            select_prompt.FOCUS.format(ids=", ".join(m["id"] for m in request.focus))
            if request.focus
            else ""
        )
        feedback = (
            select_prompt.FEEDBACK.format(feedback=" / ".join(request.feedback))
            if request.feedback
            else ""
        )
        system = select_prompt.SYSTEM.format(
            today=date.today().isoformat(), focus=focus, feedback=feedback
        )
        messages: list[BaseMessage] = [SystemMessage(system), *_window(request.conversation)]
        if request.turn_evidence:
            rendered = "\n".join(render_evidence(e) for e in request.turn_evidence)
            messages.append(HumanMessage(select_prompt.EVIDENCE_SO_FAR.format(evidence=rendered)))
        try:
            reply: AIMessage = await self._call(
                self.model.bind_tools(request.tools), messages, "select_tools"
            )
        except ReplayExhausted:
            return await self.rules.plan_tools(request)
        except ModelCallError as err:
            logger.warning("model tool selection failed, using the offline engine: %s", err)
            return await self.rules.plan_tools(request)
        offered = {t.name for t in request.tools}
        calls = []
        for call in reply.tool_calls:
            if call["name"] not in offered:
                logger.warning("model asked for unknown tool %r; dropped", call["name"])
                continue
            calls.append(ProposedCall(call["name"], dict(call["args"])))
        return calls

    def last_round(self, request: ToolPlanRequest) -> bool:
        """Never sure: the model sees what this step found and may want more."""
        return False

    async def write_answer(self, request: AnswerRequest) -> str:
        """Write from the evidence inside explicit boundaries."""
        evidence = (
            "\n".join(render_evidence(e) for e in request.evidence) or answer_prompt.NO_EVIDENCE
        )
        problems = (
            answer_prompt.PROBLEMS.format(problems="\n".join(f"- {p}" for p in request.problems))
            if request.problems
            else ""
        )
        actions = [
            f"- {e['action']} {json.dumps(e['args'], ensure_ascii=False)}: {e['status']}"
            + (f" ({e['error']})" if e["error"] else "")
            for e in request.executed
        ] + [
            f"- call {d['call_id']} was declined by the user"
            for d in request.decisions
            if d["type"] == "ignore"
        ]
        if actions:
            evidence += "\n" + answer_prompt.ACTIONS.format(actions="\n".join(actions))
        system = answer_prompt.SYSTEM.format(
            today=date.today().isoformat(), problems=problems, evidence=evidence
        )
        conversation = _window(request.conversation)
        if request.mode == "triage":
            conversation = [HumanMessage("Summarise what the triage found.")]
        try:
            reply: AIMessage = await self._call(
                self.model, [SystemMessage(system), *conversation], "answer"
            )
        except ReplayExhausted:
            return await self.rules.write_answer(request)
        except ModelCallError as err:
            logger.warning("model answer failed, composing from the evidence: %s", err)
            offline = await self.rules.write_answer(request)
            return (
                f"{offline}\n\n(The model could not answer: {err}. "
                "This answer was composed from the evidence alone.)"
            )
        return str(reply.text)


def render_evidence(record: Evidence) -> str:
    """One evidence record inside its start/end markers."""
    status = "FAILED" if record["error"] else record["completeness"]
    content = f"The call failed: {record['error']}" if record["error"] else record["content"]
    return answer_prompt.EVIDENCE.format(
        id=record["id"],
        status=status,
        tool=record["tool"],
        args=as_data(json.dumps(record["args"], ensure_ascii=False)),
        content=as_data(content),
    )


def _window(messages: Sequence[BaseMessage]) -> list[BaseMessage]:
    kept = [m for m in messages if m.type in ("human", "ai")]
    return kept[-CONVERSATION_WINDOW:]


def _decision(said: TriageDecision | None, rules: RuleTriage) -> TriageDecision:
    """The model's decision, unless it would skip a person's mail the rules would show."""
    if said is None or (said == "ignore" and rules.from_person and rules.decision != "ignore"):
        return rules.decision
    return said
