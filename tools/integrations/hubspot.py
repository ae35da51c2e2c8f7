"""HubSpot CRM (v3): find a contact, or create one as a lead from a sales inquiry.

A contact made from a mail takes the sender's address (the Reply-To when it differs, as with
web-form leads) and name, with lifecycle stage `lead` and lead status `NEW`. It searches first
and creates only when nobody has that address; a create that collides anyway (HubSpot's search
index lags) comes back as HubSpot's 409 naming the existing contact, which is reported as found.
Because HubSpot refuses a second contact with the same address, creating is safe to retry.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Annotated, Any

import httpx
from langchain_core.tools import InjectedToolArg, tool

from memory.db import AppDatabase
from memory.secrets import SecretLookup
from tools.api_requests import ApiRequest, json_of, send
from tools.http import HttpSettings, HttpSettingsError, service_url
from tools.integrations.crm_person import person_from_mail
from tools.toolkit import (
    ActionPreview,
    ToolFailure,
    Toolkit,
    ToolResult,
    text_result,
)

logger = logging.getLogger(__name__)

INTEGRATION = "HubSpot"
DEFAULT_API_URL = "https://api.hubapi.com"
CONTACT_PROPERTIES = [
    "email",
    "firstname",
    "lastname",
    "company",
    "lifecyclestage",
    "hs_lead_status",
]
EXISTING_ID = re.compile(r"Existing ID:\s*(\d+)")
ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
HINTS = {
    401: "check the private app token (hubspot.token / HUBSPOT_TOKEN)",
    403: "the private app needs the crm.objects.contacts.read and .write scopes",
}


@dataclass(frozen=True)
class HubSpotEnv:
    """What the HubSpot tools need at run time; the token is never shown."""

    api_url: str
    token: str = field(repr=False)
    db: AppDatabase = field(repr=False)
    http: HttpSettings = field(default_factory=HttpSettings)

    @property
    def headers(self) -> dict[str, str]:
        """Bearer auth with the private app token."""
        return {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}


@dataclass(frozen=True)
class ContactPlan:
    """The contact a `hubspot_create_contact` call looks for, and creates if it is missing."""

    email: str
    properties: dict[str, str]
    notes: tuple[str, ...] = ()
    email_id: str = ""


def plan_contact(env: HubSpotEnv, args: Mapping[str, Any]) -> ContactPlan:
    """Address, name and company from the arguments, else from the mail's sender."""
    person = person_from_mail(env.db, args, record="contact", single="first")
    address, first, last, email_id = person.address, person.first, person.last, person.email_id
    if not ADDRESS.match(address):
        raise ToolFailure(
            "a HubSpot contact needs an e-mail address (or the id of the mail it comes from)"
        )
    properties = {"email": address, "lifecyclestage": "lead", "hs_lead_status": "NEW"}
    for key, value in (
        ("firstname", first),
        ("lastname", last),
        ("company", str(args.get("company") or "").strip()),
    ):
        if value:
            properties[key] = value
    return ContactPlan(email=address, properties=properties, notes=person.notes, email_id=email_id)


def explain(response: httpx.Response) -> str:
    """HubSpot's `{"status": "error", "message": ..., "category": ...}` with a hint."""
    try:
        body = response.json()
    except ValueError:
        body = None
    text = ""
    if isinstance(body, dict):
        text = str(body.get("message") or "")
        if body.get("category"):
            text = f"{text} ({body['category']})" if text else str(body["category"])
    text = text or " ".join(response.text.split())[:200] or "(no details)"
    hint = HINTS.get(response.status_code)
    return f"{text}; {hint}" if hint else text


async def _find(env: HubSpotEnv, address: str) -> dict[str, Any] | None:
    request = ApiRequest(
        integration=INTEGRATION,
        method="POST",
        url=f"{env.api_url}/crm/v3/objects/contacts/search",
        action=f"look up {address}",
        json={
            "filterGroups": [
                {"filters": [{"propertyName": "email", "operator": "EQ", "value": address}]}
            ],
            "properties": CONTACT_PROPERTIES,
            "limit": 1,
        },
        headers=env.headers,
        idempotent=True,  # a search changes nothing
    )
    body = json_of(await send(request, env.http, explain=explain), request)
    results = body.get("results") or []
    return results[0] if results else None


def _describe(contact: dict[str, Any]) -> str:
    props = contact.get("properties") or {}
    name = " ".join(p for p in (props.get("firstname"), props.get("lastname")) if p)
    stage = props.get("lifecyclestage") or "no lifecycle stage"
    who = f"{name} <{props.get('email')}>" if name else str(props.get("email"))
    return f"{who} (id {contact.get('id')}, {stage})"


@tool
async def hubspot_find_contact(
    email: str = "",
    email_id: str = "",
    *,
    env: Annotated[HubSpotEnv, InjectedToolArg],
) -> ToolResult:
    """Look up a HubSpot contact by e-mail address, or by the sender of a mail by its id."""
    plan = await asyncio.to_thread(plan_contact, env, {"email": email, "email_id": email_id})
    contact = await _find(env, plan.email)
    if contact is None:
        return text_result(f"HubSpot has no contact with the address {plan.email}.")
    return text_result(f"HubSpot contact: {_describe(contact)}.", data={"id": contact.get("id")})


@tool
async def hubspot_create_contact(
    email_id: str = "",
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    company: str = "",
    *,
    env: Annotated[HubSpotEnv, InjectedToolArg],
) -> ToolResult:
    """Find or create a HubSpot contact (a lead) for the sender of a mail by its id, or for an address."""  # noqa: E501 — the model reads it as one line
    args = {
        "email_id": email_id,
        "email": email,
        "first_name": first_name,
        "last_name": last_name,
        "company": company,
    }
    plan = await asyncio.to_thread(plan_contact, env, args)
    cite = f" [msg:{plan.email_id}]" if plan.email_id else ""
    existing = await _find(env, plan.email)
    if existing is not None:
        text = f"HubSpot already has this contact: {_describe(existing)}; nothing was changed."
        return text_result(text + cite, data={"id": existing.get("id"), "created": False})
    request = ApiRequest(
        integration=INTEGRATION,
        method="POST",
        url=f"{env.api_url}/crm/v3/objects/contacts",
        action=f"create the contact {plan.email}",
        json={"properties": plan.properties},
        headers=env.headers,
        idempotent=True,  # a second create of the same address is refused with a 409
        accept=frozenset({409}),
    )
    response = await send(request, env.http, explain=explain)
    body = json_of(response, request)
    if response.status_code == 409:
        match = EXISTING_ID.search(str(body.get("message", "")))
        found = match.group(1) if match else "unknown"
        text = f"HubSpot already has a contact for {plan.email} (id {found}); nothing was changed."
        return text_result(text + cite, data={"id": found, "created": False})
    text = f"Created HubSpot contact {_describe(body)} as a new lead."
    return text_result(text + cite, data={"id": body.get("id"), "created": True})


HUBSPOT_TOOLS = [hubspot_create_contact, hubspot_find_contact]
READ_ONLY_HUBSPOT_TOOLS = frozenset({"hubspot_find_contact"})


def preview(env: HubSpotEnv, name: str, args: dict[str, Any]) -> ActionPreview | None:
    """The card of a contact creation: the properties it will be created with."""
    if name != "hubspot_create_contact":
        return None
    plan = plan_contact(env, args)
    fields = tuple((key, value) for key, value in plan.properties.items())
    return ActionPreview(
        title=f"Find or create the HubSpot contact {plan.email}",
        fields=fields,
        content=(
            "HubSpot is searched for this address first; the contact is created only if "
            "there is none, and an existing contact is left unchanged."
        ),
        notes=plan.notes,
    )


def hubspot_toolkit(
    db: AppDatabase,
    secrets: SecretLookup,
    http: HttpSettings,
    environ: Mapping[str, str],
) -> Toolkit:
    """The HubSpot tools, or the toolkit absent with what to set."""
    base = Toolkit(
        name="hubspot", tools=HUBSPOT_TOOLS, read_only=READ_ONLY_HUBSPOT_TOOLS, timeout=None
    )
    token = secrets("hubspot.token")
    if not token:
        return replace(
            base, missing="HubSpot is not configured: set the private app token (HUBSPOT_TOKEN)"
        )
    try:
        api_url = service_url("HUBSPOT_API_URL", environ.get("HUBSPOT_API_URL") or DEFAULT_API_URL)
    except HttpSettingsError as err:
        logger.warning("HubSpot is left out: %s", err)
        return replace(base, missing=f"HubSpot is not configured: {err}")
    env = HubSpotEnv(api_url=api_url, token=token, db=db, http=http)
    return replace(base, env=env, preview=lambda name, args: preview(env, name, args))
