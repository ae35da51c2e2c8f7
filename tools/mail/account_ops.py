"""Inbox actions on an inbox of several accounts: each message moved by the account it came to.

The inbox tools ask one `MailboxOperations` for a role's folder, then move or flag messages;
here each account's own operations do it for its own messages (its folder for the role, its
key), and a message of no account of the inbox fails on its own, naming why. The outcomes come
back in the order asked, with the cache's keys.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import cast

from tools.mail.account_list import account_key, source_key
from tools.mail.inbox_ops import Flag, MailboxOperations, MessageOutcome, Role
from tools.mail.model import Email

ROLE_MARK = "\x00role:"
"""What `folder_for` answers: each account finds its own folder for the role when it moves."""


class AccountOperations:
    """The operations of every account of the inbox, each used for its own messages only."""

    def __init__(self, accounts: Mapping[str, tuple[str, MailboxOperations]]) -> None:
        """`accounts`: label → (the account's own source spec, its operations)."""
        self.accounts = dict(accounts)

    def folder_for(self, role: Role, *, create: bool = True) -> str:
        """A stand-in for the role's folder: each account's own is found when it moves."""
        return f"{ROLE_MARK}{role}:{'create' if create else 'find'}"

    def folder_exists(self, folder: str) -> bool:
        """Whether every account has `folder`."""
        return all(ops.folder_exists(folder) for _, ops in self.accounts.values())

    def move(
        self, emails: Sequence[Email], folder: str, *, create: bool = False
    ) -> list[MessageOutcome]:
        """Move each message, in its own account, to that account's `folder` (or role folder)."""

        def run(ops: MailboxOperations, own: list[Email]) -> list[MessageOutcome]:
            if not folder.startswith(ROLE_MARK):
                return ops.move(own, folder, create=create)
            role, _, make = folder.removeprefix(ROLE_MARK).partition(":")
            target = ops.folder_for(cast("Role", role), create=make == "create")
            return ops.move(own, target, create=create)

        return self._by_account(emails, run)

    def set_flag(self, emails: Sequence[Email], flag: Flag, on: bool) -> list[MessageOutcome]:
        """Set or clear one flag on each message, in its own account."""
        return self._by_account(emails, lambda ops, own: ops.set_flag(own, flag, on))

    def _by_account(
        self,
        emails: Sequence[Email],
        run: Callable[[MailboxOperations, list[Email]], list[MessageOutcome]],
    ) -> list[MessageOutcome]:
        outcomes: dict[int, MessageOutcome] = {}
        groups: dict[str, list[int]] = {}
        for index, email in enumerate(emails):
            if email.account in self.accounts and email.key.startswith(f"{email.account}/"):
                groups.setdefault(email.account, []).append(index)
            else:
                why = f"its account {email.account or '(none)'!r} is not one of this inbox's"
                outcomes[index] = MessageOutcome(email.id, "failed", why)
        for label, indexes in groups.items():
            spec, ops = self.accounts[label]
            own = [
                replace(emails[i], source=spec, key=source_key(label, emails[i].key), account="")
                for i in indexes
            ]
            for index, outcome in zip(indexes, run(ops, own), strict=True):
                key = account_key(label, outcome.key) if outcome.key else ""
                outcomes[index] = replace(outcome, key=key)
        return [outcomes[i] for i in range(len(emails))]
