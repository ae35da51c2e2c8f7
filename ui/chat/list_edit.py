"""Editing a bulk action in the chat: the card's conversations as lines; drop a line, drop an id.

The Edit prompt lists every conversation, numbered as on the card. The person answers with the
lines to keep (copied, with the unwanted ones deleted), or with the numbers to drop ("drop 2, 5")
or keep ("keep 1 3"). Only rows of the card can come back: the graph refuses any other id too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

_NUMBERED = re.compile(r"^\s*(?:[-*]\s*)?(?P<n>\d{1,3})\s*[.):|]", re.MULTILINE)
_DROP = re.compile(
    r"^\s*(?:drop|remove|delete|skip|without|not|except|leave\s+out|exclude)\b(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_KEEP = re.compile(r"^\s*(?:keep|only|just)\b(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)
_NUMBER = re.compile(r"\b\d{1,3}\b")


def list_edit_prompt(rows: Sequence[dict[str, Any]]) -> str:
    """The Edit form of a bulk action: one numbered line per conversation, and what to send."""
    lines = [
        f"{n}. {row.get('subject', '')} — {row.get('sender', '')}, {row.get('date', '')}"
        for n, row in enumerate(rows, 1)
    ]
    return (
        "These are the conversations on the card. Send back the lines to keep (copy them and "
        "delete the ones to leave out), or say which to drop (“drop 2, 5”) or keep "
        "(“keep 1 3”); “cancel” leaves the card as it is.\n\n" + "\n".join(lines)
    )


def _numbers(text: str, count: int) -> list[int]:
    return [int(n) for n in _NUMBER.findall(text) if 1 <= int(n) <= count]


def _lines_kept(text: str, rows: Sequence[dict[str, Any]]) -> set[int]:
    """The rows whose line came back: by number, id or subject (a copied list loses numbers)."""
    count = len(rows)
    keep = {int(m.group("n")) for m in _NUMBERED.finditer(text) if 1 <= int(m.group("n")) <= count}
    lines = [line.strip().casefold() for line in text.splitlines() if line.strip()]
    for n, row in enumerate(rows, 1):
        subject = str(row.get("subject", "")).strip().casefold()
        message_id = str(row.get("id", ""))
        if (message_id and message_id in text) or (
            subject and any(line.startswith(subject) for line in lines)
        ):
            keep.add(n)
    return keep


def kept_ids(text: str, rows: Sequence[dict[str, Any]]) -> list[str] | None:
    """The ids the answer keeps, in the card's order; None when it names no row at all."""
    ids = [str(row.get("id", "")) for row in rows]
    dropped = _DROP.match(text)
    if dropped:
        gone = set(_numbers(dropped.group("rest"), len(ids)))
        gone |= {n for n, i in enumerate(ids, 1) if i and i in dropped.group("rest")}
        return [i for n, i in enumerate(ids, 1) if n not in gone] if gone else None
    kept_words = _KEEP.match(text)
    if kept_words:
        keep = set(_numbers(kept_words.group("rest"), len(ids)))
    else:
        keep = _lines_kept(text, rows)
    return [i for n, i in enumerate(ids, 1) if n in keep] if keep else None
