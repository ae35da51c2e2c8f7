"""The comments of an address header, kept in the display names people see."""

from __future__ import annotations

from collections.abc import Callable
from email.utils import getaddresses


def with_comments(
    found: list[tuple[str, str]], raw: str, decode: Callable[[str], str]
) -> list[tuple[str, str]]:
    """`found` (the modern parser's names and addresses) with what the comments say.

    The modern parser drops comments, which senders use as part of the name people see:
    `Marco Bianchi (via SharePoint) <m@...>` would read as "Marco Bianchi", and the old form
    `m@... (Marco Bianchi)` as no name at all. The lenient split of `raw` keeps them (`decode`
    turns its encoded words into text); it is taken only when it finds the same addresses in
    the same order, so it never changes who wrote.
    """
    if "(" not in raw:
        return found  # no comment: nothing the parser dropped
    lenient = getaddresses([raw])
    if [spec.strip().lower() for _, spec in lenient] != [spec for _, spec in found]:
        return found
    return [
        (decode(display) or name, spec)
        for (name, spec), (display, _) in zip(found, lenient, strict=True)
    ]
