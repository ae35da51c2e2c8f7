"""The `Email` type every part of the product reads mail through, and its markers and folders.

Defined in `memory.mail_model`: the mail cache keeps and returns `Email`s, so the model sits in
the lowest layer, and the store never has to import upwards. The tools, the graph and the
interfaces import it from here, their own name for it.
"""

from __future__ import annotations

from memory.mail_model import (
    DRAFT_SENDER,
    DRAFTS,
    EMPTY_BODY_MARKER,
    QUOTE_END,
    QUOTE_START,
    SENT,
    SIGNATURE_END,
    SIGNATURE_START,
    Attachment,
    Email,
    without_quotes,
)

__all__ = [
    "DRAFTS",
    "DRAFT_SENDER",
    "EMPTY_BODY_MARKER",
    "QUOTE_END",
    "QUOTE_START",
    "SENT",
    "SIGNATURE_END",
    "SIGNATURE_START",
    "Attachment",
    "Email",
    "without_quotes",
]
