"""The nouns and phrases people use for triage categories, read from `category_words.toml`.

One table for every reader: the offline engine lists a category the user names ("the
invoices") and the follow-up resolver finds the message a noun points at ("that invoice").
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.language.categories import CATEGORIES

CATEGORY_WORDS_FILE = Path(__file__).with_name("category_words.toml")


class CategoryWordsError(ValueError):
    """The category words file has an entry the engine cannot use."""


@dataclass(frozen=True)
class CategoryWords:
    """The words of one category: patterns that name it in a question, nouns that point at it."""

    category: str
    patterns: tuple[re.Pattern[str], ...]
    nouns: tuple[str, ...]

    def named_in(self, text: str) -> bool:
        """Whether `text` names this category (`text` is matched lower-cased)."""
        lowered = text.lower()
        return any(pattern.search(lowered) for pattern in self.patterns)


def _entry(raw: Any, number: int, path: Path) -> CategoryWords:
    where = f"{path.name}: category entry {number}"
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise CategoryWordsError(f"{where} has no `name`")
    name = raw["name"]
    where = f"{where} ({name!r})"
    if name not in CATEGORIES:
        raise CategoryWordsError(f"{where}: not a category; known: {', '.join(CATEGORIES)}")
    lists = {key: raw.get(key, []) for key in ("patterns", "nouns")}
    for key, value in lists.items():
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise CategoryWordsError(f"{where}: `{key}` must be a list of strings")
    compiled = []
    for pattern in lists["patterns"]:
        try:
            compiled.append(re.compile(pattern))
        except re.error as err:
            raise CategoryWordsError(
                f"{where}: pattern {pattern!r} is not a regex: {err}"
            ) from None
    return CategoryWords(name, tuple(compiled), tuple(w.lower() for w in lists["nouns"]))


def read_category_words(path: Path = CATEGORY_WORDS_FILE) -> tuple[CategoryWords, ...]:
    """Every category's words from `path`, in the file's order; a bad entry raises, named."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise CategoryWordsError(f"{path.name}: not valid TOML: {err}") from None
    entries = data.get("category")
    if not isinstance(entries, list):
        raise CategoryWordsError(f"{path.name}: no [[category]] entries")
    return tuple(_entry(raw, number, path) for number, raw in enumerate(entries, 1))


_CATEGORY_WORDS = read_category_words()
"""Read when the module is imported, like the other word tables: never on the event loop."""


def category_words() -> tuple[CategoryWords, ...]:
    """The product's category words, in the file's order."""
    return _CATEGORY_WORDS


def categories_named(text: str) -> list[str]:
    """The categories `text` names, in the table's order ("invoices" → `billing`)."""
    return [words.category for words in category_words() if words.named_in(text)]


def categories_of_noun(noun: str) -> tuple[str, ...]:
    """The categories a noun points at ("ticket" → `bug_report`, `notification`)."""
    wanted = noun.lower()
    return tuple(words.category for words in category_words() if wanted in words.nouns)
