"""How much a message is like the mail the user corrected, and what those examples vote.

Two views of the same examples, each a check on the other: likeness (cosine over words weighted
by how rare they are among the corrected examples) finds the examples of the same kind, and a
naive Bayes classifier over words and header features says whether the examples as a whole
agree. Both are written here (about sixty lines) rather than taken from scikit-learn: the model
is a table of word counts, training on a few hundred examples takes milliseconds, and numpy and
scipy would add ~100 MB and a second of import time to every process for it.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence

Vector = Mapping[str, float]


def content_words(features: Iterable[str]) -> list[str]:
    """The words of a feature list, without the header features.

    The words say what a message is about; a shared domain or "known" would make every
    colleague's mail alike.
    """
    return [f for f in features if ":" not in f and f != "known"]


class Likeness:
    """Cosine likeness to the corrected examples, words weighted by their rarity among them.

    A word most examples share ("the", "de", "und", "please", a footer) says nothing about which
    kind of mail a message is, in whatever language, so the examples are their own stopword
    list: the weight of a word is log((examples + 1) / (examples with it + 0.5)). A word no
    example has weighs most, so a message with much the examples never saw is like none of them.
    """

    def __init__(self, documents: Sequence[Sequence[str]]) -> None:
        seen = Counter(word for words in documents for word in set(words))
        size = len(documents) + 1
        self.rarity = {word: math.log(size / (count + 0.5)) for word, count in seen.items()}
        self.unseen = math.log(size / 0.5)
        self.vectors = [self.vector(words) for words in documents]

    def vector(self, words: Iterable[str]) -> dict[str, float]:
        """The words as weights: more of a word counts, but by its logarithm."""
        return {
            word: (1 + math.log(count)) * self.rarity.get(word, self.unseen)
            for word, count in Counter(words).items()
        }

    def ranked(self, words: Iterable[str]) -> list[tuple[float, int]]:
        """(likeness, example index) for every example, the most alike first."""
        query = self.vector(words)
        return sorted(
            ((cosine(query, vector), index) for index, vector in enumerate(self.vectors)),
            key=lambda pair: (-pair[0], pair[1]),
        )


def cosine(a: Vector, b: Vector) -> float:
    """The cosine of two weighted word vectors (0 when either is empty)."""
    dot = sum(weight * b[word] for word, weight in a.items() if word in b)
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


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
