"""Secrets by credential name, for every integration: the vault first, else the environment.

One lookup serves the mail source (IMAP), sending (SMTP), the calendar (CalDAV) and the HTTP
integrations, so a credential stored with `smart-inbox credentials set` is used everywhere and a
deployment may keep its environment variables instead. Values are looked up when needed, never
kept in state. (The Groq key is the one exception to "vault first": see `graph.engines`.)

Every value a lookup returns is remembered by `memory.redaction`, so that a service repeating
it in an answer or an error has it masked before anyone sees or keeps it: no integration can
forget to register its secret.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from memory.credential_cipher import VaultError
from memory.redaction import remember_secret
from memory.secret_names import SECRET_VARIABLES
from memory.vault import CredentialVault, check_name

if TYPE_CHECKING:
    from memory.db import AppDatabase

SecretLookup = Callable[[str], str | None]
"""A credential name such as `jira.api_token` → its value, or None when it is not set."""

WEBHOOK_SECRET = re.compile(r"^webhook\.secret:(?P<name>[A-Za-z0-9_-]+)$")
_warned: set[str] = set()
_warned_lock = threading.Lock()


def warn_unreadable(logger: logging.Logger, message: str) -> None:
    """Log that a stored secret cannot be read, once per process and message.

    Services are built again whenever what they read changes, and the command line builds them
    per command; the same warning on each build would bury the logs.
    """
    with _warned_lock:
        if message in _warned:
            return
        _warned.add(message)
    logger.warning("%s", message)


def remembered(lookup: SecretLookup) -> SecretLookup:
    """`lookup`, with every value it hands out remembered for scrubbing under its name."""

    def remembering(name: str) -> str | None:
        value = lookup(name)
        remember_secret(name, value)
        return value

    return remembering


def environment_secrets(environ: Mapping[str, str] | None = None) -> SecretLookup:
    """Secrets read from the environment, by credential name.

    `SECRET_VARIABLES` name the integrations' variables; a webhook endpoint NAME's secret is
    `WEBHOOK_SECRET_<NAME>` (upper case, `-` as `_`), else the shared `WEBHOOK_SECRET`. Any
    other name (an account-specific one such as `imap.password:dana@host`) has no variable.
    """
    env = os.environ if environ is None else environ

    def lookup(name: str) -> str | None:
        if name in SECRET_VARIABLES:
            return env.get(SECRET_VARIABLES[name]) or None
        match = WEBHOOK_SECRET.match(name)
        if match:
            suffix = re.sub(r"[^A-Za-z0-9]", "_", match.group("name")).upper()
            return env.get(f"WEBHOOK_SECRET_{suffix}") or env.get("WEBHOOK_SECRET") or None
        return None

    return remembered(lookup)


def secret_lookup(
    db: AppDatabase, home: Path, environ: Mapping[str, str] | None = None
) -> SecretLookup:
    """Secrets by credential name: the vault's stored value, else the environment's variable.

    A stored value that cannot be read (a wrong key) raises `VaultError` / `KeySourceError`
    rather than quietly falling back to the environment: the user would not know which secret
    is in use.
    """
    vault = CredentialVault(db, home)
    from_environment = environment_secrets(environ)

    def lookup(name: str) -> str | None:
        stored = vault.get(name)
        return stored if stored is not None else from_environment(name)

    return remembered(lookup)


def account_secret(secrets: SecretLookup, name: str, account: str) -> tuple[str | None, str]:
    """The secret `NAME:ACCOUNT` (one account's own), else `NAME` (a single-account home).

    Returns the value (None when neither is set) and the credential name to tell the user to
    store. An account that cannot be part of a credential name (a space, a control character)
    asks for `NAME` alone.

    Raises:
        VaultError, KeySourceError: a stored value cannot be read.

    """
    try:
        names = [check_name(f"{name}:{account}"), name]
    except VaultError:
        names = [name]
    value = next((value for each in names if (value := secrets(each))), None)
    return value, names[0]
