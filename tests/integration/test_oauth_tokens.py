"""`VaultTokens` and the OAuth exchanges against a local authorization server: refresh before
expiry and after a 401, a revoked grant as one line, the device flow's `slow_down`, PKCE."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from memory.db import AppDatabase
from memory.vault import CredentialVault
from tests.fakes.oauth_server import FakeOAuth, oauth_error
from tools.oauth.accounts import Account, AccountStore, VaultTokens
from tools.oauth.device import SLOW_DOWN_STEP, run_device_flow
from tools.oauth.grants import Grant, granted_address
from tools.oauth.loopback import Pkce, run_loopback_flow
from tools.oauth.providers import GOOGLE, MICROSOFT, Client
from tools.oauth.tokens import TokenError

pytestmark = pytest.mark.integration


@pytest.fixture
def oauth(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOAuth]:
    with FakeOAuth(client_secret="shh-client-secret") as server:
        for name, value in {**server.endpoints("google"), **server.endpoints("microsoft")}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("SMART_INBOX_OAUTH_GOOGLE_CLIENT_ID", server.client_id)
        monkeypatch.setenv("SMART_INBOX_OAUTH_GOOGLE_CLIENT_SECRET", server.client_secret)
        yield server  # type: ignore[misc]


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AccountStore:
    monkeypatch.delenv("SMART_INBOX_KEY", raising=False)
    return AccountStore(CredentialVault(AppDatabase(f"sqlite:///{tmp_path / 'app.db'}"), tmp_path))


def browser_consent(server: FakeOAuth, *, approve: bool = True) -> None:
    """Stand in for the user: open the printed URL, follow the consent page's button."""

    def show(text: str) -> None:
        # The listener only answers once the flow waits for it: the user acts meanwhile.
        threading.Thread(target=consent, args=(text.splitlines()[-1],), daemon=True).start()

    def consent(url: str) -> None:
        with httpx.Client() as client:
            page = client.get(url)
            assert "Approve" in page.text
            decision = "approve" if approve else "deny"
            query = httpx.URL(url).query.decode()
            answer = client.get(f"{server.base_url}/authorize/decide?{query}&decision={decision}")
            client.get(answer.headers["location"])

    return show  # type: ignore[return-value]


def connected(server: FakeOAuth, store: AccountStore, name: str = "work") -> Account:
    client = Client(server.client_id, server.client_secret)
    grant = run_loopback_flow(GOOGLE, client, open_browser=False, show=browser_consent(server))
    account = Account(name, "google", granted_address(GOOGLE, grant.access_token)).with_grant(grant)
    store.save(account)
    return account


def test_loopback_flow_with_pkce(oauth: FakeOAuth, store: AccountStore) -> None:
    account = connected(oauth, store)
    assert account.address == oauth.address
    assert account.refresh_token in oauth.refresh and oauth.live(account.access_token)
    assert "gmail.modify" in " ".join(account.scopes)
    [authorize] = oauth.calls("GET", "/authorize")
    assert authorize.query["code_challenge_method"] == ["S256"]
    [exchange] = oauth.calls("POST", "/token")
    assert (
        b"code_verifier=" in exchange.body and b"client_secret=shh-client-secret" in exchange.body
    )


def test_a_refused_consent_stores_nothing(oauth: FakeOAuth) -> None:
    client = Client(oauth.client_id, oauth.client_secret)
    with pytest.raises(TokenError, match="access_denied"):
        run_loopback_flow(
            GOOGLE, client, open_browser=False, show=browser_consent(oauth, approve=False)
        )
    assert not oauth.calls("POST", "/token")


def test_pkce_challenge_is_s256_of_the_verifier() -> None:
    pkce = Pkce.new()
    assert 43 <= len(pkce.verifier) <= 128 and "=" not in pkce.challenge
    assert pkce.challenge != Pkce.new().challenge


def test_refresh_before_expiry(oauth: FakeOAuth, store: AccountStore) -> None:
    oauth.access_ttl = 30  # inside the one-minute margin: refreshed at once
    account = connected(oauth, store)
    tokens = VaultTokens(store, "work")
    fresh = tokens.access_token()
    assert fresh != account.access_token and oauth.live(fresh)
    saved = store.get("work")
    assert saved is not None and saved.access_token == fresh
    assert saved.refresh_token == account.refresh_token  # the provider kept it
    assert tokens.address() == oauth.address


def test_a_fresh_token_is_not_refreshed(oauth: FakeOAuth, store: AccountStore) -> None:
    account = connected(oauth, store)
    assert VaultTokens(store, "work").access_token() == account.access_token
    assert len(oauth.calls("POST", "/token")) == 1


def test_a_401_then_refreshed(oauth: FakeOAuth, store: AccountStore) -> None:
    account = connected(oauth, store)
    tokens = VaultTokens(store, "work")
    oauth.access.clear()  # the provider dropped the access token before its expiry
    with httpx.Client() as client:
        assert (
            client.get(
                f"{oauth.base_url}/userinfo",
                headers={"Authorization": f"Bearer {tokens.access_token()}"},
            ).status_code
            == 401
        )
        again = tokens.refreshed()
        answer = client.get(
            f"{oauth.base_url}/userinfo", headers={"Authorization": f"Bearer {again}"}
        )
    assert answer.status_code == 200 and again != account.access_token


def test_a_revoked_grant_is_one_clear_line(oauth: FakeOAuth, store: AccountStore) -> None:
    account = connected(oauth, store)
    oauth.revoke_everything()
    with pytest.raises(TokenError) as raised:
        VaultTokens(store, "work").refreshed()
    message = str(raised.value)
    assert message == (
        "Google account work: the grant was revoked or has expired: "
        "run `smart-inbox accounts add gmail work` again"
    )
    assert account.refresh_token not in message and "\n" not in message


def test_an_unknown_account(store: AccountStore) -> None:
    with pytest.raises(
        TokenError, match=re.escape("run `smart-inbox accounts add gmail|microsoft nope`")
    ):
        VaultTokens(store, "nope")


def test_device_flow_slows_down_when_told(
    oauth: FakeOAuth, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMART_INBOX_OAUTH_MICROSOFT_CLIENT_ID", oauth.client_id)
    oauth.client_secret = ""
    oauth.script(oauth_error("slow_down"), oauth_error("authorization_pending"), path="/token")
    waits: list[float] = []
    shown: list[str] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:
            oauth.approve_device(shown[0].rsplit(" ", 1)[-1])
        time.sleep(0.01)

    grant = run_device_flow(MICROSOFT, Client(oauth.client_id), show=shown.append, sleep=sleep)
    assert isinstance(grant, Grant) and oauth.live(grant.access_token)
    first = float(oauth.device_interval)
    assert waits == [first, first + SLOW_DOWN_STEP, first + SLOW_DOWN_STEP]
