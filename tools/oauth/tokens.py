"""The token contract every provider client codes against: a bearer token, refreshed on demand.

The mail and calendar clients of a connected account only ever ask for `access_token()`, and
for `refreshed()` once after a 401; where the tokens are kept and how they are refreshed is the
implementation's business (the vault, or a token pasted by the user).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class TokenError(Exception):
    """No usable token: never granted, revoked or expired beyond refresh.

    Its message is one line that says what to run (e.g. "run `smart-inbox accounts add gmail
    work` again").
    """


class AccessTokens(Protocol):
    """The tokens of one connected account."""

    account: str
    """The account's name, e.g. "work"."""
    provider: str
    """"google" | "microsoft"."""

    def access_token(self) -> str:
        """A valid bearer token (refreshes when near expiry)."""
        ...

    def refreshed(self) -> str:
        """Force a refresh (after a 401) and return the new one."""
        ...

    def address(self) -> str:
        """The account's mail address, as granted."""
        ...


@dataclass
class StaticTokens:
    """One token that is never refreshed: for tests, and for a user who pastes a token."""

    account: str
    provider: str
    token: str = field(repr=False)
    mail_address: str = ""

    def access_token(self) -> str:
        """The pasted token."""
        return self.token

    def refreshed(self) -> str:
        """The same token: there is nothing to refresh it with."""
        return self.token

    def address(self) -> str:
        """The address given with the token."""
        return self.mail_address
