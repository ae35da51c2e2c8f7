"""What nodes work with, built from the run's `Context`: database, tools and engine.

Secrets come from one lookup (`memory.secrets.secret_lookup`): the vault, else the environment
(the SMTP password too); the engine finds the Groq key itself (`graph.engines.load_engine`).
Each value looked up is remembered, so it is masked wherever a service repeats it.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from langchain_core.tools import BaseTool
from langgraph.runtime import Runtime

from graph.context import Context, context_from
from graph.engines import load_engine
from graph.engines.base import Engine
from graph.policy import ApprovalPolicy, load_policy, policy_path
from memory.credential_cipher import VaultError
from memory.db import AppDatabase, open_database
from memory.keys import KeySourceError
from memory.mcp_tools import McpToolFingerprints
from memory.paths import app_database_url, data_dir
from memory.redaction import install_log_scrubbing
from memory.secrets import SecretLookup, secret_lookup, warn_unreadable
from tools.calendar.toolkit import calendar_toolkit
from tools.calendar.tools import CALENDAR_TOOLS
from tools.http import HttpSettings, HttpSettingsError
from tools.integrations.hubspot import HUBSPOT_TOOLS, hubspot_toolkit
from tools.integrations.jira import JIRA_TOOLS, jira_toolkit
from tools.integrations.slack import SLACK_TOOLS, slack_toolkit
from tools.integrations.teams import TEAMS_TOOLS, teams_toolkit
from tools.integrations.webhooks import WEBHOOK_TOOLS, webhooks_toolkit
from tools.mail.conversation_tools import conversation_toolkit
from tools.mail.mailbox import MailboxEnv, open_mailbox_env
from tools.mail.smtp_settings import smtp_settings_from_env
from tools.mail.tools import mail_toolkit
from tools.mcp.config import mcp_config_path
from tools.mcp.hub import McpHub
from tools.mcp.shared_hub import shared_hub
from tools.registry import ToolRegistry
from tools.toolkit import Toolkit

logger = logging.getLogger(__name__)


def _guarded(
    name: str, label: str, tools: Sequence[BaseTool], build: Callable[[], Toolkit]
) -> Toolkit:
    """Build one toolkit; a credential that cannot be read leaves it out, saying why."""
    try:
        return build()
    except (VaultError, KeySourceError) as err:
        warn_unreadable(logger, f"{label} is left out: {err}")
        return Toolkit(
            name=name, tools=tools, missing=f"{label}: its credential cannot be read: {err}"
        )


def native_toolkits(
    mailbox: MailboxEnv, home: Path, environ: Mapping[str, str] | None = None
) -> list[Toolkit]:
    """Every native toolkit, configured or absent (with why), in the order the model sees them.

    A new toolkit is added here: build it from its settings, or absent with why.
    """
    env = os.environ if environ is None else environ
    secrets = mailbox.secrets or secret_lookup(mailbox.db, home, env)
    try:
        http = HttpSettings.from_env(env)
    except HttpSettingsError as err:
        logger.warning("%s; the integrations use their default timeouts and retries", err)
        http = HttpSettings()
    link = env.get("MAIL_LINK_URL", "").strip()
    db = mailbox.db
    return [
        mail_toolkit(mailbox),
        conversation_toolkit(mailbox),
        _guarded(
            "calendar",
            "Calendar",
            CALENDAR_TOOLS,
            lambda: calendar_toolkit(mailbox, home, env, secrets, http),
        ),
        _guarded("jira", "Jira", JIRA_TOOLS, lambda: jira_toolkit(db, secrets, http, env, link)),
        _guarded(
            "slack", "Slack", SLACK_TOOLS, lambda: slack_toolkit(db, secrets, http, env, link)
        ),
        _guarded(
            "teams", "Teams", TEAMS_TOOLS, lambda: teams_toolkit(db, secrets, http, env, link)
        ),
        _guarded(
            "hubspot", "HubSpot", HUBSPOT_TOOLS, lambda: hubspot_toolkit(db, secrets, http, env)
        ),
        _guarded(
            "webhooks",
            "Webhooks",
            WEBHOOK_TOOLS,
            lambda: webhooks_toolkit(db, secrets, http, env, home),
        ),
    ]


@dataclass(frozen=True)
class Services:
    """The database, tool catalogue and engine of one run."""

    context: Context
    """The run's settings; `user_addresses` as the mailbox resolved them (the bundled demo's
    owner when none is set)."""
    source: str
    """The inbox spec with an absolute path: the key of the mail cache and cursor (for the
    bundled demo, its working copy in the data directory)."""
    mailbox: MailboxEnv
    """The mailbox the mail tools work on: where a message an interrupted call was sending
    is looked for (its Sent folder, the demo's outbox)."""
    db: AppDatabase
    tools: ToolRegistry
    engine: Engine
    policy: ApprovalPolicy
    secrets: SecretLookup
    """Credentials by name (the vault, else the environment); looked up when needed."""


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
    """Database, tool catalogue (with the hub's MCP tools), engine and policy (blocking I/O).

    The mailbox (`tools.mail.mailbox.open_mailbox_env`) decides who the user is; `Services.context`
    carries those addresses, so triage, provenance and the tools agree on them.
    """
    # Every graph run starts here, also in the chat and the LangGraph server, whose logging
    # is not ours to configure: the environment's secrets are known and logs scrubbed first.
    install_log_scrubbing()
    home = data_dir(context.home)
    db = open_database(app_database_url(home))
    secrets = secret_lookup(db, home)
    smtp = smtp_settings_from_env(secrets=secrets)
    mailbox = open_mailbox_env(
        db,
        context.inbox,
        home,
        user_addresses=context.user_addresses,
        smtp=smtp,
        secrets=secrets,
    )
    if mailbox.user_addresses != context.user_addresses:
        context = replace(context, user_addresses=mailbox.user_addresses)
    tools = ToolRegistry.from_toolkits(native_toolkits(mailbox, home))
    if hub is not None:
        tools = _with_mcp(tools, db, hub)
    return Services(
        context=context,
        source=mailbox.source,
        mailbox=mailbox,
        db=db,
        tools=tools,
        engine=load_engine(context.model, str(home)),
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
    """Services for this run; file-system work happens off the event loop.

    The context may be a `Context`, a dict (a run on the LangGraph server) or absent.
    """
    context = context_from(runtime.context)
    hub = await mcp_hub_for(context)
    return await asyncio.to_thread(build_services, context, hub)
