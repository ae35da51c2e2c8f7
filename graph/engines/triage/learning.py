"""Learning from the user's corrections: their rules first, then what their examples suggest.

A correction says what one message should have been (decision, priority, category). It becomes:

1. an exact rule, applied before anything else: for automated or bulk mail its template
   (`kinds.template_key`: the sender's address and the subject's skeleton, so a correction of
   one CI "passed" mail covers the next one, not the review requests from the same address);
   else the message's mailing list (`List-Id`) when it has one, else its sender's address, or
   the sender's whole domain or address when the user said so; only that message when someone
   the owner knows wrote it. A person's mail the owner does not know yet gets a rule for that
   person (`person`): their later mail is never hidden nor called cold, but whether it asks
   for a reply is read from each message (the dev part's own corrections showed a sender rule
   making a mother's next question, or a customer's next bug report, mere news). A rule wider
   than one message never
   lifts a phishing verdict, and a list or domain rule never turns a known person's mail
   into ignore;
2. an example of its kind, so one correction moves later mail like it that the rules are unsure
   of: the corrected mail nearest in words (`likeness.Likeness`) votes, naive Bayes over words
   and header features must not disagree, and a vote for ignore needs a closer example. A vote
   never touches a suspicious message, nor turns a person's mail into ignore.
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, cast

from graph.engines.triage.kinds import is_automated, template_key
from graph.engines.triage.likeness import Likeness, NaiveBayes, content_words
from graph.engines.triage.profile import MailboxProfile
from graph.engines.triage.reading import header, visible_body
from graph.engines.triage.senders import base_domain, domain_of
from graph.engines.triage.verdict import RuleTriage
from tools.language.categories import DECISIONS, Action, Category, Priority, TriageDecision
from tools.mail.model import Email

Scope = Literal["template", "sender", "person", "domain", "list", "message"]
SURE_VOTE = 0.9
"""The decision confidence a vote gives the row it changes."""
_WORD_RE = re.compile(r"[^\W\d_]{3,24}")
_MAX_WORDS = 300
NEAR = 0.35
"""Likeness to a corrected example (`likeness.Likeness`) for it to count as mail of its kind."""
HIDE_NEAR = 0.5
"""Likeness a vote for ignore needs: hiding mail takes a closer example than showing it."""
NEIGHBOURS = 3
AGREE_SHARE = 2 / 3
"""The share of the near examples' likeness that must say the same decision."""
BAYES_AGREES = 0.5
"""The least probability naive Bayes may give the neighbours' decision for the vote to stand."""
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


def _known(email: Email, profile: MailboxProfile) -> bool:
    """Someone the owner knows wrote it: a colleague, or someone they have written to."""
    sender = (email.from_addr or "").casefold()
    return profile.knows(sender) or base_domain(domain_of(sender)) in profile.owner_domains


def _default_scope(
    email: Email, profile: MailboxProfile, decision: TriageDecision | None, list_id: str
) -> Scope:
    """Automated mail's template, else the list, else the sender; for a known person the message.

    A person the owner does not know yet gets `person` (the rule lifts their mail out of
    ignore and cold, module docstring), unless the user hid the message: then the sender.

    One sending system writes mail of different kinds (a review request and a "CI passed"; a
    school's "sign the form" and its newsletter), so a correction of its mail speaks for its
    kind, not for everything from that address. What one message of a colleague or a contact
    needs says nothing of their next one ("ignore this" about a one-off, or about their hacked
    account's phishing, must not silence them), so such a correction is a rule for that message
    and an example for the classifier.
    """
    if _known(email, profile):
        return "message"  # a colleague on the company's own list too: its mail is mixed
    if is_automated(email) and template_key(email):
        return "template"
    if list_id:
        return "list"
    return "sender" if decision == "ignore" or is_automated(email) else "person"


@dataclass(frozen=True)
class Correction:
    """What the user said one message should have been, and the facts its rule matches on."""

    scope: Scope
    key: str
    """The template key, list id, address, domain or message id the rule matches (lower case)."""
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
            "template": template_key(email),
            "list": list_id,
            "sender": sender,
            "person": sender,
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
        if self.scope == "template":
            return bool(self.key) and template_key(email) == self.key
        if self.scope == "list":
            return bool(self.key) and _list_id(email) == self.key
        if self.scope == "domain":
            return domain_of(sender) == self.key or domain_of(sender).endswith("." + self.key)
        return sender == self.key


def _reads_each(rule: Correction, email: Email, row: RuleTriage) -> bool:
    """A person's rule, on another of their messages that the rules neither hide nor call cold.

    What one of a person's messages needed (a reply, or only a read) says nothing of the next:
    the rules read that from each message. The rule speaks where they would hide the person.
    """
    return (
        rule.scope == "person"
        and rule.email_id != email.id
        and row.decision != "ignore"
        and row.category != "spam_or_cold"
    )


def decision_action(decision: TriageDecision, row: RuleTriage) -> Action:
    """Archive what the user ignores; never archive what they want to see."""
    if decision == "ignore":
        return "archive"
    return "none" if row.action == "archive" else row.action


class Learner:
    """The user's corrections, applied to the rules' triage of each message."""

    def __init__(self, corrections: Sequence[Correction]) -> None:
        self.corrections = list(corrections)
        self.taught = [c for c in self.corrections if c.decision is not None]
        """The corrections that say a decision: the examples the vote learns from."""
        self.model = NaiveBayes((c.words, cast(str, c.decision)) for c in self.taught)
        self.likeness = Likeness([content_words(c.words) for c in self.taught])

    def rule_for(self, email: Email) -> Correction | None:
        """The latest correction whose rule covers the message (a list over a sender)."""
        matching = [c for c in self.corrections if c.matches(email)]
        return matching[-1] if matching else None

    def _rule_applying(
        self, email: Email, row: RuleTriage, profile: MailboxProfile
    ) -> Correction | None:
        """The latest covering rule that may change this message.

        A rule wider than one message (a template, a sender, a list, a domain) speaks for mail
        the user has not seen, so it never lifts a phishing verdict (a contact's hacked account,
        a spoofed sender); a template, list or domain rule never turns a known person's mail
        into ignore (only a rule naming that very sender does). A correction always applies to
        the message it was made on.
        """
        for rule in reversed(self.corrections):
            if not rule.matches(email):
                continue
            if rule.scope == "message" or rule.email_id == email.id:
                return rule  # the user's word about the very message
            if row.suspicious and rule.decision not in (None, "ignore"):
                continue
            if rule.decision == "ignore" and rule.scope != "sender" and _known(email, profile):
                continue  # a list or domain rule speaks for many senders, not for this person
            return rule
        return None

    def apply(self, email: Email, row: RuleTriage, profile: MailboxProfile) -> RuleTriage:
        """The row after the user's rules, then the vote of the corrected mail it is like."""
        rule = self._rule_applying(email, row, profile)
        if rule is not None and _reads_each(rule, email, row):
            return row  # the person's rule lifts; this message is neither hidden nor cold
        if rule is not None:
            decision = rule.decision or row.decision
            return dataclasses.replace(
                row,
                decision=decision,
                action=decision_action(decision, row),
                priority=rule.priority or row.priority,
                category=rule.category or row.category,
                reason=f"your rule for this {rule.scope}",
                confidence=0.95,
                decision_confidence=0.95,
            )
        if row.suspicious or not row.unsure or not self.taught:
            return row  # the vote only settles what the rules are unsure of
        best = self._vote(features(email, profile))
        if best is None or best == row.decision:
            return row
        if best == "ignore" and (row.from_person or _known(email, profile)):
            return row  # a person's mail is never voted into ignore; only the user's rule can
        return dataclasses.replace(
            row,
            decision=best,
            action=decision_action(best, row),
            decision_confidence=SURE_VOTE,
            reason=f"{row.reason}; like mail you corrected",
        )

    def _vote(self, words: Sequence[str]) -> TriageDecision | None:
        """The decision of the corrected mail this one is like, when the evidence agrees.

        One corrected example of a kind is enough to settle mail like it (likeness at least
        `NEAR`), when the examples that near agree (`AGREE_SHARE` of their likeness) and naive
        Bayes over all the examples does not say otherwise (`BAYES_AGREES`). Hiding mail takes
        a closer example (`HIDE_NEAR`): a wrong ignore costs more than a wrong notify.
        """
        near = [
            (likeness, self.taught[index])
            for likeness, index in self.likeness.ranked(content_words(words))[:NEIGHBOURS]
            if likeness >= NEAR
        ]
        if not near:
            return None
        weight: dict[str, float] = defaultdict(float)
        for likeness, example in near:
            weight[cast(str, example.decision)] += likeness
        said = max(weight, key=weight.__getitem__)
        if weight[said] < AGREE_SHARE * sum(weight.values()) or said not in DECISIONS:
            return None
        if said == "ignore" and max(s for s, c in near if c.decision == said) < HIDE_NEAR:
            return None
        if self.model.usable and self.model.probabilities(words).get(said, 0.0) < BAYES_AGREES:
            return None
        return said
