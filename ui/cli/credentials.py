"""`smart-inbox credentials`: the integrations' secrets, kept encrypted in the app database.

A value is never a command-line argument (it would stay in the shell's history): it is typed
without echo, or read from one line of standard input.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from memory.credential_cipher import VaultError
from memory.key_rotation import RotationReport
from memory.keys import KEY_ENV, KeySourceError, generate_key, key_path
from memory.state_encryption import StateEncryptionError, encryption_wanted
from memory.vault import CredentialVault, check_name, open_vault
from ui.cli.errors import UserError


def credentials(args: argparse.Namespace) -> int:
    """`credentials set | list | delete | rotate-key | new-key`."""
    if args.credentials_command == "new-key":
        print(generate_key().decode("ascii"))
        print(
            f"(put it first in {KEY_ENV}, e.g. {KEY_ENV}=NEW,OLD, then run "
            "smart-inbox credentials rotate-key)",
            file=sys.stderr,
        )
        return 0
    try:
        vault = open_vault()
        command = args.credentials_command
        if command == "set":
            return _set(vault, args.name, from_stdin=args.stdin)
        if command == "delete":
            if not vault.delete(args.name):
                raise UserError(f"no credential {args.name!r}")
            print(f"deleted {args.name}")
            return 0
        if command == "list":
            return _print_credentials([info.as_dict() for info in vault.names()], args.json)
        report = vault.rotate_key()
    except (VaultError, KeySourceError, StateEncryptionError) as err:
        raise UserError(str(err)) from err
    _print_rotation(report, as_json=args.json)
    return 0


def _set(vault: CredentialVault, name: str, *, from_stdin: bool) -> int:
    check_name(name)
    had_key_file = key_path(vault.home).exists()
    value = _read_secret_value(name, from_stdin=from_stdin)
    created = vault.set(name, value)
    print(f"{'stored' if created else 'replaced'} {name}")
    if not had_key_file and key_path(vault.home).exists():
        print(
            f"smart-inbox: generated the key file {key_path(vault.home)}: keep a copy "
            "of it somewhere safe; without it the credentials cannot be read",
            file=sys.stderr,
        )
    return 0


def _print_rotation(report: RotationReport, *, as_json: bool) -> None:
    if as_json:
        print(
            json.dumps(
                {
                    "reencrypted": report.reencrypted,
                    "key_source": report.origin,
                    "key_id": report.new_key_id,
                    "dropped_keys": report.dropped_keys,
                    "kept_keys": report.kept_keys,
                },
                indent=2,
            )
        )
    elif report.origin == KEY_ENV:
        print(
            f"re-encrypted {report.reencrypted} credential(s) under the first key of {KEY_ENV} "
            f"(key id {report.new_key_id}); you may now remove the other key(s) from {KEY_ENV}"
            + (
                ", unless encrypted conversations were written with them"
                if encryption_wanted()
                else ""
            )
        )
    elif report.kept_keys:
        print(
            f"re-encrypted {report.reencrypted} credential(s) under a new key (key id "
            f"{report.new_key_id}); {report.origin} keeps the {report.kept_keys} old key(s) "
            "behind it, because encrypted conversations were written with them: replace your "
            "backup of the key file now"
        )
    else:
        print(
            f"re-encrypted {report.reencrypted} credential(s) under a new key (key id "
            f"{report.new_key_id}); {report.origin} now holds only that key: replace your "
            "backup of it now, the old key can no longer read them"
        )


def _read_secret_value(name: str, *, from_stdin: bool) -> str:
    """A credential's value: one line of standard input, or typed at the terminal without echo."""
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise UserError(f"no value for {name} on standard input")
        return line.removesuffix("\n").removesuffix("\r")
    if not sys.stdin.isatty():
        raise UserError("standard input is not a terminal: pass --stdin to read the value from it")
    return getpass.getpass(f"value of {name} (not shown): ")


def _print_credentials(rows: list[dict[str, str]], as_json: bool) -> int:
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("no credentials stored: smart-inbox credentials set NAME")
        return 0
    width = max(len(row["name"]) for row in rows)
    print(f"{'NAME'.ljust(width)}  {'UPDATED'.ljust(25)}  KEY")
    for row in rows:
        print(f"{row['name'].ljust(width)}  {row['updated_at'].ljust(25)}  {row['key']}")
    return 0
