"""Body text laid out for reading: line endings, blank runs, quoted replies and signatures marked.

The model must tell the sender's words from what they quote, so quotes and signatures are
wrapped in markers while every character of the text is kept.
"""

from __future__ import annotations

import re

from tools.mail.model import (
    QUOTE_END,
    QUOTE_START,
    SIGNATURE_END,
    SIGNATURE_START,
)

# --------------------------------------------------------------------------- text layout

_BLANK_RUN = re.compile(r"\n{4,}")


def normalise_text(text: str) -> str:
    """LF line endings, no trailing whitespace, at most two blank lines in a row."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = _BLANK_RUN.sub("\n\n\n", text)
    return text.strip("\n")


_ATTRIBUTION = re.compile(
    r"^(on|am|le|el|il|op)\b.*\b(wrote|schrieb|a écrit|escribió|ha scritto|schreef)\s*:$", re.I
)
_ATTRIBUTION_START = re.compile(r"^(on|am|le|el|il|op)\s", re.I)
_ATTRIBUTION_END = re.compile(r"\b(wrote|schrieb|a écrit|escribió|ha scritto|schreef)\s*:$", re.I)
_ORIGINAL_MESSAGE = re.compile(r"^-{2,}\s*original message\s*-{2,}$", re.I)
_OUTLOOK_RULE = re.compile(r"^_{10,}$")
_OUTLOOK_FROM = re.compile(r"^(from|von|de)\s*:", re.I)
_OUTLOOK_SENT = re.compile(r"^(sent|gesendet|envoyé)\s*:", re.I)


def _is_quoted(line: str) -> bool:
    return line.startswith(">")


def _attribution_len(lines: list[str], i: int) -> int:
    """How many lines (0, 1 or 2) of an "On ... wrote:" attribution start at `i`."""
    if _ATTRIBUTION.match(lines[i]):
        return 1
    if (
        i + 1 < len(lines)
        and _ATTRIBUTION_START.match(lines[i])
        and _ATTRIBUTION_END.search(lines[i + 1])
        and not _is_quoted(lines[i + 1])
    ):
        return 2  # mailers wrap long attributions onto a second line
    return 0


def _outlook_start(lines: list[str]) -> int | None:
    """Index where an Outlook-style quoted original begins, if any."""
    for i, line in enumerate(lines):
        if _ORIGINAL_MESSAGE.match(line):
            return i
        if _OUTLOOK_FROM.match(line) and any(
            _OUTLOOK_SENT.match(nxt) for nxt in lines[i + 1 : i + 4]
        ):
            start = i
            # Include the underscore rule Outlook puts above the header block.
            j = i - 1
            while j >= 0 and not lines[j]:
                j -= 1
            if j >= 0 and _OUTLOOK_RULE.match(lines[j]):
                start = j
            return start
    return None


def _next_quoted(lines: list[str], i: int) -> int | None:
    """Index of the next `>` line at or after `i` if only blank lines come before it."""
    while i < len(lines) and not lines[i]:
        i += 1
    return i if i < len(lines) and _is_quoted(lines[i]) else None


def mark_quotes_and_signature(text: str) -> str:
    """Wrap quoted replies and signatures in the model's markers; keep all text verbatim.

    Quoted replies are runs of `>` lines, together with an "On ... wrote:" attribution right
    above them, and an Outlook "-----Original Message-----" or "From:/Sent:" block through to
    the end. A signature runs from a "-- " (or "--") line to the end of its stretch of
    unquoted text.
    """
    lines = text.split("\n")
    outlook = _outlook_start(lines)
    tail: list[str] = []
    if outlook is not None:
        tail = lines[outlook:]
        lines = lines[:outlook]
        while lines and not lines[-1]:
            lines.pop()

    blocks = _quote_blocks(lines)
    if tail:
        blocks.append((True, tail))

    out: list[str] = []
    for quoted, block in blocks:
        if not block:
            continue
        if quoted:
            out.extend([QUOTE_START, *block, QUOTE_END])
        else:
            out.extend(_mark_signature(block))
    return "\n".join(out)


def _quote_blocks(lines: list[str]) -> list[tuple[bool, list[str]]]:
    """The lines as alternating unquoted stretches and quote blocks (attribution included)."""
    blocks: list[tuple[bool, list[str]]] = []
    current: list[str] = []
    i = 0
    while i < len(lines):
        start = i
        attribution = _attribution_len(lines, i)
        if attribution:
            first = _next_quoted(lines, i + attribution)
            if first is None:
                attribution = 0
        if attribution or _is_quoted(lines[i]):
            i = start + attribution
            end = i
            while (nxt := _next_quoted(lines, i)) is not None:
                i = nxt + 1
                while i < len(lines) and _is_quoted(lines[i]):
                    i += 1
                end = i
            blocks.append((False, current))
            blocks.append((True, lines[start:end]))
            current = []
            i = end
            continue
        current.append(lines[i])
        i += 1
    blocks.append((False, current))
    return blocks


def _mark_signature(block: list[str]) -> list[str]:
    for i, line in enumerate(block):
        if line == "--":  # "-- " once trailing whitespace is gone
            body = block[:i]
            signature = block[i:]
            trailing: list[str] = []
            while signature and not signature[-1]:
                trailing.insert(0, signature.pop())
            return [*body, SIGNATURE_START, *signature, SIGNATURE_END, *trailing]
    return block
