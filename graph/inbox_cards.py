"""What an inbox action's card shows: every conversation it touches, and what an undo reverses.

A bulk action is one call with many ids, so its card is a table: one row per conversation
(subject, sender, date, how many messages), read from the mailbox, never from the words of
whoever proposed it. An Edit may drop rows; it can never add an id the proposal did not have.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from graph.provenance import Flag
from graph.state import Evidence
from memory.db import AppDatabase
from tools.calendar.settings import user_time_zone
from tools.mail.conversation_tools import read_mailbox
from tools.mail.conversations import conversation_of, sender_name
from tools.mail.mailbox import MailboxEnv

ID_LIST_ARGS = frozenset({"message_ids"})
"""Arguments that list message ids: shown as conversations; an Edit may only narrow them."""
ID_ARGS = frozenset({"message_id"})
"""Arguments that name one message: shown as its conversation."""
INBOX_ACTIONS: dict[str, str] = {
    "archive_conversations": "Archive {n}",
    "mark_done": "Mark {n} done (archived)",
    "move_to_folder": "Move {n} to {folder}",
    "trash_conversations": "Move {n} to Trash",
    "mark_read": "Mark {n} read",
    "flag_messages": "Flag {n}",
    "snooze_conversations": "Snooze {n}",
    "unsubscribe": "Unsubscribe from the list of {n}",
    "block_sender": "Block {address}",
}
"""The inbox actions an undo can reverse, with their card's title (`{n}`: how many
conversations)."""
UNWANTED = {("read", False): "Mark {n} unread", ("flagged", False): "Remove the flag of {n}"}
"""Titles of the calls that take a mark away."""
UNDO_TOOL = "undo_inbox_action"
LINK_FOLLOWING = frozenset({"unsubscribe"})
"""Tools that follow a link the mail wrote: never for a mail the triage called suspicious."""
NAMES_ONLY = frozenset(INBOX_ACTIONS) - {"unsubscribe", "block_sender"}
"""Tools that move or mark the messages they name without using what those messages say: the
card lists every conversation, so no id needs a flag of its own (an unsubscribe follows a
link the mail wrote, so its id is judged like any other)."""


@dataclass(frozen=True)
class ConversationLine:
    """One conversation an action touches, as the mailbox has it."""

    id: str
    """The id the call names (the tool acts on the whole conversation it belongs to)."""
    subject: str
    sender: str
    date: str
    count: int
    """Messages in the conversation; 0 when the id is not in the mailbox."""

    def as_dict(self) -> dict[str, Any]:
        """The line as plain data (for the approval request a chat renders its Edit from)."""
        return {
            "id": self.id,
            "subject": self.subject,
            "sender": self.sender,
            "date": self.date,
            "count": self.count,
        }


def moment(text: str, zone: tzinfo) -> str:
    """`Fri 4 Dec, 09:00` in the user's zone; the text as it is when it is not an instant."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return text
    if when.tzinfo is not None:
        when = when.astimezone(zone)
    return f"{when:%a} {when.day} {when:%b}, {when:%H:%M}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def named_ids(args: dict[str, Any]) -> list[str]:
    """The message ids a call's arguments name, in order, each once."""
    ids: list[str] = []
    for name, value in args.items():
        if name in ID_LIST_ARGS and isinstance(value, list):
            ids += [str(v) for v in value]
        elif name in ID_ARGS and isinstance(value, str) and value:
            ids.append(value)
    return list(dict.fromkeys(ids))


def conversation_lines(
    env: MailboxEnv, ids: Sequence[str], zone: tzinfo
) -> tuple[ConversationLine, ...]:
    """One line per id: its conversation's subject, first sender, newest date, size (blocking)."""
    if not ids:
        return ()
    mailbox = read_mailbox(env)
    lines = []
    for message_id in ids:
        conversation = conversation_of(message_id, mailbox.conversations)
        if conversation is None:
            email = env.db.get_email(message_id)
            if email is None:
                lines.append(ConversationLine(message_id, "(not in the mailbox)", "", "", 0))
                continue
            emails = [email]
        else:
            emails = list(conversation.emails)
        first, newest = emails[0], emails[-1]
        lines.append(
            ConversationLine(
                id=message_id,
                subject=first.subject or "(no subject)",
                sender=sender_name(first.sender),
                date=moment(newest.date, zone),
                count=len(emails),
            )
        )
    return tuple(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def conversation_table(lines: Sequence[ConversationLine]) -> list[str]:
    """The conversations as a markdown table, numbered as the Edit form numbers them."""
    total = sum(line.count for line in lines)
    rows = [
        f"**{_plural(len(lines), 'conversation')}, {_plural(total, 'message')}:**",
        "",
        "| # | Subject | From | Date | Messages |",
        "|---|---|---|---|---|",
    ]
    rows += [
        f"| {n} | {_cell(line.subject)} | {_cell(line.sender)} | {line.date} | {line.count} |"
        for n, line in enumerate(lines, 1)
    ]
    return rows


def action_title(tool: str, args: dict[str, Any], lines: Sequence[ConversationLine]) -> str:
    """`Archive 7 conversations`, `Snooze 1 conversation`, or '' for a tool that is not one."""
    title = INBOX_ACTIONS.get(tool)
    if title is None:
        return "Undo the last inbox action" if tool == UNDO_TOOL else ""
    title = next((t for (arg, v), t in UNWANTED.items() if args.get(arg) is v), title)
    return title.format(
        n=_plural(len(lines), "conversation") if lines else "mail",
        folder=args.get("folder") or "a folder",
        address=args.get("address") or "a sender",
    )


def undoable(evidence: Sequence[Evidence]) -> Evidence | None:
    """The thread's inbox action an undo reverses now: the newest not yet undone."""
    done: list[Evidence] = []
    for record in evidence:
        if record["error"]:
            continue
        if record["tool"] in INBOX_ACTIONS:
            done.append(record)
        elif record["tool"] == UNDO_TOOL and done:
            done.pop()
    return done[-1] if done else None


def narrowed_args(proposed: dict[str, Any], edited: dict[str, Any]) -> dict[str, Any]:
    """The edited arguments, with each id list cut to the ids the proposal had, in its order.

    An Edit can drop conversations from a bulk action, never add one: an id that was not
    proposed (or a list replaced by something else) is left out.
    """
    args = dict(edited)
    for name, value in proposed.items():
        if name not in ID_LIST_ARGS or not isinstance(value, list):
            continue
        wanted = args.get(name, value)
        if isinstance(wanted, str):
            wanted = [wanted]
        kept = {str(v) for v in wanted} if isinstance(wanted, list) else set()
        args[name] = [v for v in value if str(v) in kept]
    return args


def emptied(args: dict[str, Any]) -> bool:
    """Whether an edit left an id list with nothing in it (nothing is left to do)."""
    return any(name in ID_LIST_ARGS and value == [] for name, value in args.items())


def inbox_review(
    env: MailboxEnv, tool: str, args: dict[str, Any], evidence: Sequence[Evidence]
) -> tuple[tuple[ConversationLine, ...], tuple[str, ...]]:
    """The conversations a call names, and what else its card says (blocking: reads mail).

    A snooze says when it ends, an undo what it reverses, both in the user's zone.
    """
    zone = user_time_zone()
    lines = conversation_lines(env, named_ids(args), zone)
    if tool != UNDO_TOOL:
        until = str(args.get("until") or "")
        return lines, ((f"- **Comes back:** {moment(until, zone)} ({zone})",) if until else ())
    record = undoable(evidence)
    if record is None:
        return lines, (
            "",
            "Nothing this chat did to the inbox is left to undo; the tool says so if it finds "
            "nothing either.",
        )
    done = conversation_lines(env, named_ids(record["args"]), zone)
    what = action_title(record["tool"], record["args"], done)
    until = str(record["args"].get("until") or "")
    said = f" until {moment(until, zone)}" if until else ""
    reverses = ["", f"**It reverses:** {what}{said}, done {moment(record['at'], zone)}."]
    if done:
        reverses += ["", *conversation_table(done)]
    return lines, tuple(reverses)


def suspicious_flags(db: AppDatabase, tool: str, args: dict[str, Any]) -> list[Flag]:
    """A flag on an unsubscribe from a mail the triage warned about (blocking: reads triage).

    The offline engine never proposes one; a model might, so its card says why not to approve.
    """
    if tool not in LINK_FOLLOWING:
        return []
    flags: list[Flag] = []
    for message_id in named_ids(args):
        triage = db.triage_for([message_id]).get(message_id)
        if triage is not None and triage.suspicious:
            flags.append(
                {
                    "arg": "message_id",
                    "kind": "suspicious",
                    "value": message_id,
                    "seen_in": f"msg:{message_id}",
                    "reason": f"the triage warned about this mail ({triage.suspicious}): its "
                    "unsubscribe link is the attack; do not approve",
                }
            )
    return flags
