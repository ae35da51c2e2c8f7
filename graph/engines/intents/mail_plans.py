"""Plans for mail questions: write, reply, send, list by priority, sender, topic or category.

Each plan takes the request and returns the calls to propose (none when the words do not say
enough); which plan runs is decided by `intents.toml`.
"""

from __future__ import annotations

import re

from graph.engines.base import ProposedCall, ToolPlanRequest
from graph.engines.followup_answers import AWAITED_LISTING, nudge_body
from graph.engines.intents.phrases import pattern
from graph.engines.intents.user_words import (
    FROM,
    SAYING,
    STOPWORDS,
    clean,
    keywords,
    mail_or_search,
    offers,
    ran,
)
from graph.reply_checks import reply_body
from graph.state import MessageRef
from tools.language.category_words import categories_named

WRITING_TOOLS = ("save_draft", "reply_to_email")
_SEND = pattern("send")
_SEND_ACCOUNT = pattern("send_account")
_ABOUT = pattern("about")
_NUDGE = pattern("nudge")
_PRONOUNS = frozenset({"him", "her", "them", "everyone", "everybody", "people", "up"})


def _written(request: ToolPlanRequest) -> bool:
    """Whether this turn already wrote the mail (the reply is not proposed a second time).

    The body holds the sign-off of the process that proposed it; one resumed elsewhere may
    sign differently, so "already done" is judged by the tool, not by equal arguments.
    """
    return any(ran(request, tool) for tool in WRITING_TOOLS)


def _reply_parts(request: ToolPlanRequest) -> tuple[MessageRef | None, str, list[ProposedCall]]:
    """The message to answer, the words to say, or a search to find the message first."""
    saying = SAYING.search(request.user_text)
    body = saying.group("body").strip().strip("\"'") if saying else ""
    target, first = mail_or_search(request)
    return target, body, first


def draft_reply(request: ToolPlanRequest) -> list[ProposedCall]:
    """A draft answering the mail meant, with the user's words."""
    if _written(request):
        return []
    target, words, first = _reply_parts(request)
    if first or target is None or not words:
        return first
    body = reply_body(target["sender"], words, sender=request.sender)
    return [ProposedCall("save_draft", {"in_reply_to_id": target["id"], "body": body})]


def reply(request: ToolPlanRequest) -> list[ProposedCall]:
    """Reply by message id (the tool derives recipient and subject); a draft when sending is off.

    The body is the whole mail (greeting, the user's words, their sign-off), so the card
    shows exactly what will be sent and an edit there is final.
    """
    if _written(request):
        return []
    target, words, first = _reply_parts(request)
    if first or target is None or not words:
        return first
    body = reply_body(target["sender"], words, sender=request.sender)
    if offers(request, "reply_to_email"):
        return [ProposedCall("reply_to_email", {"email_id": target["id"], "body": body})]
    return [ProposedCall("save_draft", {"in_reply_to_id": target["id"], "body": body})]


def send(request: ToolPlanRequest) -> list[ProposedCall]:
    """A new mail to the address typed, saying what the user said."""
    match = _SEND.search(request.user_text)
    saying = SAYING.search(request.user_text)
    if not match or not saying:
        return []
    body = saying.group("body").strip().strip("\"'")
    about = re.search(
        r"\babout\s+(?P<what>[^,.;]+?)(?:\s+(?:saying|say|to say)\b|$)", request.user_text
    )
    subject = about.group("what").strip() if about else body.split(".")[0][:60]
    args = {"to": match.group("to"), "subject": subject, "body": body}
    tool = "send_email" if offers(request, "send_email") else "save_draft"
    # Only what the user said before their words: "saying I'm on my work account" names none.
    account = _SEND_ACCOUNT.search(request.user_text[: saying.start()])
    if account:  # a new draft is kept by the account it is written from, like a sent mail
        args["account"] = account.group("account")
    return [ProposedCall(tool, args)]


def outbox(request: ToolPlanRequest) -> list[ProposedCall]:
    """What the demo "sent"."""
    return [ProposedCall("list_outbox", {"limit": 10})]


def awaiting_reply(request: ToolPlanRequest) -> list[ProposedCall]:
    """Conversations where a person waits on the user's reply (every one, the answer shortens)."""
    return [ProposedCall("list_awaiting_reply", {"limit": 30})]


def awaiting_their_reply(request: ToolPlanRequest) -> list[ProposedCall]:
    """Conversations where the user waits on someone else's reply."""
    return [ProposedCall(AWAITED_LISTING, {"limit": 30})]


def nudge(request: ToolPlanRequest) -> list[ProposedCall]:
    """A follow-up draft in the conversation where the person named owes the user a reply.

    First the awaited conversations with that person; then, when there is one, a draft
    answering the user's own question there (to the people it asked), quoting it. When
    nothing is awaited from them, no draft: the answer says so.
    """
    match = _NUDGE.search(request.user_text)
    named = next((g for g in match.groups() if g), "") if match else ""
    who = clean(named)
    if _written(request) or not who or who.lower() in STOPWORDS | _PRONOUNS:
        return []
    found = [r for r in request.turn_evidence if r["tool"] == AWAITED_LISTING and not r["error"]]
    if not found:
        return [ProposedCall(AWAITED_LISTING, {"person": who, "limit": 5})]
    messages = found[-1]["messages"]
    if not messages:
        return []
    asked = messages[0]
    body = nudge_body(asked, sender=request.sender)
    args = {"in_reply_to_id": asked["id"], "to": asked.get("to", ""), "body": body}
    return [ProposedCall("save_draft", args)]


def attention(request: ToolPlanRequest) -> list[ProposedCall]:
    """The high-priority conversations (messages, where the conversation tools are missing)."""
    if offers(request, "list_conversations"):
        return [ProposedCall("list_conversations", {"priority": "high", "limit": 10})]
    return [ProposedCall("list_inbox", {"priority": "high", "limit": 10})]


def overview(request: ToolPlanRequest) -> list[ProposedCall]:
    """The conversations (or messages) of the inbox."""
    if offers(request, "list_conversations"):
        return [ProposedCall("list_conversations", {"limit": 10})]
    return [ProposedCall("list_inbox", {"limit": 15})]


def from_sender(request: ToolPlanRequest) -> list[ProposedCall]:
    """The mail of the sender named after "from"."""
    match = FROM.search(request.user_text)
    sender = clean(match.group("who")) if match else ""
    if not sender or sender.lower() in STOPWORDS:
        return []
    return [ProposedCall("search_emails", {"sender": sender, "limit": 10})]


def about(request: ToolPlanRequest) -> list[ProposedCall]:
    """A search for the words after "about", "regarding", "find" …."""
    match = _ABOUT.search(request.user_text)
    query = keywords(match.group("what")) if match else ""
    return [ProposedCall("search_emails", {"query": query, "limit": 10})] if query else []


def category(request: ToolPlanRequest) -> list[ProposedCall]:
    """The mail of the first triage category the words name ("invoices": billing)."""
    named = categories_named(request.user_text)
    return [ProposedCall("list_inbox", {"category": named[0], "limit": 10})] if named else []


def search(request: ToolPlanRequest) -> list[ProposedCall]:
    """A word search of the mailbox; the newest mail when no word is worth searching."""
    query = keywords(request.user_text)
    if query:
        return [ProposedCall("search_emails", {"query": query, "limit": 10})]
    return [ProposedCall("list_inbox", {"limit": 10})]
