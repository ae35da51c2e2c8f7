"""`classify`: triage every message that has none yet; rules first, the engine where unsure."""

from __future__ import annotations

import asyncio
from typing import Any

from langgraph.runtime import Runtime

from graph.context import Context
from graph.engines.triage_rules import triage_by_rules
from graph.services import services_for
from graph.state import State, TriageRow
from memory.db import TriageRecord


async def classify(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Triage untriaged messages and cache the results by message id."""
    services = await services_for(runtime)
    ids = await asyncio.to_thread(services.db.untriaged_ids, services.source)
    emails = await asyncio.to_thread(services.db.emails_by_ids, ids)
    rows: list[TriageRow] = []
    records: list[TriageRecord] = []
    for email in emails:
        rules = triage_by_rules(email, owner_addresses=services.context.user_addresses)
        result = await services.engine.classify(email, rules)
        records.append(
            TriageRecord(
                email_id=email.id,
                priority=result.priority,
                category=result.category,
                action=result.action,
                reason=result.reason,
                confidence=result.confidence,
                engine=result.engine,
            )
        )
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
        }
        if email.error:
            row["error"] = email.error
        rows.append(row)
    await asyncio.to_thread(services.db.save_triage, records)
    return {"triage": rows}
