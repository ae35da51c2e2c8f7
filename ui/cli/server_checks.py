"""Checks before a command becomes a server (the chat, the LangGraph server).

Kept apart from `ui.cli.settings` so that `smart-inbox ui` does not load the graph only to hand
over to Chainlit, which loads it again.
"""

from __future__ import annotations

import sys
from pathlib import Path

from memory.database_url import DatabaseConfigError, database_config
from memory.db import DatabaseUnavailableError, open_database
from memory.migrations import SchemaVersionError
from memory.state_encryption import StateEncryptionError, encryption_wanted
from ui.cli.errors import UserError

LOOPBACK = ("127.0.0.1", "localhost", "::1")
"""Addresses only this machine reaches: a server may listen there without more ado."""


def open_app_database(home: Path) -> None:
    """Check the database settings and bring the schema up to date before a server starts."""
    try:
        encryption_wanted()
        open_database(database_config(home).app_url)
    except (DatabaseConfigError, StateEncryptionError) as err:
        raise UserError(str(err)) from err
    except (DatabaseUnavailableError, SchemaVersionError) as err:
        print(f"smart-inbox: {err}", file=sys.stderr)
        raise SystemExit(1) from None
