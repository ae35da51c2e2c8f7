"""Which native toolkits exist, and how each is built from its settings or left out with why."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from langchain_core.tools import BaseTool

from graph.correction_tools import corrections_toolkit
from memory.credential_cipher import VaultError
from memory.db import AppDatabase
from memory.keys import KeySourceError
from memory.secrets import secret_lookup, warn_unreadable
from memory.vault import CredentialVault
from tools.calendar.toolkit import calendar_toolkit
from tools.calendar.tools import CALENDAR_TOOLS
from tools.http import HttpSettings, HttpSettingsError
from tools.integrations.hubspot import HUBSPOT_TOOLS, hubspot_toolkit
from tools.integrations.jira import JIRA_TOOLS, jira_toolkit
from tools.integrations.salesforce import SALESFORCE_TOOLS, salesforce_toolkit
from tools.integrations.slack import SLACK_TOOLS, slack_toolkit
from tools.integrations.teams import TEAMS_TOOLS, teams_toolkit
from tools.integrations.webhook_endpoints import webhooks_path
from tools.integrations.webhooks import WEBHOOK_TOOLS, webhooks_toolkit
from tools.mail.conversation_tools import conversation_toolkit
from tools.mail.inbox_tools import inbox_toolkit
from tools.mail.mailbox import MailboxEnv
from tools.mail.tools import mail_toolkit
from tools.mcp.config import mcp_config_path
from tools.oauth.accounts import AccountStore, VaultTokens
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


def _vault_tokens(db: AppDatabase, home: Path) -> Callable[[str], VaultTokens]:
    """Connected accounts' tokens from the vault of this data directory."""
    store = AccountStore(CredentialVault(db, home))
    return lambda name: VaultTokens(store, name)


def native_toolkits(
    mailbox: MailboxEnv, home: Path, environ: Mapping[str, str] | None = None
) -> list[Toolkit]:
    """Every native toolkit, configured or absent (with why), in the order the model sees them.

    A new toolkit is added here: build it from its settings, or absent with why. A file it
    reads when built (rather than when a tool runs) goes into `toolkit_files` too.
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
        inbox_toolkit(mailbox, mcp_config_path(home, env)),
        corrections_toolkit(mailbox),
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
            "salesforce",
            "Salesforce",
            SALESFORCE_TOOLS,
            lambda: salesforce_toolkit(db, http, env, _vault_tokens(db, home)),
        ),
        _guarded(
            "webhooks",
            "Webhooks",
            WEBHOOK_TOOLS,
            lambda: webhooks_toolkit(db, secrets, http, env, home),
        ),
    ]


def toolkit_files(home: Path, environ: Mapping[str, str] | None = None) -> list[Path]:
    """The files `native_toolkits` reads while building (the webhook subscriptions).

    Kept services are rebuilt when one of them changes. The calendar file is not one: the
    calendar reads it when a tool runs.
    """
    return [webhooks_path(home, os.environ if environ is None else environ)]
