"""The plan for "summarize …": find the conversation the user means, then fetch it whole.

Several turns of one plan: a search (by sender, else by the topic's words), a retry with the
longest word when a multi-word search finds nothing, then every message of the best-matching
conversations.
"""

from __future__ import annotations

import re

from graph.engines.base import ProposedCall, ToolPlanRequest
from graph.engines.intents.mail_plans import overview
from graph.engines.intents.user_words import FROM, STOPWORDS, SUMMARY, clean, offers, ran
from graph.state import MessageRef
from tools.language.category_words import categories_named
from tools.mail.conversations import normalised_subject

SUMMARY_WORDS = frozenset(
    """summarize summarise summary summarizing summarising recap tldr tl dr catch up brief fill
    happened status latest story thread threads conversation conversations discussion
    situation everything going said say says whole""".split()
)
"""Words of a summary request that say what to do, not what it is about."""
SEARCH_TOOLS = ("search_emails", "list_inbox", "list_conversations")


def _summary_topic(text: str) -> tuple[str, set[str]]:
    """The words a summary is about, and the triage categories its nouns name ("incident").

    Words that only name a category ("the overdue invoice") are searched for too when
    nothing else names the topic.
    """
    match = SUMMARY.search(text)
    rest = text[match.end() :] if match else text
    categories: set[str] = set()
    words: list[str] = []
    kinds: list[str] = []
    for word in re.findall(r"[\w@.'-]+", rest):
        word = clean(word)
        lowered = word.lower()
        if not word or lowered in STOPWORDS or lowered in SUMMARY_WORDS:
            continue
        named = set(categories_named(lowered))
        categories |= named
        (kinds if named else words).append(word)
    return " ".join(words or kinds)[:80], categories


def _found(request: ToolPlanRequest) -> list[MessageRef]:
    return [
        m
        for record in request.turn_evidence
        if record["tool"] in SEARCH_TOOLS and not record["error"]
        for m in record["messages"]
    ]


def _threads_about(
    messages: list[MessageRef], words: list[str], categories: set[str]
) -> list[MessageRef]:
    """The newest message of each best-matching conversation (at most three, ties kept)."""
    best: dict[str, tuple[int, MessageRef]] = {}
    for message in messages:
        subject, text = message["subject"].casefold(), message["text"].casefold()
        sender = message["sender"].casefold()
        score = sum(3 if w in subject or w in sender else 1 if w in text else 0 for w in words)
        score += 2 if message.get("category") in categories else 0
        key = message.get("conversation") or normalised_subject(message["subject"]) or message["id"]
        if key not in best or score > best[key][0]:
            best[key] = (score, message)
    top = max((score for score, _ in best.values()), default=0)
    if top <= 0:
        return []
    return [message for score, message in best.values() if score == top][:3]


def _first_search(request: ToolPlanRequest, words: str, categories: set[str]) -> list[ProposedCall]:
    """By the sender named, else by the topic's words, else the category's conversations."""
    who = FROM.search(request.user_text)
    sender = clean(who.group("who")) if who else ""
    if sender and sender.lower() not in STOPWORDS:
        return [ProposedCall("search_emails", {"sender": sender, "limit": 25})]
    if words:
        return [ProposedCall("search_emails", {"query": words, "limit": 25})]
    if categories:
        category = sorted(categories)[0]
        return [ProposedCall("list_conversations", {"category": category, "limit": 10})]
    return overview(request)


def summary(request: ToolPlanRequest) -> list[ProposedCall]:
    """Find the conversation the user means, then fetch it whole; no topic: an overview."""
    if ran(request, "get_conversation"):
        return []
    if not offers(request, "get_conversation"):
        return overview(request)
    if request.focus:
        return [ProposedCall("get_conversation", {"email_id": request.focus[0]["id"]})]
    words, categories = _summary_topic(request.user_text)
    searches = [r for r in request.turn_evidence if r["tool"] == "search_emails"]
    if not searches:
        return _first_search(request, words, categories)
    found = _found(request)
    terms = [w.casefold() for w in words.split()]
    if not found and len(terms) > 1 and len(searches) == 1:
        return [ProposedCall("search_emails", {"query": max(terms, key=len), "limit": 25})]
    threads = _threads_about(found, terms, categories)
    return [ProposedCall("get_conversation", {"email_id": m["id"]}) for m in threads]
