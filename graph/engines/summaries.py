"""Summaries of conversations and quotations of their senders, in the senders' own words.

A summary is made of a thread's key sentences (`graph.engines.key_sentences`), each quoted
exactly as in the mail and cited, so the grounding check finds every one of them; text
written as an instruction to an assistant is only ever named in a warning.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from graph.engines.key_sentences import LABELS, clipped, gist_of, instructions, key_sentences
from graph.grounding import iso_day
from graph.state import MessageRef
from tools.mail.conversations import normalised_subject, sender_name, without_reply_prefix


def quoted(text: str, limit: int = 0) -> str:
    """The sender's words in quotation marks, exactly as in the mail (so the verifier finds them).

    Inner straight quotes become typographic ones (the verifier reads both alike), so a
    quotation never seems to end inside the mail's own quotes. A closing colon or a
    dangling "to"/"at" (the sentence introduced a list) is left out; a cut is marked
    outside the quotation marks.
    """
    text = text.strip()
    cut = False
    if limit:
        text, cut = clipped(text, limit)
    trimmed = text.rstrip(":").rstrip()
    if trimmed != text:
        words = trimmed.rsplit(" ", 1)
        if len(words) == 2 and words[1].lower() in {"to", "at", "on", "via", "as", "is", "are"}:
            trimmed = words[0]
    opened = False
    chars = []
    for char in trimmed:
        if char == '"':
            chars.append("”" if opened else "“")
            opened = not opened
        else:
            chars.append(char)
    return "“" + "".join(chars) + "”" + ("…" if cut else "")


def _when(message: MessageRef) -> datetime:
    try:
        value = datetime.fromisoformat(message["date"])
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def summarise(messages: list[MessageRef]) -> str:
    """A summary of one or more conversations: what happened, impact, status, next, asks.

    Each line is a sentence from the messages, quoted and cited; text written as an
    instruction to an assistant is never part of it, only named in a warning.
    """
    unique = list({m["id"]: m for m in messages}.values())
    ordered = sorted(unique, key=_when)
    if not ordered:
        return "There was nothing to summarise."
    lines = [_summary_header(ordered)]
    picked = key_sentences(ordered)
    if picked:
        lines += [
            f"- **{LABELS[part]}:** {quoted(s.text, 300)} — {s.sender} [msg:{s.message_id}]"
            for part, s in picked
        ]
    else:
        gists = [(m, gist_of(m)) for m in ordered[-4:]]
        lines += [
            f"- {quoted(g.text, 300)} — {g.sender} [msg:{m['id']}]" for m, g in gists if g
        ] or [f"- The messages have no text to summarise [msg:{ordered[-1]['id']}]."]
    flagged = instructions(ordered)
    if flagged:
        first = flagged[0]
        lines.append(
            f"⚠ Left out: [msg:{first.message_id}] contains text written as an instruction to "
            f"an assistant ({quoted(first.text, 120)}). It is the sender's text, not mine, and "
            "nothing was done because of it."
        )
    if all(m["text"] and len(m["text"]) <= 210 and "\n" not in m["text"] for m in ordered):
        lines.append("(Built from previews only; ask for the full thread for more.)")
    return "\n".join(lines)


def _summary_header(ordered: list[MessageRef]) -> str:
    by_conversation = Counter(
        m.get("conversation") or normalised_subject(m["subject"]) for m in ordered
    )
    main_key = by_conversation.most_common(1)[0][0]
    main = next(
        m
        for m in ordered
        if (m.get("conversation") or normalised_subject(m["subject"])) == main_key
    )
    title = without_reply_prefix(main["subject"]) or "(no subject)"
    others = len(by_conversation) - 1
    related = f" and {others} related conversation{'s' if others > 1 else ''}" if others else ""
    people = list(dict.fromkeys(sender_name(m["sender"]) for m in ordered))
    named = ", ".join(people[:3]) + (f" and {len(people) - 3} others" if len(people) > 3 else "")
    days = sorted({iso_day(m["date"]) for m in ordered if m["date"]})
    span = days[0] if len(days) == 1 else f"{days[0]} to {days[-1]}" if days else "undated"
    count = len(ordered)
    noun = "message" if count == 1 else "messages"
    return f"Summary of {quoted(title)}{related} — {count} {noun} from {named}, {span}:"
