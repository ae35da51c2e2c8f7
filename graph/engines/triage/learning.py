"""Learning from the user's corrections: their rules first, then what their examples suggest.

A correction says what one message should have been (decision, priority, category). It becomes:

1. an exact rule, applied before anything else: the message's mailing list (`List-Id`) when it
   has one, else its sender's address, or the sender's whole domain when the user said so;
2. an example for a naive Bayes classifier over the message's words and header features
   (sender domain, robot, mass mailing, known person), so one correction generalises to mail
   of the same kind. Its vote replaces the rules' decision only when it is confident
   (`SURE_VOTE`) and has seen at least two decisions; a suspicious message is never let through
   by a vote, only by the user's own rule.

Naive Bayes is written here (about forty lines) rather than taken from scikit-learn: the model
is a table of word counts, training on a few hundred examples takes milliseconds, and numpy and
scipy would add ~100 MB and a second of import time to every process for it.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, cast

from graph.engines.triage.profile import MailboxProfile
from graph.engines.triage.reading import header, visible_body
from graph.engines.triage.senders import base_domain, domain_of
from graph.engines.triage.verdict import RuleTriage
from tools.language.categories import DECISIONS, Action, Category, Priority, TriageDecision
from tools.mail.model import Email

Scope = Literal["sender", "domain", "list", "message"]
SURE_VOTE = 0.9
"""The classifier's probability needed to change a decision."""
_WORD_RE = re.compile(r"[^\W\d_]{3,24}")
_MAX_WORDS = 300
NEAR = 0.5
"""Cosine similarity to a corrected example for it to count as mail of the same kind."""
NEIGHBOURS = 3
_HEADER_WEIGHT = 3
"""Header features count as this many words: there are few of them, and they say much."""


def _list_id(email: Email) -> str:
    value = header(email, "List-Id")
    found = re.search(r"<([^>]+)>", value)
    return (found.group(1) if found else value).strip().casefold()


def features(email: Email, profile: MailboxProfile) -> list[str]:
    """The words and header features a message is compared by."""
    sender = (email.from_addr or "").casefold()
    header_features = [f"dom:{base_domain(domain_of(sender))}"]
    headers = {k.casefold() for k in (email.headers or {})}
    header_features += [
        f"h:{name}" for name in ("list-id", "list-unsubscribe", "auto-submitted") if name in headers
    ]
    if profile.knows(sender):
        header_features.append("known")
    text = f"{email.subject or ''}\n{visible_body(email.body or '')}".casefold()
    words = _WORD_RE.findall(text)[:_MAX_WORDS]
    return words + header_features * _HEADER_WEIGHT


def _default_scope(
    email: Email, profile: MailboxProfile, decision: TriageDecision | None, list_id: str
) -> Scope:
    """The list, else the sender; only the message for someone the owner knows.

    What one message of a colleague or a contact needs says nothing of their next one ("ignore
    this" about a one-off, or about their hacked account's phishing, must not silence them), so
    such a correction is a rule for that message and an example for the classifier.
    """
    sender = (email.from_addr or "").casefold()
    own = base_domain(domain_of(sender)) in profile.owner_domains
    if own or profile.knows(sender):
        return "message"  # a colleague on the company's own list too: its mail is mixed
    return "list" if list_id else "sender"


@dataclass(frozen=True)
class Correction:
    """What the user said one message should have been, and the facts its rule matches on."""

    scope: Scope
    key: str
    """The list id, address or domain the rule matches (lower case)."""
    decision: TriageDecision | None = None
    priority: Priority | None = None
    category: Category | None = None
    words: tuple[str, ...] = ()
    """The example's features, for the classifier."""
    email_id: str = ""

    @classmethod
    def of(
        cls,
        email: Email,
        profile: MailboxProfile,
        *,
        decision: TriageDecision | None = None,
        priority: Priority | None = None,
        category: Category | None = None,
        scope: Scope | None = None,
    ) -> Correction:
        """The correction of one message; the scope defaults to its list, else its sender."""
        sender = (email.from_addr or "").casefold()
        list_id = _list_id(email)
        chosen: Scope = scope or _default_scope(email, profile, decision, list_id)
        key = {
            "list": list_id,
            "sender": sender,
            "domain": domain_of(sender),
            "message": email.id,
        }[chosen]
        return cls(
            chosen, key, decision, priority, category, tuple(features(email, profile)), email.id
        )

    @classmethod
    def from_label(
        cls, email: Email, label: Mapping[str, object], profile: MailboxProfile
    ) -> Correction:
        """A correction to what a labelled corpus says (for the learning curve)."""
        return cls.of(
            email,
            profile,
            decision=cast(TriageDecision, label["decision"]),
            priority=cast(Priority, label["priority"]),
            category=cast(Category, label["category"]),
        )

    def matches(self, email: Email) -> bool:
        """Whether this correction's rule covers the message."""
        if self.scope == "message":
            return email.id == self.key
        sender = (email.from_addr or "").casefold()
        if self.scope == "list":
            return bool(self.key) and _list_id(email) == self.key
        if self.scope == "domain":
            return domain_of(sender) == self.key or domain_of(sender).endswith("." + self.key)
        return sender == self.key


def _cosine(a: Counter[str], b: Counter[str]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(count * b[word] for word, count in a.items() if word in b)
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm


class NaiveBayes:
    """Multinomial naive Bayes with add-one smoothing over feature counts."""

    def __init__(self, examples: Iterable[tuple[Sequence[str], str]]) -> None:
        self.counts: dict[str, Counter[str]] = defaultdict(Counter)
        self.docs: Counter[str] = Counter()
        for words, label in examples:
            self.counts[label].update(words)
            self.docs[label] += 1
        self.vocabulary = {w for c in self.counts.values() for w in c}
        self.totals = {label: sum(c.values()) for label, c in self.counts.items()}

    @property
    def usable(self) -> bool:
        """Whether it has seen at least two classes."""
        return len(self.docs) >= 2

    def probabilities(self, words: Sequence[str]) -> dict[str, float]:
        """Each class's posterior probability for these features."""
        size = len(self.vocabulary) + 1
        total_docs = sum(self.docs.values())
        logs = {}
        for label, counts in self.counts.items():
            score = math.log(self.docs[label] / total_docs)
            denominator = self.totals[label] + size
            score += sum(math.log((counts[w] + 1) / denominator) for w in words)
            logs[label] = score
        top = max(logs.values())
        exp = {label: math.exp(v - top) for label, v in logs.items()}
        whole = sum(exp.values())
        return {label: v / whole for label, v in exp.items()}


def _action_for(decision: TriageDecision, row: RuleTriage) -> Action:
    """Archive what the user ignores; never archive what they want to see."""
    if decision == "ignore":
        return "archive"
    return "none" if row.action == "archive" else row.action


class Learner:
    """The user's corrections, applied to the rules' triage of each message."""

    def __init__(self, corrections: Sequence[Correction]) -> None:
        self.corrections = list(corrections)
        self.model = NaiveBayes(
            (c.words, c.decision) for c in self.corrections if c.decision is not None
        )
        self.examples = [
            (Counter(w for w in c.words if ":" not in w and w != "known"), c.decision)
            for c in self.corrections
            if c.decision is not None
        ]
        """Each example's words (no header features) for likeness: the words say what it is
        about, while a shared domain or "known" would make every colleague's mail alike."""

    def rule_for(self, email: Email) -> Correction | None:
        """The latest correction whose rule covers the message (a list over a sender)."""
        matching = [c for c in self.corrections if c.matches(email)]
        return matching[-1] if matching else None

    def apply(self, email: Email, row: RuleTriage, profile: MailboxProfile) -> RuleTriage:
        """The row after the user's rules, then the classifier's confident vote."""
        rule = self.rule_for(email)
        if rule is not None:
            decision = rule.decision or row.decision
            return dataclasses.replace(
                row,
                decision=decision,
                action=_action_for(decision, row),
                priority=rule.priority or row.priority,
                category=rule.category or row.category,
                reason=f"your rule for this {rule.scope}",
                confidence=0.95,
                decision_confidence=0.95,
            )
        if row.suspicious or not row.unsure or not self.model.usable:
            return row  # the vote only settles what the rules are unsure of
        words = features(email, profile)
        best = self._vote(words)
        if best is None or best == row.decision:
            return row
        if best == "ignore" and (row.from_person or (row.decision == "respond" and not row.unsure)):
            return row  # a person's mail, or one the rules are sure asks something, stays
        return dataclasses.replace(
            row,
            decision=best,
            action=_action_for(best, row),
            decision_confidence=SURE_VOTE,
            reason=f"{row.reason}; like mail you corrected",
        )

    def _vote(self, words: Sequence[str]) -> TriageDecision | None:
        """The decision of the corrected mail this one is like, when the evidence agrees.

        Naive Bayes alone is over-confident on a handful of examples, so its vote counts only
        where the nearest corrected examples (cosine over the features, at least `NEAR`) agree
        with it.
        """
        counts = Counter(w for w in words if ":" not in w and w != "known")
        near = sorted(
            ((_cosine(counts, example), decision) for example, decision in self.examples),
            reverse=True,
        )[:NEIGHBOURS]
        near = [(similarity, decision) for similarity, decision in near if similarity >= NEAR]
        if len(near) < 2 or len({decision for _, decision in near}) > 1:
            return None  # two corrected examples much like it, and of one mind
        weight: dict[str, float] = defaultdict(float)
        for similarity, decision in near:
            weight[decision] += similarity
        neighbours_say = max(weight, key=weight.__getitem__)
        votes = self.model.probabilities(words)
        best = max(votes, key=votes.__getitem__)
        if best != neighbours_say or votes[best] < SURE_VOTE or best not in DECISIONS:
            return None
        return best
