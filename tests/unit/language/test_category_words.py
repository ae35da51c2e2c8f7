"""The one table of words people use for triage categories, and its checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.language.categories import CATEGORIES
from tools.language.category_words import (
    CategoryWordsError,
    categories_named,
    categories_of_noun,
    category_words,
    read_category_words,
)


def test_every_entry_names_a_real_category_once() -> None:
    names = [words.category for words in category_words()]
    assert len(names) == len(set(names))
    assert set(names) <= set(CATEGORIES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("show me the Invoices", ["billing"]),
        ("any bugs?", ["bug_report"]),
        ("the PRs waiting for me", ["notification"]),
        ("is production down?", ["urgent_incident"]),
        ("hello there", []),
    ],
)
def test_a_question_names_categories_in_table_order(text: str, expected: list[str]) -> None:
    assert categories_named(text) == expected


def test_a_noun_may_point_at_several_categories() -> None:
    assert set(categories_of_noun("ticket")) == {"bug_report", "notification"}
    assert categories_of_noun("Invoice") == ("billing",)
    assert categories_of_noun("contract") == ()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('[[category]]\nname = "bills"\npatterns = ["x"]', "category entry 1 ('bills'): not a"),
        ('[[category]]\nname = "billing"\npatterns = ["(oops"]', "pattern '(oops' is not a regex"),
        ('[[category]]\npatterns = ["x"]', "category entry 1 has no `name`"),
        ('[[category]]\nname = "billing"\nnouns = "invoice"', "`nouns` must be a list"),
        ("category = [", "not valid TOML"),
        ('title = "no entries"', "no [[category]] entries"),
    ],
)
def test_bad_data_names_the_file_and_the_entry(tmp_path: Path, entry: str, message: str) -> None:
    path = tmp_path / "category_words.toml"
    path.write_text(entry, encoding="utf-8")
    with pytest.raises(CategoryWordsError) as raised:
        read_category_words(path)
    assert str(raised.value).startswith("category_words.toml")
    assert message in str(raised.value)
