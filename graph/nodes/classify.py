"""`classify`: triage every message that has none yet; rules first, the engine where unsure.

The results are cached by message id in the app database. The conversations the new mail is
in, each in the state its newest message from someone else left it, become one evidence
record (the most important first), so a triage summary speaks of conversations and cites
only what triage really found.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from langgraph.runtime import Runtime

from graph.context import Context
from graph.corrections import examples_text, load_learner, mailbox_profile, preferences_text
from graph.engines.base import TriageResult
from graph.engines.triage import RuleTriage, triage_by_rules
from graph.engines.triage.learning import Learner
from graph.engines.triage.pool import rules_in_batches
from graph.engines.triage.profile import MailboxProfile
from graph.services import services_for
from graph.state import Evidence, State, TriageRow
from memory.db import PRIORITY_ORDER, AppDatabase
from memory.mail_listing import give_back_freed_memory, has_triage, listed_by_ids
from tools.mail.conversation_triage import (
    conversations_of_new_mail,
    most_important,
    render_state_refs,
    state_ref,
)
from tools.mail.mailbox import MailboxEnv
from tools.mail.model import Email

STATE_ROWS_LIMIT = 100
"""Triage rows kept in state (the most important); the database keeps them all."""
TRIAGE_BATCH = 1000
"""Messages read with their bodies, triaged and saved at a time, so a first triage of any size
holds two batches of bodies (the next is triaged ahead); the batches saved stay saved if a
later one fails."""


@dataclass(frozen=True)
class TriagePlan:
    """What every batch of one triage run shares, learned from all of its messages first.

    The messages' ids (newest first), the mailbox's profile and the user's corrections.
    """

    ids: list[str]
    profile: MailboxProfile
    learner: Learner
    preferences: str
    examples: str
    first: bool = False
    """No message of the source had been triaged before: the run's mail is the whole inbox."""


async def classify(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Triage untriaged messages and cache the results by message id."""
    services = await services_for(runtime)
    db = services.db
    plan = await asyncio.to_thread(
        _untriaged_plan, db, services.source, services.context.user_addresses
    )
    if not plan.ids:
        return {"triage": []}
    rows: list[TriageRow] = []
    # Regular expressions over up to megabytes of body each: CPU work, off the event loop,
    # in worker processes for a large run (`graph.engines.triage.pool`).
    batches = rules_in_batches(partial(_by_rules, plan), _batches(db, plan.ids), len(plan.ids))
    try:
        while (batch := await asyncio.to_thread(next, batches, None)) is not None:
            emails, by_rules = batch
            records: list[dict[str, Any]] = []
            saved_at = datetime.now(UTC).isoformat(timespec="seconds")
            for email, rules in zip(emails, by_rules, strict=True):
                result = await services.engine.classify(
                    email, rules, plan.preferences, plan.examples
                )
                records.append(_triage_record(email, result, saved_at))
                rows.append(_triage_row(email, result))
            await asyncio.to_thread(db.save_triage, records)
            rows = [rows[i] for i in _most_important(rows)]
    finally:
        await asyncio.to_thread(batches.close)
    refs, count, triaged = await asyncio.to_thread(
        _conversation_refs, services.mailbox, plan.ids, whole_inbox=plan.first
    )
    return {
        "triage": rows,
        "evidence": (state.get("evidence") or [])
        + [_triage_evidence(state, services.source, triaged, count, refs)],
    }


def _conversation_refs(
    mailbox: MailboxEnv, ids: list[str], *, whole_inbox: bool = False
) -> tuple[list[dict[str, Any]], int, int]:
    """The conversations of the new mail as refs citing their latest message, and their count.

    The new mail is read again from the database (the run keeps no list of it), as
    `tools.mail.conversation_triage.conversations_of_new_mail` says; also returned is how
    many of the `ids` were found triaged. The most important first, at most
    `STATE_ROWS_LIMIT`; the latest messages of those are read again with their bodies, for
    the previews (blocking: the database). `whole_inbox`: the run was a first triage.
    """
    refs, count, triaged = _cited_conversations(mailbox, ids, whole_inbox)
    # After a first triage those were a whole inbox's conversations: the C heap's pages they
    # freed go back now, not at the next whole-inbox list, so that the steps in between (the
    # rest of the run, its state read back) do not grow the process on top of them.
    give_back_freed_memory()
    return refs, count, triaged


def _cited_conversations(
    mailbox: MailboxEnv, ids: list[str], whole_inbox: bool
) -> tuple[list[dict[str, Any]], int, int]:
    found, triaged = conversations_of_new_mail(mailbox, ids, whole_inbox=whole_inbox)
    shown = most_important(found, STATE_ROWS_LIMIT)
    full = {e.id: e for e in mailbox.db.emails_by_ids([s.latest.id for s in shown])}
    shown = [replace(s, emails=(*s.emails[:-1], full.get(s.latest.id, s.latest))) for s in shown]
    return [state_ref(s) for s in shown], len(found), triaged


def _untriaged_plan(db: AppDatabase, source: str, owners: Sequence[str]) -> TriagePlan:
    """The plan for the messages of `source` with no triage yet (blocking: the database).

    They are read without bodies, as the whole inbox's list reads them
    (`memory.mail_listing`): the profile needs only who wrote to whom and when.
    """
    ids = db.untriaged_ids(source)
    emails = listed_by_ids(db.engine, ids) if ids else []
    emails.sort(key=lambda e: e.date, reverse=True)
    first = bool(ids) and not has_triage(db.engine, source)
    return replace(_triage_plan(db, source, emails, owners), first=first)


def _triage_plan(
    db: AppDatabase, source: str, emails: list[Email], owners: Sequence[str]
) -> TriagePlan:
    """The plan for triaging `emails` (newest first), which the profile is learned from."""
    if not emails:
        return TriagePlan([], MailboxProfile(), Learner([]), "", "")
    profile = mailbox_profile(db, source, emails, owners)
    learner = load_learner(db)
    examples = examples_text(db, learner)
    return TriagePlan([e.id for e in emails], profile, learner, preferences_text(learner), examples)


def _batches(db: AppDatabase, ids: list[str]) -> Iterator[list[Email]]:
    """The messages with these ids, `TRIAGE_BATCH` at a time, in this order (blocking).

    A message gone since the run started is left out.
    """
    for start in range(0, len(ids), TRIAGE_BATCH):
        chunk = ids[start : start + TRIAGE_BATCH]
        found = {e.id: e for e in db.emails_by_ids(chunk)}
        yield [found[i] for i in chunk if i in found]


def _by_rules(plan: TriagePlan, email: Email) -> RuleTriage:
    return plan.learner.apply(email, triage_by_rules(email, profile=plan.profile), plan.profile)


def _rules_triage(
    db: AppDatabase, source: str, emails: list[Email], owners: Sequence[str]
) -> tuple[list[RuleTriage], str, str]:
    """Each message's triage by the rules and the user's corrections; those as model text.

    What `classify` does batch by batch, for messages at hand. Returns the rows, the user's
    rules as lines and their corrected messages as data lines (`graph.corrections.examples_text`),
    both for a model's second opinion on unsure rows.
    """
    if not emails:
        return [], "", ""
    plan = _triage_plan(db, source, emails, owners)
    return [_by_rules(plan, email) for email in emails], plan.preferences, plan.examples


def _triage_record(email: Email, result: TriageResult, saved_at: str) -> dict[str, Any]:
    """The triage of one message as the database caches it: every column, as a dict.

    No `TriageRecord` is made (validated or not): `AppDatabase.save_triage` writes the
    dict as it is, rather than make an ORM object and dump it again for each message.
    """
    return {
        "email_id": email.id,
        "priority": result.priority,
        "category": result.category,
        "action": result.action,
        "reason": result.reason,
        "confidence": result.confidence,
        "engine": result.engine,
        "created_at": saved_at,
        "decision": result.decision,
        "suspicious": result.suspicious,
        "unsure": result.unsure,
    }


def _triage_row(email: Email, result: TriageResult) -> TriageRow:
    """The triage of one message as the state and the triage summary show it."""
    row: TriageRow = {
        "id": email.id,
        "sender": email.sender,
        "subject": email.subject,
        "date": email.date,
        "priority": result.priority,
        "category": result.category,
        "action": result.action,
        "reason": result.reason,
        "engine": result.engine,
        "decision": result.decision,
    }
    if result.suspicious:
        row["suspicious"] = result.suspicious
    if result.unsure:
        row["unsure"] = True
    if email.error:
        row["error"] = email.error
    return row


def _most_important(rows: list[TriageRow]) -> list[int]:
    """Indexes of the rows kept in state, most important first, at most `STATE_ROWS_LIMIT`."""
    last = len(PRIORITY_ORDER)
    order = sorted(range(len(rows)), key=lambda i: PRIORITY_ORDER.get(rows[i]["priority"], last))
    return order[:STATE_ROWS_LIMIT]


def _triage_evidence(
    state: State, source: str, new_messages: int, conversations: int, refs: list[dict[str, Any]]
) -> Evidence:
    """The evidence record of this triage: the conversations of the new mail, as they stand."""
    turn = state.get("turn", 0)
    return {
        "id": f"ev-{turn}-triage",
        "tool": "triage",
        "args": {"source": source, "new_messages": new_messages, "conversations": conversations},
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "turn": turn,
        "completeness": "PREVIEW",
        "content": render_state_refs(refs),
        "messages": refs,  # type: ignore[typeddict-item]
        "error": "",
    }
