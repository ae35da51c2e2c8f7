"""What nodes work with, built from the run's `Context`: database, tools and engine."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

from langgraph.runtime import Runtime

from graph.context import Context
from graph.engines import load_engine
from graph.engines.base import Engine
from graph.policy import ApprovalPolicy, load_policy, policy_path
from memory.db import AppDatabase, open_database
from memory.paths import app_database_url, data_dir
from tools.mail.smtp import SmtpSettings, smtp_settings_from_env
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
    policy: ApprovalPolicy


def sender_address(smtp: SmtpSettings | None, user_addresses: tuple[str, ...]) -> str:
    """The From of sent mail: `SMTP_FROM`, else your first address, else the SMTP login."""
    if os.environ.get("SMTP_FROM"):
        return os.environ["SMTP_FROM"].strip()
    if user_addresses:
        return user_addresses[0]
    if smtp is not None and "@" in smtp.username:
        return smtp.username
    return ""


def _build(context: Context) -> Services:
    home = data_dir(context.home)
    db = open_database(app_database_url(home))
    smtp = smtp_settings_from_env()
    try:
        source = canonical_spec(context.inbox)
    except MailSourceError:
        # A missing or broken mailbox must not stop the run: `fetch` reports it as a fetch error.
        source = context.inbox
    return Services(
        context=context,
        source=source,
        db=db,
        tools=ToolRegistry.for_mailbox(
            MailboxEnv(
                db=db,
                source=source,
                smtp=smtp,
                sender=sender_address(smtp, context.user_addresses),
                user_addresses=context.user_addresses,
            )
        ),
        engine=load_engine(context.model),
        policy=load_policy(policy_path(home)),
    )


async def services_for(runtime: Runtime[Context]) -> Services:
    """Services for this run; file-system work happens off the event loop."""
    context = runtime.context if isinstance(runtime.context, Context) else Context()
    return await asyncio.to_thread(_build, context)
