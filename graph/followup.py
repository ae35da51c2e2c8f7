"""Reference resolution: which message a follow-up ("the second one", "that invoice") means.

Resolution only looks at evidence already in the thread, newest first; when nothing there
fits, the turn is not treated as a follow-up and tools are chosen as usual.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from graph.engines.intents.phrases import pattern
from graph.state import Evidence, MessageRef
from tools.calendar.offered_slots import offered_slots
from tools.language.category_words import categories_of_noun
from tools.language.dates import (
    ENGLISH_MONTH_WORDS,
    ENGLISH_WEEKDAY_WORDS,
    ORDINAL,
    ORDINALS,
    RELATIVE_DAYS,
    WEEKDAY_NAMES,
)

_NOUN = r"(?:one|email|e-mail|message|mail|item)"
# "the second one", "third email", "the last?" — but not "the first quarter report".
_ORDINAL = re.compile(
    rf"\b(?:the\s+)?(?P<ord>{ORDINAL})\s+{_NOUN}\b"
    rf"|\bthe\s+(?P<ord2>{ORDINAL})\b(?=\s*(?:[?.!,;:]|$|please\b|say|is|was|about))"
    r"|(?:number|#|no\.)\s*(?P<num>\d{1,2})\b",
    re.IGNORECASE,
)
# "the one from Bob", "that invoice from Copperleaf", "the meeting request from Sofia".
_FROM = re.compile(
    r"\b(?:the|that|this)\s+(?:[a-z-]+\s+){0,2}?from\s+(?P<who>[\w.@+'-]+)",
    re.IGNORECASE,
)
_THAT_NOUN = re.compile(
    r"\b(?:that|this|the)\s+(?P<noun>invoice|bill|payment|meeting(?: request)?|newsletter|"
    r"bug(?: report)?|feature request|outage|incident|scam|ticket|review|order|quote|contract|"
    r"thread|reply)\b",
    re.IGNORECASE,
)
_PRONOUN = re.compile(
    r"\b(?:what does it say|what did (?:it|they|he|she) say|open it|read it|show (?:me )?it|"
    r"tell me more|more about (?:it|that)|full (?:text|message|email|body)|what(?:'s| is) in it|"
    r"summari[sz]e it|who sent it|when was it sent|reply to it|draft a reply to it|"
    r"the whole (?:thing|message)|(?:that|this) (?:one|e-?mail|mail|message|thread|conversation)|"
    r"(?:archive|snooze|trash|delete|flag|unflag|star|mark|move|file|unsubscribe from|block) "
    r"(?:it|that|this))\b",
    re.IGNORECASE,
)
SCHEDULING = pattern("scheduling")
"""Asking for a calendar event: after slots were offered, "the first one" means a slot."""
PROPOSING = pattern("proposing")
"""Asking for meeting slots, for a meeting request or in general."""
OFFER_TOOL = "propose_meeting_slots"
NOT_LISTINGS = frozenset({"get_conversation"})
"""Tools whose messages were never shown as a numbered list (a thread fetched to summarise):
"the second one" never means one of them."""
_ACTION = re.compile(
    r"\b(?:draft|reply|respond|send|forward|schedule|book|create|file|post|notify|share|raise|"
    r"comment|open an? (?:jira )?(?:ticket|issue)|"
    r"archive|snooze|trash|delete|flag|unflag|star|mark|move|unsubscribe|block|"
    r"add (?:[\w'-]+ ){0,8}to (?:the )?(?:hubspot|crm|jira)|"
    r"(?:status|look up)\b.{0,30}\b(?:jira|ticket|issue)|jira (?:status|issue|ticket))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Resolution:
    """The messages a turn refers to, and whether it asks for an action on them."""

    ids: tuple[str, ...]
    wants_action: bool
    how: str
    """Which pattern resolved it, for logs and Studio."""


def resolve_reference(
    text: str, evidence: Sequence[Evidence], last_citations: Sequence[str] = ()
) -> Resolution | None:
    """Resolve a follow-up against the thread's evidence; None when it is not one."""
    if not evidence:
        return None
    wants_action = bool(_ACTION.search(text) or PROPOSING.search(text))
    if SCHEDULING.search(text) and not _listed_after_offers(evidence):
        offered = offer_for(text, evidence)
        if offered is not None:
            # "schedule the first one" right after slots were offered: a slot of that offer.
            email_id = str(offered["args"].get("email_id") or "")
            return Resolution((email_id,), True, "offered slots") if email_id else None
    listing = _latest_listing(evidence)
    by_position = _by_ordinal(text, listing, wants_action)
    if by_position is not None:
        return by_position
    if _FROM.search(text):
        return _by_sender(text, evidence, wants_action)
    return _by_noun(text, evidence, wants_action) or _by_pronoun(
        text, listing, last_citations, wants_action
    )


def _by_ordinal(text: str, listing: list[MessageRef], wants_action: bool) -> Resolution | None:
    """A position in the latest listing: "the second one", "number 3"."""
    match = _ORDINAL.search(text)
    if not match or not listing:
        return None
    word = match.group("ord") or match.group("ord2")
    index = ORDINALS[word.lower()] if word else int(match.group("num"))
    position = index - 1 if index > 0 else len(listing) + index
    if 0 <= position < len(listing):
        return Resolution((listing[position]["id"],), wants_action, f"ordinal {index}")
    return None


def _by_sender(text: str, evidence: Sequence[Evidence], wants_action: bool) -> Resolution | None:
    """A sender's newest message shown, of the kind named if any ("the invoice from Copperleaf").

    A sender the thread has not shown yet: not a follow-up (None), so the engine searches.
    """
    match = _FROM.search(text)
    if match is None:
        return None
    who = match.group("who").casefold()
    # A whole word of the sender's name or address ("Ann" is not "Joanna"; "acme" is in
    # "bob@acme.example"), not any run of letters inside it.
    word = re.compile(rf"(?<![\w]){re.escape(who)}(?![\w])")
    theirs = [m for m in _recent_messages(evidence) if word.search(m["sender"].casefold())]
    named = _THAT_NOUN.search(text)
    wanted = categories_of_noun(named.group("noun").split()[0]) if named else ()
    preferred = [m for m in theirs if m.get("category") in wanted] or theirs
    if preferred:
        return Resolution((preferred[0]["id"],), wants_action, f"sender {who}")
    return None


def _by_noun(text: str, evidence: Sequence[Evidence], wants_action: bool) -> Resolution | None:
    """The newest message of a noun's categories or with it in the subject ("that invoice")."""
    match = _THAT_NOUN.search(text)
    if match is None:
        return None
    noun = match.group("noun").split()[0].lower()
    categories = categories_of_noun(noun)
    for message in _recent_messages(evidence):
        if message.get("category") in categories or noun in message["subject"].casefold():
            return Resolution((message["id"],), wants_action, f"noun {noun}")
    return None


def _by_pronoun(
    text: str, listing: list[MessageRef], last_citations: Sequence[str], wants_action: bool
) -> Resolution | None:
    """The message "it" means ("what does it say?"): the last cited, or the only one listed."""
    if not _PRONOUN.search(text):
        return None
    if last_citations and len(last_citations) == 1:
        return Resolution((last_citations[0],), wants_action, "pronoun: last cited message")
    if listing and len(listing) == 1:
        return Resolution((listing[0]["id"],), wants_action, "pronoun: only message listed")
    if last_citations:
        return Resolution((last_citations[0],), wants_action, "pronoun: first cited message")
    return None


def has_full_copy(message_id: str, evidence: Sequence[Evidence]) -> bool:
    """True when the thread already holds the complete text of the message."""
    return any(
        record["completeness"] == "COMPLETE"
        and not record["error"]
        and any(m["id"] == message_id for m in record["messages"])
        for record in evidence
    )


def _listed_after_offers(evidence: Sequence[Evidence]) -> bool:
    """Whether messages were listed after the newest slot offer (then ordinals mean mail)."""
    for record in reversed(evidence):
        if record["error"] or record["tool"] in NOT_LISTINGS:
            continue
        if record["tool"] == OFFER_TOOL:
            return False
        if record["messages"] and (
            len(record["messages"]) > 1 or record["completeness"] == "PREVIEW"
        ):
            return True
    return False


_NAMED = re.compile(r"\b(?:from|for|with|of)\s+(?P<who>[^\W\d_][\w.@'-]{2,})", re.IGNORECASE)
NOT_NAMED = frozenset(
    """the that this them him her me us you it its my your our a an one all any some today
    tomorrow next""".split()
) | frozenset(WEEKDAY_NAMES)


def offer_for(text: str, evidence: Sequence[Evidence]) -> Evidence | None:
    """The slot offer a scheduling request means, or None.

    The offer whose request the user names (a word of its attendees or title: "for Sofia",
    "the workshop"), newest first; when they name nobody, the first offer of the newest turn
    that offered any (in a triage run, the most important meeting request). Someone named
    who has no offer yet (None): their request must be found first.
    """
    offers = [r for r in evidence if r["tool"] == OFFER_TOOL and not r["error"]]
    if not offers:
        return None
    words = {w.casefold() for w in re.findall(r"[^\W\d_]{3,}", text)} - _NOT_ABOUT
    for record in sorted(offers, key=lambda r: -r["turn"]):
        if words & {w.casefold() for w in re.findall(r"[^\W\d_]{3,}", _offer_about(record))}:
            return record
    who = _NAMED.search(text)
    if who and who.group("who").casefold() not in NOT_NAMED:
        return None
    newest = max(r["turn"] for r in offers)
    return next(r for r in offers if r["turn"] == newest)


_NOT_ABOUT = (
    frozenset(
        """schedule book reserve create send put add invite invitation event meeting request call
        slot slots one the and for with from that this calendar please option number time times
        next week min minutes hour hours""".split()
    )
    | frozenset(ORDINALS)
    | ENGLISH_WEEKDAY_WORDS
    | ENGLISH_MONTH_WORDS
    | frozenset(RELATIVE_DAYS)
)
"""Words of a scheduling request that say what to do or when, not which request it is about
(a title may well name a day: "Workshop, Thursday 26 Nov")."""


def _offer_about(record: Evidence) -> str:
    """The title and attendees of an offer, from its structured data.

    An offer saved without data (an older thread) names nobody: it is only chosen as the
    newest, and its slots are proposed again.
    """
    offer = offered_slots(record.get("data"))
    return f"{offer.title} {offer.attendees}" if offer is not None else ""


def _latest_listing(evidence: Sequence[Evidence]) -> list[MessageRef]:
    for record in reversed(evidence):
        messages: list[MessageRef] = record["messages"]
        if record["tool"] in NOT_LISTINGS or not messages or record["error"]:
            continue
        if len(messages) > 1 or record["completeness"] == "PREVIEW":
            return messages
    return []


def _recent_messages(evidence: Sequence[Evidence]) -> list[MessageRef]:
    seen: dict[str, MessageRef] = {}
    for record in reversed(evidence):
        for message in record["messages"]:
            seen.setdefault(message["id"], message)
    return list(seen.values())
