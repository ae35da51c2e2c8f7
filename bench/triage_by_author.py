"""Does what one author's mail taught carry over to another's? The dev part, author by author.

Each dev message's name starts with its author's letter (`a-` ... `h-`): each author wrote
their batch without reading the rules or the others' mail. For each author, their batch is
scored three ways against mail the others wrote:

- the rules alone (tuned on every batch, this one too, so an upper bound for unseen mail);
- the rules, then the other authors' mistakes made into corrections (what a user who had
  corrected them would have: `learning.Learner`, votes on unsure rows only);
- naive Bayes over words and header features (`likeness.NaiveBayes`), trained on every label
  of the other authors, deciding every row on its own: a generic model from the corpus.

Run at an older commit (before the rules saw the later batches) the first column is the fair
one for those batches.

Two more measures follow the table. **A user correcting their own mail**: each author's mail is
split in two by a hash of its file name (`triage_eval.hash_half`); the rules alone (the model of
labelled mail was trained on this very mail, so it would leave nothing to correct) triage
both halves, the first half's mistakes become that author's corrections, and the second half
is scored before and after them, in all and on mail of the corrected mail's kind
(`triage_eval.kind_of`). **How far authors agree**: automated mail of one template that
another author also labelled, and the share whose label is the other authors' most common
one: a ceiling for any triage, rules or model, that reads the mail and not its reader.

`python -m bench.triage_by_author`.
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from collections.abc import Sequence

from bench.common import table
from bench.triage_eval import (
    Labelled,
    author_of,
    hash_half,
    kind_of,
    load_sent,
    load_split,
    rules_alone,
    run,
)
from graph.engines.triage.learning import Correction, Learner, features
from graph.engines.triage.likeness import NaiveBayes
from graph.engines.triage.profile import MailboxProfile, build_profile
from graph.engines.triage.verdict import RuleTriage


def main(argv: Sequence[str] | None = None) -> int:
    dev = load_split("dev")
    profile = build_profile([*(i.email for i in dev), *load_sent()])
    rows = dict((i.name, r) for i, r in run(dev, profile))
    words = {i.name: features(i.email, profile) for i in dev}
    authors = sorted({i.name.split("-", 1)[0] for i in dev})
    lines: list[list[object]] = []
    totals = [0, 0, 0, 0]
    for author in authors:
        mine = [i for i in dev if i.name.startswith(f"{author}-")]
        others = [i for i in dev if not i.name.startswith(f"{author}-")]
        mistakes = [i for i in others if rows[i.name].decision != i.label["decision"]]
        learner = Learner([Correction.from_label(i.email, i.label, profile) for i in mistakes])
        bayes = NaiveBayes((words[i.name], str(i.label["decision"])) for i in others)
        rules = voted = alone = 0
        for item in mine:
            want = item.label["decision"]
            rules += rows[item.name].decision == want
            voted += learner.apply(item.email, rows[item.name], profile).decision == want
            chances = bayes.probabilities(words[item.name])
            alone += max(chances, key=chances.__getitem__) == want
        lines.append([author, len(mine), len(mistakes), rules, voted, alone])
        totals = [t + v for t, v in zip(totals, [len(mine), rules, voted, alone], strict=True)]
    lines.append(["all", totals[0], "", *totals[1:]])
    print(
        table(
            [
                "author",
                "messages",
                "others' mistakes corrected",
                "rules right",
                "with those corrections",
                "naive Bayes alone",
            ],
            lines,
        )
    )
    print()
    print(own_corrections(dev, profile))
    print()
    print(agreement(dev))
    return 0


def own_corrections(dev: Sequence[Labelled], profile: MailboxProfile) -> str:
    """Each author's first half's mistakes corrected, their second half scored (module doc)."""
    rows = dict((i.name, r) for i, r in run(dev, profile, rules=rules_alone()))
    by_author: dict[str, list[Labelled]] = defaultdict(list)
    for item in dev:
        by_author[author_of(item.name)].append(item)
    counts = Counter[str]()
    for mine in by_author.values():
        first = [i for i in mine if hash_half(i.name) == 0]
        wrong = [i for i in first if rows[i.name].decision != i.label["decision"]]
        learner = Learner([Correction.from_label(i.email, i.label, profile) for i in wrong])
        kinds = {kind_of(i.email) for i in wrong}
        counts["corrections"] += len(wrong)
        for item in (i for i in mine if hash_half(i.name) == 1):
            counts.update(_scored(item, rows[item.name], learner, profile, kinds))
    return table(
        ["second halves", "corrections", "right before", "right after", "changed: fixed / broken"]
        + ["of the corrected kind", "right before", "right after"],
        [
            [counts["scored"], counts["corrections"], counts["before"], counts["after"]]
            + [f"{counts['fixed']} / {counts['broken']}", counts["kind"]]
            + [counts["kind before"], counts["kind after"]]
        ],
    )


def _scored(
    item: Labelled, row: RuleTriage, learner: Learner, profile: MailboxProfile, kinds: set[str]
) -> Counter[str]:
    want = item.label["decision"]
    before, after = row.decision == want, learner.apply(item.email, row, profile).decision == want
    found = Counter({"scored": 1, "before": before, "after": after})
    found.update({"fixed": after and not before, "broken": before and not after})
    if kind_of(item.email) in kinds:
        found.update({"kind": 1, "kind before": before, "kind after": after})
    return found


def agreement(dev: Sequence[Labelled]) -> str:
    """Automated mail of a template other authors labelled too: how often they agree (doc)."""
    labels: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for item in dev:
        kind = kind_of(item.email)
        if kind.startswith("template "):
            labels[kind].append((author_of(item.name), str(item.label["decision"])))
    compared = agreed = 0
    for labelled in labels.values():
        for author, decision in labelled:
            others = Counter(d for a, d in labelled if a != author)
            if others:
                compared += 1
                agreed += others.most_common(1)[0][0] == decision
    return table(
        ["automated messages of a template another author labelled", "templates", "agreeing"]
        + ["share"],
        [
            [compared, sum(len({a for a, _ in v}) > 1 for v in labels.values()), agreed]
            + [f"{agreed / max(compared, 1):.2f}"]
        ],
    )


if __name__ == "__main__":
    sys.exit(main())
