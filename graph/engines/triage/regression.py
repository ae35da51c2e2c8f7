"""A multinomial logistic regression over named features, for `prior.py`: fit, file, predict.

Each feature is a name that a message has or has not (binary); the model holds three weights
per name, one for each decision in `DECISIONS` order, and three biases. Training is plain
stochastic gradient descent in Python (no numeric library): a few seconds on the labelled
corpus, the same weights on every machine to `DIGITS` decimals (`PriorModel.same_as` allows for
the last bit of `math.exp` differing between C libraries).
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tools.language.categories import DECISIONS, TriageDecision

PRIOR_FILE = "prior.json"
FEATURE_VERSION = 1
"""Raised whenever `prior.prior_features` changes: a model trained on the old ones is refused."""
EPOCHS = 20
LEARNING_RATE = 0.03
DECAY = 0.0001
"""The learning rate after t examples is LEARNING_RATE / (1 + DECAY * t)."""
L2 = 0.003
MIN_COUNT = 2
"""A feature seen in fewer training messages than this is left out (a name, a one-off word)."""
KEEP_ABOVE = 0.005
"""A feature whose three weights are all smaller than this is left out of the file."""
DIGITS = 6
SEED = 7


class PriorFileError(ValueError):
    """The model file is unreadable, malformed, or made for other features."""


@dataclasses.dataclass(frozen=True)
class PriorModel:
    """Weights per feature, one for each decision (in `DECISIONS` order), and the biases."""

    weights: Mapping[str, tuple[float, float, float]]
    bias: tuple[float, float, float]
    trained_on: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """What it was trained from: message count, the corpus's and rules' fingerprints."""

    def probabilities(self, found: Iterable[str]) -> tuple[float, float, float]:
        """The probability of each decision (in `DECISIONS` order) for these features."""
        return _softmax(_scores(self.weights, self.bias, found))

    def choice(self, found: Iterable[str]) -> tuple[TriageDecision, float]:
        """The most likely decision and its probability."""
        probabilities = self.probabilities(found)
        best = max(range(len(DECISIONS)), key=probabilities.__getitem__)
        return DECISIONS[best], probabilities[best]

    def to_json(self) -> str:
        """The model as the file holds it: what it was trained on, then one weight per line."""
        head = {
            "feature_version": FEATURE_VERSION,
            "decisions": list(DECISIONS),
            "trained_on": dict(self.trained_on),
            "bias": list(self.bias),
        }
        lines = [
            f"{json.dumps(name)}: {json.dumps(list(self.weights[name]))}"
            for name in sorted(self.weights)
        ]
        return json.dumps(head)[:-1] + ', "weights": {\n' + ",\n".join(lines) + "\n}}\n"

    def same_as(self, other: PriorModel, tolerance: float = 1e-5) -> bool:
        """Whether both were trained on the same sources to the same weights (within tolerance).

        The tolerance allows for the last bit of `math.exp` differing between C libraries.
        """
        if dict(self.trained_on) != dict(other.trained_on):
            return False
        if self.weights.keys() != other.weights.keys():
            return False
        pairs = [(self.bias, other.bias)]
        pairs += [(weight, other.weights[name]) for name, weight in self.weights.items()]
        return all(
            abs(a - b) <= tolerance for one, two in pairs for a, b in zip(one, two, strict=True)
        )


def _scores(
    weights: Mapping[str, Sequence[float]], bias: Sequence[float], found: Iterable[str]
) -> list[float]:
    held = [weight for weight in map(weights.get, found) if weight is not None]
    if not held:
        return list(bias)
    totals = map(sum, zip(*held, strict=True))
    return [start + total for start, total in zip(bias, totals, strict=True)]


def _softmax(scores: Sequence[float]) -> tuple[float, float, float]:
    top = max(scores)
    raised = [math.exp(score - top) for score in scores]
    total = sum(raised)
    return raised[0] / total, raised[1] / total, raised[2] / total


def train(
    examples: Sequence[tuple[Sequence[str], TriageDecision]],
    trained_on: Mapping[str, Any] | None = None,
) -> PriorModel:
    """Fit the model to (features, decision) examples; the same examples give the same weights.

    Stochastic gradient descent on the cross-entropy with an L2 penalty, `EPOCHS` passes in
    an order shuffled by `SEED`; features seen in fewer than `MIN_COUNT` examples are dropped
    before, and those whose weights stayed under `KEEP_ABOVE` after.

    Raises:
        ValueError: no examples, or one labelled with something other than a decision.

    """
    if not examples:
        raise ValueError("no labelled examples to train on")
    unknown = {label for _, label in examples} - set(DECISIONS)
    if unknown:
        raise ValueError(f"labels are not decisions: {sorted(unknown)}")
    seen = Counter(name for found, _ in examples for name in set(found))
    data = [
        (sorted({n for n in found if seen[n] >= MIN_COUNT}), DECISIONS.index(label))
        for found, label in examples
    ]
    weights: dict[str, list[float]] = {}
    bias = [0.0, 0.0, 0.0]
    order = list(range(len(data)))
    shuffle = random.Random(SEED).shuffle
    step = 0
    for _ in range(EPOCHS):
        shuffle(order)
        for index in order:
            found, label = data[index]
            rate = LEARNING_RATE / (1 + DECAY * step)
            step += 1
            probabilities = _softmax(_scores(weights, bias, found))
            gradient = [p - (k == label) for k, p in enumerate(probabilities)]
            shrink = 1 - rate * L2
            for k in range(3):
                bias[k] -= rate * gradient[k]
            for name in found:
                weight = weights.setdefault(name, [0.0, 0.0, 0.0])
                for k in range(3):
                    weight[k] = weight[k] * shrink - rate * gradient[k]
    kept = {
        name: (round(w[0], DIGITS), round(w[1], DIGITS), round(w[2], DIGITS))
        for name, w in weights.items()
        if max(abs(w[0]), abs(w[1]), abs(w[2])) >= KEEP_ABOVE
    }
    rounded = (round(bias[0], DIGITS), round(bias[1], DIGITS), round(bias[2], DIGITS))
    return PriorModel(kept, rounded, dict(trained_on or {}, examples=len(examples)))


def load_prior(directory: Path) -> PriorModel | None:
    """The model in `directory/prior.json`; None when the directory has none.

    Raises:
        PriorFileError: the file is unreadable, malformed, or made for other features or
            decisions (retrain it: `python -m bench.train_prior`).

    """
    path = directory / PRIOR_FILE
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["feature_version"] != FEATURE_VERSION or data["decisions"] != list(DECISIONS):
            raise PriorFileError(
                f"{path.name} was trained for other features or decisions; "
                "retrain it: python -m bench.train_prior"
            )
        weights = {str(k): _three(v) for k, v in data["weights"].items()}
        return PriorModel(weights, _three(data["bias"]), dict(data.get("trained_on") or {}))
    except PriorFileError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise PriorFileError(f"{path.name} is not a readable model: {err}") from err


def _three(values: Any) -> tuple[float, float, float]:
    if not isinstance(values, list) or len(values) != 3:
        raise ValueError(f"expected three weights, got {values!r}")
    first, second, third = (float(v) for v in values)
    return first, second, third
