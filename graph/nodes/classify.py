"""`classify`: triage every message that has none yet; rules first, the engine where unsure.

The results are cached by message id in the app database. The conversations the new mail is
in, each in the state its newest message from someone else left it, become one evidence
record (the most important first), so a triage summary speaks of conversations and cites
only what triage really found.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from langgraph.runtime import Runtime

from graph.context import Context
from graph.corrections import examples_text, load_learner, mailbox_profile, preferences_text
from graph.engines.base import TriageResult
from graph.engines.triage import RuleTriage, triage_by_rules
from graph.services import services_for
from graph.state import Evidence, State, TriageRow
from memory.db import PRIORITY_ORDER, AppDatabase
from memory.mail_tables import TriageRecord
from tools.mail.conversation_triage import (
    by_importance,
    conversations_around,
    render_state_refs,
    state_ref,
)
from tools.mail.mailbox import MailboxEnv
from tools.mail.model import Email

STATE_ROWS_LIMIT = 100
"""Triage rows kept in state (the most important); the database keeps them all."""


async def classify(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Triage untriaged messages and cache the results by message id."""
    services = await services_for(runtime)
    # Regular expressions over up to megabytes of body each: CPU work, kept off the event loop.
    emails, (by_rules, preferences, examples) = await asyncio.to_thread(
        _untriaged, services.db, services.source, services.context.user_addresses
    )
    if not emails:
        return {"triage": []}
    rows: list[TriageRow] = []
    records: list[TriageRecord] = []
    for email, rules in zip(emails, by_rules, strict=True):
        result = await services.engine.classify(email, rules, preferences, examples)
        records.append(_triage_record(email, result))
        rows.append(_triage_row(email, result))
    await asyncio.to_thread(services.db.save_triage, records)
    kept = _most_important(rows)
    refs, count = await asyncio.to_thread(
        _conversation_refs, services.mailbox, list(zip(emails, records, strict=True))
    )
    return {
        "triage": [rows[i] for i in kept],
        "evidence": (state.get("evidence") or [])
        + [_triage_evidence(state, services.source, len(rows), count, refs)],
    }


def _conversation_refs(
    mailbox: MailboxEnv, pairs: list[tuple[Email, TriageRecord]]
) -> tuple[list[dict[str, Any]], int]:
    """The conversations of the new mail as refs citing their latest message, and their count.

    The most important first, at most `STATE_ROWS_LIMIT` (blocking: the database).
    """
    states = by_importance(conversations_around(mailbox, pairs))
    return [state_ref(s) for s in states[:STATE_ROWS_LIMIT]], len(states)


def _untriaged(
    db: AppDatabase, source: str, owners: Sequence[str]
) -> tuple[list[Email], tuple[list[RuleTriage], str, str]]:
    """The messages of `source` with no triage yet, newest first, and their rules triage.

    One trip off the event loop (blocking: the database, then the rules).
    """
    ids = db.untriaged_ids(source)
    emails = db.emails_by_ids(ids) if ids else []
    emails.sort(key=lambda e: e.date, reverse=True)
    return emails, _rules_triage(db, source, emails, owners)


def _rules_triage(
    db: AppDatabase, source: str, emails: list[Email], owners: Sequence[str]
) -> tuple[list[RuleTriage], str, str]:
    """Each message's triage by the rules and the user's corrections; those as model text.

    Returns the rows, the user's rules as lines and their corrected messages as data lines
    (`graph.corrections.examples_text`), both for a model's second opinion on unsure rows.
    """
    if not emails:
        return [], "", ""
    profile = mailbox_profile(db, source, emails, owners)
    learner = load_learner(db)
    rows = [
        learner.apply(email, triage_by_rules(email, profile=profile), profile) for email in emails
    ]
    return rows, preferences_text(learner), examples_text(db, learner)


def _triage_record(email: Email, result: TriageResult) -> TriageRecord:
    """The triage of one message as the database caches it."""
    return TriageRecord(
        email_id=email.id,
        priority=result.priority,
        category=result.category,
        action=result.action,
        reason=result.reason,
        confidence=result.confidence,
        engine=result.engine,
        decision=result.decision,
        suspicious=result.suspicious,
        unsure=result.unsure,
    )


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
