"""What every plan reads from a request: keywords, the words to write, the mail it means.

Shared by the mail, work and calendar plans, so "from Sofia" or "saying …" is read one way.
"""

from __future__ import annotations

import re

from graph.engines.base import ProposedCall, ToolPlanRequest
from graph.engines.intents.phrases import pattern
from graph.state import MessageRef
from tools.language.category_words import categories_named

STOPWORDS = frozenset(
    """a an the and or of to in on for with about from by me my i you your is are was were be
    it its this that these those what which who whom whose when where why how any some all
    do does did show find search look list give tell get email emails mail mails message messages
    inbox please can could would should there their them they have has had any anything
    new latest recent today week need needs my attention""".split()
)

SAYING = pattern("saying")
FROM = pattern("from")
SUMMARY = pattern("summary")
QUOTED = re.compile(r"[\"“](?P<text>[^\"”]+)[\"”]")
_TOLD = re.compile(r"\b(?:tell|ping|notify|let)\b.*?(?:\bthat\b|:)\s*(?P<body>.+)$", re.IGNORECASE)


def clean(word: str) -> str:
    """A word without the punctuation around it."""
    return word.strip(" ?.!,;:'\"")


def keywords(text: str) -> str:
    """The words of `text` worth searching for (no stopwords), at most 80 characters."""
    words = [clean(w) for w in re.findall(r"[\w@.'-]+", text)]
    return " ".join(w for w in words if w and w.lower() not in STOPWORDS)[:80]


def asks_for_summary(text: str) -> bool:
    """Whether the user asks for a summary ("summarize the checkout incident", "recap")."""
    return bool(SUMMARY.search(text))


def ran(request: ToolPlanRequest, tool: str) -> bool:
    """Whether this turn already called `tool`."""
    return any(record["tool"] == tool for record in request.turn_evidence)


def offers(request: ToolPlanRequest, name: str) -> bool:
    """Whether the run has the tool `name`."""
    return any(tool.name == name for tool in request.tools)


def said(request: ToolPlanRequest) -> str:
    """What the user wants written: after "saying"/"that says", or in quotes."""
    saying = SAYING.search(request.user_text)
    if saying:
        return saying.group("body").strip().strip("\"'“”")
    quoted = QUOTED.search(request.user_text)
    if quoted:
        return quoted.group("text").strip()
    told = _TOLD.search(request.user_text)
    return told.group("body").strip() if told else ""


def draft_target(request: ToolPlanRequest) -> MessageRef | None:
    """The focused message, else the best match of this turn's search.

    Among the messages found, one whose triage category the user named wins ("the meeting
    request from Sofia"), else the newest.
    """
    if request.focus:
        return request.focus[0]
    wanted = set(categories_named(request.user_text))
    for record in reversed(request.turn_evidence):
        if record["messages"] and not record["error"]:
            messages: list[MessageRef] = record["messages"]
            named = [m for m in messages if m.get("category") in wanted]
            return (named or messages)[0]
    return None


def mail_or_search(request: ToolPlanRequest) -> tuple[MessageRef | None, list[ProposedCall]]:
    """The mail the user means, or a search by sender to find it first."""
    target = draft_target(request)
    if target is None:
        who = FROM.search(request.user_text)
        if who and not ran(request, "search_emails"):
            search = ProposedCall("search_emails", {"sender": clean(who.group("who")), "limit": 5})
            return None, [search]
    return target, []
