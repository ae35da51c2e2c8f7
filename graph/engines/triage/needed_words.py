r"""The whole words a regex cannot match without, so a text lacking them needs no search.

The phrase index (`phrases.py`) runs a pattern only on a text that holds the words it needs:
a set lookup costs far less than a regex search over a few thousand characters. A word is
needed when every match contains it as a whole word of the text (a run of `\w` between two
non-word characters, the text's edges, or `\b`, `^` or `$`): `i'?m a recruiter\b` needs `a`
and `recruiter`. A pattern with alternatives needs the words of one of them, so the answer is
a list of word sets, one per way to match. The regex is read from the parse tree of Python's
own `re` module (private, but the one parser that reads a pattern exactly as `re` does);
whatever it cannot read surely (a class of letters, a repeat, a look-around, a flag) counts as
an unknown piece, which no needed word is read across, so an answer can only be too weak.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

_PARSER: Any = importlib.import_module("re._parser")
_C: Any = importlib.import_module("re._constants")

_EDGES = frozenset(
    {
        _C.AT_BEGINNING,
        _C.AT_BEGINNING_LINE,
        _C.AT_BEGINNING_STRING,
        _C.AT_BOUNDARY,
        _C.AT_END,
        _C.AT_END_LINE,
        _C.AT_END_STRING,
    }
)
r"""Zero-width checks that a word next to them starts or ends there (`\b`, `^`, `$`)."""
_REPEATS = frozenset({_C.MAX_REPEAT, _C.MIN_REPEAT, _C.POSSESSIVE_REPEAT})
_WORD_CHAR_RE = re.compile(r"\w")
_UNSUPPORTED_FLAGS = re.IGNORECASE | re.ASCII | re.LOCALE
r"""Flags under which the pattern's letters or `\b` differ from the text's words as read."""
_MAX_WAYS = 256
"""How many ways to match one pattern may be told apart before the rest count as unknown."""

_MAX_CLASS_LETTERS = 8
"""A class of this many characters or fewer (`[sz]`, `(t|l)`) is read as alternatives."""

_EDGE = "edge"
_GAP = "gap"
r"""One or more characters that are not word characters (a space, `:`, `\s+`)."""
_UNKNOWN = "unknown"

_Piece = str
"""One character of a word (a string of length one), or `_EDGE`, `_GAP`, `_UNKNOWN`."""


def needed_words(regex: re.Pattern[str], *, word_start: bool = False) -> list[frozenset[str]]:
    """Word sets, one of which every match of `regex` finds whole in the text; [] if unsure.

    With `word_start`, only matches that start a word count (the index checks that by hand).
    None of the sets is a superset of another; an empty list means the pattern may match a
    text without any particular word.
    """
    if regex.flags & _UNSUPPORTED_FLAGS:
        return []
    ways = _ways(list(_PARSER.parse(regex.pattern, regex.flags)))  # compiled: it parses
    needs = [_words([_EDGE, *way] if word_start else way) for way in ways]
    if not needs or not all(needs):
        return []
    kept: list[frozenset[str]] = []
    for need in sorted(set(needs), key=lambda words: (len(words), sorted(words))):
        if not any(other <= need for other in kept):
            kept.append(need)
    return kept


def _ways(items: list[tuple[Any, Any]]) -> list[list[_Piece]]:
    """The sequences of pieces a sequence of parsed items can match as."""
    ways: list[list[_Piece]] = [[]]
    for op, av in items:
        options = _options(op, av)
        if len(ways) * len(options) > _MAX_WAYS:
            options = [[_UNKNOWN]]
        ways = [way + option for way in ways for option in options]
    return ways


def _options(op: Any, av: Any) -> list[list[_Piece]]:
    """The sequences of pieces one parsed item can match as."""
    if op is _C.LITERAL:
        char = chr(av)
        return [[char if _WORD_CHAR_RE.match(char) else _GAP]]
    if op is _C.AT:
        return [[_EDGE if av in _EDGES else _UNKNOWN]]
    if op is _C.IN:
        if all(item_op is _C.LITERAL for item_op, _ in av) and len(av) <= _MAX_CLASS_LETTERS:
            return [_options(_C.LITERAL, code)[0] for _, code in av]  # `[sz]`: s or z
        return [[_GAP if _never_a_word_char(av) else _UNKNOWN]]
    if op is _C.SUBPATTERN:
        _, add_flags, del_flags, sub = av
        return _ways(list(sub)) if not add_flags and not del_flags else [[_UNKNOWN]]
    if op is _C.BRANCH:
        return [way for alternative in av[1] for way in _ways(list(alternative))]
    if op in _REPEATS:
        low, high, sub = av
        inner = _ways(list(sub))
        if inner == [[_GAP]]:
            return [[_GAP]] if low else [[], [_GAP]]
        if low == 0:
            return [[], *inner] if high == 1 else [[], [_UNKNOWN]]
        return inner if low == high == 1 else [[_UNKNOWN]]
    return [[_UNKNOWN]]


def _never_a_word_char(items: list[tuple[Any, Any]]) -> bool:
    r"""Whether a character class holds only non-word characters (`[:\s]`, not `[\w.]`)."""
    for op, av in items:
        if op is _C.LITERAL and not _WORD_CHAR_RE.match(chr(av)):
            continue
        if op is _C.CATEGORY and av is _C.CATEGORY_SPACE:
            continue
        return False
    return True


def _words(way: list[_Piece]) -> frozenset[str]:
    """The whole words a match of this sequence of pieces shows: letters between edges."""
    words: set[str] = set()
    word = ""
    opened = False  # the piece before the current word is an edge or a gap
    for piece in way:
        if len(piece) == 1:
            word += piece
            continue
        if word and opened and piece in (_EDGE, _GAP):
            words.add(word)
        word = ""
        opened = piece in (_EDGE, _GAP)
    return frozenset(words)
