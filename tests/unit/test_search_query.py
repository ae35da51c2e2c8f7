"""The search language: what each piece of text becomes, and what is refused with a reason."""

from __future__ import annotations

from datetime import date

import pytest

from memory.search_query import (
    MAX_QUERY_CHARS,
    MAX_TERMS,
    SearchQuery,
    SearchQueryError,
    Term,
    parse_query,
)


def test_words_phrases_and_filters_are_read_into_one_structure() -> None:
    query = parse_query(
        'invoice "late fee" from:"Anna Berg" attachment:contract.pdf after:2026-01-01 '
        "before:2026-02-01 folder:Archive label:clients"
    )
    assert query == SearchQuery(
        terms=(
            Term("invoice"),
            Term("late fee", exact=True),
            Term("Anna Berg", "sender", exact=True),
            Term("contract.pdf", "attachment"),
        ),
        folders=("archive", "clients"),
        after=date(2026, 1, 1),
        before=date(2026, 2, 1),
    )


def test_the_sender_argument_is_a_from_term() -> None:
    assert parse_query("", sender="sofia@northwind.example").terms == (
        Term("sofia@northwind.example", "sender"),
    )


def test_an_empty_query_asks_for_nothing() -> None:
    assert parse_query("   ").is_empty


def test_a_word_naming_a_standard_folder_also_stands_for_it() -> None:
    draft, sofia, quoted = parse_query('draft sofia "sent"').terms
    assert (draft.folder_word, sofia.folder_word, quoted.folder_word) == (True, False, False)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("NEAR OR AND NOT", ("NEAR", "OR", "AND", "NOT")),
        ("subject:secret", ("subject:secret",)),
        ("{body}: x", ("{body}:", "x")),
        ("re: invoice", ("re:", "invoice")),
        ("-urgent +now", ("-urgent", "+now")),
        ("a*", ("a*",)),
        ('O"Brien', ('O"Brien',)),
        ("FROM:anna", ("anna",)),
    ],
)
def test_the_syntax_of_the_databases_is_text_here(text: str, words: tuple[str, ...]) -> None:
    """Unknown prefixes, operators and quotes inside a word stay words of the query."""
    assert tuple(term.text for term in parse_query(text).terms) == words


def test_control_characters_are_spaces_never_part_of_a_word() -> None:
    """A NUL would make PostgreSQL refuse the whole statement."""
    assert [t.text for t in parse_query("in\x00voice\ttax\x1b").terms] == ["in", "voice", "tax"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("***", "nothing to search for"),
        ('" "', "nothing to search for"),
        ("from:", "from: needs a value"),
        ("from:***", "from: needs a value"),
        ("attachment:", "attachment: needs a value"),
        ("label:", "label: needs a value"),
        ("after:2026-02-30", "is not a day"),
        ("after:26-01-01", "is not a day"),
        ("before:2026-1-1", "is not a day"),
        ("after:2026-02-01 before:2026-02-01", "holds no day"),
        ('say "hello', "never closed"),
        ("x" * (MAX_QUERY_CHARS + 1), f"at most {MAX_QUERY_CHARS}"),
        (" ".join(["w"] * (MAX_TERMS + 1)), f"at most {MAX_TERMS}"),
    ],
)
def test_a_query_that_cannot_mean_anything_is_refused(text: str, reason: str) -> None:
    with pytest.raises(SearchQueryError, match=reason):
        parse_query(text)


def test_a_sender_without_words_is_refused_not_ignored() -> None:
    with pytest.raises(SearchQueryError, match="from: needs a value"):
        parse_query("invoice", sender="@@")
