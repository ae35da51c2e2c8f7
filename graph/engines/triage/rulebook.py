"""The triage rules, read from the TOML files in `rules/` into typed, checked rule objects.

The rules are data so a person can add one without reading the scorer; a mistake in a file
(an unknown category, a broken regular expression, a combination naming a flag nobody raises)
stops the load with a `RuleFileError` that names the file and the rule.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NoReturn, TypeVar, cast

from graph.engines.triage.dates import DATE_PHRASES
from graph.engines.triage.phrases import Phrase, PhraseIndex, compile_phrase
from graph.engines.triage.regression import PriorFileError, PriorModel, load_prior
from tools.language.categories import ACTIONS, CATEGORIES, PRIORITIES, Action, Category, Priority

RULES_DIR = Path(__file__).with_name("rules")
"""Where the rule files live (`rules/*.toml`, shipped as package data)."""

Where = Literal["subject", "body", "any"]
WHERES: tuple[Where, ...] = ("subject", "body", "any")

CODE_FLAGS = frozenset(
    "vip colleague unknown_sender owner_lookalike digit_domain reply_to_mismatch brand_spoof "
    "brand_addon brand_link time_expression request billing_claim mass_envelope".split()
)
"""Flags the scorer raises itself (from the sender, the dates, a question mark, the evidence)."""

_SENDER_SHAPES = {
    "mailbox_is": r"^(?:{names})([._+-][^@]*)?@",
    "mailbox_has": r"(^|[._+-])(?:{names})([._+-][^@]*)?@",
    "domain_is": r"@(?:{names})\.[a-z]{{2,3}}(?:\.[a-z]{{2}})?$",
    "domain_within": r"@([\w-]+\.)*(?:{names})\.[a-z.]+$",
}
"""How each way of naming a sender in `senders.toml` becomes a regex over the address."""

_T = TypeVar("_T")


class RuleFileError(ValueError):
    """A rule file is malformed; the message names the file and the rule."""


@dataclass(frozen=True)
class HeaderRule:
    """A header whose value matches `pattern` counts towards a category and/or sets a flag."""

    header: str
    pattern: re.Pattern[str]
    category: Category | None
    weight: float
    says: str
    flag: str = ""


@dataclass(frozen=True)
class SenderRule:
    """A sender address shape (`local@domain`) that counts towards a category and/or a flag."""

    pattern: re.Pattern[str]
    category: Category | None
    weight: float
    says: str
    flag: str = ""


@dataclass(frozen=True)
class TextRule:
    """A phrase that counts towards a category when it appears in the subject or body."""

    category: Category
    pattern: Phrase
    subject: float
    """Weight when found in the subject."""
    body: float
    """Weight when found in the visible body."""
    says: str
    """How a reason names this signal, in a few plain words."""


@dataclass(frozen=True)
class FlagRule:
    """A phrase that raises a flag; flags feed the combinations and the priority."""

    flag: str
    pattern: Phrase
    where: Where = "any"


@dataclass(frozen=True)
class ComboRule:
    """All of `flags` present (and none of `unless`) adds `weight` to `category`."""

    flags: frozenset[str]
    category: Category
    weight: float
    says: str
    unless: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RuleBook:
    """Every rule file, loaded: what the scorer applies to each message."""

    headers: tuple[HeaderRule, ...]
    senders: tuple[SenderRule, ...]
    brands: tuple[tuple[re.Pattern[str], str], ...]
    """(a brand's name in a display name, what a genuine sender domain contains)."""
    phrases: tuple[TextRule, ...]
    flags: tuple[FlagRule, ...]
    combos: tuple[ComboRule, ...]
    priority_by_category: Mapping[Category, Priority]
    action_by_category: Mapping[Category, Action]
    index: PhraseIndex
    """Every phrase of `phrases`, `flags` and the dates in mail, for one pass over a text."""
    prior: PriorModel | None = None
    """The second opinion on the decision learned from labelled mail (`prior.py`), if any."""
    phrase_rules: Mapping[Phrase, tuple[int, ...]] = field(init=False, repr=False, compare=False)
    """The positions in `phrases` of each phrase's rules: a message weighs only those it holds."""
    flag_rules: Mapping[Phrase, tuple[FlagRule, ...]] = field(init=False, repr=False, compare=False)
    """The rules of `flags` each phrase raises a flag by."""

    def __post_init__(self) -> None:
        phrase_rules: dict[Phrase, tuple[int, ...]] = {}
        for position, rule in enumerate(self.phrases):
            phrase_rules[rule.pattern] = (*phrase_rules.get(rule.pattern, ()), position)
        flag_rules: dict[Phrase, tuple[FlagRule, ...]] = {}
        for flag_rule in self.flags:
            flag_rules[flag_rule.pattern] = (*flag_rules.get(flag_rule.pattern, ()), flag_rule)
        object.__setattr__(self, "phrase_rules", phrase_rules)  # frozen: set once, here
        object.__setattr__(self, "flag_rules", flag_rules)


class _Entry:
    """One rule of one file, read field by field; every complaint names the file and rule."""

    def __init__(self, file: str, label: str, table: Any, allowed: set[str]) -> None:
        self.where = f"{file}: {label}"
        if not isinstance(table, dict):
            self.fail("is not a table")
        self.table: dict[str, Any] = table
        says = table.get("says") or table.get("flag")
        if isinstance(says, str):
            self.where += f' ("{says}")'
        unknown = sorted(set(table) - allowed)
        if unknown:
            self.fail(
                f"unknown field(s) {', '.join(unknown)}; expected {', '.join(sorted(allowed))}"
            )

    def fail(self, problem: str) -> NoReturn:
        raise RuleFileError(f"{self.where}: {problem}")

    def text(self, key: str, default: str | None = None) -> str:
        value = self.table.get(key, default)
        if not isinstance(value, str) or not value:
            self.fail(f"`{key}` must be a non-empty string")
        return value

    def number(self, key: str, default: float | None = None) -> float:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            self.fail(f"`{key}` must be a number, 0 or more")
        return float(value)

    def optional_text(self, key: str) -> str:
        return self.text(key) if key in self.table else ""

    def strings(self, key: str, *, required: bool = False) -> list[str]:
        value = self.table.get(key, [])
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
            self.fail(f"`{key}` must be a string or a list of non-empty strings")
        if required and not items:
            self.fail(f"`{key}` is missing")
        return cast(list[str], items)

    def one_of(self, key: str, choices: tuple[_T, ...], default: _T | None = None) -> _T:
        value = self.table.get(key, default)
        if value not in choices:
            self.fail(f"`{key}` is {value!r}; expected one of {', '.join(map(str, choices))}")
        return cast(_T, value)

    def category(self, *, optional: bool = False) -> Category | None:
        if optional and "category" not in self.table:
            if "weight" in self.table:
                self.fail("`weight` without a `category`")
            return None
        return self.one_of("category", CATEGORIES)

    def regex(self, alternatives: list[str], key: str) -> str:
        """Join `alternatives` with `|` after checking each compiles on its own."""
        for alternative in alternatives:
            try:
                re.compile(alternative)
            except re.error as error:
                self.fail(f"`{key}` item {alternative!r} is not a regular expression: {error}")
        return "|".join(alternatives)


def _entries(data: dict[str, Any], file: str, kind: str, allowed: set[str]) -> list[_Entry]:
    """The `[[kind]]` rules of a loaded file."""
    tables = data.get(kind, [])
    if not isinstance(tables, list):
        raise RuleFileError(f"{file}: `{kind}` must be written as [[{kind}]] blocks")
    return [_Entry(file, f"[[{kind}]] #{n}", t, allowed) for n, t in enumerate(tables, 1)]


def _read(directory: Path, file: str) -> dict[str, Any]:
    try:
        return tomllib.loads((directory / file).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise RuleFileError(f"{file}: not valid TOML: {error}") from error
    except OSError as error:
        raise RuleFileError(f"{file}: cannot be read: {error}") from error


_ENDS_IN_PUNCTUATION_RE = re.compile(r"(\\[^\w\s]|[:!,;'\"%€£$])$")
r"""A `words` item whose last character is punctuation, escaped (`\?`) or not (`wrote:`)."""


def _phrase_pattern(entry: _Entry) -> Phrase:
    """`words` as whole words, then `patterns` as written, in one compiled phrase."""
    words, patterns = entry.strings("words"), entry.strings("patterns")
    if not words and not patterns:
        entry.fail("needs `words`, `patterns` or both")
    for word in words:
        if _ENDS_IN_PUNCTUATION_RE.search(word):
            # The closing `\b` after "?" or ":" needs a letter next: the word could never match.
            entry.fail(f"`words` item {word!r} ends with punctuation: write it in `patterns`")
    parts = [rf"\b(?:{entry.regex(words, 'words')})\b"] if words else []
    if patterns:
        parts.append(entry.regex(patterns, "patterns"))
    return compile_phrase("|".join(parts))


def _header_rules(data: dict[str, Any]) -> tuple[HeaderRule, ...]:
    allowed = {"header", "matches", "category", "weight", "says", "flag"}
    rules = []
    for e in _entries(data, "headers.toml", "header", allowed):
        pattern = re.compile(e.regex(e.strings("matches", required=True), "matches"))
        category = e.category(optional=True)
        weight = e.number("weight") if category else 0.0
        header, says = e.text("header").lower(), e.text("says")
        rules.append(HeaderRule(header, pattern, category, weight, says, e.optional_text("flag")))
    return tuple(rules)


def _sender_rules(data: dict[str, Any]) -> tuple[SenderRule, ...]:
    allowed = {*_SENDER_SHAPES, "address", "category", "weight", "says", "flag"}
    rules = []
    for e in _entries(data, "senders.toml", "sender", allowed):
        shapes = [key for key in (*_SENDER_SHAPES, "address") if key in e.table]
        if len(shapes) != 1:
            e.fail(f"needs exactly one of {', '.join([*_SENDER_SHAPES, 'address'])}")
        names = e.regex(e.strings(shapes[0]), shapes[0])
        source = _SENDER_SHAPES[shapes[0]].format(names=names) if shapes[0] != "address" else names
        category = e.category(optional=True)
        weight = e.number("weight") if category else 0.0
        flag = e.optional_text("flag")
        rules.append(SenderRule(re.compile(source), category, weight, e.text("says"), flag))
    return tuple(rules)


def _brands(data: dict[str, Any]) -> tuple[tuple[re.Pattern[str], str], ...]:
    brands = data.get("brands", {})
    if not isinstance(brands, dict) or not all(isinstance(v, str) for v in brands.values()):
        raise RuleFileError('senders.toml: [brands] must map names to domain parts: x = "x"')
    return tuple((re.compile(rf"\b{re.escape(name)}\b"), part) for name, part in brands.items())


def _text_rules(data: dict[str, Any]) -> tuple[TextRule, ...]:
    allowed = {"category", "says", "subject", "body", "words", "patterns"}
    rules = []
    for e in _entries(data, "phrases.toml", "phrase", allowed):
        category = e.category()
        assert category is not None
        subject, body = e.number("subject", 0.0), e.number("body", 0.0)
        rules.append(TextRule(category, _phrase_pattern(e), subject, body, e.text("says")))
    return tuple(rules)


def _flag_rules(data: dict[str, Any]) -> tuple[FlagRule, ...]:
    allowed = {"flag", "where", "words", "patterns"}
    return tuple(
        FlagRule(e.text("flag"), _phrase_pattern(e), e.one_of("where", WHERES, "any"))
        for e in _entries(data, "flags.toml", "flag", allowed)
    )


def _combo_rules(data: dict[str, Any], known_flags: set[str]) -> tuple[ComboRule, ...]:
    allowed = {"flags", "unless", "category", "weight", "says"}
    rules = []
    for e in _entries(data, "combos.toml", "combo", allowed):
        flags, unless = frozenset(e.strings("flags")), frozenset(e.strings("unless"))
        if not flags:
            e.fail("`flags` must name at least one flag")
        unknown = sorted((flags | unless) - known_flags)
        if unknown:
            e.fail(f"no rule raises the flag(s) {', '.join(unknown)}")
        category = e.category()
        assert category is not None
        rules.append(ComboRule(flags, category, e.number("weight"), e.text("says"), unless))
    return tuple(rules)


def _per_category(data: dict[str, Any], key: str, choices: tuple[_T, ...]) -> dict[Category, _T]:
    """`categories.toml`: each category's `key` (its priority or its action)."""
    unknown = sorted(set(data) - set(CATEGORIES))
    if unknown:
        raise RuleFileError(f"categories.toml: unknown categories {', '.join(unknown)}")
    allowed = {"priority", "action"}
    return {
        category: _Entry("categories.toml", f"[{category}]", data.get(category), allowed).one_of(
            key, choices
        )
        for category in CATEGORIES
    }


def load_categories(
    directory: Path = RULES_DIR,
) -> tuple[dict[Category, Priority], dict[Category, Action]]:
    """Each category's usual priority and suggested action, from `categories.toml`."""
    data = _read(directory, "categories.toml")
    return _per_category(data, "priority", PRIORITIES), _per_category(data, "action", ACTIONS)


def load_rules(directory: Path = RULES_DIR) -> RuleBook:
    """Read and check every rule file in `directory`.

    Raises:
        RuleFileError: a file is missing or malformed; the message names the file and rule.

    """
    headers = _header_rules(_read(directory, "headers.toml"))
    senders_data = _read(directory, "senders.toml")
    senders = _sender_rules(senders_data)
    phrases = _text_rules(_read(directory, "phrases.toml"))
    flags = _flag_rules(_read(directory, "flags.toml"))
    raised = {h.flag for h in headers} | {s.flag for s in senders} | {f.flag for f in flags}
    raised = (raised - {""}) | CODE_FLAGS
    combos = _combo_rules(_read(directory, "combos.toml"), raised)
    priorities, actions = load_categories(directory)
    index = PhraseIndex(searched_phrases(phrases, flags))
    try:
        prior = load_prior(directory)
    except PriorFileError as err:
        raise RuleFileError(str(err)) from err
    return RuleBook(
        headers, senders, _brands(senders_data), phrases, flags, combos, priorities, actions,
        index, prior,
    )  # fmt: skip


def searched_phrases(phrases: Iterable[TextRule], flags: Iterable[FlagRule]) -> list[Phrase]:
    """Every phrase the index searches, once each: the phrase rules', the flag rules', dates'."""
    return list(
        dict.fromkeys([*(r.pattern for r in phrases), *(r.pattern for r in flags), *DATE_PHRASES])
    )


default_rules: Callable[[], RuleBook] = functools.cache(load_rules)
"""The shipped rules, loaded once on first use."""
