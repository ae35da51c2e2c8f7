"""Train the triage's second opinion (`graph/engines/triage/prior.py`) on the corpus's dev part.

The model learns how the people who labelled the dev part of `data/triage-eval` acted on
mail as the rules read it (their verdict, flags, who wrote it, its words). The frozen test
part is never read: it stays the fair measure of the rules and the model together
(`python -m bench.triage_eval`). Training is deterministic; the file records fingerprints of
the dev part and the rule files it was trained on, and `--check` retrains and compares
(`tests/unit/triage/test_prior.py` does the same), so the committed weights are exactly what
this script makes and go stale loudly when the rules or the corpus change.

Run: `python -m bench.train_prior` (writes `graph/engines/triage/rules/prior.json`, about ten
seconds), `python -m bench.train_prior --check`, or `--cross-validate` (the dev part scored
author by author with models that never saw them: what to expect on unseen authors).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Sequence, Set
from pathlib import Path

from bench.triage_eval import CORPUS, Labelled, author_of, load_sent, load_split, rules_alone
from graph.engines.triage.prior import prior_features, weigh
from graph.engines.triage.profile import MailboxProfile, build_profile
from graph.engines.triage.regression import (
    EPOCHS,
    FEATURE_VERSION,
    L2,
    LEARNING_RATE,
    PRIOR_FILE,
    PriorModel,
    load_prior,
    train,
)
from graph.engines.triage.rulebook import RULES_DIR
from graph.engines.triage.scorer import rules_verdict
from graph.engines.triage.verdict import RuleTriage
from graph.engines.triage.writers import Writer
from tools.language.categories import DECISIONS, TriageDecision

MODEL_PATH = RULES_DIR / PRIOR_FILE


def fingerprint(paths: Sequence[Path]) -> str:
    """A sha256 of these files' names and bytes, in order."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def sources(corpus: Path = CORPUS, rules_dir: Path = RULES_DIR) -> dict[str, object]:
    """What a model is trained from: the dev part, the sent mail and the rule files, hashed."""
    dev = sorted((corpus / "dev").iterdir())
    sent = sorted((corpus / "sent").glob("*.eml"))
    return {
        "feature_version": FEATURE_VERSION,
        "settings": {"epochs": EPOCHS, "learning_rate": LEARNING_RATE, "l2": L2},
        "dev": fingerprint(dev),
        "sent": fingerprint(sent),
        "rules": fingerprint(sorted(rules_dir.glob("*.toml"))),
    }


Read = tuple[Labelled, RuleTriage, Set[str], Writer]


def readings(items: Sequence[Labelled]) -> tuple[list[Read], MailboxProfile]:
    """Each message with the rules' own row, flags and writer, in the profile the eval uses."""
    profile = build_profile([*(item.email for item in items), *load_sent()])
    rules = rules_alone()
    return [(i, *rules_verdict(i.email, rules, profile, (), None)) for i in items], profile


def examples(
    read: Sequence[Read], profile: MailboxProfile
) -> list[tuple[list[str], TriageDecision]]:
    """(features, labelled decision) of each message read."""
    found = []
    for item, row, flags, writer in read:
        decision = item.label["decision"]
        if decision not in DECISIONS:
            raise ValueError(f"{item.name}: decision {decision!r} is not a decision")
        found.append((prior_features(item.email, row, flags, writer, profile), decision))
    return found


def cross_validated(folds: int = 8) -> dict[str, float]:
    """Decision accuracy of the rules alone and with a model that never saw the scored authors.

    The dev part's authors (`triage_eval.author_of`) are dealt into `folds` groups; each group
    is scored with a model trained on the others, as the frozen test part's unseen authors are.
    """
    read, profile = readings(load_split("dev"))
    authors = sorted({author_of(item.name) for item, *_ in read})
    fold_of = {author: n % folds for n, author in enumerate(authors)}
    right_alone = right_with = 0
    for fold in range(folds):
        held = [r for r in read if fold_of[author_of(r[0].name)] == fold]
        model = train(examples([r for r in read if fold_of[author_of(r[0].name)] != fold], profile))
        for item, row, flags, writer in held:
            weighed = weigh(model, item.email, row, flags, writer, profile)
            right_alone += row.decision == item.label["decision"]
            right_with += weighed.decision == item.label["decision"]
    return {"rules alone": right_alone / len(read), "with the model": right_with / len(read)}


def trained() -> PriorModel:
    """The model trained on the dev part, as the committed file should hold it."""
    return train(examples(*readings(load_split("dev"))), sources())


def main(argv: Sequence[str] | None = None) -> int:
    """Write the model file, or with `--check` say whether the committed one is current."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cross-validate",
        action="store_true",
        help="score the dev part author by author with models trained without them (a minute)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="retrain and compare with the committed file instead of writing it",
    )
    args = parser.parse_args(argv)
    if args.cross_validate:
        for name, accuracy in cross_validated().items():
            print(f"{name}: decision accuracy {accuracy:.4f}")
        return 0
    model = trained()
    if args.check:
        current = load_prior(RULES_DIR)
        if current is None or not current.same_as(model):
            print(f"{MODEL_PATH.name} is stale: run python -m bench.train_prior", file=sys.stderr)
            return 1
        print(f"{MODEL_PATH.name} is current")
        return 0
    MODEL_PATH.write_text(model.to_json(), "utf-8")
    print(f"wrote {MODEL_PATH.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
