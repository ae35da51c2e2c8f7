"""A Microsoft account with Outlook's IMAP and SMTP: two access tokens on one refresh token.

The Graph token and the outlook.office.com token are refreshed each on its own, from whichever
refresh token is newest; removing the account removes both; credentials stored before the
second token existed still load. The token endpoint is a stand-in passed to `VaultTokens`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from memory.db import AppDatabase
from memory.keys import KEY_ENV
from memory.redaction import scrub
from memory.vault import CredentialVault
from tools.oauth.accounts import PREFIX, Account, AccountStore, VaultTokens, revoke_and_forget
from tools.oauth.grants import Grant, OAuthError
from tools.oauth.providers import (
    GOOGLE,
    MICROSOFT,
    Client,
    Provider,
    mail_resource_scopes,
    with_imap_scopes,
)
from tools.oauth.tokens import TokenError

OUTLOOK_SCOPES = (
    "https://outlook.office.com/IMAP.AccessAsUser.All",
    "https://outlook.office.com/SMTP.Send",
)
AGAIN_IMAP = "run `smart-inbox accounts add microsoft work --imap` again"


@dataclass
class TokenEndpoint:
    """Stands in for the token endpoint: one new access token per redemption, named after the
    resource of the scopes asked for, and (when `rotate`) a new refresh token each time."""

    rotate: bool = False
    error: str = ""
    live_refresh: str = "refresh-1"
    calls: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    def __call__(
        self, provider: Provider, client: Client, grant: Grant, scopes: tuple[str, ...]
    ) -> Grant:
        assert client.client_id == "ms-client"
        self.calls.append((grant.refresh_token, scopes))
        if self.error:
            raise OAuthError(provider, self.error)
        if grant.refresh_token != self.live_refresh:
            raise OAuthError(provider, "invalid_grant", "an old refresh token")
        outlook = scopes and scopes[0].startswith("https://outlook.office.com/")
        resource = "outlook" if outlook else "graph"
        if self.rotate:
            self.live_refresh = f"refresh-{len(self.calls) + 1}"
        newer = Grant(f"{resource}-access-{len(self.calls)}", "", time.time() + 3600, ())
        return grant.after_refresh(replace(newer, refresh_token=self.live_refresh))


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AccountStore:
    monkeypatch.delenv(KEY_ENV, raising=False)
    vault = CredentialVault(AppDatabase(f"sqlite:///{tmp_path / 'app.db'}"), tmp_path)
    vault.set("oauth.client_id:microsoft", "ms-client")
    return AccountStore(vault)


def connected(store: AccountStore, *, imap: bool = True) -> Account:
    """Account `work` as `accounts add microsoft work [--imap]` leaves it: a Graph token only."""
    account = Account(
        "work",
        "microsoft",
        "dana@northwind.example",
        mail_scopes=mail_resource_scopes("microsoft") if imap else (),
    ).with_grant(Grant("graph-access-0", "refresh-1", time.time() + 3600, MICROSOFT.scopes))
    store.save(account)
    return account


def stored(store: AccountStore) -> Account:
    found = store.get("work")
    assert found is not None
    return found


def test_imap_asks_for_outlooks_scopes_after_graphs() -> None:
    """The code is redeemed for the first scope's resource: Graph's must stay first."""
    wider = with_imap_scopes(MICROSOFT)
    assert wider.scopes == (*MICROSOFT.scopes, *OUTLOOK_SCOPES)
    assert wider.scopes[0].startswith("https://graph.microsoft.com/")
    assert mail_resource_scopes("microsoft") == (*OUTLOOK_SCOPES, "offline_access")
    assert mail_resource_scopes("google") == ()


def test_the_outlook_token_is_redeemed_on_first_need_and_refreshed_on_its_own(
    store: AccountStore,
) -> None:
    connected(store)
    endpoint = TokenEndpoint()
    graph = VaultTokens(store, "work", redeem=endpoint)
    mail = VaultTokens(store, "work", mail_servers=True, redeem=endpoint)
    assert graph.access_token() == "graph-access-0" and endpoint.calls == []
    assert mail.access_token() == "outlook-access-1"
    assert endpoint.calls == [("refresh-1", (*OUTLOOK_SCOPES, "offline_access"))]
    assert mail.access_token() == "outlook-access-1", "fresh: not redeemed again"
    assert graph.access_token() == "graph-access-0", "the Graph token is untouched"

    store.save(replace(stored(store), mail_expires_at=time.time() + 30))
    assert mail.access_token() == "outlook-access-2"
    assert graph.access_token() == "graph-access-0" and len(endpoint.calls) == 2

    assert graph.refreshed() == "graph-access-3"
    assert endpoint.calls[-1] == ("refresh-1", MICROSOFT.scopes), "Graph's scopes, named"
    after = stored(store)
    assert (after.access_token, after.mail_access_token) == ("graph-access-3", "outlook-access-2")


def test_a_rotated_refresh_token_serves_both_resources(store: AccountStore) -> None:
    connected(store)
    endpoint = TokenEndpoint(rotate=True)
    graph = VaultTokens(store, "work", redeem=endpoint)
    mail = VaultTokens(store, "work", mail_servers=True, redeem=endpoint)
    assert mail.access_token() == "outlook-access-1"
    assert stored(store).refresh_token == "refresh-2"
    assert graph.refreshed() == "graph-access-2", "redeemed with the rotated refresh token"
    assert mail.refreshed() == "outlook-access-3"
    assert [token for token, _ in endpoint.calls] == ["refresh-1", "refresh-2", "refresh-3"]
    after = stored(store)
    assert after.refresh_token == "refresh-4"
    assert (after.access_token, after.mail_access_token) == ("graph-access-2", "outlook-access-3")


def test_a_refresh_that_does_not_rotate_keeps_the_newest_refresh_token(
    store: AccountStore,
) -> None:
    """A token redeemed from an older copy of the account keeps the newer refresh token."""
    connected(store)
    endpoint = TokenEndpoint()
    mail = VaultTokens(store, "work", mail_servers=True, redeem=endpoint)
    loaded = stored(store)
    # Another process rotated the refresh token after this one read the account.
    store.save(replace(loaded, refresh_token="refresh-newer"))
    endpoint.live_refresh = "refresh-1"
    mail._refresh(loaded)
    after = stored(store)
    assert after.refresh_token == "refresh-newer" and after.mail_access_token == "outlook-access-1"


def test_a_microsoft_account_without_imap_is_one_line_naming_the_command(
    store: AccountStore,
) -> None:
    connected(store, imap=False)
    endpoint = TokenEndpoint()
    with pytest.raises(TokenError) as raised:
        VaultTokens(store, "work", mail_servers=True, redeem=endpoint)
    said = str(raised.value)
    assert said.endswith("run `smart-inbox accounts add microsoft work --imap`")
    assert "\n" not in said and endpoint.calls == []
    # The Graph token is not offered in its place, and Graph itself still works.
    assert VaultTokens(store, "work", redeem=endpoint).access_token() == "graph-access-0"


@pytest.mark.parametrize("error", ["invalid_grant", "invalid_scope"])
def test_a_revoked_outlook_grant_is_one_line(store: AccountStore, error: str) -> None:
    connected(store)
    mail = VaultTokens(store, "work", mail_servers=True, redeem=TokenEndpoint(error=error))
    with pytest.raises(TokenError) as raised:
        mail.access_token()
    assert str(raised.value) == (
        f"Microsoft account work: the grant was revoked or has expired: {AGAIN_IMAP}"
    )


def test_google_imap_and_smtp_take_the_api_token(store: AccountStore) -> None:
    account = Account("home", "google", "dana@gmail.com").with_grant(
        Grant("google-access", "g-refresh", time.time() + 3600, with_imap_scopes(GOOGLE).scopes)
    )
    store.save(account)
    endpoint = TokenEndpoint()
    mail = VaultTokens(store, "home", mail_servers=True, redeem=endpoint)
    assert mail.access_token() == "google-access" and endpoint.calls == []
    assert account.imap_access and account.again() == "smart-inbox accounts add gmail home --imap"


def test_removing_the_account_removes_both_tokens(store: AccountStore) -> None:
    connected(store)
    VaultTokens(store, "work", mail_servers=True, redeem=TokenEndpoint()).access_token()
    assert stored(store).mail_access_token == "outlook-access-1"
    found, said = revoke_and_forget(store, "work")
    assert found and "offers no revocation" in said
    assert store.get("work") is None and store.vault.get(PREFIX + "work") is None
    assert [info.name for info in store.vault.names()] == ["oauth.client_id:microsoft"]


def test_a_credential_stored_before_the_second_token_still_loads(store: AccountStore) -> None:
    old = {
        "name": "work",
        "provider": "microsoft",
        "address": "dana@northwind.example",
        "scopes": list(MICROSOFT.scopes),
        "expires_at": time.time() + 3600,
        "access_token": "graph-access-0",
        "refresh_token": "refresh-1",
        "instance_url": "",
    }
    store.vault.set(PREFIX + "work", json.dumps(old))
    account = stored(store)
    assert account.mail_scopes == () and not account.imap_access
    assert account.summary()["imap_smtp"] is None
    assert VaultTokens(store, "work", redeem=TokenEndpoint()).access_token() == "graph-access-0"
    with pytest.raises(TokenError, match="--imap`$"):
        VaultTokens(store, "work", mail_servers=True, redeem=TokenEndpoint())


def test_what_is_shown_says_the_grant_exists_and_its_expiry_never_a_token(
    store: AccountStore,
) -> None:
    connected(store)
    assert stored(store).summary()["imap_smtp"] == {"expires_at": None}
    VaultTokens(store, "work", mail_servers=True, redeem=TokenEndpoint()).access_token()
    account = stored(store)
    summary = account.summary()
    assert isinstance(summary["imap_smtp"], dict) and summary["imap_smtp"]["expires_at"]
    shown = f"{summary} {account!r}"
    assert "outlook-access" not in shown and "graph-access" not in shown
    assert "refresh-1" not in shown
    # Read from the vault, the second token is remembered for scrubbing like the first.
    assert "outlook-access-1" not in scrub("logged: outlook-access-1")
    assert account.again() == "smart-inbox accounts add microsoft work --imap"
