"""The phrase index finds exactly what a plain search per pattern finds, only faster."""

from __future__ import annotations

import random
import re

from graph.engines.triage.dates import DATE_PHRASES
from graph.engines.triage.rulebook import default_rules


def test_phrase_index_finds_exactly_what_the_plain_regexes_find() -> None:
    """The speed-up in `PhraseIndex` must never change a result."""
    rules = default_rules()
    phrases = list(
        dict.fromkeys(
            [rule.pattern for rule in rules.phrases]
            + [rule.pattern for rule in rules.flags]
            + list(DATE_PHRASES)
        )
    )
    words = []
    for phrase in phrases:
        for _, _, variant in phrase.variants or ():
            lead = re.match(r"[\w' ]+", variant.pattern)
            if lead:
                words.append(lead.group())
    words += (
        "the you 10am 14:00 2025-03-14 14 march $20 € (#12) % off http://1.2.3.4/a x_y ü".split()
    )
    rng = random.Random(7)
    for _ in range(1500):
        text = " ".join(
            rng.choice(words) + rng.choice(["", "s", "x", " "]) for _ in range(rng.randint(1, 20))
        )
        text = (rng.choice(["", "x", "_", "-"]) + text).casefold()
        expected = {phrase for phrase in phrases if phrase.regex.search(text)}
        assert rules.index.matching(text) == expected, text
