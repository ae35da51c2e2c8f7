"""Answers composed from the evidence by templates: grounded by construction.

The offline engine answers with these, and they are the safe answer any engine falls back
to when its own draft fails the grounding check twice. They read like a person wrote them:
one item per conversation saying who wants what (in the sender's words, cited), and
summaries made of a thread's key sentences (`graph.engines.summaries`), never of rule
explanations or lists of subjects.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from graph.engines.base import AnswerRequest
from graph.engines.followup_answers import AWAITED_LISTING, awaited_answer
from graph.engines.intents.user_words import STOPWORDS, asks_for_summary
from graph.engines.key_sentences import Sentence, ask_of, clipped, display_name, gist_of
from graph.engines.summaries import quoted, summarise
from graph.engines.triage_summary import triage_summary
from graph.grounding import iso_day
from graph.inbox_cards import INBOX_ACTIONS, UNDO_TOOL
from graph.state import Decision, Evidence, Executed, MessageRef
from tools.mail.conversations import normalised_subject, sender_name, without_reply_prefix
from tools.mail.message_refs import account_tag

FULL_BODY_LIMIT = 3000
ABOUT_A_MESSAGE = frozenset({"propose_meeting_slots"})
"""Tools whose text answers about one message, named by their `email_id` argument."""
SUMMARY_TOOL = "get_conversation"
"""Its results are whole conversations: the answer summarises them."""
CONVERSATION_LISTING = "list_conversations"
WAITING_LISTING = "list_awaiting_reply"
LISTINGS = frozenset({"search_emails", "list_inbox"})
INBOX_TOOLS = frozenset(INBOX_ACTIONS) | {UNDO_TOOL}
"""Tools that act on the inbox: the listing that found their messages is on their card."""
"""Mail tools whose result is a list of messages, said as such even when it is empty."""
ITEMS_SHOWN = 7
"""Conversations an answer lists before saying how many more there are."""
ASK_LIMIT = 100
"""Characters of a quoted ask in a list item; a longer one is cut at a clause."""
TOPIC_LIMIT = 42
_SUBJECT_TAGS = re.compile(
    r"^\s*(?:(?:urgent|important|action required|fyi)\s*[:!-]\s*|\[[^\]]{1,20}\]\s*)+", re.I
)
"""Shouting and tags in front of a subject ("URGENT:", "[FIRING:1]"): the list says what is
urgent."""
NOTHING_LOOKED_UP = (
    "I could not tell what to look up for that, so I have nothing to report. Offline I "
    "understand questions such as: what needs my attention? · who is waiting on a reply "
    "from me? · summarize the thread about <topic> · any invoices? · mail from <name>; "
    "and requests such as: reply to <name> saying …"
)
"""Said when a chat turn looked nothing up and nothing was proposed. The examples carry no
quotation marks: a quote in an answer must be the mail's words (`graph.grounding`)."""


def compose_answer(request: AnswerRequest) -> str:
    """Build the reply to the user from the evidence of this turn.

    Whole conversations fetched this turn are summarised; otherwise messages the user
    pointed to are shown in full, or summarised when they asked for a summary.
    """
    parts: list[str] = []
    if request.mode == "triage":
        parts.append(triage_summary(request.triage, request.evidence))
    turn = _turn_evidence(request)
    whole = [r for r in turn if r["tool"] == SUMMARY_TOOL and not r["error"]]
    focus = [] if whole else _focused_messages(request)
    if focus:
        if asks_for_summary(request.user_text):
            parts.append(summarise(focus))
        else:
            parts.extend(_full_message(m) for m in focus)
    else:
        if whole:
            parts.append(summarise([m for record in whole for m in record["messages"]]))
        # Once an inbox action ran on what a search found, its card listed them: the
        # search is not news either.
        acted = any(r["tool"] in INBOX_TOOLS and not r["error"] for r in turn)
        parts.extend(
            _result_text(record, request.evidence, bool(whole) or acted) for record in turn
        )
        if not turn and request.mode == "chat" and not request.decisions:
            parts.append(NOTHING_LOOKED_UP)
    parts.extend(_failures(request))
    return "\n\n".join(p for p in parts if p).strip()


def _result_text(record: Evidence, evidence: list[Evidence], summarised: bool) -> str:
    """What one call of this turn found, said the way its tool's results read best.

    Failed calls are left to `_failures`, and whole conversations to the summary; once a
    thread is summarised (or acted on), the search that found it is not news and is left out.
    """
    if record["error"] or record["tool"] == SUMMARY_TOOL:
        return ""
    if record["tool"] in ABOUT_A_MESSAGE:
        return _about_message(record, evidence)
    if record["tool"] == WAITING_LISTING:
        return _waiting(record)
    if record["tool"] == AWAITED_LISTING:
        return awaited_answer(record)
    if record["tool"] == CONVERSATION_LISTING:
        return _conversations(record)
    if record["messages"] or record["tool"] in LISTINGS:
        return "" if summarised else _listing(record)
    return record["content"]


# --------------------------------------------------------------------------------------
# Conversations: one item each, who wants what, in their words
# --------------------------------------------------------------------------------------


def topic(subject: str) -> str:
    """A conversation's subject as it started, short enough for a list item."""
    start = without_reply_prefix(subject)
    text = _SUBJECT_TAGS.sub("", start).strip() or start or "(no subject)"
    short, cut = clipped(text, TOPIC_LIMIT)
    return short + ("…" if cut else "")


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[^\W\d_]{3,}", text.casefold()) if w not in STOPWORDS}


def conversation_item(number: int, message: MessageRef) -> str:
    """`1. **Topic** — Who (3 messages): “what they want, by when” [msg:id]`.

    The topic is left out when the quoted words already say it ("Can we do a quick sync
    tomorrow…" under "Sync tomorrow?"): short answers are read, long ones skimmed.
    """
    who = account_tag(message) + sender_name(message["sender"])
    size = message.get("thread_size", 1)
    more = f" ({size} messages)" if size > 1 else ""
    said: Sentence | None = ask_of(message) or gist_of(message)
    what = f": {quoted(said.text, ASK_LIMIT)}" if said else ""
    subject = _content_words(without_reply_prefix(message["subject"]))
    covered = said is not None and len(subject & _content_words(said.text)) * 2 >= len(subject)
    title = f"**{who}**{more}" if covered else f"**{topic(message['subject'])}** — {who}{more}"
    return f"{number}. {title}{what} [msg:{message['id']}]"


def _items(messages: list[MessageRef]) -> list[str]:
    lines = [conversation_item(n, m) for n, m in enumerate(messages[:ITEMS_SHOWN], 1)]
    left = len(messages) - ITEMS_SHOWN
    if left > 0:
        lines.append(f"…and {left} more; ask about one of them by name to see it.")
    return lines


def _conversations(record: Evidence) -> str:
    """Conversations as one item each, under a line saying what was listed."""
    messages = _one_per_conversation(record["messages"])
    args: dict[str, Any] = record["args"]
    count = len(messages)
    noun = "conversation" if count == 1 else "conversations"
    if args.get("priority") == "high" and not args.get("category"):
        if not messages:
            return "Nothing in the inbox is marked high priority right now."
        verb = "needs" if count == 1 else "need"
        header = f"{count} {noun} {verb} your attention, most urgent first:"
    else:
        what = [str(args[k]).replace("_", " ") for k in ("priority", "category") if args.get(k)]
        label = f" ({', '.join(what)})" if what else ""
        if not messages:
            return f"No conversations{label} in the inbox."
        header = f"{count} {noun}{label}, most important first:"
    return "\n".join([header, *_items(messages)])


def _waiting(record: Evidence) -> str:
    messages = _one_per_conversation(record["messages"])
    if not messages:
        return (
            "Nobody is waiting on a reply from you: every question a person sent you has an "
            "answer from you after it in the mailbox."
        )
    count = len(messages)
    people = len({m["sender"] for m in messages})
    who = "1 person is" if people == 1 else f"{people} people are"
    noun = "conversation" if count == 1 else "conversations"
    header = f"{who} waiting on a reply from you ({count} {noun}), most important first:"
    return "\n".join([header, *_items(messages)])


def _one_per_conversation(messages: list[MessageRef]) -> list[MessageRef]:
    """The first message listed of each conversation (by its key, else by subject), per account."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for message in messages:
        subject = normalised_subject(message["subject"])
        key = message.get("account", ""), message.get("conversation") or subject or message["id"]
        if key not in seen:
            seen.add(key)
            kept.append(message)
    return kept


# --------------------------------------------------------------------------------------
# Messages and results: shown as the tools found them
# --------------------------------------------------------------------------------------


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
            who = account_tag(message) + message["sender"]
            return f"**{title}** — {who} [msg:{about}]\n{record['content']}"
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
        f"From: {account_tag(message)}{message['sender']}",
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
    """Messages a search or a listing returned, one line each, in the order the tool gave."""
    messages = record["messages"]
    header = _listing_header(record, len(messages))
    rows = []
    for n, message in enumerate(messages, 1):
        when = iso_day(message["date"]) if message["date"] else "undated"
        said = ask_of(message) or gist_of(message)
        what = f": {quoted(said.text, ASK_LIMIT)}" if said else ""
        rows.append(
            f"{n}. **{topic(message['subject'])}** — "
            f"{account_tag(message)}{display_name(message['sender'])}, {when}"
            f"{what} [msg:{message['id']}]"
        )
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
    if not count:
        return f"No messages found ({label})."
    return f"{count} {noun} ({label}), previews only:"


def _failures(request: AnswerRequest) -> list[str]:
    notes = []
    for record in _turn_evidence(request):
        if record["error"]:
            notes.append(
                f"The {record['tool']} call failed: {record['error']}. "
                "I have no data from it and will not guess what it would have returned."
            )
    unread = [e for e in request.fetch_errors if e.get("id")]
    if unread:
        notes.append(
            f"{len(unread)} message(s) could not be read: "
            + "; ".join(f"{e['key']}: {e['error']}" for e in unread)
        )
    for failure in request.fetch_errors:
        if failure.get("stage") == "wake":
            notes.append(f"The mail was fetched, but {failure['error']}.")
        elif not failure.get("id"):
            notes.append(f"The mail source {failure['key']} could not be read: {failure['error']}.")
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


DRAFT_TOOL = "save_draft"


def unsent_notes(
    executed: Iterable[Executed], why_unsent: Iterable[str], read_only: Callable[[str], bool]
) -> list[str]:
    """Why a draft was saved instead of mail sent, when that is what this turn really did.

    Said only when saving a draft is the only side effect that ran: a mail another tool
    sent (an MCP server's) needs no excuse, and a turn that sent nothing and drafted nothing
    has nothing to explain. `why_unsent` says why this product's own sending cannot run.
    """
    done = [e for e in executed if e["status"] == "ok" and not read_only(e["action"])]
    if not done or any(e["action"] != DRAFT_TOOL for e in done):
        return []
    return [f"Note: saved as a draft because {why}." for why in sorted(set(why_unsent))]
