"""What the triage rules decide for one message, and the values that mark a message unreadable."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tools.language.categories import Action, Category, Priority, TriageDecision

UNSURE_BELOW = 0.55
"""Below this confidence the caller may ask a model for a second opinion."""

UnreadablePriority = Literal["unknown"]
UnreadableCategory = Literal["unreadable"]
UNREADABLE_PRIORITY: UnreadablePriority = "unknown"
"""The priority of a message that could not be read: only the person who opens it can tell.
Never one of `PRIORITIES`, so no view mistakes a broken message for ordinary mail."""
UNREADABLE_CATEGORY: UnreadableCategory = "unreadable"
"""The category of a message that could not be read; never one of `CATEGORIES`, which a model
may choose from."""


@dataclass(frozen=True)
class RuleTriage:
    """What the rules decided for one message, and how sure they are."""

    priority: Priority | UnreadablePriority
    category: Category | UnreadableCategory
    action: Action
    reason: str
    """A short phrase (about `REASON_CHARS`) naming the deciding signals in plain words; it
    never quotes the subject, which every view shows beside it."""
    confidence: float
    """0..1, of the category; below `UNSURE_BELOW` the caller may ask a model."""
    decision: TriageDecision = "notify"
    """What the reader does with it: respond, notify or ignore (`decision.py`)."""
    decision_confidence: float = 1.0
    """0..1, of the decision; below `UNSURE_BELOW` the row is marked unsure and never archived."""
    suspicious: str = ""
    """Why the message looks like phishing or fraud (`phishing.py`); '' when it does not."""
    from_person: bool = False
    """A person wrote it (not a program, not a mass mailing, not cold outreach): the learner
    never votes such mail into `ignore`; only the user's own rule can."""

    @property
    def unsure(self) -> bool:
        """Whether the rules are unsure of the category or the decision."""
        return min(self.confidence, self.decision_confidence) < UNSURE_BELOW
