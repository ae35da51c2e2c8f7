"""Answers composed from the evidence by templates: grounded by construction.

The offline engine answers with these, and they are the safe answer any engine falls back
to when its own draft fails the grounding check twice.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from graph.engines.base import AnswerRequest
from graph.grounding import iso_day
from graph.state import Decision, Evidence, Executed, MessageRef

FULL_BODY_LIMIT = 3000
ABOUT_A_MESSAGE = frozenset({"propose_meeting_slots"})
"""Tools whose text answers about one message, named by their `email_id` argument."""


def compose_answer(request: AnswerRequest) -> str:
    """Build the reply to the user from the evidence of this turn."""
    parts: list[str] = []
    if request.mode == "triage":
        parts.append(_triage_summary(request))
    focus = _focused_messages(request)
    if focus:
        parts.extend(_full_message(m) for m in focus)
    else:
        turn = _turn_evidence(request)
        for record in turn:
            if record["error"]:
                continue
            if record["tool"] in ABOUT_A_MESSAGE:
                parts.append(_about_message(record, request.evidence))
            elif record["messages"]:
                parts.append(_listing(record))
            elif record["content"]:
                parts.append(record["content"])
        if not turn and request.mode == "chat":
            parts.append("I did not look anything up for that, so I have nothing to report.")
    parts.extend(_failures(request))
    return "\n\n".join(p for p in parts if p).strip()


def _about_message(record: Evidence, evidence: list[Evidence]) -> str:
    """A result about one message (slots for a meeting request): its text, citing the message.

    The message is cited only when the thread's evidence shows it (a citation must be
    checkable); the text itself names its id either way.
    """
    about = str(record["args"].get("email_id") or "")
    for other in reversed(evidence):
        message = next((m for m in other["messages"] if m["id"] == about), None)
        if message is not None:
            title = message["subject"] or "(no subject)"
            return f"**{title}** — {message['sender']} [msg:{about}]\n{record['content']}"
    return record["content"]


def _turn_evidence(request: AnswerRequest) -> list[Evidence]:
    ids = {e["evidence_id"] for e in request.executed}
    return [record for record in request.evidence if record["id"] in ids]


def _focused_messages(request: AnswerRequest) -> list[MessageRef]:
    """Full copies of the messages the user asked about, newest evidence first."""
    found: list[MessageRef] = []
    for message_id in request.focus_ids:
        for record in reversed(request.evidence):
            if record["completeness"] != "COMPLETE" or record["error"]:
                continue
            match = next((m for m in record["messages"] if m["id"] == message_id), None)
            if match:
                found.append(match)
                break
    return found


def _full_message(message: MessageRef) -> str:
    text = message["text"]
    if len(text) > FULL_BODY_LIMIT:
        text = text[:FULL_BODY_LIMIT].rstrip() + (
            f"\n[… {len(message['text']) - FULL_BODY_LIMIT} more characters not shown]"
        )
    lines = [
        f"**{message['subject'] or '(no subject)'}** [msg:{message['id']}]",
        f"From: {message['sender']}",
        f"Date: {message['date'] or 'unknown'}",
    ]
    if message.get("reply_to"):
        lines.append(f"Reply-To: {message['reply_to']} (differs from the sender)")
    if message.get("attachments"):
        lines.append("Attachments: " + "; ".join(message["attachments"]))
    if message.get("priority"):
        lines.append(f"Triage: {message['priority']} priority, {message['category']}")
    lines.append("")
    lines.append(text)
    return "\n".join(lines)


def _listing(record: Evidence) -> str:
    messages = record["messages"]
    header = _listing_header(record, len(messages))
    rows = []
    for n, message in enumerate(messages, 1):
        tag = f"[{message['priority']}] " if message.get("priority") else ""
        when = iso_day(message["date"]) if message["date"] else "undated"
        line = f"{n}. {tag}{message['subject'] or '(no subject)'} — {message['sender']}, {when} [msg:{message['id']}]"
        detail = message.get("reason") or message["text"]
        if detail:
            line += f"\n   {detail}"
        rows.append(line)
    return header + "\n" + "\n".join(rows)


def _listing_header(record: Evidence, count: int) -> str:
    args: dict[str, Any] = record["args"]
    what = []
    if args.get("priority"):
        what.append(f"{args['priority']} priority")
    if args.get("category"):
        what.append(str(args["category"]).replace("_", " "))
    if args.get("sender"):
        what.append(f"sent by {args['sender']}")
    if args.get("query"):
        what.append(f"matching {args['query']!r}")
    label = ", ".join(what) if what else "in the inbox"
    noun = "message" if count == 1 else "messages"
    return f"{count} {noun} ({label}), previews only:"


def _triage_summary(request: AnswerRequest) -> str:
    rows = request.triage
    if not rows:
        return "No new mail to triage since the last check."
    by_priority = Counter(row["priority"] for row in rows)
    by_category = Counter(row["category"] for row in rows)
    unreadable = sum(1 for row in rows if row.get("error"))
    lines = [
        f"Triaged {len(rows)}{'+' if len(rows) >= 100 else ''} new message(s): "
        + ", ".join(f"{by_priority[p]} {p}" for p in ("high", "normal", "low") if by_priority[p])
        + (f", {unreadable} unreadable" if unreadable else ""),
        "By category: " + ", ".join(f"{c} {n}" for c, n in by_category.most_common()),
    ]
    high = [row for row in rows if row["priority"] == "high"]
    if high:
        lines.append("Needs attention:")
        lines.extend(
            f"- {row['subject'] or '(no subject)'} — {row['sender']} [msg:{row['id']}]\n  {row['reason']}"
            for row in high
        )
    return "\n".join(lines)


def _failures(request: AnswerRequest) -> list[str]:
    notes = []
    for record in _turn_evidence(request):
        if record["error"]:
            notes.append(
                f"The {record['tool']} call failed: {record['error']}. "
                "I have no data from it and will not guess what it would have returned."
            )
    if request.fetch_errors:
        notes.append(
            f"{len(request.fetch_errors)} message(s) could not be read: "
            + "; ".join(f"{e['key']}: {e['error']}" for e in request.fetch_errors)
        )
    return notes


def outcome_notes(decisions: list[Decision], executed: list[Executed]) -> list[str]:
    """What the user must know about calls that did not run or may have run, written by code."""
    notes = []
    for decision in decisions:
        if decision["type"] == "ignore":
            args = decision["args"]
            target = args.get("to") or args.get("email_id") or args.get("title") or ""
            detail = f" ({target})" if target else ""
            notes.append(f"Not done: you declined `{decision['action']}`{detail}.")
    for done in executed:
        if done["status"] == "unknown":
            notes.append(
                f"May have happened: `{done['action']}` was started before an interruption and "
                "its outcome is unknown; it was not run again. Check before retrying."
            )
    return notes
