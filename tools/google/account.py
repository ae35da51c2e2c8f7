"""The tokens of a connected Google account, by the name it was connected under.

An account connected with `smart-inbox accounts add gmail ACCOUNT` is used through its OAuth
grant in the vault (`tools.oauth.accounts.VaultTokens`: refreshed before expiry and after a
401). Without one, a token pasted by the user may be kept as the credential
`google.token:ACCOUNT` (or `google.token` in a home with one account), with its address as
`google.address:ACCOUNT`. Nothing is looked up until a call needs the token, so a source or
calendar can be described (and its spec checked) without one.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from memory.secrets import SecretLookup, account_secret
from tools.oauth.accounts import VaultTokens
from tools.oauth.tokens import AccessTokens, StaticTokens, TokenError

PROVIDER = "google"
TOKEN_SECRET = "google.token"
ADDRESS_SECRET = "google.address"
ACCOUNT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")
"""What an account may be called: it is part of credential names and specs."""

ConnectedTokens = Callable[[str], AccessTokens]
"""An account's name → the tokens of its OAuth grant (`TokenError` when it has none)."""


def vault_tokens(account: str) -> AccessTokens:
    """The OAuth grant of a connected account, from the vault of the data directory."""
    return VaultTokens.open(account)


class StoredGoogleTokens:
    """The account's tokens: its OAuth grant, else a pasted token; found when first needed."""

    provider = PROVIDER

    def __init__(
        self, account: str, secrets: SecretLookup, connected: ConnectedTokens = vault_tokens
    ) -> None:
        self.account = account
        self._secrets = secrets
        self._connected = connected
        self._tokens: AccessTokens | None = None

    def _stored(self) -> AccessTokens:
        if self._tokens is None:
            self._tokens = self._find()
        return self._tokens

    def _find(self) -> AccessTokens:
        try:
            tokens = self._connected(self.account)
        except TokenError:
            token, _ = account_secret(self._secrets, TOKEN_SECRET, self.account)
            if not token:
                raise  # it says what to run
            address, _ = account_secret(self._secrets, ADDRESS_SECRET, self.account)
            return StaticTokens(self.account, PROVIDER, token, (address or "").strip().lower())
        if tokens.provider != PROVIDER:
            raise TokenError(
                f"account {self.account} is a {tokens.provider} account, not a Google one: run "
                f"`smart-inbox accounts add gmail NAME` and use that name"
            )
        return tokens

    def access_token(self) -> str:
        """A valid token: the grant's (refreshed when near expiry), or the pasted one."""
        return self._stored().access_token()

    def refreshed(self) -> str:
        """The grant refreshed now (a pasted token is the same token again)."""
        return self._stored().refreshed()

    def address(self) -> str:
        """The address the account was granted as ('' for a pasted token without one)."""
        return self._stored().address()


def account_tokens(
    account: str, secrets: SecretLookup, connected: ConnectedTokens = vault_tokens
) -> AccessTokens:
    """The tokens of the Google account `account` (a `TokenError` on first use if none)."""
    return StoredGoogleTokens(account, secrets, connected)


def checked_account(account: str, spec: str) -> str:
    """The account name of a spec, or `ValueError` saying what an account name may be."""
    name = account.strip()
    if not ACCOUNT_NAME.fullmatch(name):
        raise ValueError(
            f"'{spec}' needs an account name (letters, digits, . _ @ + -), as given to "
            "`smart-inbox accounts add`"
        )
    return name
