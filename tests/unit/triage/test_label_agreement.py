"""The benchmark's measure of how far the corpus's authors agree on mail of one template."""

from __future__ import annotations

from bench.triage_by_author import agreement
from bench.triage_eval import Labelled
from tools.mail.model import Email


def receipt(author: str, n: int, decision: str) -> Labelled:
    email = Email(
        id=f"{author}-{n}",
        source="test",
        folder="INBOX",
        key=str(n),
        from_addr="no-reply@shop.example",
        to=("priya@lumenhive.com",),
        subject=f"Your receipt #{n}",
        body="Thanks for your order.",
        headers={"Auto-Submitted": "auto-generated"},
    )
    return Labelled(f"{author}-{n:03d}-receipt.eml", email, {"decision": decision})


def test_each_message_is_compared_with_the_other_authors_most_common_label() -> None:
    items = [
        receipt("a", 1, "ignore"),
        receipt("b", 2, "ignore"),
        receipt("c", 3, "notify"),  # the other two say ignore: disagrees
        receipt("c", 4, "ignore"),  # the same author's own label is not counted for it
    ]
    lines = agreement(items).splitlines()
    # a: b, c, c -> ignore (2) agrees; b: ignore agrees; c-3 and c-4: a, b -> ignore.
    assert lines[-1] == "| 4 | 1 | 3 | 0.75 |"


def test_a_template_only_one_author_labelled_is_not_compared() -> None:
    lines = agreement([receipt("a", 1, "ignore"), receipt("a", 2, "notify")]).splitlines()
    assert lines[-1] == "| 0 | 0 | 0 | 0.00 |"
