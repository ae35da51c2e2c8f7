"""HubSpot contacts against a local server speaking the CRM API v3."""

from __future__ import annotations

import pytest

from memory.db import AppDatabase
from tests.fakes.hubspot_server import FakeHubSpot, rate_limited
from tests.integration.integrations.fixtures import (
    FAST,
    HUBSPOT_TOKEN,
    SALES_ID,
    WEBFORM_ID,
    hubspot_env,
    lookup,
)
from tools.api_requests import IntegrationError
from tools.integrations.hubspot import hubspot_toolkit
from tools.registry import ToolRegistry

pytestmark = pytest.mark.integration

SEARCH = "/crm/v3/objects/contacts/search"
CREATE = "/crm/v3/objects/contacts"


def tools_for(db: AppDatabase, server: FakeHubSpot, token: str = HUBSPOT_TOKEN) -> ToolRegistry:
    env = {**hubspot_env(server), "HUBSPOT_TOKEN": token}
    kit = hubspot_toolkit(db, lookup(env), FAST, env)
    assert not kit.missing, kit.missing
    return ToolRegistry.from_toolkits([kit])


async def test_a_lead_from_a_sales_inquiry_searches_then_creates(
    demo_db: AppDatabase, hubspot: FakeHubSpot
) -> None:
    result = await tools_for(demo_db, hubspot).invoke(
        "hubspot_create_contact", {"email_id": SALES_ID}
    )
    search, create = hubspot.requests
    assert (search.method, search.path) == ("POST", SEARCH)
    assert search.headers["authorization"] == f"Bearer {HUBSPOT_TOKEN}"
    assert search.json == {
        "filterGroups": [
            {
                "filters": [
                    {
                        "propertyName": "email",
                        "operator": "EQ",
                        "value": "j.alvarez@meridianhealth.example",
                    }
                ]
            }
        ],
        "properties": [
            "email",
            "firstname",
            "lastname",
            "company",
            "lifecyclestage",
            "hs_lead_status",
        ],
        "limit": 1,
    }
    assert (create.method, create.path) == ("POST", CREATE)
    assert create.headers["content-type"] == "application/json"
    assert create.json == {
        "properties": {
            "email": "j.alvarez@meridianhealth.example",
            "lifecyclestage": "lead",
            "hs_lead_status": "NEW",
            "firstname": "Jorge",
            "lastname": "Alvarez",
        }
    }
    assert result["content"] == (
        "Created HubSpot contact Jorge Alvarez <j.alvarez@meridianhealth.example> (id 501, lead) "
        f"as a new lead. [msg:{SALES_ID}]"
    )


async def test_an_existing_contact_is_found_and_left_alone(
    demo_db: AppDatabase, hubspot: FakeHubSpot
) -> None:
    hubspot.seed("j.alvarez@meridianhealth.example", firstname="Jorge", lifecyclestage="customer")
    result = await tools_for(demo_db, hubspot).invoke(
        "hubspot_create_contact", {"email_id": SALES_ID}
    )
    assert [r.path for r in hubspot.requests] == [SEARCH]
    assert "already has this contact" in result["content"] and "customer" in result["content"]


async def test_a_409_from_a_lagging_index_means_found(demo_db: AppDatabase) -> None:
    with FakeHubSpot(HUBSPOT_TOKEN, index_lag=True) as server:
        assert isinstance(server, FakeHubSpot)
        tools = tools_for(demo_db, server)
        await tools.invoke("hubspot_create_contact", {"email": "new@prospect.example"})
        again = await tools.invoke("hubspot_create_contact", {"email": "new@prospect.example"})
        assert [r.path for r in server.requests] == [SEARCH, CREATE, SEARCH, CREATE]
        assert server.requests[-1].json["properties"]["email"] == "new@prospect.example"
        assert again["content"] == (
            "HubSpot already has a contact for new@prospect.example (id 501); nothing was changed."
        )
        assert len(server.contacts) == 1


async def test_a_web_form_lead_gets_the_reply_to_address(
    demo_db: AppDatabase, hubspot: FakeHubSpot
) -> None:
    await tools_for(demo_db, hubspot).invoke("hubspot_create_contact", {"email_id": WEBFORM_ID})
    properties = hubspot.calls("POST", CREATE)[0].json["properties"]
    assert properties["email"] == "grace.liu@orbitalfreight.example"
    assert "firstname" not in properties  # "Northwind Website" is not the lead's name


async def test_rate_limits_without_retry_after_back_off(
    demo_db: AppDatabase, hubspot: FakeHubSpot
) -> None:
    hubspot.script(rate_limited(), rate_limited())
    result = await tools_for(demo_db, hubspot).invoke(
        "hubspot_find_contact", {"email": "nobody@example.com"}
    )
    assert len(hubspot.requests) == 3
    assert result["content"] == "HubSpot has no contact with the address nobody@example.com."


async def test_a_bad_token_is_hubspots_401_in_words(
    demo_db: AppDatabase, hubspot: FakeHubSpot
) -> None:
    with pytest.raises(IntegrationError) as caught:
        await tools_for(
            demo_db, hubspot, token="pat-na1-00000000-0000-0000-0000-000000000000"
        ).invoke("hubspot_create_contact", {"email_id": SALES_ID})
    message = str(caught.value)
    assert message.startswith(
        "HubSpot could not look up j.alvarez@meridianhealth.example: 401 Unauthorized: "
        "Authentication credentials not found."
    )
    assert "(INVALID_AUTHENTICATION); check the private app token" in message
    assert "pat-na1" not in message
