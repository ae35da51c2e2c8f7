"""`smart-inbox triage`: fetch new mail, classify it, and print the inbox most important first.

One row per conversation, in the state its newest message from someone else left it
(`tools.mail.conversation_triage`); `--messages` prints one row per message instead.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TextIO, overload

from langgraph.types import StateSnapshot

from graph.services import Services, build_services
from memory.db import CATEGORY_ORDER, PRIORITY_ORDER
from memory.mail_listing import inbox_listing
from memory.mail_tables import TriageRecord
from tools.mail.conversation_triage import (
    ConversationTriage,
    KeptListing,
    every_conversation,
    keeping_listing,
)
from tools.mail.conversations import sent_instant
from tools.mail.model import Email
from ui.cli.errors import EXIT_USER_ERROR, UserError
from ui.cli.settings import load_context, one_line_errors
from ui.cli.terminal_text import plain_text
from ui.cli.turns import decision_commands, report_fetch_failures, run_turn, turn_result

COLUMNS = [
    ("decision", 9),
    ("priority", 8),
    ("category", 15),
    ("action", 16),
    ("from", 28),
    ("subject", 50),
]
"""The table's columns and their widths: what to do with the conversation first."""
ACCOUNT_COLUMN = ("account", 10)
"""Shown first when the inbox is several accounts: the account each conversation came to."""
SUSPICIOUS_MARK = "!"
UNSURE_MARK = "?"
LEGEND = (
    f"{SUSPICIOUS_MARK} looks like phishing or fraud (see the warnings below)   "
    f"{UNSURE_MARK} the engine is unsure: check it"
)


@one_line_errors
async def triage(args: argparse.Namespace) -> int:
    """Run the triage on a new thread, then print every conversation and what it suggests."""
    if args.limit is not None and args.limit < 1:
        raise UserError("--limit must be at least 1")
    # What the imports made lives as long as the process: set aside from the cyclic collector,
    # whose full passes would otherwise walk it again each time while a whole inbox is held
    # (half of their time), and from what the forked parse and rule workers collect.
    gc.freeze()
    try:
        return await _triage(args)
    finally:
        gc.unfreeze()


async def _triage(args: argparse.Namespace) -> int:
    """`triage`, once its arguments are checked."""
    context = await asyncio.to_thread(load_context, args)
    thread_id = f"triage-{uuid.uuid4().hex[:12]}"
    # A first triage threads the whole inbox to cite its conversations: kept, the table
    # below lists them without threading the inbox again.
    with keeping_listing() as kept:
        snapshot = await run_turn({"mode": "triage", "messages": []}, thread_id, context)
    pending = turn_result(snapshot, thread_id)["pending"]
    services: Services = await asyncio.to_thread(build_services, context)
    # The source itself failed (not one message): what the cache holds is still shown, and
    # the exit status says the inbox could not be read, so nothing mistakes it for an empty one.
    source_failed = report_fetch_failures(snapshot)
    # Not shown, and every message's id after a first triage: not held under the inbox list.
    snapshot.values.pop("new_email_ids", None)
    # Its Sent folder is not asked then: it would fail the same way, a second line for one cause.
    rows = await asyncio.to_thread(
        listed_rows, services, args.limit, args.messages, with_sent=not source_failed, kept=kept
    )
    status = EXIT_USER_ERROR if source_failed else 0
    waiting = (
        f"{len(pending)} suggested action(s) wait for your approval: "
        f"smart-inbox resume --thread {thread_id} (--accept | --reject | --call ID ...)"
    )
    if args.json:
        write_json(rows, sys.stdout)
        if pending:
            print(f"smart-inbox: {waiting}", file=sys.stderr)
        return status
    new = len(snapshot.values.get("triage") or [])
    shown = "message(s)" if args.messages else "conversation(s)"
    print(f"{len(rows)} {shown} shown, {new} newly triaged.\n")
    marked = print_table(rows)
    print("\n".join(warning_lines(marked)))
    for row in marked:
        if row.get("error"):
            print(f"\nunreadable: {row['id']}: {row['error']}")
    _print_suggestions(snapshot, thread_id, pending, waiting)
    return status


def write_json(rows: Iterable[dict[str, Any]], out: TextIO) -> None:
    """`json.dump(list(rows), out, ensure_ascii=False, indent=2)` and a newline, row by row.

    Each row is made and encoded in turn: the rows and the text of a whole large inbox are
    never held at once.
    """
    separator = "["
    for row in rows:
        text = json.dumps(row, ensure_ascii=False, indent=2)
        out.write(separator + "\n  " + text.replace("\n", "\n  "))
        separator = ","
    out.write("[]\n" if separator == "[" else "\n]\n")


def print_table(rows: InboxRows) -> list[dict[str, Any]]:
    """Print the table row by row; the rows marked suspicious or unsure, or unreadable.

    Each row is made once and let go once printed, but for those returned (what the
    warnings and the unreadable lines under the table are about).
    """
    columns = [ACCOUNT_COLUMN, *COLUMNS] if rows.accounts else COLUMNS
    print(_heading(columns))
    marked = []
    for row in rows:
        print(_line(row, columns))
        if row.get("suspicious") or row.get("unsure") or row.get("error"):
            marked.append(row)
    return marked


class InboxRows(Sequence[dict[str, Any]]):
    """The rows to print, each made from its conversation (or message) when it is read.

    A whole large inbox's rows are never held at once: `write_json` and `print_table` make,
    encode and let go of one at a time.
    """

    def __init__(self, items: Sequence[Any], make: Callable[[Any], dict[str, Any]]) -> None:
        """Rows of `items`, each made by `make`."""
        self._items, self._make = items, make
        self.accounts = any(_latest(item).account for item in items)
        """Whether a row names its account (the inbox is several accounts)."""

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        """The row at `index` (made now), or a list of those in a slice."""
        if isinstance(index, slice):
            return [self._make(item) for item in self._items[index]]
        return self._make(self._items[index])

    def __len__(self) -> int:
        """How many rows."""
        return len(self._items)


def _latest(item: Any) -> Email:
    return item.latest if isinstance(item, ConversationTriage) else item[0]


def listed_rows(
    services: Services,
    limit: int | None,
    messages: bool,
    *,
    with_sent: bool = True,
    kept: KeptListing | None = None,
) -> InboxRows:
    """The rows to print, most important first (blocking: the database, an IMAP Sent folder).

    The messages are read without their bodies, which no row shows, as the whole inbox's list
    reads them (`memory.mail_listing`): the whole inbox is read, unless a first triage `kept`
    its conversations, still current (`KeptListing.take`).
    """
    taken = None if kept is None else kept.take(services.mailbox, with_sent=with_sent)
    if messages:
        emails, triage = inbox_listing(services.db.engine, services.source)
        pairs = [(email, triage) for email in emails[:limit]]
        return InboxRows(pairs, lambda pair: message_row(pair[0], pair[1][pair[0].id]))
    if taken is not None:
        states, note = taken, ""
    else:
        states, note = every_conversation(services.mailbox, with_sent=with_sent)
    if note:
        print(f"smart-inbox: {note}; a conversation answered there shows as open", file=sys.stderr)
    states.sort(key=lambda c: sent_instant(c.latest), reverse=True)
    states.sort(key=_importance)
    return InboxRows(states[:limit], conversation_json)


def _importance(state: ConversationTriage) -> tuple[bool, int, int]:
    # Columns, not a record made for each conversation the sort looks at.
    return (
        state.answered,
        PRIORITY_ORDER.get(state.state_column("priority"), len(PRIORITY_ORDER)),
        CATEGORY_ORDER.get(state.state_column("category"), len(CATEGORY_ORDER)),
    )


def conversation_json(state: ConversationTriage) -> dict[str, Any]:
    """One conversation as `triage --json` prints it: its latest message, its state now."""
    latest, record = state.latest, state.record
    row: dict[str, Any] = {
        "id": latest.id,
        "conversation": state.key,
        "thread_size": len(state.emails),
        "people": state.people,
        "from": latest.sender,
        "subject": latest.subject,
        "date": latest.date,
        **({"account": latest.account} if latest.account else {}),
        "state": "answered" if state.answered else (record.decision if record else "error"),
        "answered": state.answered,
        "triaged": state.standing.id,
        "priority": record.priority if record else "unknown",
        "category": record.category if record else "unreadable",
        "action": record.action if record else "none",
        "reason": record.reason if record else "not triaged",
        "decision": record.decision if record else "error",
        "suspicious": state.warning,
        "unsure": record.unsure if record else False,
    }
    if state.suspicious:
        row["suspicious_id"] = state.suspicious[0][0].id
    if state.standing.error:
        row["error"] = state.standing.error
    return row


def message_row(email: Email, triage: TriageRecord) -> dict[str, Any]:
    """One message's row, as `triage --json --messages` prints it."""
    return {
        "id": email.id,
        "from": email.sender,
        "subject": email.subject,
        "date": email.date,
        **({"account": email.account} if email.account else {}),
        "priority": triage.priority,
        "category": triage.category,
        "action": triage.action,
        "reason": triage.reason,
        "decision": triage.decision,
        "suspicious": triage.suspicious,
        "unsure": triage.unsure,
        **({"error": email.error} if email.error else {}),
    }


def _print_suggestions(
    snapshot: StateSnapshot, thread_id: str, pending: list[dict[str, Any]], waiting: str
) -> None:
    """The slots offered for meeting requests, and the actions waiting for approval."""
    values = snapshot.values
    offers = [
        e["content"]
        for e in values.get("evidence") or []
        if e["turn"] == values.get("turn")
        and e["tool"] == "propose_meeting_slots"
        and not e["error"]
    ]
    if offers:
        print("\nSlots for the new meeting requests:\n\n" + plain_text("\n\n".join(offers)))
        print(f'\nTo book one: smart-inbox ask "book the first slot for NAME" --thread {thread_id}')
    if pending:
        print(f"\n{waiting}")
        for request in pending:
            print(f"\n({request['id']}):\n{plain_text(request['description'])}")
            call = request["id"] if len(pending) > 1 else None
            print("\n" + "\n".join(decision_commands(thread_id, call)))


def _table(rows: Sequence[dict[str, Any]]) -> str:
    # An inbox of several accounts shows whose each row is; one of one source, as it always did.
    columns = [ACCOUNT_COLUMN, *COLUMNS] if any(r.get("account") for r in rows) else COLUMNS
    return "\n".join([_heading(columns), *(_line(row, columns) for row in rows)])


def _heading(columns: Sequence[tuple[str, int]]) -> str:
    return "  ".join(name.upper().ljust(width) for name, width in columns)


def _line(row: dict[str, Any], columns: Sequence[tuple[str, int]]) -> str:
    cells = []
    for name, width in columns:
        value = decision_cell(row) if name == "decision" else str(row.get(name, ""))
        if name == "from" and row.get("thread_size", 1) > 1:
            value = people_cell(row["people"], row["thread_size"], width)
        cells.append((value if len(value) <= width else value[: width - 1] + "…").ljust(width))
    return "  ".join(cells).rstrip()


def people_cell(people: list[str], size: int, width: int) -> str:
    """Who wrote in a conversation and how many messages it has; the names cut, never the count."""
    names, count = ", ".join(people), f" ({size})"
    if len(names) + len(count) > width:
        names = names[: width - len(count) - 1] + "…"
    return names + count


def decision_cell(row: dict[str, Any]) -> str:
    """The state (`answered`, else the decision), marked for phishing or an unsure engine."""
    marks = (SUSPICIOUS_MARK if row.get("suspicious") else "") + (
        UNSURE_MARK if row.get("unsure") else ""
    )
    return f"{row.get('state') or row['decision']}{marks}"


def warning_lines(rows: list[dict[str, Any]]) -> list[str]:
    """Under the table: what the marks mean, and why each suspicious message looks so."""
    if not any(row.get("suspicious") or row.get("unsure") for row in rows):
        return []
    lines = ["", LEGEND]
    for row in rows:
        if row.get("suspicious"):
            lines.append(
                f"WARNING {row.get('suspicious_id') or row['id']} ({row['from']}): "
                f"{row['suspicious']}; do not reply, click its links or pay"
            )
    return lines
