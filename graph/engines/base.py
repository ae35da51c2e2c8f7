"""What every engine (offline rules, Groq, replay) must do, as plain data in and out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from langchain_core.messages import BaseMessage
from langchain_core.tools import BaseTool

from graph.engines.triage import RuleTriage
from graph.state import Decision, Evidence, Executed, MessageRef, Mode, TriageRow
from tools.mail.model import Email


@dataclass(frozen=True)
class ProposedCall:
    """A tool call an engine wants made."""

    name: str
    args: dict[str, Any]


@dataclass(frozen=True)
class ToolPlanRequest:
    """Everything an engine may look at to choose the next tool calls."""

    mode: Mode
    user_text: str
    conversation: list[BaseMessage]
    focus: list[MessageRef]
    """Messages the user's turn refers to, already resolved."""
    turn_evidence: list[Evidence]
    """Results of the calls made so far in this turn."""
    tools: list[BaseTool]
    feedback: list[str] = field(default_factory=list)
    """What the person said back at the approval step (`response` decisions)."""
    unavailable: dict[str, str] = field(default_factory=dict)
    """Tools that exist but cannot run here, with why (not offered to a model)."""
    evidence: list[Evidence] = field(default_factory=list)
    """Every tool result of the thread before this turn's (what "the first slot" refers to)."""
    sender: str = ""
    """The From of the user's own mail (`Name <address>`): whose name signs a reply."""
    now: datetime | None = None
    """The current time in the user's zone ("tomorrow 9am" is read from it); None: the clock."""


@dataclass(frozen=True)
class AnswerRequest:
    """Everything the answer may be built from; nothing else may appear in it."""

    mode: Mode
    user_text: str
    conversation: list[BaseMessage]
    evidence: list[Evidence]
    focus_ids: list[str]
    executed: list[Executed]
    decisions: list[Decision]
    triage: list[TriageRow]
    fetch_errors: list[dict[str, str]]
    problems: list[str] = field(default_factory=list)
    """Why the previous draft was rejected by the verifier (empty on the first try)."""


@dataclass(frozen=True)
class TriageResult:
    """The triage an engine settled on for one message."""

    priority: str
    category: str
    action: str
    reason: str
    confidence: float
    engine: str
    decision: str = "notify"
    """`respond`, `notify` or `ignore`."""
    suspicious: str = ""
    """Why the rules think it is phishing or fraud; no engine can clear it."""
    unsure: bool = False


class Engine(Protocol):
    """The three decisions a model makes in this product."""

    name: str

    async def classify(
        self, email: Email, rules: RuleTriage, preferences: str = "", examples: str = ""
    ) -> TriageResult:
        """Triage one message, given what the rules said.

        `preferences` are the user's own triage rules and `examples` the messages they
        corrected, as plain text for a model (the rules have already applied both).
        """
        ...

    async def plan_tools(self, request: ToolPlanRequest) -> list[ProposedCall]:
        """Propose tool calls for this step; an empty list means "done, answer now"."""
        ...

    def last_round(self, request: ToolPlanRequest) -> bool:
        """True when the step after this one would surely propose nothing (then it is skipped).

        False whenever unsure: a model may always want another call once it sees results.
        """
        ...

    async def write_answer(self, request: AnswerRequest) -> str:
        """Write the reply from the evidence, citing messages as `[msg:ID]`."""
        ...
