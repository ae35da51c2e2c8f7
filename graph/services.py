"""What nodes work with, built from the run's `Context`: database, tools and engine."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from langgraph.runtime import Runtime

from graph.context import Context
from graph.engines import load_engine
from graph.engines.base import Engine
from graph.policy import ApprovalPolicy, load_policy, policy_path
from memory.db import AppDatabase, open_database
from memory.mcp_tools import McpToolFingerprints
from memory.paths import app_database_url, data_dir
from tools.mail.smtp import smtp_settings_from_env
from tools.mail.sources import MailSourceError, SecretLookup, environment_secrets
from tools.mail.sync import canonical_spec
from tools.mailbox import MailboxEnv, sender_address
from tools.mcp.config import mcp_config_path
from tools.mcp.hub import McpHub, shared_hub
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
    secrets: SecretLookup = environment_secrets
    """Where a mail source's credentials (`imap.password`) are looked up."""


def _with_mcp(tools: ToolRegistry, db: AppDatabase, hub: McpHub) -> ToolRegistry:
    """Add the connected MCP servers' tools; changed definitions lose their auto-approval."""
    infos = hub.tools()
    fingerprints = McpToolFingerprints(db)
    changed: dict[str, set[str]] = {}
    for server in sorted({info.server for info in infos}):
        seen = {info.name: info.fingerprint for info in infos if info.server == server}
        changed[server] = fingerprints.observe(server, seen)
    auto = {name: config.auto_approve for name, config in hub.configs.items()}
    return tools.with_mcp(hub, infos, auto_approve=auto, changed=changed)


def build_services(context: Context, hub: McpHub | None = None) -> Services:
    """Database, tool catalogue (with the hub's MCP tools), engine and policy (blocking I/O)."""
    home = data_dir(context.home)
    db = open_database(app_database_url(home))
    smtp = smtp_settings_from_env()
    # Credentials of the mail source (`imap.password`): the environment for now; a credential
    # store plugs in here and reaches both the fetch and the draft and sent-copy writes.
    secrets: SecretLookup = environment_secrets
    try:
        source = canonical_spec(context.inbox)
    except MailSourceError:
        # A missing or broken mailbox must not stop the run: `fetch` reports it as a fetch error.
        source = context.inbox
    tools = ToolRegistry.for_mailbox(
        MailboxEnv(
            db=db,
            source=source,
            smtp=smtp,
            sender=sender_address(smtp, context.user_addresses),
            user_addresses=context.user_addresses,
            secrets=secrets,
        )
    )
    if hub is not None:
        tools = _with_mcp(tools, db, hub)
    return Services(
        context=context,
        source=source,
        db=db,
        tools=tools,
        engine=load_engine(context.model),
        policy=load_policy(policy_path(home)),
        secrets=secrets,
    )


async def mcp_hub_for(context: Context) -> McpHub | None:
    """The process's kept MCP sessions for this data directory, or None without `mcp.json`."""
    path = await asyncio.to_thread(lambda: mcp_config_path(data_dir(context.home)))
    if not await asyncio.to_thread(path.exists):
        return None
    return await shared_hub(path)


async def services_for(runtime: Runtime[Context]) -> Services:
    """Services for this run; file-system work happens off the event loop."""
    context = runtime.context if isinstance(runtime.context, Context) else Context()
    hub = await mcp_hub_for(context)
    return await asyncio.to_thread(build_services, context, hub)
