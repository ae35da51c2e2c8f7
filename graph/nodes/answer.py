"""`answer`: write the reply from the evidence, verify it, and never let an unsupported claim out.

A draft that fails the grounding check is written once more with its problems named; if
that fails too, the user gets the evidence-only answer with a note saying so.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Any

from langchain_core.messages import AIMessage
from langgraph.runtime import Runtime

from graph.context import Context
from graph.engines.base import AnswerRequest
from graph.engines.template_answers import compose_answer, outcome_notes, unsent_notes
from graph.evidence_bodies import whole_evidence
from graph.grounding import citations_in, verify_answer
from graph.nodes.detect_follow_up import last_user_text
from graph.services import services_for
from graph.state import Evidence, State
from tools.mail.tools import SENDING_TOOLS

logger = logging.getLogger(__name__)

SENDING_WORDS = re.compile(
    r"\b(send|reply|respond|answer|write back|e-?mail (him|her|them))\b", re.I
)
"""A turn that asks to send mail, so a draft made instead is worth explaining."""
DRAFT_WORDS = re.compile(r"\bdraft\b", re.I)
"""A turn that asks for a draft: a draft needs no explanation."""

SAFE_NOTE = (
    "Note: the model's answer stated things the mailbox does not support, so this answer "
    "was built from the retrieved messages alone."
)


def relevant_evidence(state: State) -> list[Evidence]:
    """Evidence of this turn and the previous one, plus full copies of the focused messages.

    With every body whole (`graph.evidence_bodies`): what the answer quotes and grounding
    checks is the text the tools returned.
    """
    turn = state.get("turn", 0)
    focus = set(state.get("focus") or [])
    return whole_evidence(
        record
        for record in state.get("evidence") or []
        if record["turn"] >= turn - 1 or any(m["id"] in focus for m in record["messages"])
    )


async def answer(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Draft, verify, retry once, then fall back to the evidence-only answer."""
    services = await services_for(runtime)
    evidence = relevant_evidence(state)
    request = AnswerRequest(
        mode=state.get("mode", "chat"),
        user_text=last_user_text(state),
        conversation=list(state.get("messages") or []),
        evidence=evidence,
        focus_ids=list(state.get("focus") or []),
        executed=list(state.get("executed") or []),
        decisions=list(state.get("decisions") or []),
        triage=list(state.get("triage") or []),
        fetch_errors=list(state.get("fetch_errors") or []),
    )
    note = state.get("answer_note") or ""
    text = await services.engine.write_answer(request)
    reported = [failure["error"] for failure in request.fetch_errors]
    report = verify_answer(text, evidence, reported)
    if not report.ok:
        logger.warning("answer rejected by the verifier: %s", "; ".join(report.problems))
        text = await services.engine.write_answer(replace(request, problems=list(report.problems)))
        report = verify_answer(text, evidence, reported)
    if not report.ok:
        logger.warning("second answer rejected too: %s", "; ".join(report.problems))
        text = compose_answer(request) + "\n\n" + SAFE_NOTE
        note = "; ".join(report.problems)
    notes = outcome_notes(request.decisions, request.executed)
    if SENDING_WORDS.search(request.user_text) and not DRAFT_WORDS.search(request.user_text):
        # From what ran only: a draft saved because this product cannot send here.
        unsent = [why for name, why in services.tools.unavailable.items() if name in SENDING_TOOLS]
        notes += unsent_notes(request.executed, unsent, services.tools.is_read_only)
    if notes:
        text += "\n\n" + "\n".join(notes)
    if state.get("answer_note"):
        text += f"\n\n({state['answer_note']}.)"
    return {
        "messages": [AIMessage(content=text)],
        "citations": citations_in(text),
        "answer_note": note,
        "mode": "chat",
    }
