"""Build one `Services` from a `Context`: the part worth keeping, then the part read every time.

Secrets come from one lookup (`memory.secrets.secret_lookup`): the vault, else the environment
(the SMTP password too); the engine finds the Groq key itself (`graph.engines.load_engine`).
Each value looked up is remembered, so it is masked wherever a service repeats it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from graph.context import Context
from graph.engines import load_engine
from graph.engines.base import Engine
from graph.policy import ApprovalPolicy, load_policy, policy_path
from graph.services.toolkits import native_toolkits
from memory.db import AppDatabase, open_database
from memory.mcp_tools import McpToolFingerprints
from memory.paths import app_database_url, data_dir
from memory.redaction import install_log_scrubbing
from memory.secrets import SecretLookup, secret_lookup
from tools.mail.mailbox import MailboxEnv, open_mailbox_env
from tools.mail.smtp_settings import smtp_settings_from_env
from tools.mcp.hub import McpHub
from tools.registry import ToolRegistry


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


def assemble(context: Context, home: Path, db: AppDatabase) -> Services:
    """The services without MCP tools: mailbox, native toolkits, engine, policy (blocking).

    `home` is the data directory (`memory.paths.data_dir`), `db` its app database. The
    mailbox (`tools.mail.mailbox.open_mailbox_env`) decides who the user is;
    `Services.context` carries those addresses, so triage, provenance and the tools agree on
    them.
    """
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
    return Services(
        context=context,
        source=mailbox.source,
        mailbox=mailbox,
        db=db,
        tools=ToolRegistry.from_toolkits(native_toolkits(mailbox, home)),
        engine=load_engine(context.model, str(home)),
        policy=load_policy(policy_path(home)),
        secrets=secrets,
    )


def refreshed(services: Services, home: Path, hub: McpHub | None) -> Services:
    """`services` with the policy read again and the hub's MCP tools added (blocking).

    Both may change while a process runs: the user edits the policy, or trusts an MCP tool's
    new definition (`smart-inbox mcp trust`) from another process.
    """
    tools = services.tools if hub is None else _with_mcp(services.tools, services.db, hub)
    return replace(services, tools=tools, policy=load_policy(policy_path(home)))


def build_services(context: Context, hub: McpHub | None = None) -> Services:
    """Database, tool catalogue (with the hub's MCP tools), engine and policy, built afresh.

    Blocking I/O. Nodes use `graph.services.services_for`, which keeps what this builds.
    """
    # Every graph run starts here, also in the chat and the LangGraph server, whose logging
    # is not ours to configure: the environment's secrets are known and logs scrubbed first.
    install_log_scrubbing()
    home = data_dir(context.home)
    db = open_database(app_database_url(home))
    return refreshed(assemble(context, home, db), home, hub)
