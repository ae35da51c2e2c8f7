"""The bearer tokens of a Microsoft 365 account, as the mail source and the calendar get them.

One place decides where an `outlook:ACCOUNT`'s tokens come from, so the inbox and the
calendar of one account always sign in the same way.
"""

from __future__ import annotations

from memory.secrets import SecretLookup
from tools.oauth.tokens import AccessTokens, TokenError

TOKEN_SECRET = "outlook.token:{account}"
"""The credential name of a pasted access token for an account (the vault holds it)."""


class StoredToken:
    """An account's access token as stored (`outlook.token:ACCOUNT`), looked up when used."""

    provider = "microsoft"

    def __init__(self, account: str, secrets: SecretLookup) -> None:
        self.account = account
        self._secrets = secrets

    def access_token(self) -> str:
        """The stored token; `TokenError` saying what to run when there is none."""
        token = self._secrets(TOKEN_SECRET.format(account=self.account))
        if not token:
            raise TokenError(
                f"outlook:{self.account} is not connected: run "
                f"`smart-inbox accounts add outlook {self.account}`"
            )
        return token

    def refreshed(self) -> str:
        """The stored token again: one stored as it is cannot be refreshed."""
        return self.access_token()

    def address(self) -> str:
        """Not known from a stored token alone."""
        return ""


def pasted_tokens(account: str, secrets: SecretLookup) -> AccessTokens:
    """The tokens of `account` as stored in the vault; nothing is looked up before a call."""
    return StoredToken(account, secrets)
