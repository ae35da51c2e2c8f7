"""Plans for clearing the inbox: archive, trash, mark read or done, flag, move, snooze, undo.

Which conversations: a plural kind of mail ("the newsletters", "all the receipts", "the GitHub
notifications"), "everything from X" or "them" (the last listing) is every matching
conversation, found by a read-only search first and then put on ONE card, one id each; "that
thread", "the first one" or "the invoice from Vireo" is one. The tools act on the whole
conversation of each id. A suspicious mail is never offered an unsubscribe: its link is the
attack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from graph.engines.base import ProposedCall, ToolPlanRequest
from graph.engines.intents.phrases import pattern
from graph.engines.intents.user_words import FROM, STOPWORDS, clean, mail_or_search, ran
from graph.engines.intents.wake_times import wake_time
from graph.state import Evidence, MessageRef
from tools.language.addresses import ADDRESS
from tools.mail.conversations import normalised_subject

SEARCHES = ("search_emails", "list_conversations", "list_inbox")
"""The read-only calls that find what a bulk action is about."""
_BULK = pattern("inbox_bulk")
_READ = pattern("inbox_read")
_FLAG = pattern("inbox_flag")
_MOVE = pattern("inbox_move")
_UNTIL = pattern("inbox_until")
_BLOCK = pattern("inbox_block")
DEFAULT_SNOOZE = "tomorrow"
"""When a snooze without a time ends: tomorrow at the start of the morning."""
_SENDER_BEFORE = re.compile(
    r"\b(?:the|my|all|all\s+the)\s+(?P<who>[A-Z][\w.@-]*)\s+(?:newsletters|digests|receipts|"
    r"notifications|pitches|promotions|e-?mails|mails|messages)\b"
)


@dataclass(frozen=True)
class Kind:
    """A kind of mail a person names in the plural, and how to find it."""

    category: str = ""
    """The triage category it is, when it is one."""
    words: str = ""
    """Words to search for, when it is not a category."""


KINDS: dict[str, Kind] = {
    "newsletters": Kind(category="newsletter"),
    "digests": Kind(category="newsletter"),
    "promotions": Kind(category="newsletter"),
    "notifications": Kind(category="notification"),
    "pitches": Kind(category="spam_or_cold"),
    "receipts": Kind(words="receipt"),
}
"""The plural kinds of mail a bulk action names; any other plural ("emails") is every kind."""


@dataclass(frozen=True)
class Selection:
    """What a bulk action is about: a kind of mail, a sender, or the last listing."""

    kind: Kind | None
    sender: str

    def search(self) -> ProposedCall | None:
        """The read-only call that finds the conversations, or None: the last listing."""
        if self.sender:
            return ProposedCall("search_emails", {"sender": self.sender, "limit": 50})
        if self.kind is not None and self.kind.category:
            return ProposedCall("list_inbox", {"category": self.kind.category, "limit": 50})
        if self.kind is not None and self.kind.words:
            return ProposedCall("search_emails", {"query": self.kind.words, "limit": 50})
        return None

    def keeps(self, message: MessageRef) -> bool:
        """Whether a message found is still in the inbox and of the category named, if any."""
        if message.get("folder"):
            return False
        if self.kind is None or not self.kind.category or not self.sender:
            return True
        return message.get("category") == self.kind.category


def _selection(text: str) -> Selection | None:
    """The bulk selection the words make, or None when they mean one conversation."""
    found = _BULK.search(text)
    if found is None:
        return None
    kind_word = next((m.group("kind").lower() for m in _BULK.finditer(text) if m.group("kind")), "")
    kind = KINDS.get(kind_word)
    sender = ""
    who = FROM.search(text)
    if who and clean(who.group("who")).lower() not in STOPWORDS:
        sender = clean(who.group("who"))
    else:
        named = _SENDER_BEFORE.search(text)
        if named and named.group("who").lower() not in STOPWORDS:
            sender = named.group("who")
    return Selection(kind, sender)


def _conversation_key(message: MessageRef) -> str:
    return message.get("conversation") or normalised_subject(message["subject"]) or message["id"]


def _one_per_conversation(messages: list[MessageRef]) -> list[str]:
    """One id per conversation, in the order found (the tools act on the whole conversation)."""
    seen: dict[str, str] = {}
    for message in messages:
        seen.setdefault(_conversation_key(message), message["id"])
    return list(seen.values())


def _last_listing(records: list[Evidence]) -> list[MessageRef]:
    """The messages of the newest listing of the thread ("archive them")."""
    for record in reversed(records):
        if record["tool"] in SEARCHES and not record["error"] and record["messages"]:
            return list(record["messages"])
    return []


def _found_this_turn(request: ToolPlanRequest) -> list[MessageRef] | None:
    """The messages this turn's search found (None when it has not searched yet)."""
    records = [r for r in request.turn_evidence if r["tool"] in SEARCHES]
    if not records:
        return None
    return [m for r in records if not r["error"] for m in r["messages"]]


def targets(request: ToolPlanRequest, words: str = "") -> tuple[list[str], list[ProposedCall]]:
    """The ids to act on (one per conversation), or the search to run first.

    `words` are the part of the request that names the mail (not the folder or the time).
    """
    selection = _selection(words or request.user_text)
    if selection is None:
        target, first = mail_or_search(request)
        return ([target["id"]] if target is not None else []), first
    search = selection.search()
    if search is None:
        found = _found_this_turn(request)
        listed = found if found is not None else _last_listing(request.evidence)
        return _one_per_conversation([m for m in listed if not m.get("folder")]), []
    found = _found_this_turn(request)
    if found is None:
        return [], [search]
    return _one_per_conversation([m for m in found if selection.keeps(m)]), []


def _acting(
    request: ToolPlanRequest, tool: str, extra: dict[str, Any], words: str = ""
) -> list[ProposedCall]:
    """`tool` on every conversation meant, once per turn; the search first when needed."""
    if ran(request, tool):
        return []
    ids, first = targets(request, words)
    if first:
        return first
    return [ProposedCall(tool, {"message_ids": ids, **extra})] if ids else []


def archive(request: ToolPlanRequest) -> list[ProposedCall]:
    """Archive the conversations meant."""
    return _acting(request, "archive_conversations", {})


def trash(request: ToolPlanRequest) -> list[ProposedCall]:
    """Move the conversations meant to Trash (never deleted outright)."""
    return _acting(request, "trash_conversations", {})


def mark_done(request: ToolPlanRequest) -> list[ProposedCall]:
    """Archive the conversations meant and remember them as done."""
    return _acting(request, "mark_done", {})


def mark_read(request: ToolPlanRequest) -> list[ProposedCall]:
    """Mark the conversations meant read ("unread" marks them unread)."""
    found = _READ.search(request.user_text)
    unread = bool(found and found.group("unread"))
    return _acting(request, "mark_read", {"read": False} if unread else {})


def flag(request: ToolPlanRequest) -> list[ProposedCall]:
    """Flag the conversations meant ("unflag" clears the flag)."""
    found = _FLAG.search(request.user_text)
    unflag = bool(found and found.group("unflag"))
    return _acting(request, "flag_messages", {"flagged": False} if unflag else {})


def move_to_folder(request: ToolPlanRequest) -> list[ProposedCall]:
    """Move the conversations meant to the folder named (it must exist; the tool says if not)."""
    found = _MOVE.search(request.user_text)
    if found is None:
        return []
    folder = found.group("folder").strip()
    return _acting(request, "move_to_folder", {"folder": folder}, found.group("what"))


def snooze(request: ToolPlanRequest) -> list[ProposedCall]:
    """Snooze the conversation meant until the time named, in the user's zone.

    A time said back on the card ("Reply": "monday") wins; with no time named, tomorrow
    morning (the card says when); a time named that has passed proposes nothing.
    """
    now = request.now or datetime.now().astimezone()
    until_words = _UNTIL.search(request.user_text)
    words = request.user_text[: until_words.start()] if until_words else ""
    said_back = [t for text in request.feedback if (t := wake_time(text, now)) is not None]
    if said_back:
        until: datetime | None = said_back[-1]
    elif until_words:
        until = wake_time(until_words.group(0), now)
    else:
        until = wake_time(DEFAULT_SNOOZE, now)
    if until is None:
        return []
    return _acting(request, "snooze_conversations", {"until": until.isoformat()}, words)


def undo_inbox_action(request: ToolPlanRequest) -> list[ProposedCall]:
    """Reverse the thread's last inbox action (the card says which)."""
    return [] if ran(request, "undo_inbox_action") else [ProposedCall("undo_inbox_action", {})]


def unsubscribe(request: ToolPlanRequest) -> list[ProposedCall]:
    """Unsubscribe from the list of the mail meant; never for a suspicious one."""
    if ran(request, "unsubscribe"):
        return []
    target, first = mail_or_search(request)
    if first:
        return first
    if target is None and not request.focus:
        found = _found_this_turn(request) or []
        target = found[0] if found else None
    if target is None or is_suspicious(target):
        return []
    return [ProposedCall("unsubscribe", {"message_id": target["id"]})]


def is_suspicious(message: MessageRef) -> bool:
    """Whether the triage warned about the mail (phishing, fraud): its links are not followed."""
    return bool(message.get("suspicious"))


def block_sender(request: ToolPlanRequest) -> list[ProposedCall]:
    """Block the address typed, else the sender of the mail meant."""
    if ran(request, "block_sender"):
        return []
    typed = ADDRESS.search(request.user_text)
    if typed:
        return [ProposedCall("block_sender", {"address": typed.group(0).lower()})]
    target = request.focus[0] if request.focus else None
    if target is None:
        who = _BLOCK.search(request.user_text)
        name = clean(who.group("who")) if who else ""
        if not name or name.lower() in STOPWORDS | {"sender", "them", "him", "her"}:
            return []
        if not ran(request, "search_emails"):
            return [ProposedCall("search_emails", {"sender": name, "limit": 5})]
        found = _found_this_turn(request) or []
        target = found[0] if found else None
    address = ADDRESS.search(target["sender"]) if target is not None else None
    return [ProposedCall("block_sender", {"address": address.group(0).lower()})] if address else []
