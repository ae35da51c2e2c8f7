"""Salesforce leads and logged mail against a local org speaking the OAuth and REST shapes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from memory.db import AppDatabase
from memory.vault import CredentialVault
from tests.fakes.http_api import Echo, Reply
from tests.fakes.salesforce_server import API, FakeSalesforce, rate_limited
from tests.integration.integrations.fixtures import FAST, SALES_ID, WEBFORM_ID
from tests.integration.integrations.salesforce_fixtures import ME, connect, salesforce_env
from tools.api_requests import IntegrationError
from tools.integrations.salesforce import mail_marker, salesforce_toolkit
from tools.oauth.accounts import Account, AccountStore, VaultTokens
from tools.registry import ToolRegistry
from tools.toolkit import ToolFailure
from ui.health.integrations import salesforce_verdict

pytestmark = pytest.mark.integration

QUERY = f"{API}/query"
TOKEN = "/services/oauth2/token"
JORGE = "j.alvarez@meridianhealth.example"


@pytest.fixture
def org() -> Iterator[FakeSalesforce]:
    with FakeSalesforce(address=ME) as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AccountStore:
    monkeypatch.delenv("SMART_INBOX_KEY", raising=False)
    db = AppDatabase(f"sqlite:///{tmp_path / 'vault.db'}")
    return AccountStore(CredentialVault(db, tmp_path))


@pytest.fixture
def account(org: FakeSalesforce, store: AccountStore, monkeypatch: pytest.MonkeyPatch) -> Account:
    return connect(org, store, monkeypatch)


def tools_for(db: AppDatabase, org: FakeSalesforce, store: AccountStore) -> ToolRegistry:
    kit = salesforce_toolkit(db, FAST, salesforce_env(org), lambda n: VaultTokens(store, n))
    assert not kit.missing, kit.missing
    org.requests.clear()
    return ToolRegistry.from_toolkits([kit])


def api_calls(org: FakeSalesforce) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in org.requests]


def test_connecting_uses_pkce_and_keeps_the_instance_url(
    org: FakeSalesforce, account: Account
) -> None:
    assert account.instance_url == org.base_url and account.address == ME
    assert account.kind == "salesforce" and account.again().endswith("add salesforce work")
    [authorize] = org.calls("GET", "/services/oauth2/authorize")
    assert authorize.query["code_challenge_method"] == ["S256"]
    assert authorize.query["scope"] == ["api refresh_token openid email"]
    assert authorize.query["redirect_uri"][0].startswith("http://localhost:")
    [exchange] = org.calls("POST", TOKEN)
    assert b"grant_type=authorization_code" in exchange.body and b"code_verifier=" in exchange.body
    assert account.refresh_token in org.refresh


async def test_a_lead_from_a_sales_inquiry_looks_first_then_creates_one(
    demo_db: AppDatabase, org: FakeSalesforce, store: AccountStore, account: Account
) -> None:
    result = await tools_for(demo_db, org, store).invoke(
        "salesforce_create_lead", {"email_id": SALES_ID}
    )
    contacts, leads, create = org.requests
    assert contacts.query["q"] == [
        "SELECT Id, FirstName, LastName, Email, Account.Name FROM Contact "
        f"WHERE Email IN ('{JORGE}') LIMIT 10"
    ]
    assert "FROM Lead WHERE Email IN" in leads.query["q"][0]
    assert "AND IsConverted = false" in leads.query["q"][0]
    assert contacts.headers["authorization"] == f"Bearer {account.access_token}"
    assert (create.method, create.path) == ("POST", f"{API}/sobjects/Lead")
    assert create.json == {
        "Email": JORGE,
        "LastName": "Alvarez",
        "Company": "meridianhealth.example",
        "FirstName": "Jorge",
    }
    [lead] = org.leads()
    assert result["content"] == (
        f"Created Salesforce Lead Jorge Alvarez <{JORGE}> (id {lead['Id']}, "
        f"meridianhealth.example) as a new lead. [msg:{SALES_ID}]"
    )
    assert result["data"] == {"id": lead["Id"], "created": True}  # type: ignore[typeddict-item]


async def test_a_create_run_again_after_a_crash_finds_the_first_lead(
    demo_db: AppDatabase, org: FakeSalesforce, store: AccountStore, account: Account
) -> None:
    tools = tools_for(demo_db, org, store)
    await tools.invoke("salesforce_create_lead", {"email_id": SALES_ID})
    # The process died before the ledger recorded the outcome; the person chose to run it again.
    again = await tools.invoke("salesforce_create_lead", {"email_id": SALES_ID})
    assert len(org.leads()) == 1
    assert "already has this Lead Jorge Alvarez" in again["content"]
    assert again["data"]["created"] is False  # type: ignore[typeddict-item]


async def test_an_existing_contact_is_found_and_left_alone(
    demo_db: AppDatabase, org: FakeSalesforce, store: AccountStore, account: Account
) -> None:
    org.seed("Contact", FirstName="Jorge", LastName="Alvarez", Email=JORGE, AccountName="Meridian")
    result = await tools_for(demo_db, org, store).invoke(
        "salesforce_create_lead", {"email_id": SALES_ID}
    )
    assert api_calls(org) == [("GET", QUERY)]
    assert org.leads() == []
    assert "already has this Contact Jorge Alvarez" in result["content"]
    assert "Meridian" in result["content"]


async def test_a_lead_the_orgs_duplicate_rule_matches_is_said_and_not_created(
    demo_db: AppDatabase, org: FakeSalesforce, store: AccountStore, account: Account
) -> None:
    # Same person under another address: no look-up by address finds them, the org's rule does.
    old = org.seed(
        "Lead", FirstName="Jorge", LastName="Alvarez", Company="meridianhealth.example",
        Email="jorge@old-address.example",
    )  # fmt: skip
    org.duplicate_rule = True
    result = await tools_for(demo_db, org, store).invoke(
        "salesforce_create_lead", {"email_id": SALES_ID}
    )
    assert org.leads() == [old]
    assert result["content"] == (
        f"Salesforce's duplicate rules match an existing record for {JORGE} (id {old['Id']}); "
        f"no new lead was created. [msg:{SALES_ID}]"
    )
    assert result["data"] == {  # type: ignore[typeddict-item]
        "id": old["Id"],
        "created": False,
        "duplicates": [old["Id"]],
    }


async def test_a_duplicate_refusal_naming_no_record_is_a_failure(
    demo_db: AppDatabase, org: FakeSalesforce, store: AccountStore, account: Account
) -> None:
    # Without the matched records there is nothing to point the user to: not a quiet success.
    org.seed("Lead", FirstName="Jorge", LastName="Alvarez", Company="meridianhealth.example")
    org.duplicate_rule, org.duplicate_details = True, False
    with pytest.raises(IntegrationError) as failed:
        await tools_for(demo_db, org, store).invoke(
            "salesforce_create_lead", {"email_id": SALES_ID}
        )
    assert str(failed.value).startswith(
        f"Salesforce could not create the lead {JORGE}: 400 Bad Request: DUPLICATES_DETECTED: "
    )
    assert failed.value.status == 400 and len(org.leads()) == 1


async def test_a_web_form_lead_gets_the_reply_to_address(
    demo_db: AppDatabase, org: FakeSalesforce, store: AccountStore, account: Account
) -> None:
    await tools_for(demo_db, org, store).invoke("salesforce_create_lead", {"email_id": WEBFORM_ID})
    [lead] = org.leads()
    assert lead["Email"] == "grace.liu@orbitalfreight.example"
    assert lead["LastName"] == "grace.liu" and "FirstName" not in lead


async def test_a_mail_is_logged_once_on_the_matching_contact(
    demo_db: AppDatabase, org: FakeSalesforce, store: AccountStore, account: Account
) -> None:
    contact = org.seed("Contact", FirstName="Jorge", LastName="Alvarez", Email=JORGE)
    tools = tools_for(demo_db, org, store)
    first = await tools.invoke("salesforce_log_email", {"email_id": SALES_ID})
    again = await tools.invoke("salesforce_log_email", {"email_id": SALES_ID})
    [task] = org.tasks()
    assert task["WhoId"] == contact["Id"]
    assert (
        task["Subject"] == f"Email: Pricing for 200 seats (annual contract) {mail_marker(SALES_ID)}"
    )
    assert (task["Status"], task["TaskSubtype"], task["ActivityDate"]) == (
        "Completed",
        "Email",
        "2026-11-16",
    )
    assert task["Description"].startswith(f"From: Jorge Alvarez <{JORGE}>\nDate: 2026-11-16")
    assert f"as task {task['Id']}" in first["content"]
    assert "already logged" in again["content"] and again["data"]["created"] is False  # type: ignore[typeddict-item]


async def test_a_mail_is_logged_on_a_lead_when_there_is_no_contact(
    demo_db: AppDatabase, org: FakeSalesforce, store: AccountStore, account: Account
) -> None:
    lead = org.seed(
        "Lead", LastName="Liu", Company="Orbital", Email="grace.liu@orbitalfreight.example"
    )
    await tools_for(demo_db, org, store).invoke("salesforce_log_email", {"email_id": WEBFORM_ID})
    [task] = org.tasks()
    assert task["WhoId"] == lead["Id"]  # the Reply-To address is the person, not the web form


async def test_logging_without_a_contact_or_lead_says_so_and_creates_nothing(
    demo_db: AppDatabase, org: FakeSalesforce, store: AccountStore, account: Account
) -> None:
    with pytest.raises(ToolFailure, match=f"no contact or lead with the address {JORGE}"):
        await tools_for(demo_db, org, store).invoke("salesforce_log_email", {"email_id": SALES_ID})
    assert org.tasks() == [] and all(r.method == "GET" for r in org.requests)


async def test_an_expired_session_is_refreshed_once(
    demo_db: AppDatabase, org: FakeSalesforce, store: AccountStore, account: Account
) -> None:
    tools = tools_for(demo_db, org, store)
    org.expire_sessions()
    result = await tools.invoke("salesforce_find_contact", {"email": "nobody@example.com"})
    assert (
        result["content"]
        == "Salesforce has no contact or lead with the address nobody@example.com."
    )
    assert api_calls(org)[:3] == [("GET", QUERY), ("POST", TOKEN), ("GET", QUERY)]
    assert len(org.calls("POST", TOKEN)) == 1
    refreshed = org.calls("POST", TOKEN)[0]
    assert b"grant_type=refresh_token" in refreshed.body
    stored = store.get("work")
    assert stored is not None and stored.access_token != account.access_token
    assert stored.refresh_token == account.refresh_token  # Salesforce keeps the refresh token


async def test_a_refused_refreshed_token_is_not_refreshed_again(
    demo_db: AppDatabase, org: FakeSalesforce, store: AccountStore, account: Account
) -> None:
    tools = tools_for(demo_db, org, store)
    unauthorized = Reply(
        401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    )
    org.script(unauthorized, unauthorized, path=QUERY)
    with pytest.raises(
        IntegrationError, match="run `smart-inbox accounts add salesforce work` again"
    ):
        await tools.invoke("salesforce_create_lead", {"email": "new@prospect.example"})
    assert len(org.calls("POST", TOKEN)) == 1 and org.leads() == []


async def test_429_waits_as_retry_after_asks(
    demo_db: AppDatabase, org: FakeSalesforce, store: AccountStore, account: Account
) -> None:
    tools = tools_for(demo_db, org, store)
    org.script(rate_limited(1), path=f"{API}/sobjects/Lead")
    await tools.invoke("salesforce_create_lead", {"email": "new@prospect.example"})
    assert len(org.calls("POST", f"{API}/sobjects/Lead")) == 2
    assert len(org.leads()) == 1


async def test_a_retry_after_beyond_the_bound_is_not_waited_for(
    demo_db: AppDatabase, org: FakeSalesforce, store: AccountStore, account: Account
) -> None:
    tools = tools_for(demo_db, org, store)
    org.script(rate_limited(3600), path=QUERY)
    with pytest.raises(IntegrationError, match="asks to wait 3600 s") as caught:
        await tools.invoke("salesforce_find_contact", {"email": "new@prospect.example"})
    assert len(org.calls("GET", QUERY)) == 1 and "\n" not in str(caught.value)


async def test_a_revoked_grant_is_one_line_saying_to_connect_again(
    demo_db: AppDatabase, org: FakeSalesforce, store: AccountStore, account: Account
) -> None:
    tools = tools_for(demo_db, org, store)
    org.revoke_everything()
    with pytest.raises(ToolFailure) as caught:
        await tools.invoke("salesforce_create_lead", {"email_id": SALES_ID})
    assert str(caught.value) == (
        "Salesforce account work: the grant was revoked or has expired: run "
        "`smart-inbox accounts add salesforce work` again"
    )
    assert org.leads() == []


async def test_a_quote_in_an_address_stays_inside_the_soql_literal(
    demo_db: AppDatabase, org: FakeSalesforce, store: AccountStore, account: Account
) -> None:
    org.seed("Contact", LastName="Victim", Email="ceo@northwind.example")
    sneaky = "x')OR(Email!='@evil.example"
    result = await tools_for(demo_db, org, store).invoke(
        "salesforce_find_contact", {"email": sneaky}
    )
    assert "has no contact or lead" in result["content"]
    assert "Email IN ('x\\')or(email!=\\'@evil.example')" in org.requests[0].query["q"][0]


async def test_an_echoed_token_never_reaches_the_error(
    demo_db: AppDatabase, org: FakeSalesforce, store: AccountStore, account: Account
) -> None:
    tools = tools_for(demo_db, org, store)
    org.script(
        Echo(400, [{"message": "{echo}", "errorCode": "INVALID_FIELD"}]),
        path=f"{API}/sobjects/Lead",
    )
    with pytest.raises(IntegrationError) as caught:
        await tools.invoke("salesforce_create_lead", {"email": "new@prospect.example"})
    assert account.access_token not in str(caught.value)
    assert "INVALID_FIELD" in str(caught.value)


async def test_the_health_check_reads_the_limits_and_refreshes_once(
    org: FakeSalesforce, store: AccountStore, account: Account, demo_db: AppDatabase
) -> None:
    kit = salesforce_toolkit(demo_db, FAST, salesforce_env(org), lambda n: VaultTokens(store, n))
    verdict = await salesforce_verdict(kit.env, 5.0)
    assert (verdict.state, verdict.reason) == ("ok", "Salesforce answers")
    org.expire_sessions()
    assert (await salesforce_verdict(kit.env, 5.0)).state == "ok"
    assert len(org.calls("GET", f"{API}/limits")) == 3
    org.revoke_everything()
    down = await salesforce_verdict(kit.env, 5.0)
    assert down.state == "down" and "accounts add salesforce work` again" in down.reason


def test_an_unknown_or_other_account_leaves_salesforce_out(
    org: FakeSalesforce, store: AccountStore, account: Account, demo_db: AppDatabase
) -> None:
    store.save(Account("mail", "google", ME))
    tokens = lambda n: VaultTokens(store, n)  # noqa: E731
    other = salesforce_toolkit(demo_db, FAST, {"SMART_INBOX_CRM": "salesforce:mail"}, tokens)
    assert "is a google account" in other.missing
    absent = salesforce_toolkit(demo_db, FAST, {"SMART_INBOX_CRM": "salesforce:nope"}, tokens)
    assert absent.missing.startswith("Salesforce is not configured: no account 'nope'")
    unset = salesforce_toolkit(demo_db, FAST, {}, tokens)
    assert unset.missing == (
        "Salesforce is not configured: run `smart-inbox accounts add salesforce NAME`, then set "
        "SMART_INBOX_CRM=salesforce:NAME"
    )
    bad = salesforce_toolkit(demo_db, FAST, {"SMART_INBOX_CRM": "salesforce:../x"}, tokens)
    assert "needs the name given to" in bad.missing
