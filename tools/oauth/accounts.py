"""Connected accounts in the vault, and `VaultTokens`: the token contract backed by them.

One credential per account, `oauth.account:NAME`, holds the provider, the granted address and
scopes, the access token with its expiry, and the refresh token — encrypted like every vault
value, and remembered for scrubbing whenever it is read. Nothing a token grants is written
anywhere else: not to logs, state, checkpoints or the audit.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from memory.credential_cipher import VaultError
from memory.keys import KeySourceError
from memory.redaction import remember_secret
from memory.vault import CredentialVault, open_vault
from tools.oauth.grants import Grant, OAuthError, refresh_grant, revoke_grant
from tools.oauth.providers import Provider, client_for, provider
from tools.oauth.tokens import TokenError

logger = logging.getLogger(__name__)

PREFIX = "oauth.account:"
GONE_ERRORS = frozenset({"invalid_grant", "invalid_token", "unauthorized_client"})
"""Token endpoint errors that mean the refresh token is no good any more."""


@dataclass(frozen=True)
class Account:
    """One connected account as stored: what `accounts list` shows, and the grant."""

    name: str
    provider: str
    """`google`, `microsoft`, `salesforce` or `imap`."""
    address: str
    scopes: tuple[str, ...] = ()
    expires_at: float = 0.0
    access_token: str = field(default="", repr=False)
    refresh_token: str = field(default="", repr=False)
    instance_url: str = ""
    """Where the account's API lives, as the token endpoint said (Salesforce); else empty."""

    @property
    def kind(self) -> str:
        """What `accounts add` calls the provider: gmail, microsoft, salesforce or imap."""
        return "imap" if self.provider == "imap" else provider(self.provider).kind

    @property
    def grant(self) -> Grant:
        """The stored grant."""
        return Grant(
            self.access_token, self.refresh_token, self.expires_at, self.scopes, self.instance_url
        )

    def with_grant(self, grant: Grant) -> Account:
        """The account holding `grant` (the scopes kept when a refresh names none)."""
        return Account(
            self.name,
            self.provider,
            self.address,
            grant.scopes or self.scopes,
            grant.expires_at,
            grant.access_token,
            grant.refresh_token,
            grant.instance_url or self.instance_url,
        )

    def summary(self) -> dict[str, object]:
        """What may be shown: never a token."""
        if self.provider == "imap":
            state = "password"
        elif not self.refresh_token:
            state = "no refresh token"
        else:
            state = "connected" if self.grant.fresh() else "token expired (refreshed when used)"
        expiry = (
            datetime.fromtimestamp(self.expires_at, UTC).isoformat(timespec="seconds")
            if self.expires_at
            else None
        )
        return {
            "name": self.name,
            "kind": self.kind,
            "address": self.address,
            "state": state,
            "scopes": list(self.scopes),
            "expires_at": expiry,
        }

    def again(self) -> str:
        """The command that connects this account again."""
        return f"smart-inbox accounts add {self.kind} {self.name}"


class AccountStore:
    """The connected accounts of one vault."""

    def __init__(self, vault: CredentialVault) -> None:
        self.vault = vault

    def get(self, name: str) -> Account | None:
        """The account `name`, or None."""
        raw = self.vault.get(PREFIX + name)
        if raw is None:
            return None
        data = json.loads(raw)
        data["scopes"] = tuple(data.get("scopes", ()))
        account = Account(**data)
        remember_secret(f"oauth.access_token:{name}", account.access_token or None)
        remember_secret(f"oauth.refresh_token:{name}", account.refresh_token or None)
        return account

    def save(self, account: Account) -> None:
        """Store (or replace) `account`."""
        self.vault.set(PREFIX + account.name, json.dumps(asdict(account)))

    def forget(self, name: str) -> bool:
        """Remove the account; False if there was none."""
        return self.vault.delete(PREFIX + name)

    def names(self) -> list[str]:
        """Every account's name, sorted."""
        return [
            info.name[len(PREFIX) :] for info in self.vault.names() if info.name.startswith(PREFIX)
        ]

    def all(self) -> list[Account]:
        """Every account."""
        return [account for name in self.names() if (account := self.get(name)) is not None]


def revoke_and_forget(store: AccountStore, name: str) -> tuple[bool, str]:
    """Revoke the account's grant at its provider, then forget it; False when there was none.

    The second value says what happened to the grant, for the user.
    """
    account = store.get(name)
    if account is None:
        return False, ""
    said = "forgot the login and its password"
    if account.provider == "imap":
        store.vault.delete(f"imap.password:{account.address}")
    else:
        found = provider(account.provider)
        try:
            revoked = revoke_grant(found, client_for(found, store.vault.get), account.grant)
            said = (
                "revoked the grant"
                if revoked
                else f"{found.label} offers no revocation: remove the app's access in your "
                "account's privacy settings"
            )
        except TokenError as err:
            said = f"could not revoke ({err}); forgot it anyway"
    store.forget(name)
    return True, said


class VaultTokens:
    """`AccessTokens` for one stored account: refreshed before expiry and on `refreshed()`."""

    def __init__(self, store: AccountStore, name: str) -> None:
        self._store = store
        self._lock = threading.Lock()
        self.account = name
        found = self._load()
        self.provider = found.provider
        self._provider: Provider = provider(found.provider)

    @classmethod
    def open(cls, name: str) -> VaultTokens:
        """The tokens of account `name` in the default data directory's vault."""
        try:
            return cls(AccountStore(open_vault()), name)
        except (VaultError, KeySourceError) as err:
            raise TokenError(f"account {name}: the vault cannot be read: {err}") from None

    def __repr__(self) -> str:
        return f"VaultTokens(account={self.account!r}, provider={self.provider!r})"

    def _load(self) -> Account:
        try:
            found = self._store.get(self.account)
        except (VaultError, KeySourceError) as err:
            raise TokenError(f"account {self.account}: the vault cannot be read: {err}") from None
        if found is None:
            raise TokenError(
                f"no account {self.account!r}: run `smart-inbox accounts add gmail|microsoft "
                f"{self.account}`"
            )
        if found.provider == "imap":
            raise TokenError(f"account {self.account} is a password account, not OAuth")
        return found

    def access_token(self) -> str:
        """A valid bearer token, refreshed first when it expires within a minute."""
        with self._lock:
            found = self._load()
            if found.access_token and found.grant.fresh():
                return found.access_token
            return self._refresh(found)

    def refreshed(self) -> str:
        """Refresh now (after a 401) and return the new token."""
        with self._lock:
            return self._refresh(self._load())

    def address(self) -> str:
        """The granted mail address."""
        return self._load().address

    def instance_url(self) -> str:
        """Where the account's API lives, as its token endpoint said ('' when it said nothing)."""
        return self._load().instance_url

    def _refresh(self, found: Account) -> str:
        try:
            # The client id may be stored in the vault, as `accounts add` reads it.
            client = client_for(self._provider, self._store.vault.get)
            grant = refresh_grant(self._provider, client, found.grant)
        except OAuthError as err:
            if err.error in GONE_ERRORS:
                raise TokenError(
                    f"{self._provider.label} account {self.account}: the grant was revoked or "
                    f"has expired: run `{found.again()}` again"
                ) from None
            raise
        self._store.save(found.with_grant(grant))
        return grant.access_token
