"""`smart-inbox accounts`: connect Gmail, Microsoft 365 and Salesforce with OAuth, or IMAP.

`add` runs the provider's installed-app flow (a browser and a loopback redirect, or the device
code flow with `--device`) and keeps the grant in the vault; `list` shows state, scopes and
expiry, never a token; `remove` revokes the grant at the provider, then forgets it.
"""

from __future__ import annotations

import argparse
import functools
import getpass
import json
import re
import sys

from memory.credential_cipher import VaultError
from memory.keys import KeySourceError
from memory.vault import open_vault
from tools.oauth.accounts import Account, AccountStore, revoke_and_forget
from tools.oauth.device import run_device_flow
from tools.oauth.grants import granted_address
from tools.oauth.loopback import run_loopback_flow
from tools.oauth.providers import BY_KIND, client_for, mail_resource_scopes, with_imap_scopes
from tools.oauth.tokens import TokenError
from ui.cli.errors import UserError

ACCOUNT_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
KINDS = ("gmail", "microsoft", "salesforce", "imap")

show = functools.partial(print, flush=True)


def accounts(args: argparse.Namespace) -> int:
    """`accounts add | list | remove`."""
    try:
        store = AccountStore(open_vault())
        if args.accounts_command == "add":
            return _add(store, args)
        if args.accounts_command == "list":
            return _list(store, as_json=args.json)
        found, said = revoke_and_forget(store, args.name)
        if not found:
            raise UserError(f"no account {args.name!r} (see smart-inbox accounts list)")
        show(f"removed account {args.name}: {said}")
        return 0
    except (VaultError, KeySourceError, TokenError) as err:
        raise UserError(str(err)) from err


def _add(store: AccountStore, args: argparse.Namespace) -> int:
    if not ACCOUNT_NAME.fullmatch(args.name):
        raise UserError(
            f"bad account name {args.name[:40]!r}: lower-case letters, digits, - and _ (e.g. work)"
        )
    if args.kind == "imap" and getattr(args, "imap", False):
        raise UserError(
            "--imap is for gmail and microsoft accounts: an imap account is a password login"
        )
    if args.kind == "imap":
        return _add_imap(store, args)
    provider = BY_KIND[args.kind]
    imap = bool(getattr(args, "imap", False))
    if imap:
        try:
            provider = with_imap_scopes(provider)
        except ValueError as err:
            raise UserError(str(err)) from None
    client = client_for(provider, store.vault.get)
    if args.device:
        grant = run_device_flow(provider, client, show=show)
    else:
        grant = run_loopback_flow(provider, client, open_browser=not args.no_browser, show=show)
    address = granted_address(provider, grant.access_token)
    # Consent covered IMAP and SMTP's own resource too (Microsoft's): its token is redeemed
    # from the refresh token when first needed.
    mail_scopes = mail_resource_scopes(provider.name) if imap else ()
    account = Account(args.name, provider.name, address, mail_scopes=mail_scopes).with_grant(grant)
    store.save(account)
    show(f"connected {args.kind} account {args.name} ({address})")
    return 0


def _add_imap(store: AccountStore, args: argparse.Namespace) -> int:
    login = args.login or ""
    if "@" not in login:
        raise UserError("an IMAP account needs --login USER@HOST (the IMAP user and server)")
    credential = f"imap.password:{login}"
    password = _read_password(credential, from_stdin=args.password_stdin)
    store.vault.set(credential, password)
    store.save(Account(args.name, "imap", login))
    show(f"stored imap account {args.name} ({login}): password in {credential}")
    return 0


def _read_password(credential: str, *, from_stdin: bool) -> str:
    """The IMAP password: one line of standard input, or typed without echo; never an argument."""
    if from_stdin:
        line = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    elif sys.stdin.isatty():
        line = getpass.getpass(f"password for {credential} (not shown): ")
    else:
        raise UserError("standard input is not a terminal: pass --password-stdin")
    if not line:
        raise UserError(f"no password for {credential}")
    return line


def _list(store: AccountStore, *, as_json: bool) -> int:
    rows = [account.summary() for account in store.all()]
    if as_json:
        show(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        show("no accounts: smart-inbox accounts add gmail|microsoft|salesforce|imap NAME")
        return 0
    for row in rows:
        expiry = f", token until {row['expires_at']}" if row["expires_at"] else ""
        show(f"{row['name']}  {row['kind']}  {row['address']}  {row['state']}{expiry}")
        if row["scopes"]:
            show(f"    scopes: {' '.join(map(str, row['scopes']))}")  # type: ignore[call-overload]
        if isinstance(row["imap_smtp"], dict):
            until = row["imap_smtp"]["expires_at"]
            show(
                "    IMAP and SMTP (XOAUTH2): granted, "
                + (f"token until {until}" if until else "token redeemed when first used")
            )
    return 0
