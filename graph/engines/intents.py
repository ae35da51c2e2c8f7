"""Intent patterns: how the offline engine turns a user's words into tool calls.

A table of patterns, tried in order; the first that matches decides. It understands the
common inbox questions, the calendar (free/busy, slots for a meeting request, booking one of
them) and requests for the work tools (Jira, Slack, Teams, HubSpot); anything else becomes a
word search of the mailbox.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from graph.engines.base import ProposedCall, ToolPlanRequest
from graph.followup import ORDINALS, PROPOSING, SCHEDULING, offer_for
from graph.reply_checks import reply_body
from graph.state import MessageRef
from tools.calendar.meeting_request import OfferedSlot, OfferedSlots, read_offered_slots
from tools.mail.conversations import normalised_subject

CATEGORY_WORDS: list[tuple[str, str]] = [
    (r"invoice|bill(?:ing|s)?\b|payment|overdue|receipt", "billing"),
    (r"meeting|call\b|calendar|schedul", "meeting_request"),
    (r"\bbugs?\b|crash|error report|broken", "bug_report"),
    (r"feature|enhancement|wishlist", "feature_request"),
    (r"newsletter|digest|unsubscribe", "newsletter"),
    (r"notification|pull request|\bprs?\b|code review|jira|\bci\b", "notification"),
    (r"sales|lead|pricing|quote|prospect", "sales_inquiry"),
    (r"spam|scam|phishing|cold (?:email|outreach)", "spam_or_cold"),
    (r"personal|family|friend", "personal"),
    (r"outage|incident|\bdown\b|on-?call|production", "urgent_incident"),
]

STOPWORDS = frozenset(
    """a an the and or of to in on for with about from by me my i you your is are was were be
    it its this that these those what which who whom whose when where why how any some all
    do does did show find search look list give tell get email emails mail mails message messages
    inbox please can could would should there their them they have has had any anything
    new latest recent today week need needs my attention""".split()
)

_DRAFT = re.compile(r"\bdraft\b", re.IGNORECASE)
_FIND_DRAFT = re.compile(
    r"\b(?:find|show|search|list|open|look(?:ing)?|where(?:'s| is| are))\s+(?:me\s+)?(?:for\s+)?"
    r"(?:my|the|our)\s+drafts?\b",
    re.IGNORECASE,
)
"""Asking for a draft already written ("find my draft to Sofia") is a search, not a new draft."""
_SAYING = re.compile(
    r"\b(?:saying|say|that says|telling (?:them|him|her)|to say)\b[:,]?\s*(?P<body>.+)$",
    re.IGNORECASE | re.DOTALL,
)
_FROM = re.compile(r"\bfrom\s+(?P<who>[\w.@+'-]+(?:\s+(?-i:[A-Z])[\w'-]+)?)", re.IGNORECASE)
_REPLY = re.compile(r"\b(?:reply|respond|answer|write back)\b", re.IGNORECASE)
_SEND = re.compile(
    r"\b(?:send|e-?mail|write)\b(?:\s+(?:an?|the))?(?:\s+(?:e-?mail|mail|message|note))?\s+to\s+"
    r"(?P<to>[\w.+'-]+@[\w-]+(?:\.[\w-]+)+)",
    re.IGNORECASE,
)
_ABOUT = re.compile(
    r"\b(?:about|regarding|mentioning|re:|search(?: for)?|find|look(?:ing)? for)\s+(?P<what>.+)$",
    re.IGNORECASE,
)
_ATTENTION = re.compile(
    r"attention|urgent|important|priorit|asap|critical|what should i (?:do|handle)|act on",
    re.IGNORECASE,
)
_OVERVIEW = re.compile(
    r"summar|overview|what'?s (?:new|in my inbox)|triage|catch me up|my inbox\b", re.IGNORECASE
)
_SUMMARY = re.compile(
    r"\b(?:summar(?:y|ise|ize|ising|izing)|recap|tl;?dr|catch me up|brief me|fill me in|"
    r"what happened (?:with|to|in|on)|what(?:'s| is) (?:the )?(?:status|latest|story) (?:of|on|with))\b",
    re.IGNORECASE,
)
_AWAITING = re.compile(
    r"\bwait(?:s|ing)? (?:on|for) (?:a |my |an )?(?:reply|replies|response|responses|answers?)\b"
    r"|\b(?:unanswered|not (?:yet )?(?:replied|answered)|owe (?:a |an )?(?:reply|response|answer)"
    r"|(?:haven'?t|have not|didn'?t|did not)(?: i| we)? (?:yet )?(?:replied|answered|responded)"
    r"|needs? (?:a |an |my )?(?:reply|response|answer)(?: from me)?|(?:still )?waiting (?:to hear|for me))\b",
    re.IGNORECASE,
)
SUMMARY_WORDS = frozenset(
    """summarize summarise summary summarizing summarising recap tldr tl dr catch up brief fill
    happened status latest story thread threads conversation conversations discussion
    situation everything going said say says whole""".split()
)
"""Words of a summary request that say what to do, not what it is about."""
SEARCH_TOOLS = ("search_emails", "list_inbox", "list_conversations")


@dataclass(frozen=True)
class Intent:
    """One pattern and the calls it leads to."""

    name: str
    matches: Callable[[str], bool]
    plan: Callable[[ToolPlanRequest], list[ProposedCall]]


def _reply_parts(request: ToolPlanRequest) -> tuple[MessageRef | None, str, list[ProposedCall]]:
    """The message to answer, the words to say, or a search to find the message first."""
    said = _SAYING.search(request.user_text)
    body = said.group("body").strip().strip("\"'") if said else ""
    target = _draft_target(request)
    if target is None:
        who = _FROM.search(request.user_text)
        if who and not _searched(request, "search_emails"):
            search = ProposedCall("search_emails", {"sender": _clean(who.group("who")), "limit": 5})
            return None, body, [search]
    return target, body, []


WRITING_TOOLS = ("save_draft", "reply_to_email")


def _written(request: ToolPlanRequest) -> bool:
    """Whether this turn already wrote the mail (the reply is not proposed a second time).

    The body holds the sign-off of the process that proposed it; one resumed elsewhere may
    sign differently, so "already done" is judged by the tool, not by equal arguments.
    """
    return any(_ran(request, tool) for tool in WRITING_TOOLS)


def _draft_reply(request: ToolPlanRequest) -> list[ProposedCall]:
    if _written(request):
        return []
    target, words, first = _reply_parts(request)
    if first or target is None or not words:
        return first
    body = reply_body(target["sender"], words, sender=request.sender)
    return [ProposedCall("save_draft", {"in_reply_to_id": target["id"], "body": body})]


def _reply(request: ToolPlanRequest) -> list[ProposedCall]:
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
    if any(tool.name == "reply_to_email" for tool in request.tools):
        return [ProposedCall("reply_to_email", {"email_id": target["id"], "body": body})]
    return [ProposedCall("save_draft", {"in_reply_to_id": target["id"], "body": body})]


def _send(request: ToolPlanRequest) -> list[ProposedCall]:
    match = _SEND.search(request.user_text)
    said = _SAYING.search(request.user_text)
    if not match or not said:
        return []
    body = said.group("body").strip().strip("\"'")
    about = re.search(
        r"\babout\s+(?P<what>[^,.;]+?)(?:\s+(?:saying|say|to say)\b|$)", request.user_text
    )
    subject = about.group("what").strip() if about else body.split(".")[0][:60]
    args = {"to": match.group("to"), "subject": subject, "body": body}
    tool = "send_email" if any(t.name == "send_email" for t in request.tools) else "save_draft"
    return [ProposedCall(tool, args)]


def _draft_target(request: ToolPlanRequest) -> MessageRef | None:
    """The focused message, else the best match of this turn's search.

    Among the messages found, one whose triage category the user named wins ("the meeting
    request from Sofia"), else the newest.
    """
    if request.focus:
        return request.focus[0]
    wanted = {
        category
        for pattern, category in CATEGORY_WORDS
        if re.search(pattern, request.user_text.lower())
    }
    for record in reversed(request.turn_evidence):
        if record["messages"] and not record["error"]:
            named = [m for m in record["messages"] if m.get("category") in wanted]
            return (named or record["messages"])[0]
    return None


def _searched(request: ToolPlanRequest, tool: str) -> bool:
    return any(record["tool"] == tool for record in request.turn_evidence)


def _clean(word: str) -> str:
    return word.strip(" ?.!,;:'\"")


def _by_category(request: ToolPlanRequest) -> list[ProposedCall]:
    text = request.user_text.lower()
    for pattern, category in CATEGORY_WORDS:
        if re.search(pattern, text):
            return [ProposedCall("list_inbox", {"category": category, "limit": 10})]
    return []


def _keywords(text: str) -> str:
    words = [_clean(w) for w in re.findall(r"[\w@.'-]+", text)]
    return " ".join(w for w in words if w and w.lower() not in STOPWORDS)[:80]


def _about(request: ToolPlanRequest) -> list[ProposedCall]:
    match = _ABOUT.search(request.user_text)
    query = _keywords(match.group("what")) if match else ""
    return [ProposedCall("search_emails", {"query": query, "limit": 10})] if query else []


def _from_sender(request: ToolPlanRequest) -> list[ProposedCall]:
    match = _FROM.search(request.user_text)
    sender = _clean(match.group("who")) if match else ""
    if not sender or sender.lower() in STOPWORDS:
        return []
    return [ProposedCall("search_emails", {"sender": sender, "limit": 10})]


def _fallback(request: ToolPlanRequest) -> list[ProposedCall]:
    query = _keywords(request.user_text)
    if query:
        return [ProposedCall("search_emails", {"query": query, "limit": 10})]
    return [ProposedCall("list_inbox", {"limit": 10})]


def _matches(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda text: bool(pattern.search(text))


def asks_for_summary(text: str) -> bool:
    """Whether the user asks for a summary ("summarize the checkout incident", "recap")."""
    return bool(_SUMMARY.search(text))


def _offers(request: ToolPlanRequest, name: str) -> bool:
    return any(tool.name == name for tool in request.tools)


def _attention(request: ToolPlanRequest) -> list[ProposedCall]:
    """The high-priority conversations (messages, where the conversation tools are missing)."""
    if _offers(request, "list_conversations"):
        return [ProposedCall("list_conversations", {"priority": "high", "limit": 10})]
    return [ProposedCall("list_inbox", {"priority": "high", "limit": 10})]


def _overview(request: ToolPlanRequest) -> list[ProposedCall]:
    if _offers(request, "list_conversations"):
        return [ProposedCall("list_conversations", {"limit": 10})]
    return [ProposedCall("list_inbox", {"limit": 15})]


def _awaiting(request: ToolPlanRequest) -> list[ProposedCall]:
    """Conversations where a person waits on the user's reply (every one, the answer shortens)."""
    return [ProposedCall("list_awaiting_reply", {"limit": 30})]


def _summary_topic(text: str) -> tuple[str, set[str]]:
    """The words a summary is about, and the triage categories its nouns name ("incident").

    Words that only name a category ("the overdue invoice") are searched for too when
    nothing else names the topic.
    """
    match = _SUMMARY.search(text)
    rest = text[match.end() :] if match else text
    categories: set[str] = set()
    words: list[str] = []
    kinds: list[str] = []
    for word in re.findall(r"[\w@.'-]+", rest):
        word = _clean(word)
        lowered = word.lower()
        if not word or lowered in STOPWORDS or lowered in SUMMARY_WORDS:
            continue
        named = {category for pattern, category in CATEGORY_WORDS if re.search(pattern, lowered)}
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


def _summary(request: ToolPlanRequest) -> list[ProposedCall]:
    """Find the conversation the user means, then fetch it whole; no topic: an overview.

    A search first (by sender when they name one, else by the topic's words; a multi-word
    search that finds nothing is retried with its longest word), then every message of the
    best-matching conversations.
    """
    if _ran(request, "get_conversation"):
        return []
    if not _offers(request, "get_conversation"):
        return _overview(request)
    if request.focus:
        return [ProposedCall("get_conversation", {"email_id": request.focus[0]["id"]})]
    words, categories = _summary_topic(request.user_text)
    who = _FROM.search(request.user_text)
    sender = _clean(who.group("who")) if who else ""
    searches = [r for r in request.turn_evidence if r["tool"] == "search_emails"]
    if not searches:
        if sender and sender.lower() not in STOPWORDS:
            return [ProposedCall("search_emails", {"sender": sender, "limit": 25})]
        if words:
            return [ProposedCall("search_emails", {"query": words, "limit": 25})]
        if categories:
            category = sorted(categories)[0]
            return [ProposedCall("list_conversations", {"category": category, "limit": 10})]
        return _overview(request)
    found = _found(request)
    terms = [w.casefold() for w in words.split()]
    if not found and len(terms) > 1 and len(searches) == 1:
        return [ProposedCall("search_emails", {"query": max(terms, key=len), "limit": 25})]
    threads = _threads_about(found, terms, categories)
    return [ProposedCall("get_conversation", {"email_id": m["id"]}) for m in threads]


# --------------------------------------------------------------------------------------
# Work tools: Jira, Slack, Teams, HubSpot
# --------------------------------------------------------------------------------------

_ISSUE_KEY = re.compile(r"\b[A-Z][A-Z0-9_]{0,19}-[1-9]\d{0,8}\b")
NOT_PROJECTS = frozenset({"UTF", "ISO", "SHA", "MD", "RFC", "TLS", "SSL", "HTTP", "INV", "PO"})
"""Prefixes of things in mail that look like issue keys and are not (UTF-8, INV-2026)."""
_JIRA_REFERENCE = re.compile(
    r"\b(?:status|look\s+up)\b.{0,30}\b(?:jira|ticket|issue)\b|\bjira\s+(?:status|issue|ticket)\b",
    re.IGNORECASE,
)
_JIRA_WORDS = re.compile(r"\b(?:jira|ticket|issue|status)\b", re.IGNORECASE)
_JIRA_CREATE = re.compile(
    r"\b(?:open|create|file|raise|make|log|add)\s+(?:an?\s+|the\s+)?(?:new\s+)?"
    r"(?:jira\s+)?(?:ticket|issue|bug(?:\s+report)?|story)\b"
    r"|\b(?:add|put|log)\b.*\b(?:to|in|into)\s+jira\b",
    re.IGNORECASE,
)
_JIRA_SEARCH = re.compile(
    r"\b(?:search|look|find|check)\s+(?:in\s+)?jira\s+(?:for|about)\s+(?P<q>.+)$"
    r"|\bjira\s+(?:tickets?|issues?)\s+(?:about|for|mentioning|on)\s+(?P<q2>.+)$"
    r"|\b(?:search|find)\s+(?:for\s+)?(?P<q3>.+?)\s+(?:in|on)\s+jira\b",
    re.IGNORECASE,
)
_JIRA_COMMENT = re.compile(
    r"\b(?:comment|note)\b|\badd\b.*\bto\s+[A-Z][A-Z0-9_]*-\d", re.IGNORECASE
)
_SLACK = re.compile(
    r"\b(?:to|on|in|into|via)\s+(?:the\s+)?slack\b|#[\w-]+\s+(?:on|in)\s+slack\b|^\s*slack\b",
    re.IGNORECASE,
)
_TEAMS = re.compile(
    r"\b(?:to|on|in|into|via)\s+(?:the\s+)?(?:microsoft\s+|ms\s+)?teams\b(?!\s+(?:meeting|call|invite))",
    re.IGNORECASE,
)
_POST = re.compile(r"\b(?:post|send|share|notify|tell|ping|forward|put|slack)\b", re.IGNORECASE)
_CHANNEL = re.compile(r"(?<![\w&])#(?P<name>[a-z0-9][\w-]{0,79})", re.IGNORECASE)
_CRM = re.compile(
    r"\b(?:add|create|put|save|make)\b.*\b(?:hubspot|crm)\b"
    r"|\b(?:add|create|make)\s+(?:an?\s+|the\s+)?(?:new\s+)?(?:lead|contact)\b",
    re.IGNORECASE,
)
_CRM_LOOKUP = re.compile(r"\b(?:in|on)\s+(?:the\s+)?(?:hubspot|crm)\b", re.IGNORECASE)
_ADDRESS = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_TOLD = re.compile(r"\b(?:tell|ping|notify|let)\b.*?(?:\bthat\b|:)\s*(?P<body>.+)$", re.IGNORECASE)
_QUOTED = re.compile(r"[\"“](?P<text>[^\"”]+)[\"”]")


def _said(request: ToolPlanRequest) -> str:
    """What the user wants written: after "saying"/"that says", or in quotes."""
    said = _SAYING.search(request.user_text)
    if said:
        return said.group("body").strip().strip("\"'“”")
    quoted = _QUOTED.search(request.user_text)
    if quoted:
        return quoted.group("text").strip()
    told = _TOLD.search(request.user_text)
    return told.group("body").strip() if told else ""


def _mail_or_search(request: ToolPlanRequest) -> tuple[MessageRef | None, list[ProposedCall]]:
    """The mail the user means, or a search by sender to find it first."""
    target = _draft_target(request)
    if target is None:
        who = _FROM.search(request.user_text)
        if who and not _searched(request, "search_emails"):
            return None, [
                ProposedCall("search_emails", {"sender": _clean(who.group("who")), "limit": 5})
            ]
    return target, []


def _jira_lookup(request: ToolPlanRequest) -> list[ProposedCall]:
    """Issues the user names, else the ones the message they point to mentions."""
    keys = _ISSUE_KEY.findall(request.user_text)
    if not keys:
        for message in request.focus:
            found = _ISSUE_KEY.findall(f"{message['subject']}\n{message['text']}")
            keys += [k for k in found if k.split("-")[0] not in NOT_PROJECTS]
    return [ProposedCall("jira_get_issue", {"issue_key": k}) for k in list(dict.fromkeys(keys))[:3]]


def _jira_comment(request: ToolPlanRequest) -> list[ProposedCall]:
    key = _ISSUE_KEY.search(request.user_text)
    if key is None:
        return []
    args: dict[str, Any] = {"issue_key": key.group(0)}
    # "comment on NW-12: deployed" / "comment on NW-12 that it is deployed"
    rest = re.sub(r"^[\s:,-]*(?:that\s+|with\s+)?", "", request.user_text[key.end() :])
    text = _said(request) or rest.strip().strip("\"'“”")
    if text:
        args["text"] = text
    if request.focus:
        args["email_id"] = request.focus[0]["id"]
    return [ProposedCall("jira_add_comment", args)] if len(args) > 1 else []


def jira_issue_args(message: MessageRef) -> dict[str, Any]:
    """A Jira issue about a message: its id, with type and priority from its triage if known."""
    args: dict[str, Any] = {"email_id": message["id"]}
    kind = {"bug_report": "Bug", "feature_request": "Story"}.get(message.get("category", ""))
    priority = {"high": "High", "normal": "Medium", "low": "Low"}.get(message.get("priority", ""))
    if kind:
        args["issue_type"] = kind
    if priority:
        args["priority"] = priority
    return args


def _jira_create(request: ToolPlanRequest) -> list[ProposedCall]:
    target, first = _mail_or_search(request)
    if first:
        return first
    said = _said(request)
    if target is not None:
        args = jira_issue_args(target)
        if said:
            args["details"] = said
        return [ProposedCall("jira_create_issue", args)]
    return [ProposedCall("jira_create_issue", {"summary": said})] if said else []


def _jira_search(request: ToolPlanRequest) -> list[ProposedCall]:
    match = _JIRA_SEARCH.search(request.user_text)
    if match is None:
        return []
    query = next(g for g in (match.group("q"), match.group("q2"), match.group("q3")) if g)
    query = _keywords(query) or _clean(query)
    return [ProposedCall("jira_search", {"query": query, "limit": 10})] if query else []


def _slack(request: ToolPlanRequest) -> list[ProposedCall]:
    target, first = _mail_or_search(request)
    if first:
        return first
    args: dict[str, Any] = {}
    channel = _CHANNEL.search(request.user_text)
    if channel:
        args["channel"] = "#" + channel.group("name")
    said = _said(request)
    if said:
        args["text"] = said
    if target is not None:
        args["email_id"] = target["id"]
    if not (said or target):
        return []
    return [ProposedCall("slack_post_message", args)]


def _teams(request: ToolPlanRequest) -> list[ProposedCall]:
    target, first = _mail_or_search(request)
    if first:
        return first
    args: dict[str, Any] = {}
    said = _said(request)
    if said:
        args["text"] = said
    if target is not None:
        args["email_id"] = target["id"]
    return [ProposedCall("teams_post_message", args)] if args else []


def _crm(request: ToolPlanRequest) -> list[ProposedCall]:
    address = _ADDRESS.search(request.user_text)
    if address:
        return [ProposedCall("hubspot_create_contact", {"email": address.group(0)})]
    target, first = _mail_or_search(request)
    if first:
        return first
    return [ProposedCall("hubspot_create_contact", {"email_id": target["id"]})] if target else []


def _crm_lookup(request: ToolPlanRequest) -> list[ProposedCall]:
    address = _ADDRESS.search(request.user_text)
    if address:
        return [ProposedCall("hubspot_find_contact", {"email": address.group(0)})]
    if request.focus:
        return [ProposedCall("hubspot_find_contact", {"email_id": request.focus[0]["id"]})]
    return []


INTEGRATION_INTENTS: list[Intent] = [
    Intent(
        "jira_comment",
        lambda text: bool(_ISSUE_KEY.search(text) and _JIRA_COMMENT.search(text)),
        _jira_comment,
    ),
    Intent("jira_create", _matches(_JIRA_CREATE), _jira_create),
    Intent("jira_search", _matches(_JIRA_SEARCH), _jira_search),
    Intent(
        "jira_lookup",
        lambda text: bool(
            (_ISSUE_KEY.search(text) and _JIRA_WORDS.search(text)) or _JIRA_REFERENCE.search(text)
        ),
        _jira_lookup,
    ),
    Intent("slack", lambda text: bool(_SLACK.search(text) and _POST.search(text)), _slack),
    Intent("teams", lambda text: bool(_TEAMS.search(text) and _POST.search(text)), _teams),
    Intent("crm", _matches(_CRM), _crm),
    Intent("crm_lookup", _matches(_CRM_LOOKUP), _crm_lookup),
]
"""Tried before the mail intents: "post the first one to #ops on Slack" is not a mail to send."""


# --------------------------------------------------------------------------------------
# The calendar
# --------------------------------------------------------------------------------------

_WEEKDAY = r"(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:day)?"
_DAY = re.compile(
    rf"\b(?P<day>today|tomorrow|(?:(?:next|this)\s+)?{_WEEKDAY}|\d{{4}}-\d{{2}}-\d{{2}})\b",
    re.IGNORECASE,
)
_AVAILABILITY = re.compile(
    r"\b(?:am\s+i|are\s+we|i'?m)\s+(?:free|busy|available)\b"
    r"|\bwhen\s+am\s+i\s+(?:free|available|busy)\b"
    r"|\b(?:my\s+)?(?:availability|free\s*/\s*busy)\b|\bfree\s+time\b"
    r"|\bwhat(?:'s|\s+is)\s+(?:on\s+)?my\s+(?:calendar|agenda|schedule)\b"
    r"|\bmy\s+(?:calendar|agenda|schedule)\s+(?:for|on)\b",
    re.IGNORECASE,
)
_MINUTES = re.compile(
    r"\b(?P<n>\d{1,3})\s*-?\s*min(?:ute)?s?\b|\b(?P<h>an?|one|two|\d)\s*-?\s*hours?\b",
    re.IGNORECASE,
)
_SLOT_ORDINAL = re.compile(
    r"\b(?P<word>first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last)\b"
    r"|(?:\bslot|\boption|\bnumber|\bno\.?|#)\s*(?P<n>\d{1,2})\b",
    re.IGNORECASE,
)
_CLOCK = re.compile(
    r"\b(?P<h>\d{1,2})[:.h](?P<m>\d{2})\s*(?P<ap>am|pm)?\b|\b(?P<h2>\d{1,2})\s*(?P<ap2>am|pm)\b",
    re.IGNORECASE,
)
_ISO_DAY = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")


def _minutes(text: str) -> int:
    """A meeting length the user typed ("45 minutes", "an hour"), in minutes; 0 for none."""
    match = _MINUTES.search(text)
    if match is None:
        return 0
    if match.group("n"):
        return int(match.group("n"))
    hours = match.group("h").lower()
    return 60 * {"a": 1, "an": 1, "one": 1, "two": 2}.get(
        hours, int(hours) if hours.isdigit() else 1
    )


def _day(text: str) -> str:
    """The day the user named (`thursday`, `next friday`, `tomorrow`, `2026-12-03`), or ''."""
    match = _DAY.search(text)
    return " ".join(match.group("day").lower().split()) if match else ""


def _ran(request: ToolPlanRequest, tool: str) -> bool:
    return any(record["tool"] == tool for record in request.turn_evidence)


def _availability(request: ToolPlanRequest) -> list[ProposedCall]:
    """Free/busy of the day named; "when am I free?" without a day: free slots ahead."""
    day = _day(request.user_text)
    if day:
        return [ProposedCall("check_availability", {"day": day})]
    if re.search(r"\bwhen\b", request.user_text, re.IGNORECASE):
        return [ProposedCall("propose_meeting_slots", {})]
    return [ProposedCall("check_availability", {"day": "today"})]


def _propose_slots(request: ToolPlanRequest) -> list[ProposedCall]:
    """Slots for the meeting request the user means, else free slots in general."""
    if _ran(request, "propose_meeting_slots"):
        return []
    target, first = _mail_or_search(request)
    if first:
        return first
    args: dict[str, Any] = {}
    minutes = _minutes(request.user_text)
    if minutes:
        args["duration_minutes"] = minutes
    if target is not None:
        args["email_id"] = target["id"]
    elif _day(request.user_text):
        args["from_date"] = _day(request.user_text)
    return [ProposedCall("propose_meeting_slots", args)]


def _offer(request: ToolPlanRequest) -> OfferedSlots | None:
    """The slots offered for the request the user means: the focused mail's, else by name."""
    records = [*request.evidence, *request.turn_evidence]
    if request.focus:
        wanted = request.focus[0]["id"]
        for record in reversed(records):
            if record["tool"] == "propose_meeting_slots" and not record["error"]:
                if record["args"].get("email_id") == wanted:
                    return read_offered_slots(record["content"])
        return None
    record = offer_for(request.user_text, records)
    return read_offered_slots(record["content"]) if record is not None else None


_WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _clock_time(match: re.Match[str]) -> tuple[int, int]:
    """(hour, minute) of a `_CLOCK` match, 24-hour."""
    hour = int(match.group("h") or match.group("h2"))
    minute = int(match.group("m") or 0)
    half = (match.group("ap") or match.group("ap2") or "").lower()
    if half == "pm" and hour < 12:
        hour += 12
    elif half == "am" and hour == 12:
        hour = 0
    return hour, minute


def _on_named_day(text: str, slots: list[OfferedSlot]) -> tuple[list[OfferedSlot], bool]:
    """The slots on the weekday or date the user named, and whether they named one."""
    weekday = re.search(rf"\b{_WEEKDAY}\b", text, re.IGNORECASE)
    iso = _ISO_DAY.search(text)
    if weekday:
        index = _WEEKDAY_NAMES.index(weekday.group(0)[:3].lower())
        slots = [s for s in slots if s.start.weekday() == index]
    if iso:
        slots = [s for s in slots if s.start.date().isoformat() == iso.group(1)]
    return slots, bool(weekday or iso)


def _chosen_slot(text: str, slots: tuple[OfferedSlot, ...]) -> OfferedSlot | None:
    """The slot the user picked: by number, day and/or time; the first when they name none."""
    candidates, named = _on_named_day(text, list(slots))
    clock = _CLOCK.search(text)
    if clock:
        at = _clock_time(clock)
        candidates = [s for s in candidates if (s.start.hour, s.start.minute) == at]
        named = True
    ordinal = _SLOT_ORDINAL.search(text)
    if ordinal:
        word = ordinal.group("word")
        number = ORDINALS[word.lower()] if word else int(ordinal.group("n"))
        position = number - 1 if number > 0 else len(candidates) + number
        return candidates[position] if 0 <= position < len(candidates) else None
    if named and not candidates:
        return None
    return candidates[0] if candidates else None


def _other_time(text: str, slots: tuple[OfferedSlot, ...]) -> OfferedSlot | None:
    """A time the user named on an offered day ("Thursday 09:30" when 09:00 was offered).

    That day at that time, as long as the offered slot: the date and offset are the
    evidence's own, and the card says whether the time clashes with anything.
    """
    clock = _CLOCK.search(text)
    same_day, named = _on_named_day(text, list(slots))
    if clock is None or not named or not same_day:
        return None
    hour, minute = _clock_time(clock)
    day = same_day[0]
    start = day.start.replace(hour=hour, minute=minute)
    return replace(day, number=0, label="", start=start, end=start + (day.end - day.start))


def _schedule(request: ToolPlanRequest) -> list[ProposedCall]:
    """An event at the slot the user picked, from the slots offered for their meeting request.

    With no offer yet for the request, its slots are proposed first (read-only), then the
    first one is put on a card. The title, attendees and mail come from the offer, which
    read them from the mail; the times are the offer's exact ISO instants.
    """
    if _ran(request, "create_calendar_event"):
        return []
    offer = _offer(request)
    if offer is None:
        target, first = _mail_or_search(request)
        if first:
            return first
        if target is None:
            return _by_category(request)  # nothing to schedule yet: show the meeting requests
        return [ProposedCall("propose_meeting_slots", {"email_id": target["id"]})]
    slot = _chosen_slot(request.user_text, offer.slots) or _other_time(
        request.user_text, offer.slots
    )
    if slot is None:
        day = _day(request.user_text)
        return [ProposedCall("check_availability", {"day": day})] if day else []
    typed = _ADDRESS.findall(request.user_text)
    quoted = _QUOTED.search(request.user_text)
    args: dict[str, Any] = {
        "title": offer.title or (quoted.group("text").strip() if quoted else "Meeting"),
        "start": slot.start_text,
        "end": slot.end_text,
    }
    attendees = ", ".join(a for a in (offer.attendees, *typed) if a)
    if attendees:
        args["attendees"] = attendees
    if offer.email_id:
        args["in_reply_to_id"] = offer.email_id
    return [ProposedCall("create_calendar_event", args)]


CALENDAR_INTENTS: list[Intent] = [
    Intent("availability", _matches(_AVAILABILITY), _availability),
    Intent("propose_slots", _matches(PROPOSING), _propose_slots),
    Intent("schedule", _matches(SCHEDULING), _schedule),
]
"""After the mail-writing intents ("reply to Sofia saying Tuesday works" is a reply) and
before the listing ones ("meetings" alone lists the meeting requests)."""


# --------------------------------------------------------------------------------------
# The demo's local outbox
# --------------------------------------------------------------------------------------

_OUTBOX = re.compile(
    r"\boutbox\b|\bwhat (?:did|have) i (?:just )?sen[dt]\b|\bwhat (?:was|has been|got) sent\b"
    r"|\b(?:mail|e-?mails?|messages?|invitations?) (?:that )?i(?:'ve| have)? sent\b"
    r"|\bsent (?:mail|e-?mails?|messages?)\b",
    re.IGNORECASE,
)
OUTBOX_INTENT = Intent(
    "outbox", _matches(_OUTBOX), lambda r: [ProposedCall("list_outbox", {"limit": 10})]
)
"""After the mail-writing intents ("reply saying what I sent" is a reply): what the demo "sent"."""


INTENTS: list[Intent] = [
    *INTEGRATION_INTENTS,
    Intent(
        "draft_reply",
        lambda text: bool(_DRAFT.search(text) and not _FIND_DRAFT.search(text)),
        _draft_reply,
    ),
    Intent("send", _matches(_SEND), _send),
    Intent("reply", lambda text: bool(_REPLY.search(text) and _SAYING.search(text)), _reply),
    OUTBOX_INTENT,
    Intent("awaiting_reply", _matches(_AWAITING), _awaiting),
    Intent("summary", _matches(_SUMMARY), _summary),
    *CALENDAR_INTENTS,
    Intent("attention", _matches(_ATTENTION), _attention),
    Intent("from_sender", _matches(_FROM), _from_sender),
    Intent("about", _matches(_ABOUT), _about),
    Intent(
        "category",
        lambda text: any(re.search(p, text.lower()) for p, _ in CATEGORY_WORDS),
        _by_category,
    ),
    Intent("overview", _matches(_OVERVIEW), _overview),
    Intent("search", lambda text: True, _fallback),
]


def plan_from_intents(request: ToolPlanRequest) -> tuple[str, list[ProposedCall]]:
    """The first matching intent's name and calls (tools the run lacks are dropped).

    A tool that exists but cannot run here (an integration that is not configured) is kept:
    its call then fails with what to set, and the answer says so.
    """
    available = {tool.name for tool in request.tools} | set(request.unavailable)
    for intent in INTENTS:
        if intent.matches(request.user_text):
            calls = [c for c in intent.plan(request) if c.name in available]
            return intent.name, calls
    return "none", []


def describe(calls: list[ProposedCall]) -> list[dict[str, Any]]:
    """Calls as plain dicts (for logs and tests)."""
    return [{"name": c.name, "args": c.args} for c in calls]
