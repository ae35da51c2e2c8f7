"""The rule files: the shipped ones load, a new rule takes effect, a broken one is named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from graph.engines.triage import CATEGORIES, RuleFileError, load_rules, triage_by_rules
from graph.engines.triage.rulebook import RULES_DIR, default_rules
from tools.mail.model import Email


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    """A copy of the shipped rule files to change."""
    return Path(shutil.copytree(RULES_DIR, tmp_path / "rules"))


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_shipped_rules_load_and_cover_every_category() -> None:
    rules = default_rules()
    assert set(rules.priority_by_category) == set(CATEGORIES)
    assert set(rules.action_by_category) == set(CATEGORIES)
    assert {rule.category for rule in rules.phrases} == set(CATEGORIES)
    assert rules.headers and rules.senders and rules.flags and rules.combos and rules.brands


def test_a_rule_added_to_a_file_takes_effect(rules_dir: Path) -> None:
    with (rules_dir / "phrases.toml").open("a", encoding="utf-8") as file:
        file.write(
            '\n[[phrase]]\ncategory = "billing"\nsays = "a tally sheet"\n'
            "subject = 4.0\nbody = 2.0\nwords = ['tally ?sheets?']\n"
        )
    email = Email(
        id="m1",
        source="test",
        folder="INBOX",
        key="m1",
        subject="The tallysheet for March",
        body="Attached.",
        from_addr="kim@vendor.example",
    )
    assert triage_by_rules(email).category != "billing"
    result = triage_by_rules(email, rules=load_rules(rules_dir))
    assert (result.category, result.reason) == ("billing", "a tally sheet")


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        (
            "phrases.toml",
            'category = "bug_report"\nsays = "reports a bug"',
            'category = "bugs"\nsays = "reports a bug"',
            "phrases.toml: [[phrase]] #10 (\"reports a bug\"): `category` is 'bugs'",
        ),
        (
            "phrases.toml",
            "words = ['bugs?'",
            "words = ['bugs?('",
            "phrases.toml: [[phrase]] #10 (\"reports a bug\"): `words` item 'bugs?(' is not a "
            "regular expression",
        ),
        (
            "flags.toml",
            'flag = "urgency"\nwords',
            'flag = "urgency"\nwehre = "subject"\nwords',
            'flags.toml: [[flag]] #1 ("urgency"): unknown field(s) wehre',
        ),
        (
            "combos.toml",
            'flags = ["credential", "threat"]',
            'flags = ["credential", "threats"]',
            'combos.toml: [[combo]] #1 ("phishing: a password request with a threat"): no rule '
            "raises the flag(s) threats",
        ),
        (
            "senders.toml",
            "weight = 2.0",
            "weight = -2.0",
            'senders.toml: [[sender]] #1 ("automated sender"): `weight` must be a number',
        ),
        (
            "headers.toml",
            'header = "list-id"',
            'header = "list-id',
            "headers.toml: not valid TOML",
        ),
        (
            "categories.toml",
            '[billing]\npriority = "normal"',
            '[billing]\npriority = "medium"',
            "categories.toml: [billing]: `priority` is 'medium'",
        ),
    ],
)
def test_a_malformed_rule_names_its_file_and_rule(
    rules_dir: Path, file: str, old: str, new: str, message: str
) -> None:
    _edit(rules_dir / file, old, new)
    with pytest.raises(RuleFileError) as raised:
        load_rules(rules_dir)
    assert str(raised.value).startswith(message), str(raised.value)


def test_a_missing_rule_file_is_named(rules_dir: Path) -> None:
    (rules_dir / "combos.toml").unlink()
    with pytest.raises(RuleFileError, match=r"^combos\.toml: cannot be read"):
        load_rules(rules_dir)


@pytest.mark.parametrize("word", ["are you available\\\\?", "wrote:", "traceback \\\\(x\\\\)"])
def test_a_word_ending_in_punctuation_is_refused_as_one_that_could_never_match(
    rules_dir: Path, word: str
) -> None:
    # The closing word boundary after "?" needs a letter next: the word would be dead.
    _edit(
        rules_dir / "flags.toml",
        "    'are you at your desk',",
        f"    'are you at your desk',\n    '{word}',",
    )
    with pytest.raises(RuleFileError) as raised:
        load_rules(rules_dir)
    assert "ends with punctuation: write it in `patterns`" in str(raised.value)
    # Walks around the check: an optional last mark, or the same text as a pattern, loads.
    assert load_rules(RULES_DIR).flags


def test_an_opener_ending_in_a_question_mark_is_read() -> None:
    text = "are you available?\nim stuck in meetings"
    secrecy = [r for r in default_rules().flags if r.flag == "secrecy"]
    assert any(r.pattern.regex.search(text) for r in secrecy)
    # Walks around the check: a question about a time is no opener of a scam.
    assert not any(r.pattern.regex.search("are you available on tuesday at 10?") for r in secrecy)
