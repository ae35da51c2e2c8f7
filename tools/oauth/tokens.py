"""The token contract every provider client codes against: a bearer token that stays valid.

A client asks `access_token()` before each call and `refreshed()` once after a 401; where the
tokens come from (the vault, or one pasted by the user) is the implementation's business.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    """One token given as it is (tests, or a user who pastes one): it cannot be refreshed."""

    account: str
    provider: str
    token: str
    mail_address: str = ""

    def access_token(self) -> str:
        """The token given."""
        return self.token

    def refreshed(self) -> str:
        """The same token: a pasted one cannot be refreshed, so a 401 stays a 401."""
        return self.token

    def address(self) -> str:
        """The address given with the token."""
        return self.mail_address
