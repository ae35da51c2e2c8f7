"""The intent table (`intents.toml`): every entry usable, a bad one named before any question."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.engines.intents.matcher import PLANS, build_intents, intents
from graph.engines.intents.phrases import IntentTableError, phrase_table, read_phrase_table

GOOD_PATTERN = '[patterns.hello]\nphrases = ["hello"]\n'


def table(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "intents.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_product_table_names_known_plans_and_ends_with_a_search() -> None:
    specs = phrase_table().intents
    assert all(spec.plan in PLANS for spec in specs)
    assert [i.name for i in intents()] == [spec.name for spec in specs]
    assert specs[-1].name == "search" and intents()[-1].matches("anything at all")


def test_conditions_combine_patterns(tmp_path: Path) -> None:
    path = table(
        tmp_path,
        '[patterns.draft]\nphrases = ["draft"]\nwhole_words = true\n'
        '[patterns.mine]\nphrases = ["my drafts?"]\n'
        '[patterns.key]\nphrases = ["[A-Z]+-\\\\d+"]\ncase_sensitive = true\n'
        '[[intent]]\nname = "draft_reply"\nwhen = ["draft & !mine"]\n'
        '[[intent]]\nname = "jira_lookup"\nwhen = ["key", "always"]\n',
    )
    draft, lookup = build_intents(read_phrase_table(path))
    assert draft.matches("Draft a reply") and not draft.matches("find my draft")
    assert not draft.matches("the drafty window"), "whole words only"
    assert lookup.plan is PLANS["jira_lookup"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[patterns.bad]\nphrases = ["(unclosed"]\n[[intent]]\nname = "x"\nwhen = ["bad"]',
         "intents.toml: pattern 'bad': '(unclosed' is not a regex"),
        (GOOD_PATTERN + '[[intent]]\nname = "greet"\nwhen = ["hello & wave"]',
         "intents.toml: intent 1 ('greet'): condition 'hello & wave' names no pattern 'wave'"),
        (GOOD_PATTERN + '[[intent]]\nwhen = ["hello"]', "intents.toml: intent 1 has no `name`"),
        (GOOD_PATTERN + '[[intent]]\nname = "greet"\nwhen = []',
         "intents.toml: intent 1 ('greet'): `when` must be a non-empty list"),
        ('[patterns.empty]\nphrases = []\n[[intent]]\nname = "x"\nwhen = ["empty"]',
         "intents.toml: pattern 'empty': `phrases` must be a non-empty list"),
        (GOOD_PATTERN + '[[intent]]\nname = "greet"\nwhen = ["hello"]\nplans = "x"',
         "intents.toml: intent 1 ('greet'): unknown key 'plans'"),
        ('[patterns.hello]\nphrase = ["hello"]\n[[intent]]\nname = "x"\nwhen = ["hello"]',
         "intents.toml: pattern 'hello': unknown key 'phrase'; known: case_sensitive, dotall"),
        ("[[intent]\n", "intents.toml: not valid TOML"),
        (GOOD_PATTERN, "intents.toml: needs [patterns.NAME] tables and [[intent]] entries"),
    ],
)  # fmt: skip
def test_bad_data_names_the_file_and_the_entry(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(IntentTableError) as raised:
        read_phrase_table(table(tmp_path, text))
    assert message in str(raised.value)


def test_an_intent_naming_no_plan_is_refused(tmp_path: Path) -> None:
    path = table(tmp_path, GOOD_PATTERN + '[[intent]]\nname = "greet"\nwhen = ["hello"]')
    with pytest.raises(IntentTableError, match=r"intent 1 \('greet'\) names no plan 'greet'"):
        build_intents(read_phrase_table(path))
