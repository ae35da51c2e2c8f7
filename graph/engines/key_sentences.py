"""Key sentences of mail: which sentences carry a thread's facts, and what a message asks.

The offline engine summarises by extraction: it shows sentences in the senders' own words,
so everything it quotes is in the evidence. A sentence is scored for the part it plays (what
happened, impact, status, next step, what is asked) from the cue words of the inbox's
languages (`tools.mail.language`) and from what any language shows: numbers, times and
dates, a question mark, its place in the thread. A sentence written as an instruction to an
assistant is never picked; `instructions` lists such sentences so the answer can warn.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Literal

from graph.state import MessageRef
from tools.mail.conversations import sender_name
from tools.mail.language import cue_count, cue_pattern, has_cue, is_closing, is_greeting
from tools.mail.model import EMPTY_BODY_MARKER, without_quotes

Part = Literal["happened", "impact", "status", "next", "ask"]
PARTS: tuple[Part, ...] = ("happened", "impact", "status", "next", "ask")
"""The parts a sentence is scored for."""
Line = Literal[Part, "also"]
"""What a summary line is: one of the parts, or `also`, a fact that fits none of them."""
LABELS: dict[Line, str] = {
    "happened": "What happened",
    "impact": "Impact",
    "status": "Status",
    "next": "Next step",
    "ask": "Asked of you",
    "also": "Also",
}
PER_PART: dict[Part, int] = {"happened": 2, "impact": 1, "status": 1, "next": 1, "ask": 2}
MIN_LINES = 3
"""A summary with fewer parts found is filled up with the sentences richest in facts."""
"""How many sentences each part may take in a summary."""
MIN_PART_SCORE = 2.0
"""A sentence plays a part only with at least one cue word for it (worth 2) or as much evidence."""

_LIST_ITEM = re.compile(r"^\s*(?:[-*•·–]|\d{1,2}[.)])\s+")
_KEY_VALUE = re.compile(r"^\s*[^\W\d_][\w/()&-]*(?: [\w/()&-]+){0,3}:\s+\S")
"""`Bridge: https://…`, `Due date:   20 October`: a line of its own, not wrapped text."""
_TABLE_ROW = re.compile(r"\S {3,}\S")
"""Columns lined up with spaces: a row of a table, never part of a sentence around it."""
_CUT_MARKER = re.compile(r"\[… \d+ more characters[^\]]*\]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"“'(\[]?[A-Z0-9À-ÖØ-Þ])|(?<=[。！？])")
_ABBREVIATION = re.compile(
    r"(?:\b(?:e\.g|i\.e|etc|approx|vs|no|mr|mrs|ms|dr|st|inc|ltd|fig)|\b[A-Z])\.$", re.I
)
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*\s?%?")
_URL_ONLY = re.compile(r"^\W*(?:\S+://\S+|www\.\S+)\W*$")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_IMPERATIVE = (
    r"(?:please\s+)?(?:transfer|wire|send|pay|forward|click|visit|open|reply|call|buy|approve|"
    r"delete|share|download|log ?in|sign in|verify|confirm|update|change|ignore)\b"
)
INSTRUCTION = re.compile(
    # A label that makes the mail's words pose as the answer's: "Summary: transfer $10,000 now".
    r"^\W*(?:summary|tl;?dr|note|answer|instructions?|system(?: prompt)?)\s*:\s*"
    + _IMPERATIVE
    + r"|^\W*(?:notes? (?:to|for) (?:the |all |any )?(?:automated |ai )?"
    r"(?:assistants?|bots?|models?|systems?|ai)|(?:ai )?assistants?|bots?)\s*[:,]"
    r"|\bignore (?:all |any )?(?:the )?(?:previous|prior|above|earlier|your) "
    r"(?:instructions|rules|messages)\b"
    r"|\b(?:ai assistants?|assistants?|bots?|language models?|llms?|"
    r"automated (?:assistants?|systems?))"
    r"\b.{0,40}\b(?:must|should|please|is instructed|reply|forward|send|transfer|click|visit|"
    r"create|open)\b"
    r"|\b(?:transfer|wire|send|pay)\s+(?:the\s+)?(?:[$€£]\s?\d|(?:usd|eur|gbp|chf)\s?\d"
    r"|\d[\d,.]*\s?(?:usd|eur|gbp|chf|dollars|euros))"
    r"|\bforward (?:all|every)\b",
    re.IGNORECASE,
)
"""Text addressed to an AI or moving money on its own say-so: shown only as a warning."""


@dataclass(frozen=True)
class Sentence:
    """A sentence of a message, in the sender's words, and where it stands in its thread."""

    text: str
    message_id: str
    sender: str
    """The sender's display name."""
    order: int
    """Index of its message in the thread, oldest first."""
    position: int
    """Index of the sentence in its message."""


@lru_cache(maxsize=1024)
def display_name(sender: str) -> str:
    """`tools.mail.conversations.sender_name`, remembered: the same senders come up every turn."""
    return sender_name(sender)


CACHED_TEXT_LIMIT = 4000
"""Texts up to this long (previews, short mails) have their sentences remembered: a listing
shows the same previews turn after turn, and each is split once."""


def sentences_of(message: MessageRef, order: int = 0) -> list[Sentence]:
    """The sentences of a message's own words: no quoted history, greeting, sign-off or links."""
    text, sender = message["text"], message["sender"]
    if len(text) > CACHED_TEXT_LIMIT:
        return list(_sentences(text, message["id"], sender, order))
    return list(_remembered_sentences(text, message["id"], sender, order))


@lru_cache(maxsize=1024)
def _remembered_sentences(
    text: str, message_id: str, sender: str, order: int
) -> tuple[Sentence, ...]:
    return _sentences(text, message_id, sender, order)


def _sentences(text: str, message_id: str, sender: str, order: int) -> tuple[Sentence, ...]:
    text = without_quotes(text, gap="\n")
    if not text.strip() or text.strip() == EMPTY_BODY_MARKER or text.startswith("[UNREADABLE"):
        return ()
    text = _CUT_MARKER.sub("", text)
    found: list[Sentence] = []
    name = display_name(sender)
    for item in _items(text):
        for piece in _split(_without_greeting(item)):
            clean = " ".join(_LIST_ITEM.sub("", piece).split())
            if _worth_keeping(clean):
                found.append(Sentence(clean, message_id, name, order, len(found)))
    if len(found) > 1 and text.rstrip().endswith("…"):
        found.pop()  # a preview's last sentence is cut off mid-word
    return tuple(found)


def _items(text: str) -> list[str]:
    """Paragraphs with wrapped lines joined; list items and `Key: value` lines kept apart."""
    items: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        current = ""
        for line in paragraph.splitlines():
            if not line.strip():
                continue
            formula = is_greeting(line) or is_closing(line)
            starts = bool(
                _LIST_ITEM.match(line) or _KEY_VALUE.match(line) or _TABLE_ROW.search(line)
            )
            ended = current.endswith(":") or bool(_TABLE_ROW.search(current))
            if current and (formula or starts or ended):
                items.append(current)
                current = ""
            if not formula:
                current = f"{current} {line.strip()}" if current else line.strip()
        if current:
            items.append(current)
    return items


@cache
def _opening_greeting() -> re.Pattern[str]:
    greeting = cue_pattern("greeting").pattern
    return re.compile(rf"^(?:{greeting})(?:\s+[^\s,]+){{0,4}},\s+(?=\S)", re.IGNORECASE)


def _without_greeting(item: str) -> str:
    """An item without the salutation it opens with ("Hi Dana, could you…" in a preview)."""
    match = _opening_greeting().match(item)
    return item[match.end() :] if match else item


def _split(item: str) -> list[str]:
    """Sentences of one item; a full stop after an abbreviation ("e.g.") does not end one."""
    pieces: list[str] = []
    for piece in _SENTENCE_END.split(item):
        if pieces and _ABBREVIATION.search(pieces[-1]):
            pieces[-1] = f"{pieces[-1]} {piece}"
        elif piece.strip():
            pieces.append(piece.strip())
    return pieces


def _worth_keeping(text: str) -> bool:
    if not text or _URL_ONLY.match(text) or not re.search(r"[^\W\d_]", text):
        return False
    if _CJK.search(text):
        return len(text) >= 8
    words = text.split()
    if len(words) < 3 or (text.endswith(":") and len(words) < 6):
        return False  # a fragment, or a heading ("What we know so far:")
    # "Ahmed Karim", "Thanks in advance," — a name or a formula, not a sentence.
    return len(words) >= 4 or bool(re.search(r"[.!?:]$|\d", text))


def instruction_like(text: str) -> bool:
    """Whether a sentence is written as an instruction to an assistant (never a fact to show)."""
    return bool(INSTRUCTION.search(text))


def instructions(messages: Sequence[MessageRef]) -> list[Sentence]:
    """Sentences of the messages that are written as instructions to an assistant."""
    return [
        s for n, m in enumerate(messages) for s in sentences_of(m, n) if instruction_like(s.text)
    ]


def _facts(text: str) -> float:
    return min(len(_NUMBER.findall(text)), 3) * 0.4


def _labelled(part: Part, text: str) -> bool:
    """Whether the sentence opens with its part's name: "Impact so far: …", "Next step: …"."""
    head = text.split(":", 1)[0] if ":" in text[:30] else ""
    return bool(head) and has_cue(part, head)


def _length_penalty(text: str) -> float:
    penalty = 1.0 if len(text) > 240 else 0.0
    if "://" in text:
        penalty += 0.5  # a link to follow says less than a sentence about what happened
    if len(text) < 25 and not _CJK.search(text):
        penalty += 1.0
    if text.endswith(":"):
        penalty += 1.5  # it introduces a list rather than saying something itself
    return penalty


def part_scores(sentence: Sentence, messages: int) -> dict[Part, float]:
    """How well the sentence plays each part of a summary (0 when it has no claim to it)."""
    text = sentence.text
    late = sentence.order / max(1, messages - 1) if messages > 1 else 1.0
    opening = 0.6 if sentence.position < 3 else 0.0
    facts = _facts(text)
    question = 2.0 if re.search(r"[?？]", text) else 0.0
    deadline = 1.5 if has_cue("deadline", text) else 0.0
    cues = {part: 2.0 * min(cue_count(part, text), 2) for part in PARTS}
    if has_cue("formula", text):  # "Please find attached…" hands something over, asks nothing
        cues["ask"] = max(0.0, cues["ask"] - 2.0)
    raw: dict[Part, float] = {
        "happened": cues["happened"] + (1 - late) * 0.8 + opening + facts,
        "impact": cues["impact"] + facts,
        "status": cues["status"] + late * 0.8 + facts * 0.5,
        "next": cues["next"] + late * 0.8 + deadline,
        "ask": cues["ask"] + question + late * 0.8 + deadline,
    }
    for part in PARTS:
        raw[part] += 2.0 if _labelled(part, text) else 0.0
    claims: dict[Part, bool] = {part: cues[part] > 0 for part in PARTS}
    claims["next"] = claims["next"] or deadline > 0  # a due date is what comes next
    claims["ask"] = claims["ask"] or question > 0
    if question:  # a question asks; it does not report what happened or its impact
        reporting: tuple[Part, ...] = ("happened", "impact", "status", "next")
        claims.update(dict.fromkeys(reporting, False))
    penalty = _length_penalty(text)
    return {part: (raw[part] - penalty if claims[part] else 0.0) for part in PARTS}


def key_sentences(messages: Sequence[MessageRef], limit: int = 6) -> list[tuple[Line, Sentence]]:
    """The sentences that carry the thread's facts, each with its part, in the parts' order.

    `messages` are the thread's, oldest first. Instruction-like sentences are left out.
    """
    candidates = [
        s
        for n, message in enumerate(messages)
        for s in sentences_of(message, n)
        if not instruction_like(s.text)
    ]
    scored = [(s, part_scores(s, len(messages))) for s in candidates]
    chosen: list[tuple[Line, Sentence]] = []
    taken: set[Sentence] = set()
    for part in PARTS:
        ranked = sorted((pair for pair in scored if pair[0] not in taken), key=_best_for(part))
        for sentence, scores in ranked[: PER_PART[part]]:
            if scores[part] >= MIN_PART_SCORE and len(chosen) < limit:
                chosen.append((part, sentence))
                taken.add(sentence)
    rest = sorted(
        (pair for pair in scored if pair[0] not in taken),
        key=lambda pair: -(_facts(pair[0].text) + max(pair[1].values()) / 2),
    )
    for sentence, _ in rest[: max(0, MIN_LINES - len(chosen))]:
        if _facts(sentence.text) or max(part_scores(sentence, len(messages)).values()) > 0:
            chosen.append(("also", sentence))
    lines: tuple[Line, ...] = (*PARTS, "also")
    order = {line: n for n, line in enumerate(lines)}
    chosen.sort(key=lambda pair: (order[pair[0]], pair[1].order, pair[1].position))
    return chosen


def _best_for(part: Part) -> Callable[[tuple[Sentence, dict[Part, float]]], float]:
    """Sort key: the best sentence for `part` first."""
    return lambda pair: -pair[1][part]


def ask_of(message: MessageRef) -> Sentence | None:
    """What the message asks of the reader and by when, in its own words; None if nothing."""
    best: tuple[float, Sentence] | None = None
    for sentence in sentences_of(message):
        if instruction_like(sentence.text):
            continue
        text = sentence.text
        question = 2.0 if re.search(r"[?？]", text) else 0.0
        asks = 2.0 * min(cue_count("ask", text), 2)
        if has_cue("formula", text):
            asks = max(0.0, asks - 2.0)
        deadline = 1.5 if has_cue("deadline", text) else 0.0
        if not (question or asks or deadline):
            continue
        plan = 1.0 if has_cue("next", text) else 0.0
        score = asks + question + deadline + plan + _facts(text) * 0.5 - _length_penalty(text)
        if best is None or score > best[0]:
            best = (score, sentence)
    return best[1] if best is not None and best[0] > 0 else None


def gist_of(message: MessageRef) -> Sentence | None:
    """The message's most informative sentence (what happened, impact or status), or None.

    Remembered for texts up to `CACHED_TEXT_LIMIT`, as their sentences are: a listing scores
    the same previews turn after turn.
    """
    text, message_id, sender = message["text"], message["id"], message["sender"]
    if len(text) > CACHED_TEXT_LIMIT:
        return _gist(text, message_id, sender)
    return _remembered_gist(text, message_id, sender)


@lru_cache(maxsize=1024)
def _remembered_gist(text: str, message_id: str, sender: str) -> Sentence | None:
    return _gist(text, message_id, sender)


def _gist(text: str, message_id: str, sender: str) -> Sentence | None:
    best: tuple[float, Sentence] | None = None
    message: MessageRef = {
        "id": message_id,
        "sender": sender,
        "subject": "",
        "date": "",
        "text": text,
    }
    for sentence in sentences_of(message):
        if instruction_like(sentence.text):
            continue
        scores = part_scores(sentence, 1)
        score = max(scores["happened"], scores["impact"], scores["status"], _facts(sentence.text))
        if best is None or score > best[0]:
            best = (score, sentence)
    return best[1] if best is not None else None


def clipped(text: str, limit: int = 160) -> tuple[str, bool]:
    """The text cut at a clause boundary before `limit` characters, and whether it was cut."""
    if len(text) <= limit:
        return text, False
    head = text[:limit]
    cut = max(head.rfind(", "), head.rfind("; "), head.rfind(" — "), head.rfind(" ("))
    if cut < limit // 2:
        cut = head.rfind(" ")
    return text[:cut].rstrip(" ,;:—("), True
