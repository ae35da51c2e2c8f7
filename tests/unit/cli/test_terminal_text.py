"""Answers as plain text for a terminal: markers go, words, citations and addresses stay."""

from __future__ import annotations

import pytest

from ui.cli.terminal_text import plain_text


@pytest.mark.parametrize(
    ("markdown", "plain"),
    [
        ("**Invoice** [msg:inv-1@erp.example]", "Invoice [inv-1@erp.example]"),
        ("__bold__, *italic*, _italic_ and ***both***", "bold, italic, italic and both"),
        ("### Save a draft (nothing is sent)", "Save a draft (nothing is sent)"),
        ("- **To:** ar@vireo-dc.example", "- To: ar@vireo-dc.example"),
        (
            "see [the runbook](https://wiki.example/run_book_v2)",
            "see the runbook <https://wiki.example/run_book_v2>",
        ),
        (
            "[https://a.example](https://a.example) [b@x.example](mailto:b@x.example)",
            "https://a.example b@x.example",
        ),
        ("**[bold link](https://a.example/x)**", "bold link <https://a.example/x>"),
    ],
)
def test_markers_are_rendered(markdown: str, plain: str) -> None:
    assert plain_text(markdown) == plain


@pytest.mark.parametrize(
    "text",
    [
        "snake_case_name and 2 * 3 * 4 stay",
        "https://example.com/_private_/page and _john_@x.example",
        "declined `save_draft` and `**literal**`",
        "> quoted line\n>\n1. first\n   detail",
        "[msg:_x_] stays a citation",
        "a lone * or _ is text",
    ],
)
def test_text_that_only_looks_like_markdown_is_kept(text: str) -> None:
    expected = text.replace("[msg:_x_]", "[_x_]")
    assert plain_text(text) == expected
