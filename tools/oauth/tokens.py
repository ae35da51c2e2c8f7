"""The token contract: what mail and calendar code asks of an account's OAuth grant.

Code that talks to a provider holds an `AccessTokens`; it never sees how tokens are stored or
refreshed, so tests and pasted tokens (`StaticTokens`) fit the same shape as the vault.
"""

from __future__ import annotations

from typing import Protocol


class TokenError(Exception):
    """No usable token: never granted, revoked or expired beyond refresh.

    Its message is one line that says what to run (e.g. "run `smart-inbox accounts add gmail
    work` again").
    """


class AccessTokens(Protocol):
    """A bearer token source for one account at one provider."""

    account: str
    """The account's name, e.g. "work"."""
    provider: str
    """"google", "microsoft" or "salesforce"."""

    def access_token(self) -> str:
        """Return a valid bearer token, refreshing it when near expiry."""
        ...

    def refreshed(self) -> str:
        """Force a refresh (after a 401) and return the new token."""
        ...

    def address(self) -> str:
        """Return the account's mail address, as granted."""
        ...


class StaticTokens:
    """A fixed token: for tests and for a user who pastes a token."""

    def __init__(self, account: str, provider: str, token: str, address: str) -> None:
        self.account = account
        self.provider = provider
        self._token = token
        self._address = address

    def __repr__(self) -> str:
        return f"StaticTokens(account={self.account!r}, provider={self.provider!r})"

    def access_token(self) -> str:
        """Return the pasted token."""
        return self._token

    def refreshed(self) -> str:
        """Return the same token: a pasted token cannot be refreshed."""
        return self._token

    def address(self) -> str:
        """Return the address given with the token."""
        return self._address
