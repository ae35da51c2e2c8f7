"""Connected accounts in the vault, and `VaultTokens`: the token contract backed by them.

One credential per account, `oauth.account:NAME`, holds the provider, the granted address and
scopes, the access token with its expiry, and the refresh token — encrypted like every vault
value, and remembered for scrubbing whenever it is read. Nothing a token grants is written
anywhere else: not to logs, state, checkpoints or the audit. A Microsoft account connected with
`--imap` keeps a second access token, for Outlook's IMAP and SMTP resource, redeemed from the
same refresh token and refreshed on its own.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime

from memory.credential_cipher import VaultError
from memory.keys import KeySourceError
from memory.redaction import remember_secret
from memory.vault import CredentialVault, open_vault
from tools.oauth.grants import Grant, OAuthError, refresh_grant, revoke_grant
from tools.oauth.providers import (
    IMAP_SCOPES,
    SEPARATE_MAIL_RESOURCE,
    Client,
    Provider,
    client_for,
    mail_resource_scopes,
    provider,
)
from tools.oauth.tokens import TokenError

logger = logging.getLogger(__name__)

PREFIX = "oauth.account:"
GONE_ERRORS = frozenset({"invalid_grant", "invalid_token", "unauthorized_client", "invalid_scope"})
"""Token endpoint errors that mean the refresh token is no good any more (or no longer for the
scopes a refresh names)."""
Redeem = Callable[[Provider, Client, Grant, tuple[str, ...]], Grant]
"""Redeems a grant's refresh token for the scopes given (`refresh_grant`; a stand-in in tests)."""


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
    mail_scopes: tuple[str, ...] = ()
    """The consented scopes of IMAP and SMTP's own resource (Outlook's, `accounts add microsoft
    … --imap`); empty where IMAP and SMTP take the API's token, or were not asked for."""
    mail_expires_at: float = 0.0
    mail_access_token: str = field(default="", repr=False)
    """The access token for `mail_scopes`' resource; empty until first needed."""

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

    @property
    def mail_grant(self) -> Grant:
        """The grant of IMAP and SMTP's own resource: its access token, the shared refresh token."""
        return Grant(
            self.mail_access_token, self.refresh_token, self.mail_expires_at, self.mail_scopes
        )

    @property
    def imap_access(self) -> bool:
        """Whether the grant reaches the provider's own IMAP and SMTP (`accounts add … --imap`)."""
        if self.mail_scopes:
            return True
        wanted = IMAP_SCOPES.get(self.provider)
        separate = self.provider in SEPARATE_MAIL_RESOURCE
        return bool(wanted) and not separate and set(wanted or ()) <= set(self.scopes)

    def with_grant(self, grant: Grant) -> Account:
        """The account holding `grant` (the scopes kept when a refresh names none)."""
        return replace(
            self,
            scopes=grant.scopes or self.scopes,
            expires_at=grant.expires_at,
            access_token=grant.access_token,
            refresh_token=grant.refresh_token,
            instance_url=grant.instance_url or self.instance_url,
        )

    def with_mail_grant(self, grant: Grant) -> Account:
        """The account holding `grant` for IMAP and SMTP's resource (its refresh token too)."""
        return replace(
            self,
            mail_access_token=grant.access_token,
            mail_expires_at=grant.expires_at,
            refresh_token=grant.refresh_token,
        )

    def summary(self) -> dict[str, object]:
        """What may be shown: never a token."""
        if self.provider == "imap":
            state = "password"
        elif not self.refresh_token:
            state = "no refresh token"
        else:
            state = "connected" if self.grant.fresh() else "token expired (refreshed when used)"
        mail_expiry = self.mail_expires_at if self.mail_scopes else self.expires_at
        return {
            "name": self.name,
            "kind": self.kind,
            "address": self.address,
            "state": state,
            "scopes": list(self.scopes),
            "expires_at": _when(self.expires_at),
            "imap_smtp": {"expires_at": _when(mail_expiry)} if self.imap_access else None,
        }

    def again(self) -> str:
        """The command that connects this account again (with `--imap` if it had that access)."""
        imap = " --imap" if self.imap_access else ""
        return f"smart-inbox accounts add {self.kind} {self.name}{imap}"


def _when(expires_at: float) -> str | None:
    """An expiry as shown (None when there is none)."""
    if not expires_at:
        return None
    return datetime.fromtimestamp(expires_at, UTC).isoformat(timespec="seconds")


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
        data["mail_scopes"] = tuple(data.get("mail_scopes", ()))
        account = Account(**data)
        remember_secret(f"oauth.access_token:{name}", account.access_token or None)
        remember_secret(f"oauth.mail_access_token:{name}", account.mail_access_token or None)
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


_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _account_lock(name: str) -> threading.Lock:
    """One lock per account in this process, whichever resource's tokens take it.

    Its two resources refresh one after the other, so the second redeems the refresh token the
    first may have rotated.
    """
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(name, threading.Lock())


class VaultTokens:
    """`AccessTokens` for one stored account: refreshed before expiry and on `refreshed()`.

    With `mail_servers=True` they are the tokens of the account's IMAP and SMTP logins: the same
    as the API's, except where those servers are another resource (Microsoft's), whose token is
    kept and refreshed beside the API's.
    """

    def __init__(
        self,
        store: AccountStore,
        name: str,
        *,
        mail_servers: bool = False,
        redeem: Redeem = refresh_grant,
    ) -> None:
        self._store = store
        self._lock = _account_lock(name)
        self._redeem = redeem
        self.account = name
        self._mail_servers = mail_servers
        found = self._load()
        self.provider = found.provider
        self._provider: Provider = provider(found.provider)

    @classmethod
    def open(cls, name: str, *, mail_servers: bool = False) -> VaultTokens:
        """The tokens of account `name` in the default data directory's vault."""
        try:
            return cls(AccountStore(open_vault()), name, mail_servers=mail_servers)
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
        if self._separate(found) and not found.mail_scopes:
            raise TokenError(
                f"{provider(found.provider).label} account {self.account} was connected without "
                f"IMAP and SMTP access: run `{found.again()} --imap`"
            )
        return found

    def _separate(self, found: Account) -> bool:
        """Whether these tokens are the second resource's (Outlook's IMAP and SMTP)."""
        return self._mail_servers and found.provider in SEPARATE_MAIL_RESOURCE

    def access_token(self) -> str:
        """A valid bearer token, refreshed first when it expires within a minute."""
        with self._lock:
            found = self._load()
            grant = found.mail_grant if self._separate(found) else found.grant
            if grant.access_token and grant.fresh():
                return grant.access_token
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
        separate = self._separate(found)
        if separate:
            grant, scopes = found.mail_grant, mail_resource_scopes(found.provider)
        else:
            # Named only where the refresh token serves two resources: the API's is wanted.
            grant, scopes = found.grant, self._provider.scopes if found.mail_scopes else ()
        try:
            # The client id may be stored in the vault, as `accounts add` reads it.
            client = client_for(self._provider, self._store.vault.get)
            newer = self._redeem(self._provider, client, grant, scopes)
        except OAuthError as err:
            if err.error in GONE_ERRORS:
                raise TokenError(
                    f"{self._provider.label} account {self.account}: the grant was revoked or "
                    f"has expired: run `{found.again()}` again"
                ) from None
            raise
        # Stored onto the account as it is now, so another process's refresh of the other
        # resource is kept; a refresh token the provider did not rotate stays the newest one.
        latest = self._store.get(self.account) or found
        if newer.refresh_token == found.refresh_token:
            newer = replace(newer, refresh_token=latest.refresh_token)
        self._store.save(latest.with_mail_grant(newer) if separate else latest.with_grant(newer))
        return newer.access_token
