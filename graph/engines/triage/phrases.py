r"""Finding which of the rules' hundred-odd phrase patterns occur in a message, quickly.

Triage runs over whole mailboxes, so this cost counts. Python's `re` only skips quickly
through a text when a pattern starts with a literal or a class; a leading `\b`, group or
optional letter makes it try every position. Measured on 2,000 generated messages
(`bench/mailgen.py`, the rules of `rules/`), one plain `re.search` per pattern costs 1.46 ms
per message; the literal-led variants below cost 0.52 ms, with identical results. So a
pattern is rewritten here into one literal-led regex per leading alternative (a `\b` before
it is checked by hand; `(a|b)x`, `0?[1-9]` and `[01]?\d` are spread out), and a pattern that
cannot be rewritten (a look-behind, a back-reference) runs as written.

Every search, a variant or a pattern run as written, is filed under the whole words it cannot
match without (`needed_words.py`): a text lacking them is never searched. A search that needs
no particular word runs on every text once the plain letters it starts with are in it. Over
the 9,509 messages of a generated 10,000-message Maildir, matching costs about 65 µs per text
instead of 217 with the index of first letters this replaced.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import compress

from graph.engines.triage.needed_words import needed_words

_Variant = tuple[bool, re.Pattern[str]]
"""(check the word boundary by hand, literal-led regex)."""

_Entry = tuple["Phrase", bool, re.Pattern[str], str]
"""(phrase, check the word boundary by hand, literal-led regex, the literal it starts with)."""

_WORD_CHAR_RE = re.compile(r"\w")
_WORD_RE = re.compile(r"\w+")
_CLOSED_WORD_RE = re.compile(r"(\w+)(?: (?![?*+{])|\\b)")
_LITERAL_LED_RE = re.compile(r"\\[^\w\s]|[^\w\\()\[\]{}.|?*+^$]")
_BACK_REFERENCE_RE = re.compile(r"\\[1-9]|\(\?P=")
_CLASS_LEAD_RE = re.compile(r"\[[\w-]+\](?![?*+{])")
"""A leading class of plain letters, digits and ranges (`[01]`, `[1-9]`): `re` skips to it."""
_OPTIONAL_LEAD_RE = re.compile(r"(\w|\[[\w-]+\])\?\??")
"""A leading letter or class made optional (`0?`, `[01]?`)."""
_EXPANSION_BUDGET = 400
"""How many pieces one pattern may expand into before it is run as written."""


@dataclass(frozen=True, eq=False)
class Phrase:
    """A compiled pattern, plus literal-led variants of it (None when it cannot be rewritten)."""

    regex: re.Pattern[str]
    variants: tuple[_Variant, ...] | None


def compile_phrase(pattern: str) -> Phrase:
    """Compile `pattern` (raises `re.error`) with its literal-led variants."""
    return Phrase(re.compile(pattern), _variants(pattern))


def _scan(source: str, *, stop_at_close: bool) -> tuple[list[str], int]:
    """Split `source` at its top-level `|`; with `stop_at_close`, stop at the group's `)`.

    Returns the alternatives and the index where scanning stopped (-1: no closing `)` found).
    """
    parts: list[str] = []
    depth, start, index, in_class = 0, 0, 0, False
    while index < len(source):
        char = source[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char in "()":
            depth += 1 if char == "(" else -1
            if stop_at_close and depth == 0:
                return parts, index
        elif char == "|" and depth == (1 if stop_at_close else 0):
            parts.append(source[start:index])
            start = index + 1
        index += 1
    parts.append(source[start:])
    return parts, -1


def _expand(sequence: str, budget: list[int], *, word_start: bool = False) -> list[str] | None:
    r"""Rewrite `sequence` as alternatives that each start with a letter, digit or `\d`.

    With `word_start` (every match starts a word, as the index checks by hand), a `\b` before
    a letter or digit says nothing more and is dropped (`\b(?:seo|\bsem)`).
    """
    budget[0] -= 1
    if budget[0] < 0:
        return None
    if word_start and sequence.startswith(r"\b") and sequence[2:3].isalnum():
        sequence = sequence[2:]
    lead = _OPTIONAL_LEAD_RE.match(sequence)
    if lead:  # `0?[1-9]`, `[01]?\d`: with the first character, and without it
        rest = sequence[lead.end() :]
        with_it = _expand(lead.group(1) + rest, budget, word_start=word_start)
        without = _expand(rest, budget, word_start=word_start)
        return None if with_it is None or without is None else with_it + without
    if sequence[:1].isalnum() or sequence.startswith(r"\d") or _CLASS_LEAD_RE.match(sequence):
        return [sequence]
    if not sequence.startswith("("):
        return None
    _, end = _scan(sequence, stop_at_close=True)
    if end < 0 or sequence[1:2] == "?" and sequence[1:3] != "?:":
        return None  # unclosed, or look-arounds, flags, named groups: run as written
    inner = sequence[1:end].removeprefix("?:")
    rest = sequence[end + 1 :]
    optional = rest[:1] in ("?", "*")
    if optional:
        rest = rest[1:].removeprefix("?")
    elif rest[:1] in ("+", "{"):
        return None
    expanded: list[str] = []
    for alternative in _scan(inner, stop_at_close=False)[0] + ([""] if optional else []):
        found = _expand(alternative + rest, budget, word_start=word_start)
        if found is None:
            return None
        expanded += found
    return expanded


def _variants(pattern: str) -> tuple[_Variant, ...] | None:
    r"""Literal-led variants of a pattern whose alternatives start with `\b`, a literal or `^`.

    An alternative anchored with `^` is kept as it is: a search for it only tries the start.
    A pattern with a back-reference is not split, since its groups would be renumbered.
    """
    if _BACK_REFERENCE_RE.search(pattern):
        return None
    variants: dict[str, bool] = {}
    budget = [_EXPANSION_BUDGET]
    for alternative in _scan(pattern, stop_at_close=False)[0]:
        if alternative.startswith(r"\b"):
            found = _expand(alternative[2:], budget, word_start=True)
            if found is None:
                return None
            variants.update(dict.fromkeys(found, True))
        elif _LITERAL_LED_RE.match(alternative) or alternative.startswith("^"):
            variants[alternative] = False  # already literal-led, no word boundary to check
        else:
            found = _expand(alternative, budget)
            if found is None:
                return None
            variants.update(dict.fromkeys(found, False))
    return tuple((boundary, re.compile(seq)) for seq, boundary in variants.items())


def _first_word(regex: re.Pattern[str]) -> str | None:
    r"""The whole word every match of a literal-led, word-start `regex` begins with, if any.

    A match starting at a word start with, say, `invoice ` begins a word that is exactly
    `invoice`, so a text without that word needs no search. None when the first word is not
    closed by a plain space or `\b` (it may go on: `invoice(s)?`).
    """
    found = _CLOSED_WORD_RE.match(regex.pattern)
    return found.group(1) if found else None


def _literal_prefix(regex: re.Pattern[str]) -> str:
    """The plain letters, digits and spaces every match of a literal-led `regex` starts with.

    A substring test for them is far cheaper than a regex search, and a text without them
    cannot match; a letter made optional by a quantifier after it is left out.
    """
    source = regex.pattern
    length = 0
    while length < len(source) and (source[length].isalnum() or source[length] == " "):
        length += 1
    if source[length : length + 1] in ("?", "*", "{"):
        length -= 1
    return source[: max(length, 0)]


def _occurs(regex: re.Pattern[str], text: str, boundary: bool) -> bool:
    """Whether `regex` matches in `text`, at the start of a word when `boundary` is set."""
    match = regex.search(text)
    while match is not None:
        start = match.start()
        if not boundary or start == 0 or not _WORD_CHAR_RE.match(text, start - 1):
            return True
        match = regex.search(text, start + 1)
    return False


class PhraseIndex:
    """Finds which of many phrases occur in a text, running as few regexes as possible.

    Each search (a literal-led variant, or a pattern that runs as written) is filed under the
    words it needs (`needed_words`), else under the whole first word it starts with, else runs
    on every text; a search runs only once the plain letters it starts with are in the text.
    """

    def __init__(self, phrases: Iterable[Phrase]) -> None:
        self._entries: list[_Entry] = []
        self._always: list[int] = []
        by_word: dict[str, list[tuple[int, frozenset[str]]]] = {}
        for phrase in dict.fromkeys(phrases):
            variants = phrase.variants or ((False, phrase.regex),)
            for boundary, regex in variants:
                number = len(self._entries)
                literal = _literal_prefix(regex) if phrase.variants is not None else ""
                self._entries.append((phrase, boundary, regex, literal))
                needs = needed_words(regex, word_start=boundary)
                word = _first_word(regex) if boundary and not needs else None
                if word is not None:
                    needs = [frozenset({word})]
                for need in needs:
                    # The longest of the words is likely the rarest: fewest texts to check.
                    key = max(need, key=lambda w: (len(w), w))
                    by_word.setdefault(key, []).append((number, need))
                if not needs:
                    self._always.append(number)
        self._by_word = {
            key: (tuple(number for number, _ in pairs), tuple(need for _, need in pairs))
            for key, pairs in by_word.items()
        }
        """For each key word, the searches filed under it and the words each needs."""
        self._words = frozenset(self._by_word)

    def run_on_every_text(self) -> list[str]:
        """The searches no word files: each runs on every message (their regexes' sources)."""
        return [self._entries[number][2].pattern for number in self._always]

    def matching(self, text: str) -> set[Phrase]:
        """The phrases that occur in `text`."""
        found: set[Phrase] = set()
        if not text:
            return found
        words = set(_WORD_RE.findall(text))
        candidates = set(self._always)
        for word in words & self._words:
            numbers, needs = self._by_word[word]
            candidates.update(compress(numbers, map(words.issuperset, needs)))
        entries = self._entries
        for number in candidates:
            phrase, boundary, regex, literal = entries[number]
            if phrase not in found and literal in text and _occurs(regex, text, boundary):
                found.add(phrase)
        return found
