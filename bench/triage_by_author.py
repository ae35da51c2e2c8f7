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
one for those batches. `python -m bench.triage_by_author`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from bench.common import table
from bench.triage_eval import load_sent, load_split, run
from graph.engines.triage.learning import Correction, Learner, features
from graph.engines.triage.likeness import NaiveBayes
from graph.engines.triage.profile import build_profile


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
    return 0


if __name__ == "__main__":
    sys.exit(main())
