"""What the template engine says about questions of the user's that nobody answered, and the nudge.

The list names who owes a reply, since when, and what was asked, in the user's own words
(cited); the nudge is a short follow-up mail quoting that question and its date, nothing
more: it invents no news, no deadline and no reason.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import getaddresses

from graph.engines.key_sentences import ask_of, clipped
from graph.engines.summaries import quoted
from graph.grounding import iso_day
from graph.reply_checks import reply_signature
from graph.state import Evidence, MessageRef
from tools.mail.compose import greeting_for, reply_text
from tools.mail.conversations import without_reply_prefix
from tools.mail.language import is_greeting

AWAITED_LISTING = "list_awaiting_their_reply"
ITEMS_SHOWN = 7
ASK_LIMIT = 100
SUBJECT_LIMIT = 42


def people(message: MessageRef) -> str:
    """Who the user's message asked, by name where the mailbox knows one."""
    pairs = getaddresses([message.get("to", "")])
    return ", ".join(name or address for name, address in pairs if name or address) or "someone"


def _item(number: int, message: MessageRef) -> str:
    start = without_reply_prefix(message["subject"]) or "(no subject)"
    subject, cut = clipped(start, SUBJECT_LIMIT)
    when = iso_day(message["date"]) if message["date"] else "on an unknown day"
    said = ask_of(message)
    what = f": {quoted(said.text, ASK_LIMIT)}" if said else ""
    size = message.get("thread_size", 1)
    more = f" ({size} messages)" if size > 1 else ""
    return (
        f"{number}. **{subject}{'…' if cut else ''}** — {people(message)}{more}, "
        f"you asked on {when}{what} [msg:{message['id']}]"
    )


def awaited_answer(record: Evidence) -> str:
    """The conversations waiting on someone else's reply, oldest question first."""
    messages = record["messages"]
    person = str(record["args"].get("person") or "")
    if not messages:
        if person:
            return (
                f"Nothing is awaited from {person}: no question of yours to them is still "
                "unanswered after the waiting time, so there is nobody to follow up with."
            )
        return (
            "Nobody owes you a reply: no question of yours to a person is still unanswered "
            "after the waiting time."
        )
    count = len(messages)
    noun = "conversation" if count == 1 else "conversations"
    asked = len({people(m) for m in messages})
    who = "1 person owes" if asked == 1 else f"{asked} people owe"
    header = f"{who} you a reply ({count} {noun}), oldest question first:"
    lines = [_item(n, m) for n, m in enumerate(messages[:ITEMS_SHOWN], 1)]
    if count > ITEMS_SHOWN:
        lines.append(f"…and {count - ITEMS_SHOWN} more; ask about one of them by name to see it.")
    return "\n".join([header, *lines])


def _day(date: str) -> str:
    try:
        return datetime.fromisoformat(date).strftime("%a %d %b %Y").replace(" 0", " ")
    except ValueError:
        return ""


def nudge_body(message: MessageRef, *, sender: str = "") -> str:
    """A polite follow-up to the user's unanswered `message`: its question and date, quoted.

    It greets as the user's message did (else as every reply does) and signs off as every
    reply does; the question is the user's own sentence (the whole message's words when no
    one sentence asks), so nothing is made up.
    """
    said = ask_of(message)
    question = said.text if said else " ".join(message["text"].split())
    day = _day(message["date"])
    when = f" of {day}" if day else ""
    words = (
        f"I am following up on my message{when}, where I asked:\n\n"
        f"{quoted(question)}\n\n"
        "Could you let me know when you have a moment?"
    )
    asked = getaddresses([message.get("to", "")])
    to = f"{asked[0][0]} <{asked[0][1]}>" if len(asked) == 1 and asked[0][0] else ""
    greeting = _own_greeting(message["text"]) or greeting_for(to)
    return reply_text(words, greeting=greeting, signature=reply_signature(sender=sender))


def _own_greeting(text: str) -> str:
    """The greeting the user's own message opened with ("Hallo Helena,"): the nudge greets alike."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first if is_greeting(first) else ""
