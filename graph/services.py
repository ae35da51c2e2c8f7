"""What nodes work with, built from the run's `Context`: database, tools and engine."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from langgraph.runtime import Runtime

from graph.context import Context
from graph.engines import load_engine
from graph.engines.base import Engine
from memory.db import AppDatabase, open_database
from memory.paths import app_database_url, data_dir
from tools.mail.sources import MailSourceError
from tools.mail.sync import canonical_spec
from tools.mailbox import MailboxEnv
from tools.registry import ToolRegistry


@dataclass(frozen=True)
class Services:
    """The database, tool catalogue and engine of one run."""

    context: Context
    source: str
    """The inbox spec with an absolute path: the key of the mail cache and cursor."""
    db: AppDatabase
    tools: ToolRegistry
    engine: Engine


def _build(context: Context) -> Services:
    db = open_database(app_database_url(data_dir(context.home)))
    try:
        source = canonical_spec(context.inbox)
    except MailSourceError:
        # A missing or broken mailbox must not stop the run: `fetch` reports it as a fetch error.
        source = context.inbox
    return Services(
        context=context,
        source=source,
        db=db,
        tools=ToolRegistry(env=MailboxEnv(db=db, source=source)),
        engine=load_engine(context.model),
    )


async def services_for(runtime: Runtime[Context]) -> Services:
    """Services for this run; file-system work happens off the event loop."""
    context = runtime.context if isinstance(runtime.context, Context) else Context()
    return await asyncio.to_thread(_build, context)
