"""The settings a command runs with, checked before anything runs: a bad one is one line.

Also the errors a command reports as one line rather than a traceback: the user's own (exit 2)
and the ones that are not their fault but still need no traceback (exit 1).
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from graph.approval import ResumeError
from graph.context import Context
from graph.engines import EngineSpecError, load_engine
from graph.engines.recovery import ModelCallError
from graph.engines.replay import ReplayScriptError
from graph.policy import PolicyError, load_policy, policy_path
from memory.checkpointer import CheckpointStoreUnavailable
from memory.credential_cipher import VaultError
from memory.database_url import DatabaseConfigError, database_config
from memory.db import DatabaseUnavailableError, open_database
from memory.keys import KeySourceError
from memory.migrations import SchemaVersionError
from memory.paths import app_database_url, data_dir
from memory.secrets import secret_lookup
from memory.state_encryption import StateEncryptionError, encryption_wanted
from tools.http import HttpSettings, HttpSettingsError
from tools.integrations.webhook_endpoints import WebhookConfigError, load_endpoints, webhooks_path
from tools.mail.mcp_source import parse_mcp_spec
from tools.mail.smtp_settings import SmtpConfigError, smtp_settings_from_env
from tools.mail.source_protocol import MailSourceError
from tools.mail.sync import canonical_spec
from tools.mcp.config import McpConfigError, load_mcp_config, mcp_config_path
from ui.cli.errors import UserError
from ui.langgraph_server import ServerError

logger = logging.getLogger("ui.cli")  # the command's warnings, named as they always were

CONFIGURATION_ERRORS: tuple[type[Exception], ...] = (
    EngineSpecError,
    MailSourceError,
    ReplayScriptError,
    PolicyError,
    SmtpConfigError,
    ResumeError,
    McpConfigError,
    DatabaseConfigError,
    StateEncryptionError,
    HttpSettingsError,
    WebhookConfigError,
    VaultError,
    KeySourceError,
    ServerError,
)
"""What a bad setting raises: each is one line for the user."""

Command = Callable[[argparse.Namespace], Awaitable[int]]


def one_line_errors(command: Command) -> Command:
    """Report a bad setting as a user error, and a broken service as one line and exit 1."""

    @functools.wraps(command)
    async def checked(args: argparse.Namespace) -> int:
        try:
            return await command(args)
        except CONFIGURATION_ERRORS as err:
            raise UserError(str(err)) from err
        except (
            ModelCallError,
            DatabaseUnavailableError,
            CheckpointStoreUnavailable,
            SchemaVersionError,
        ) as err:
            # Not the user's fault, but still one clear line rather than a traceback.
            print(f"smart-inbox: {err}", file=sys.stderr)
            return 1

    return checked


def load_context(args: argparse.Namespace) -> Context:
    """The run's context from `--inbox` and `--model`, every setting it depends on checked."""
    overrides = {k: v for k, v in (("inbox", args.inbox), ("model", args.model)) if v}
    context = Context(**overrides)
    # Build the engine and open the source now, so a bad spec fails before anything runs.
    home = data_dir(context.home)
    load_engine(context.model, str(home))
    canonical_spec(context.inbox)
    database_config(home)
    encryption_wanted()
    load_policy(policy_path(home))
    servers = load_mcp_config(mcp_config_path(home))
    if context.inbox.strip().lower().startswith("mcp:"):
        name = parse_mcp_spec(context.inbox).server
        if name not in servers:
            raise UserError(
                f"inbox {context.inbox}: no MCP server {name!r} in {mcp_config_path(home)}"
            )
    check_integrations(home)
    return context


def check_integrations(home: Path) -> None:
    """A broken SMTP setting, webhooks file or `INTEGRATION_*` value stops the command, in a line.

    An integration that is simply not set up is fine: its tools are absent. A login without a
    password only warns: nothing but sending needs it, and sending says so again.
    """
    HttpSettings.from_env()
    secrets = secret_lookup(open_database(app_database_url(home)), home)
    smtp = smtp_settings_from_env(secrets=secrets)
    if smtp is not None and smtp.password_problem:
        logger.warning("mail cannot be sent through %s: %s", smtp.server, smtp.password_problem)
    load_endpoints(webhooks_path(home), os.environ, secrets)
