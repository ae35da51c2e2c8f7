"""A second opinion on the rules' decision, learned from labelled mail (`rules/prior.json`).

The rules name what a message is; how people act on mail of that reading is partly a
matter of habit the rules cannot spell out (a customer-service reply, a review request, an
organiser's "fill in the form"). A small multinomial logistic regression, trained on the
labelled dev part of the evaluation corpus (`bench.train_prior`; the frozen test part is never
read), weighs the rules' verdict (decision, category, priority, action, confidence), the flags
they raised, who wrote the mail (`writers.Writer`) and its words and header features
(`learning.features`), and says how likely each decision is.

It changes the decision only when it is sure (`SURE`, probability of its choice), and never:

* a suspicious message's (the phishing verdict stands);
* into `ignore`: it may show mail the rules would hide, or move it between respond and
  notify, but hiding mail stays the rules' and the user's call (a wrong ignore costs more than
  a wrong notify; measured by author-grouped cross-validation on the dev part, moves into
  ignore gained nothing and hid more real mail);
* a row the user's own rules decided (`learning.Learner` runs after it and wins).

The row then says so in its reason, and its decision confidence is the model's probability.
The model itself, its training and its file are in `regression.py`;
`tests/unit/triage/test_prior.py` retrains it and compares with the committed file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from graph.engines.triage.learning import decision_action, features
from graph.engines.triage.profile import MailboxProfile
from graph.engines.triage.regression import PriorModel
from graph.engines.triage.verdict import RuleTriage
from graph.engines.triage.writers import Writer
from tools.mail.model import Email

SURE = 0.7
"""The least probability of its choice for the model to change the rules' decision."""
_WRITER_FACTS = tuple(fact.name for fact in dataclasses.fields(Writer))
_USUAL = {"respond": "answered", "notify": "read", "ignore": "skipped"}


def prior_features(
    email: Email,
    row: RuleTriage,
    flags: Iterable[str],
    writer: Writer,
    profile: MailboxProfile,
) -> list[str]:
    """What the model weighs for one message: the rules' verdict, flags, writer and words."""
    found = {
        f"d:{row.decision}",
        f"c:{row.category}",
        f"p:{row.priority}",
        f"a:{row.action}",
        f"dc:{row.decision}|{row.category}",
        f"conf:{int(row.confidence * 4)}",
        f"dconf:{int(row.decision_confidence * 4)}",
    }
    if row.suspicious:
        found.add("suspicious")
    if row.from_person:
        found.add("person")
    found.update(f"f:{flag}" for flag in flags)
    found.update(f"w:{fact}" for fact in _WRITER_FACTS if getattr(writer, fact))
    found.update(f"t:{word}" for word in features(email, profile))
    return sorted(found)


def weigh(
    model: PriorModel,
    email: Email,
    row: RuleTriage,
    flags: Iterable[str],
    writer: Writer,
    profile: MailboxProfile,
) -> RuleTriage:
    """The row with the model's decision where it is sure and may change it (module docstring)."""
    if row.suspicious:
        return row
    best, probability = model.choice(prior_features(email, row, flags, writer, profile))
    if best in (row.decision, "ignore") or probability < SURE:
        return row
    return dataclasses.replace(
        row,
        decision=best,
        action=decision_action(best, row),
        decision_confidence=round(probability, 2),
        reason=f"{row.reason}; mail like it is usually {_USUAL[best]}",
    )
