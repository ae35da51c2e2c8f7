"""The tokens of a connected Google account, by the name it was connected under.

A token pasted by the user is kept in the vault as the credential `google.token:ACCOUNT`
(or `google.token` in a home with one account); its address, when the token alone cannot tell
it, as `google.address:ACCOUNT`. Nothing is looked up until a call needs the token, so a
source or calendar can be described (and its spec checked) without one.
"""

from __future__ import annotations

import re

from memory.secrets import SecretLookup, account_secret
from tools.oauth.tokens import AccessTokens, StaticTokens, TokenError

PROVIDER = "google"
TOKEN_SECRET = "google.token"
ADDRESS_SECRET = "google.address"
ACCOUNT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")
"""What an account may be called: it is part of credential names and specs."""


class StoredGoogleTokens:
    """The account's token from the credential store, read when first needed."""

    provider = PROVIDER

    def __init__(self, account: str, secrets: SecretLookup) -> None:
        self.account = account
        self._secrets = secrets
        self._tokens: AccessTokens | None = None

    def _stored(self) -> AccessTokens:
        if self._tokens is None:
            token, name = account_secret(self._secrets, TOKEN_SECRET, self.account)
            if not token:
                raise TokenError(
                    f"no Google token for the account {self.account!r}: run `smart-inbox "
                    f"accounts add gmail {self.account}` (or store the credential {name})"
                )
            address, _ = account_secret(self._secrets, ADDRESS_SECRET, self.account)
            self._tokens = StaticTokens(
                self.account, PROVIDER, token, (address or "").strip().lower()
            )
        return self._tokens

    def access_token(self) -> str:
        """The stored token."""
        return self._stored().access_token()

    def refreshed(self) -> str:
        """The stored token again (a pasted token cannot be refreshed)."""
        return self._stored().refreshed()

    def address(self) -> str:
        """The address stored with the token, '' when none is."""
        return self._stored().address()


def account_tokens(account: str, secrets: SecretLookup) -> AccessTokens:
    """The tokens of the Google account `account` (a `TokenError` on first use if none)."""
    return StoredGoogleTokens(account, secrets)


def checked_account(account: str, spec: str) -> str:
    """The account name of a spec, or `ValueError` saying what an account name may be."""
    name = account.strip()
    if not ACCOUNT_NAME.fullmatch(name):
        raise ValueError(
            f"'{spec}' needs an account name (letters, digits, . _ @ + -), as given to "
            "`smart-inbox accounts add`"
        )
    return name
