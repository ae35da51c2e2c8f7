"""The phrase table of `intents.toml`: named patterns and the intents built from them, checked.

Read once; every plan and the follow-up resolver use the same compiled patterns, so a phrase
added to the file is understood everywhere. A bad entry raises `IntentTableError` naming the
file and the entry, before any question is answered.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INTENTS_FILE = Path(__file__).with_name("intents.toml")
BUILT_IN_CONDITIONS = frozenset({"category", "always"})
"""Conditions the code provides: the words name a triage category; always true."""


class IntentTableError(ValueError):
    """The intent table has an entry the engine cannot use."""


@dataclass(frozen=True)
class Condition:
    """Patterns that must all match and patterns that must not."""

    required: tuple[str, ...]
    forbidden: tuple[str, ...]


@dataclass(frozen=True)
class IntentSpec:
    """One intent as written in the table."""

    name: str
    when: tuple[Condition, ...]
    """Any one condition is enough."""
    plan: str


@dataclass(frozen=True)
class PhraseTable:
    """The compiled patterns by name, and the intents in the order they are tried."""

    patterns: dict[str, re.Pattern[str]]
    intents: tuple[IntentSpec, ...]


PATTERN_KEYS = frozenset({"phrases", "whole_words", "case_sensitive", "dotall"})
INTENT_KEYS = frozenset({"name", "when", "plan"})


def _known_keys(raw: dict[str, Any], keys: frozenset[str], where: str) -> None:
    unknown = sorted(set(raw) - keys)
    if unknown:
        raise IntentTableError(
            f"{where}: unknown key {unknown[0]!r}; known: {', '.join(sorted(keys))}"
        )


def _strings(value: Any, where: str, key: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise IntentTableError(f"{where}: `{key}` must be a non-empty list of strings")
    return value


def _pattern(raw: Any, where: str) -> re.Pattern[str]:
    if not isinstance(raw, dict):
        raise IntentTableError(f"{where}: must be a table with `phrases`")
    _known_keys(raw, PATTERN_KEYS, where)
    phrases = _strings(raw.get("phrases"), where, "phrases")
    if raw.get("whole_words"):
        phrases = [rf"\b(?:{phrase})\b" for phrase in phrases]
    flags = 0 if raw.get("case_sensitive") else re.IGNORECASE
    if raw.get("dotall"):
        flags |= re.DOTALL
    for phrase in phrases:
        try:
            re.compile(phrase, flags)
        except re.error as err:
            raise IntentTableError(f"{where}: {phrase!r} is not a regex: {err}") from None
    return re.compile("|".join(phrases), flags)


def _condition(text: str, known: set[str], where: str) -> Condition:
    required: list[str] = []
    forbidden: list[str] = []
    for part in (p.strip() for p in text.split("&")):
        name = part.removeprefix("!").strip()
        if name not in known:
            raise IntentTableError(f"{where}: condition {text!r} names no pattern {name!r}")
        (forbidden if part.startswith("!") else required).append(name)
    return Condition(tuple(required), tuple(forbidden))


def _intent(raw: Any, number: int, known: set[str], path: Path) -> IntentSpec:
    where = f"{path.name}: intent {number}"
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise IntentTableError(f"{where} has no `name`")
    where = f"{where} ({raw['name']!r})"
    _known_keys(raw, INTENT_KEYS, where)
    when = tuple(_condition(c, known, where) for c in _strings(raw.get("when"), where, "when"))
    plan = raw.get("plan", raw["name"])
    if not isinstance(plan, str):
        raise IntentTableError(f"{where}: `plan` must be a name")
    return IntentSpec(raw["name"], when, plan)


def read_phrase_table(path: Path = INTENTS_FILE) -> PhraseTable:
    """The table in `path`, compiled and checked; a bad entry raises, naming it."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise IntentTableError(f"{path.name}: not valid TOML: {err}") from None
    raw_patterns = data.get("patterns")
    raw_intents = data.get("intent")
    if not isinstance(raw_patterns, dict) or not isinstance(raw_intents, list):
        raise IntentTableError(f"{path.name}: needs [patterns.NAME] tables and [[intent]] entries")
    patterns = {
        name: _pattern(raw, f"{path.name}: pattern {name!r}") for name, raw in raw_patterns.items()
    }
    known = set(patterns) | BUILT_IN_CONDITIONS
    intents = tuple(_intent(raw, n, known, path) for n, raw in enumerate(raw_intents, 1))
    return PhraseTable(patterns, intents)


_PHRASE_TABLE = read_phrase_table()
"""Read when the module is imported (start-up), never on the event loop of a running graph."""


def phrase_table() -> PhraseTable:
    """The product's intent table."""
    return _PHRASE_TABLE


def pattern(name: str) -> re.Pattern[str]:
    """A named pattern of the product's table (`saying`, `scheduling` …)."""
    return phrase_table().patterns[name]
