"""The bearer tokens of a Microsoft 365 account, as the mail source and the calendar get them.

One place decides where an `outlook:ACCOUNT`'s tokens come from, so the inbox and the calendar
of one account always sign in the same way: the account connected with `smart-inbox accounts
add microsoft ACCOUNT` (the vault's grant, refreshed when needed), else a token stored as it is
(`outlook.token:ACCOUNT`, which cannot be refreshed). Nothing is looked up before a call.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from memory.credential_cipher import VaultError
from memory.keys import KeySourceError
from memory.secrets import SecretLookup
from tools.oauth.tokens import AccessTokens, TokenError
from tools.oauth.xoauth2 import vault_tokens

logger = logging.getLogger(__name__)

TOKEN_SECRET = "outlook.token:{account}"
"""The credential name of a pasted access token for an account."""
ACCOUNT_SECRET = "oauth.account:{account}"
"""The vault's credential of a connected account (see `tools.oauth.accounts`)."""


def connect_again(account: str) -> str:
    """The command that connects the account (again)."""
    return f"smart-inbox accounts add microsoft {account}"


class OutlookTokens:
    """The tokens of one Microsoft 365 account, found when first asked for."""

    provider = "microsoft"

    def __init__(
        self,
        account: str,
        secrets: SecretLookup,
        connected: Callable[[str], AccessTokens] = vault_tokens,
    ) -> None:
        self.account = account
        self._secrets = secrets
        self._connected = connected
        self._found: AccessTokens | None = None
        self._pasted = False

    def _tokens(self) -> AccessTokens | None:
        """The connected account's tokens, or None when only a pasted token is stored."""
        if self._found is None and not self._pasted:
            if self._secrets(ACCOUNT_SECRET.format(account=self.account)):
                self._found = self._connected(self.account)
            else:
                self._pasted = True
        return self._found

    def _pasted_token(self) -> str:
        token = self._secrets(TOKEN_SECRET.format(account=self.account))
        if not token:
            raise TokenError(
                f"outlook:{self.account} is not connected: run `{connect_again(self.account)}`"
            )
        return token

    def access_token(self) -> str:
        """A valid bearer token; `TokenError` saying what to run when there is none."""
        tokens = self._tokens()
        return tokens.access_token() if tokens is not None else self._pasted_token()

    def refreshed(self) -> str:
        """A refreshed token (a pasted one comes back as it is: it cannot be refreshed)."""
        tokens = self._tokens()
        return tokens.refreshed() if tokens is not None else self._pasted_token()

    def address(self) -> str:
        """The granted address ('' for a pasted token)."""
        tokens = self._tokens()
        return tokens.address() if tokens is not None else ""


def granted_address(spec: str, secrets: SecretLookup | None) -> str:
    """The address an `outlook:ACCOUNT` inbox's connected account was granted ('' if none)."""
    account = spec.partition(":")[2].strip()
    try:
        stored = secrets(ACCOUNT_SECRET.format(account=account)) if secrets and account else None
        data = json.loads(stored) if stored else {}
    except (ValueError, VaultError, KeySourceError) as err:
        logger.warning("the address of %s cannot be read: %s", spec, err)
        return ""
    return str(data.get("address") or "") if isinstance(data, dict) else ""


def account_tokens(account: str, secrets: SecretLookup) -> AccessTokens:
    """The tokens of `account`: the connected grant, else a pasted token (see the module doc)."""
    return OutlookTokens(account, secrets)
