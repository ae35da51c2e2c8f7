"""A Salesforce account connected through the real loopback flow to the local org, for tests."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
import pytest

from tests.fakes.salesforce_server import FakeSalesforce
from tools.oauth.accounts import Account, AccountStore
from tools.oauth.grants import granted_address
from tools.oauth.loopback import run_loopback_flow
from tools.oauth.providers import SALESFORCE, Client

ME = "dana@northwind.example"


def salesforce_env(server: FakeSalesforce, account: str = "work") -> dict[str, str]:
    """The variables that point the Salesforce provider at the fake and choose it as the CRM."""
    return {
        **server.endpoints(),
        "SMART_INBOX_OAUTH_SALESFORCE_CLIENT_ID": server.client_id,
        "SMART_INBOX_OAUTH_SALESFORCE_REDIRECT_PORT": "0",
        "SMART_INBOX_CRM": f"salesforce:{account}",
    }


def consent(server: FakeSalesforce) -> Callable[[str], None]:
    """Stand in for the user: open the printed URL and press Allow on the org's page."""

    def show(text: str) -> None:
        threading.Thread(target=press, args=(text.splitlines()[-1],), daemon=True).start()

    def press(url: str) -> None:
        with httpx.Client() as client:
            page = client.get(url)
            assert "Approve" in page.text
            query = httpx.URL(url).query.decode()
            answer = client.get(f"{server.base_url}/authorize/decide?{query}&decision=approve")
            client.get(answer.headers["location"])

    return show


def connect(
    server: FakeSalesforce,
    store: AccountStore,
    monkeypatch: pytest.MonkeyPatch,
    name: str = "work",
) -> Account:
    """`accounts add salesforce NAME` in process: consent, the code exchanged, the grant kept."""
    for variable, value in salesforce_env(server, name).items():
        monkeypatch.setenv(variable, value)
    client = Client(server.client_id)
    grant = run_loopback_flow(SALESFORCE, client, open_browser=False, show=consent(server))
    address = granted_address(SALESFORCE, grant.access_token)
    account = Account(name, "salesforce", address).with_grant(grant)
    store.save(account)
    return account
