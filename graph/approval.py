"""Approval: the policy applied to each proposed call, cards in the Agent Inbox shape, answers.

Whether a call may run without asking is decided here from data (its policy level and its
provenance flags), never by a branch per tool. The card's description is written here from
the real arguments and what the mailbox says they resolve to, never by a model.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from graph.inbox_cards import (
    ID_ARGS,
    ID_LIST_ARGS,
    ConversationLine,
    action_title,
    conversation_table,
)
from graph.policy import AUTONOMOUS, LEVEL_NAMES, READ_ONLY
from graph.provenance import Flag
from graph.state import ToolCallRequest
from tools.mail.outgoing import MailAction
from tools.mail.send_trace import VERDICT_WORDS, SentTrace, Verdict, traces_summary
from tools.mail.tools import SENDING_TOOLS
from tools.toolkit import ActionPreview

DECISION_TYPES = ("accept", "edit", "response", "ignore")
CONTENT_LIMIT = 4000
"""Characters of a message's content shown on a card; the rest is named, not hidden."""


class ResumeError(ValueError):
    """A resume value that does not answer the pending requests."""


@dataclass(frozen=True)
class Review:
    """One proposed call as the approval step sees it."""

    call: ToolCallRequest
    level: int
    side_effect: bool
    flags: list[Flag]
    action: MailAction | None = None
    preview: ActionPreview | None = None
    """What a non-mail native call will really send, worked out by its toolkit."""
    unavailable: str = ""
    """Why the tool, or this one call of it, cannot run here (its integration is not
    configured; an account or a server tool it needs is missing): nothing will happen."""
    recipients: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Each recipient argument of a non-mail call with the addresses a server will be given."""
    notes: tuple[str, ...] = ()
    """What the person deciding should know about the content (a reply naming a day the
    sender did not propose), worked out with the rest of the review, off the event loop."""
    conversations: tuple[ConversationLine, ...] = ()
    """The conversations an inbox action touches, one per id it names, from the mailbox."""
    reverses: tuple[str, ...] = ()
    """More lines for an inbox action's card: when a snooze ends; for an undo, what it will
    reverse (the action, when, its table)."""

    @property
    def runs_without_asking(self) -> bool:
        """Level 0 for a tool that only reads, or level 2 — and never with a flag.

        A call of a tool that cannot run here is let through: nothing happens, and `act`
        records why it could not run so the answer can say so.
        """
        if self.unavailable:
            return True
        if self.flags:
            return False
        return self.level == AUTONOMOUS or (self.level == READ_ONLY and not self.side_effect)


def approval_request(review: Review) -> dict[str, Any]:
    """The interrupt payload of one call (Agent Inbox `HumanInterrupt`, plus id and flags)."""
    call = review.call
    return {
        "action_request": {"action": call["name"], "args": call["args"]},
        "config": {
            "allow_accept": True,
            "allow_edit": True,
            "allow_respond": True,
            "allow_ignore": True,
        },
        "description": describe_call(review),
        "call_id": call["id"],
        "flags": list(review.flags),
        "level": review.level,
        "conversations": [line.as_dict() for line in review.conversations],
    }


TITLES = {
    "send_email": "Send an email",
    "reply_to_email": "Send a reply",
    "save_draft": "Save a draft (nothing is sent)",
}


def _quote(text: str) -> str:
    if len(text) > CONTENT_LIMIT:
        text = text[:CONTENT_LIMIT] + f"\n[… {len(text) - CONTENT_LIMIT} more characters]"
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines() or [""])


def _action_lines(action: MailAction, notes: tuple[str, ...] = ()) -> list[str]:
    account = f" (account {action.account})" if action.account else ""
    lines = [
        f"- **From:** {action.sender or '(no address)'}{account}",
        f"- **To:** {', '.join(action.to) or '(nobody)'}",
    ]
    if action.cc:
        lines.append(f"- **Cc:** {', '.join(action.cc)}")
    lines.append(f"- **Subject:** {action.subject or '(no subject)'}")
    original = action.reply_of
    if original is not None:
        lines.append(
            f"- **In reply to:** {original.subject or '(no subject)'} — {original.sender} "
            f"[msg:{original.id}]"
        )
        if original.reply_to and original.reply_to != original.from_addr:
            lines.append(
                f"- **Reply-To differs from From:** the message came from {original.from_addr} "
                f"but asks for replies to {original.reply_to}"
            )
    lines += [f"- **Note:** {note}" for note in (*action.notes, *notes)]
    lines += ["", "**Content:**", "", _quote(action.body)]
    return lines


def code_span(text: str) -> str:
    """`text` as a markdown code span, whatever backticks it holds: shown exactly as it is.

    An argument's value is never read as markdown on a card: an id such as `abc@mail.example`
    would become a `mailto:` link, and `[text](url)` from a mail a link with hidden target.
    """
    fence = "`"
    while fence in text:
        fence += "`"
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def _argument_lines(args: dict[str, Any]) -> list[str]:
    lines = []
    for name, value in args.items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if "\n" in shown:
            lines.append(f"- `{name}`:\n\n" + _quote(shown))
        else:
            lines.append(f"- `{name}`: {code_span(shown) if shown else '(empty)'}")
    return lines


def _preview_lines(preview: ActionPreview) -> list[str]:
    lines = [f"- **{label}:** {value}" for label, value in preview.fields]
    lines += [f"- **Note:** {note}" for note in preview.notes]
    if preview.content:
        lines += ["", "**Content:**", "", _quote(preview.content)]
    return lines


def describe_call(review: Review) -> str:
    """Markdown that says what will happen, to whom, with which content, and the flags."""
    call = review.call
    title = TITLES.get(call["name"], f"Run `{call['name']}`")
    inbox_title = action_title(call["name"], call["args"], review.conversations)
    if review.preview is not None and call["name"] not in TITLES:
        title = review.preview.title
    elif inbox_title:
        title = inbox_title
    lines = [f"### {title}", ""]
    if review.action:
        lines += _action_lines(review.action, review.notes)
    elif review.preview is not None:
        lines += _preview_lines(review.preview)
    else:
        named = ID_LIST_ARGS | ID_ARGS if review.conversations else frozenset()
        shown = {k: v for k, v in call["args"].items() if k not in named}
        lines += _argument_lines(shown)
    lines += list(review.reverses)
    if review.conversations:
        lines += (
            ["", *conversation_table(review.conversations)]
            if lines[-1]
            else [*conversation_table(review.conversations)]
        )
    for arg, addresses in review.recipients:
        lines.append(f"- **`{arg}` delivers to:** {', '.join(addresses)}")
    if review.flags:
        lines += ["", "**⚠ Check these — they did not come from you:**"]
        for flag in review.flags:
            lines.append(f"- `{flag['arg']}`: {flag['kind']} `{flag['value']}` — {flag['reason']}")
    level = f"{review.level} ({LEVEL_NAMES.get(review.level, '?')})"
    lines += ["", f"Policy level {level}; proposed by {call['proposed_by']}."]
    return "\n".join(lines)


def read_responses(value: Any, calls: list[ToolCallRequest]) -> dict[str, dict[str, Any]]:
    """Map pending call ids to the responses in `value`; calls left out stay pending.

    Accepts a list aligned with the requests (Agent Inbox), a dict keyed by call id (some or
    all of them), or one response (a dict with `type`) that answers every pending call.
    """
    ids = [call["id"] for call in calls]
    if isinstance(value, dict) and "type" in value:
        responses = dict.fromkeys(ids, value)
    elif isinstance(value, dict):
        unknown = sorted(set(value) - set(ids))
        if unknown:
            raise ResumeError(
                f"no pending request with id {', '.join(unknown)}; pending: {', '.join(ids)}"
            )
        responses = dict(value)
    elif isinstance(value, list) and len(value) == len(calls):
        responses = dict(zip(ids, value, strict=True))
    else:
        raise ResumeError(
            f"resume value must answer {len(calls)} request(s): a list, a dict by call id, "
            "or one response"
        )
    for call_id, response in responses.items():
        if not isinstance(response, dict) or response.get("type") not in DECISION_TYPES:
            raise ResumeError(
                f"response for {call_id} must be {{'type': one of "
                f"{', '.join(DECISION_TYPES)}, 'args': ...}}"
            )
    return responses


def edited_args(edited: Any, original: dict[str, Any]) -> dict[str, Any]:
    """The arguments of an `edit`: Agent Inbox sends `{"action", "args"}`; a bare dict works too."""
    if isinstance(edited, dict) and isinstance(edited.get("args"), dict):
        return dict(edited["args"])
    if isinstance(edited, dict) and edited:
        return dict(edited)
    return dict(original)


def unknown_outcome_request(
    call: ToolCallRequest, started_at: str, sends: Sequence[SentTrace] = ()
) -> dict[str, Any]:
    """The card for a call that was started but whose outcome was never recorded.

    `sends` is what was found of each message the call was sending (`tools.mail.send_trace.
    trace_sends`): the card says, per message, where it was seen or how far the exchange got,
    and so whether it was delivered, before the person decides to run the call again. A
    sending tool that recorded no message stopped before anything connected: nothing was sent.
    """
    verdicts, found = _what_was_found(call, sends)
    lines = [
        _unknown_outcome_heading(call["name"], verdicts),
        "",
        f"It was started at {started_at} with the arguments below, but the process stopped "
        "before its result was recorded.",
    ]
    if found:
        lines += ["", "**What was found:**", "", *found]
    lines += ["", _what_accept_does(verdicts, sends), "", *_argument_lines(call["args"])]
    summary = traces_summary(sends) or "; ".join(VERDICT_WORDS[v] for v in sorted(verdicts))
    return {
        "action_request": {"action": call["name"], "args": call["args"]},
        "config": {
            "allow_accept": True,
            "allow_edit": False,
            "allow_respond": False,
            "allow_ignore": True,
        },
        "description": "\n".join(lines),
        "call_id": call["id"],
        "flags": [
            {
                "arg": "",
                "kind": "unknown_outcome",
                "value": started_at,
                "seen_in": "",
                "reason": f"started earlier; {summary or 'it may have happened'}",
            }
        ],
        "level": 1,
    }


def _what_was_found(
    call: ToolCallRequest, sends: Sequence[SentTrace]
) -> tuple[set[Verdict], list[str]]:
    """The verdicts on the call's messages and one line per message saying what was found.

    A sending tool that recorded no message has one verdict all the same: not sent.
    """
    verdicts = {trace.verdict for trace in sends}
    found = [
        f"- Message-ID {code_span(trace.message_id)} to "
        f"{', '.join(trace.recipients) or '(nobody)'}: {trace.explain()}"
        for trace in sends
    ]
    if not sends and call["name"] in SENDING_TOOLS:
        verdicts = {"not_sent"}
        found = ["- No message was prepared before the process stopped: nothing was sent."]
    return verdicts, found


def _unknown_outcome_heading(name: str, verdicts: set[Verdict]) -> str:
    """The card's title: sent, not sent, or not known."""
    if verdicts == {"delivered"}:
        return f"### Already sent before an interruption: `{name}`"
    if verdicts == {"not_sent"}:
        return f"### Interrupted before its mail was sent: `{name}`"
    return f"### This may already have happened: `{name}`"


def _what_accept_does(verdicts: set[Verdict], sends: Sequence[SentTrace]) -> str:
    """What accepting and ignoring the card do, given what is known of the call's mail."""
    if not verdicts:
        return (
            "Check (for example in the service it acts on) before running it again. "
            "**Accept** runs it again; **ignore** does not."
        )
    if verdicts == {"not_sent"}:
        keeps = " (its mail keeps the Message-ID above)" if sends else ""
        return f"**Accept** runs it now{keeps}; **ignore** does not."
    if any(trace.in_outbox is not None for trace in sends):
        return (
            "**Accept** runs it again: its mail goes to the local demo outbox again, a second "
            "copy with the same Message-ID; **ignore** does not run it again."
        )
    return (
        "**Accept** runs it again: its mail is sent again with the same Message-ID, so most "
        "mail systems keep only one copy; **ignore** does not run it again."
    )
