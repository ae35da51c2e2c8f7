"""Messages as the mail tools show them: previews or full text, with their triage.

One rendering for the tools, the triage summary and the served mailbox, so the model and a
person read the same numbered block.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from memory.inbox_store import InboxStore, TriageView
from memory.mail_tables import TriageRecord
from tools.mail.mailbox import MailboxEnv
from tools.mail.maildir import MaildirSource
from tools.mail.model import Email
from tools.mail.source_protocol import MailSourceError
from tools.toolkit import ToolFailure

FULL_TEXT_LIMIT = 20_000
"""Characters of a body kept in evidence; the rest is named, not silently dropped."""


def message_ref(
    email: Email, triage: TriageRecord | TriageView | None = None, *, full: bool
) -> dict[str, Any]:
    """The `MessageRef` of a message: preview or full text, with its triage when known."""
    ref: dict[str, Any] = {
        "id": email.id,
        "sender": email.sender,
        "subject": email.subject,
        "date": email.date,
        "text": _full_text(email.body) if full else email.preview(),
    }
    if email.account:
        ref["account"] = email.account
    if email.error:
        ref["text"] = f"[UNREADABLE MESSAGE: {email.error}]"
    if email.is_draft:  # the user's own: who it is for matters more than who it is from
        ref["to"] = ", ".join(email.to)
    if triage is not None:
        ref.update(
            priority=triage.priority,
            category=triage.category,
            action=triage.action,
            reason=triage.reason,
        )
        if triage.suspicious:
            ref["suspicious"] = triage.suspicious
    if full:
        if email.reply_to and email.reply_to != email.from_addr:
            ref["reply_to"] = email.reply_to
        if email.attachments:
            ref["attachments"] = [
                f"{a.filename} ({a.content_type}, {a.size} bytes)" for a in email.attachments
            ]
    return ref


def account_tag(ref: Mapping[str, object]) -> str:
    """`[work] ` for a message of the account `work` of an inbox of several; '' otherwise."""
    return f"[{ref['account']}] " if ref.get("account") else ""


def _full_text(body: str) -> str:
    if len(body) <= FULL_TEXT_LIMIT:
        return body
    cut = len(body) - FULL_TEXT_LIMIT
    return body[:FULL_TEXT_LIMIT] + f"\n[… {cut} more characters of this message not included]"


def render_refs(refs: list[dict[str, Any]], *, full: bool) -> str:
    """Messages as the numbered text block tools return and prompts show."""
    if not refs:
        return "No messages matched."
    blocks = []
    for n, ref in enumerate(refs, 1):
        lines = [
            f"{n}. id: {ref['id']}",
            *([f"   account: {ref['account']}"] if ref.get("account") else []),
            f"   from: {ref['sender']}",
            *([f"   to: {ref['to']}"] if "to" in ref else []),
            f"   subject: {ref['subject']}",
            f"   date: {ref['date']}",
        ]
        if "priority" in ref:
            triage = f"{ref['priority']} / {ref['category']} / {ref['action']}"
            lines.append(f"   triage: {triage} — {ref['reason']}")
        if ref.get("folder"):
            lines.append(f"   folder: {ref['folder']} (out of the inbox)")
        if ref.get("reply_to"):
            lines.append(f"   reply-to: {ref['reply_to']}")
        if ref.get("attachments"):
            lines.append("   attachments: " + "; ".join(ref["attachments"]))
        label = "body" if full else "preview"
        lines.append(f"   {label}: {ref['text']}")
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def with_triage(env: MailboxEnv, emails: list[Email], *, full: bool) -> list[dict[str, Any]]:
    """The `MessageRef`s of these messages, each with its triage when there is one.

    A message an inbox action moved out of the inbox (archived, trashed, snoozed, moved) says
    which folder it is in, so nobody takes it for inbox mail. Blocking: one connection to
    the app database.
    """
    triage, away = InboxStore(env.db).triage_and_away(env.source, [e.id for e in emails])
    refs = [message_ref(e, triage.get(e.id), full=full) for e in emails]
    for ref, email in zip(refs, emails, strict=True):
        if email.id in away:
            ref["folder"] = email.folder
    return refs


def read_outbox(outbox: Path, limit: int) -> tuple[str, list[dict[str, Any]]]:
    """The mail in the local outbox, newest first: a text block and the same as plain data.

    Blocking (reads the Maildir). An outbox that was never written to is empty, not an error.
    """
    if not outbox.is_dir():
        return f"The local demo outbox ({outbox}) is empty: nothing has been sent yet.", []
    try:
        emails = MaildirSource(outbox, f"maildir:{outbox}").fetch_new(set()).emails
    except MailSourceError as err:
        raise ToolFailure(f"the local demo outbox cannot be read: {err}") from err
    emails.sort(key=lambda e: (e.date, e.key), reverse=True)
    rows = [
        {
            "message_id": email.id,
            "from": email.sender,
            "to": list(email.to),
            "cc": list(email.cc),
            "subject": email.subject,
            "date": email.date,
            "attachments": [a.filename for a in email.attachments],
            "text": email.error or email.preview(),
        }
        for email in emails[:limit]
    ]
    if not rows:
        return f"The local demo outbox ({outbox}) is empty: nothing has been sent yet.", []
    blocks = [
        f"{len(emails)} message(s) in the local demo outbox ({outbox}), newest first; "
        "none of them left this machine:"
    ]
    for n, row in enumerate(rows, 1):
        lines = [
            f"{n}. to: {', '.join(row['to']) or '(nobody)'}",
            f"   from: {row['from'] or '(no From header)'}",
            f"   subject: {row['subject'] or '(no subject)'}",
            f"   date: {row['date'] or 'unknown'}",
        ]
        if row["cc"]:
            lines.insert(1, f"   cc: {', '.join(row['cc'])}")
        if row["attachments"]:
            lines.append(f"   attachments: {', '.join(row['attachments'])}")
        lines.append(f"   text: {row['text']}")
        blocks.append("\n".join(lines))
    return "\n".join(blocks), rows
