"""The part of a message the triage reads: a capped subject and the body a person wrote.

Quoted replies and signatures repeat other mail, so only the visible text counts, and caps keep
the cost of a huge message bounded.
"""

from __future__ import annotations

import re

from tools.mail.model import (
    EMPTY_BODY_MARKER,
    QUOTE_END,
    QUOTE_START,
    SIGNATURE_END,
    SIGNATURE_START,
    Email,
)

BODY_CHARS = 4_000
"""Visible body text (outside quotes and signatures) that is looked at."""
RAW_BODY_CHARS = 20_000
"""Raw body scanned for that visible text, so a huge quoted thread cannot slow us down."""
SUBJECT_CHARS = 300

_MARKER_RE = re.compile(
    "|".join(re.escape(m) for m in (QUOTE_START, QUOTE_END, SIGNATURE_START, SIGNATURE_END))
)
_QUOTED_LINE_RE = re.compile(r"^[ \t]*>.*$", re.MULTILINE)


def header(email: Email, name: str) -> str:
    """The value of one kept header, whatever its spelling's case; '' when absent."""
    wanted = name.casefold()
    for key, value in (email.headers or {}).items():  # a loop: read a dozen times a message
        if key.casefold() == wanted:
            return value
    return ""


def visible_body(body: str) -> str:
    """The body without quoted replies, signatures and `>` lines, capped at `BODY_CHARS`."""
    if not body or body.strip() == EMPTY_BODY_MARKER:
        return ""
    window = body[:RAW_BODY_CHARS]
    parts: list[str] = []
    depth = 0
    position = 0
    for marker in _MARKER_RE.finditer(window):
        if depth == 0:
            parts.append(window[position : marker.start()])
        depth += 1 if marker.group() in (QUOTE_START, SIGNATURE_START) else -1
        depth = max(depth, 0)
        position = marker.end()
    if depth == 0:
        parts.append(window[position:])
    text = "".join(parts)
    if ">" in text:  # no `>` line otherwise
        text = _QUOTED_LINE_RE.sub("", text)
    return text[:BODY_CHARS]


def sent_to_a_list(email: Email) -> bool:
    """Sent to a mailing list or by a mailing tool (list headers), not by a calendar."""
    return bool(header(email, "List-Id") or header(email, "List-Unsubscribe"))


def offers_unsubscribe(email: Email) -> bool:
    """Sent by a mailing tool that offers to unsubscribe (a newsletter, even a company's own)."""
    return bool(header(email, "List-Unsubscribe"))


_LINK_RE = re.compile(r"\b(?:https?://|www\.)\S+")
"""A link: the `?` of its query string asks the reader nothing."""
_HELP_LINE_RE = re.compile(
    r"\?[ \t]*\n?[ \t]*(?:gebruik|bel ons|neem (?:dan )?contact|kijk op|ga naar|use our|use the|"
    r"call us|contact us|contact our|visit|see our|check our|rufen sie uns|schreiben sie uns|"
    r"besuchen sie|nutzen sie|wenden sie sich|contactez-nous|consultez|appelez-nous|llámenos|"
    r"escríbanos|visite|consulte|contacte con)\b"
)
"""A question a business answers at once with where to go: "Questions? Call us", "Vragen? Kijk
op onze site", "Sleutel afgeven buiten openingstijden? Gebruik de sleutelbrievenbus": a help
line, not a question to the reader. Not "let me know" or "mail me": a person's question
followed by how to answer it ("kan hij komen spelen? laat maar weten") still asks."""


def asks_a_question(words: str) -> bool:
    """Whether lower-cased `words` hold a question mark outside links and help lines."""
    return "?" in _HELP_LINE_RE.sub(". ", _LINK_RE.sub(" ", words))
