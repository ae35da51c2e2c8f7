"""The phrase index finds exactly what a plain search per pattern finds, only faster."""

from __future__ import annotations

import random
import re

from graph.engines.triage.phrases import PhraseIndex, compile_phrase
from graph.engines.triage.rulebook import default_rules, searched_phrases


def test_phrase_index_finds_exactly_what_the_plain_regexes_find() -> None:
    """The speed-up in `PhraseIndex` must never change a result."""
    rules = default_rules()
    phrases = searched_phrases(rules.phrases, rules.flags)
    words = []
    for phrase in phrases:
        for _, variant in phrase.variants or ():
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


ADVERSARIAL_PATTERNS = (
    r"\binvoice\b",
    r"\binvoice (due|overdue)",
    r"\binvoic(e|ing)",
    r"\bp(ay)?ment\b",
    r"\bre ?sign",
    r"\bcolou?r\b|見積|価格",
    r"\b(?:angebot|preise)\b|^\s*notification\s*:",
    r"^\s*(re:\s*)?\[[\w.-]+/[\w.-]+\]",
    r"(?:due|overdue) (today|now)",
    r"\b(a|b)\1",
    r"\bé(t|l)é\b",
    r"% off\b",
    r"\$\s?\d",
    r"\b(?:we help|\bseo\b|re: \bdue)",
    r"(?<!not )\b(resolved|été)\s?(:|-)|\[(ok|up)\]",
    r"\bi'?m a (re)?signer\b",
    r"\b([01]?\d|2[0-3])[:.h]([0-5]\d)\b|\b(1[0-2]|0?[1-9])\s?(am|pm)",
    r"\bx?[ab]?c\b",
)
ADVERSARIAL_WORDS = (
    "invoice invoices invoicing xinvoice _invoice invoice_ invoice. (invoice) INVOICE "
    "due overdue today now payment pment pament re resign re-sign colour color colors 見積 価格 "
    "angebot preise notification notification: [a/b] re: aa ab été étéx élé é % $ 5 off offx "
    "- ' , \n \t ü ß ﬁ 1 we help seo seox xseo not resolved: [ok] [up] i'm im a signer "
    "resigner 10am 9 pm 07:30 1h05 x9am 24:00 012:30 0 05 12 c bc xc xac xbc"
).split(" ")


def test_phrase_index_agrees_with_plain_search_on_adversarial_text() -> None:
    """Word edges, punctuation, unicode, overlaps, case, back-references: no result changes."""
    phrases = [compile_phrase(pattern) for pattern in ADVERSARIAL_PATTERNS]
    index = PhraseIndex(phrases)
    rng = random.Random(11)
    for _ in range(4000):
        pieces = [rng.choice(ADVERSARIAL_WORDS) for _ in range(rng.randint(1, 8))]
        text = rng.choice(["", " ", "x"]).join(pieces)
        text = rng.choice(["", "  ", "x", "_"]) + text
        expected = {phrase for phrase in phrases if phrase.regex.search(text)}
        assert index.matching(text) == expected, text


def test_a_closed_first_word_or_literal_indexes_a_pattern_and_back_references_do_not() -> None:
    """The index reads whole words and literals where it may, and leaves the rest as written."""
    assert compile_phrase(r"\bcolou?r\b|見積").variants is not None
    assert compile_phrase(r"\b(?:angebot)\b|^\s*notification\s*:").variants is not None
    assert compile_phrase(r"\b(a|b)\1").variants is None
    assert compile_phrase(r"\b(?:we help|\bseo\b)").variants is not None
    assert compile_phrase(r"\b([01]?\d|2[0-3])[:.]\d|\b0?[1-9]\s?am").variants is not None


SEARCHED_ON_EVERY_MESSAGE = 31
"""The shipped rules' searches that no word files (numbers, times, CJK words, currency signs).
A rule whose alternatives cannot all be filed under a word makes its whole list run on every
message (a number-led price in the pitch list once cost 0.03 ms a message): raise this only
knowingly, after measuring the rules' CPU."""


def test_few_searches_run_on_every_message() -> None:
    every = default_rules().index.run_on_every_text()
    assert len(every) <= SEARCHED_ON_EVERY_MESSAGE, every
    # None of them is a whole list of words (`\b(?:...)`): those must be filed under words.
    assert not [p for p in every if p.startswith("\\b(?:")], every
