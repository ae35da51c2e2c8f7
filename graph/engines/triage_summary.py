"""The answer of a triage run: what it found, by conversation, and what needs the user.

A person works through conversations, not messages: an incident and its "resolved" update
are one thing, in the state of the update. `classify` puts the conversations of the new mail
in its evidence, each as it stands now (`tools.mail.conversation_triage`); this summary counts
them and cites each that needs the user by its latest message.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from graph.state import Evidence, MessageRef, TriageRow
from tools.mail.message_refs import account_tag


def triage_summary(rows: Sequence[TriageRow], evidence: Sequence[Evidence]) -> str:
    """What a triage run found, by conversation, and the conversations that need the user.

    The counts are of conversations as they stand now (`rows` are this run's messages); each
    that needs the user (high priority, not answered) is cited by its latest message.
    """
    if not rows:
        return "No new mail to triage since the last check."
    found, total = _triaged_conversations(evidence)
    conversations: list[Mapping[str, Any]] = list(found)
    if not conversations:  # a run from before conversations were in its evidence: one each
        conversations, total = list(rows), len(rows)
    current = [c for c in conversations if not c.get("answered")]
    by_priority = Counter(c.get("priority") for c in current)
    by_category = Counter(c.get("category") for c in current)
    unreadable = sum(1 for c in current if c.get("category") == "unreadable")
    answered = len(conversations) - len(current)
    more = "+" if len(rows) >= 100 else ""
    counts = [f"{by_priority[p]} {p}" for p in ("high", "normal", "low") if by_priority[p]]
    counts += [f"{unreadable} unreadable"] * bool(unreadable)
    counts += [f"{answered} answered by you"] * bool(answered)
    noun = "conversation" if total == 1 else "conversations"
    lines = [
        f"Triaged {len(rows)}{more} new message(s) in {total} {noun}: " + ", ".join(counts),
        "By category: " + ", ".join(f"{c} {n}" for c, n in by_category.most_common()),
    ]
    needs = [c for c in current if c.get("priority") == "high"]
    if needs:
        one = len(needs) == 1
        lines.append(f"{len(needs)} {'conversation needs' if one else 'conversations need'} you:")
        lines.extend(_needs_you_line(c) for c in needs)
    return "\n".join(lines)


def _triaged_conversations(evidence: Sequence[Evidence]) -> tuple[list[MessageRef], int]:
    """The latest triage run's conversations (the most important first) and their count."""
    record = next((r for r in reversed(evidence) if r["tool"] == "triage"), None)
    if record is None or not record["args"].get("conversations"):
        return [], 0
    return list(record["messages"]), int(record["args"]["conversations"])


def _needs_you_line(conversation: Mapping[str, Any]) -> str:
    size = conversation.get("thread_size", 1)
    messages = f" ({size} messages)" if size > 1 else ""
    return (
        f"- {conversation['subject'] or '(no subject)'} — "
        f"{account_tag(conversation)}{conversation['sender']}{messages}"
        f" [msg:{conversation['id']}]\n  {conversation.get('reason', '')}"
    )
