"""`smart-inbox users`: who may log in to the chat."""

from __future__ import annotations

import argparse

from memory.paths import data_dir
from ui.chat.users import UserStore, UserStoreError, read_password
from ui.cli.errors import UserError


def users(args: argparse.Namespace) -> int:
    """`users list`, or `users add NAME` (which also changes a password)."""
    store = UserStore(data_dir())
    try:
        if args.users_command == "list":
            print("\n".join(store.names()) or "no users yet: smart-inbox users add NAME")
            return 0
        password = read_password(f"password for {args.name}: ", stdin=args.password_stdin)
        created = store.add(args.name, password)
    except UserStoreError as err:
        raise UserError(str(err)) from err
    print(f"{'added' if created else 'changed the password of'} {args.name}")
    return 0
