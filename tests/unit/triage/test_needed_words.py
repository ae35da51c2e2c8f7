"""The words a pattern needs are in every text it matches: the index never skips a match."""

from __future__ import annotations

import random
import re

from graph.engines.triage.needed_words import needed_words
from graph.engines.triage.rulebook import default_rules, searched_phrases

_WORD_RE = re.compile(r"\w+")
_WORD_CHAR_RE = re.compile(r"\w")


def _starts_a_word(regex: re.Pattern[str], text: str) -> bool:
    """Whether some match of `regex` starts a word (the plain, slow way: every position)."""
    return any(
        regex.match(text, start) and (start == 0 or not _WORD_CHAR_RE.match(text, start - 1))
        for start in range(len(text) + 1)
    )


def _holds(needs: list[frozenset[str]], text: str) -> bool:
    words = set(_WORD_RE.findall(text))
    return not needs or any(need <= words for need in needs)


ADVERSARIAL_PATTERNS = (
    r"\binvoice\b",
    r"invoice\b",
    r"\binvoice",
    r"\bcolou?r\b",
    r"\bé(t|l)é\b",
    r"\borgani[sz]ations?\b",
    r"i'?m a recruiter\b",
    r"\d+ ?(min|mins)? with you\b",
    r"^\s*(invitation|einladung)\s*:",
    r"^\[?(resolved|ok)\b",
    r"(?<!not )\b(resolved|recovered)\s?(:|-)",
    r"\b(?:is (back )?up|back (up|online))\b|\[(ok|up)\]",
    r"\bdue\b$",
    r"\Bdue\b",
    r"\bx_y\b",
    r"\bre-?sign\b",
    r"(?i)\bpay\b",
    r"(?a)\bpay\b",
    r"(?i:\bpay\b)",
    r"\b(a|b)\1\b",
    r"[^a]bc\b",
    r"\b[ab]c\b",
    r"\bab[\w ]c\b",
    r"\bab[:;]c\b",
    r"\bgo(es)+\b",
    r"\bgo (to ){0,2}work\b",
    r"\b(a|an|the)\s+(bill|fee)\b",
    r"\bso\b(?=x)",
)
ADVERSARIAL_WORDS = (
    "invoice invoices xinvoice _invoice invoice_ colour color colors été élé étéx invitation "
    "einladung organisations organizations organisationss i'm im i m a recruiter recruiters "
    "5 min mins with you youx resolved recovered not ok up back online is [ ] [ok] [up] due "
    "x_y x y re resign re-sign pay PAY Pay aa ab bb bc ac ab:c ab;c abxc ab c go goes goeses "
    "to work the an bill fee so sox : - ' , \n \t ü ß ﬁ 1 _"
).split(" ")


def test_every_text_a_pattern_matches_holds_its_needed_words() -> None:
    """Generated and adversarial text: word edges, punctuation, unicode, case, flags."""
    rng = random.Random(5)
    for pattern in ADVERSARIAL_PATTERNS:
        regex = re.compile(pattern)
        for word_start in (False, True):
            needs = needed_words(regex, word_start=word_start)
            for _ in range(600):
                pieces = [rng.choice(ADVERSARIAL_WORDS) for _ in range(rng.randint(1, 7))]
                text = rng.choice(["", " ", "x", "_", "\n"]).join(pieces)
                text = rng.choice(["", " ", "x", "["]) + text + rng.choice(["", " ", "\n", "y"])
                matches = _starts_a_word(regex, text) if word_start else regex.search(text)
                if matches:
                    assert _holds(needs, text), (pattern, word_start, text, needs)


def test_the_rules_patterns_need_their_words_in_the_texts_they_match() -> None:
    """Every shipped pattern and variant, on text built from the rules' own words."""
    rules = default_rules()
    phrases = searched_phrases(rules.phrases, rules.flags)
    searches = [(phrase.regex, False) for phrase in phrases]
    searches += [
        (regex, boundary) for phrase in phrases for boundary, regex in phrase.variants or ()
    ]
    words = [w for regex, _ in searches for w in re.findall(r"[\w']+", regex.pattern)]
    words += "the you 10am 14:00 2025-03-14 march $20 € (#12) % off [resolved] x_y ü".split()
    rng = random.Random(3)
    texts = [
        " ".join(rng.choice(words) + rng.choice(["", "s", " ", ":"]) for _ in range(12))
        for _ in range(300)
    ]
    for regex, boundary in searches:
        needs = needed_words(regex, word_start=boundary)
        for text in texts:
            if regex.search(text) and (not boundary or _starts_a_word(regex, text)):
                assert _holds(needs, text), (regex.pattern, text, needs)


def test_needed_words_read_whole_words_only_where_they_are_sure() -> None:
    """Words between edges count; a flag, a class, a look-around or a repeat leaves them out."""
    assert needed_words(re.compile(r"i'?m a recruiter\b")) == [frozenset({"a", "recruiter"})]
    assert needed_words(re.compile(r"\bcolou?r\b")) == [
        frozenset({"color"}),
        frozenset({"colour"}),
    ]
    assert needed_words(re.compile(r"invoice\b")) == []
    assert needed_words(re.compile(r"invoice\b"), word_start=True) == [frozenset({"invoice"})]
    assert needed_words(re.compile(r"\bup\b|\bis up\b")) == [frozenset({"up"})]
    assert needed_words(re.compile(r"(?i)\bpay\b")) == []
    assert needed_words(re.compile(r"\bgo(es)+\b")) == []
    assert needed_words(re.compile(r"\bpay\b|€")) == []
