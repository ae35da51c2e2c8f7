"""A local stand-in for HubSpot's CRM API v3 (contacts), as documented.

Bearer auth with a private app token; `POST /crm/v3/objects/contacts` creates (`201`), refuses
a second contact with the same e-mail with `409` and `"Contact already exists. Existing ID: N"`,
and validates property names and enumeration values (`400 VALIDATION_ERROR`);
`POST /crm/v3/objects/contacts/search` finds by `email EQ`. With `index_lag=True` a contact
created here is not yet found by search (HubSpot's search index lags behind creates).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.fakes.http_api import FakeApi, Recorded, Reply

PROPERTIES = frozenset(
    {"email", "firstname", "lastname", "company", "phone", "lifecyclestage", "hs_lead_status"}
)
LIFECYCLE = frozenset(
    {
        "subscriber",
        "lead",
        "marketingqualifiedlead",
        "salesqualifiedlead",
        "opportunity",
        "customer",
    }
)
LEAD_STATUS = frozenset({"NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED", "CONNECTED"})


def hubspot_error(status: int, message: str, category: str, **extra: Any) -> Reply:
    """An error in HubSpot's shape."""
    body = {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
        **extra,
    }
    return Reply(status, body)


def rate_limited() -> Reply:
    """HubSpot's 429 (it does not always send `Retry-After`)."""
    return Reply(
        429,
        {
            "status": "error",
            "message": "You have reached your secondly limit.",
            "errorType": "RATE_LIMIT",
            "correlationId": str(uuid.uuid4()),
            "policyName": "SECONDLY",
        },
    )


class FakeHubSpot(FakeApi):
    """A portal with contacts."""

    name = "fake hubspot"

    def __init__(self, token: str, *, index_lag: bool = False) -> None:
        super().__init__()
        self.token = token
        self.index_lag = index_lag
        self.contacts: dict[str, dict[str, Any]] = {}
        self._indexed: set[str] = set()
        self._next = 500

    def seed(self, email: str, **properties: str) -> dict[str, Any]:
        """A contact that exists (and is searchable) before the test."""
        contact = self._store({"email": email, **properties})
        self._indexed.add(contact["id"])
        return contact

    def _store(self, properties: dict[str, str]) -> dict[str, Any]:
        self._next += 1
        contact = {
            "id": str(self._next),
            "properties": {
                **properties,
                "createdate": "2026-11-21T10:00:00.000Z",
                "lastmodifieddate": "2026-11-21T10:00:00.000Z",
                "hs_object_id": str(self._next),
            },
            "createdAt": "2026-11-21T10:00:00.000Z",
            "updatedAt": "2026-11-21T10:00:00.000Z",
            "archived": False,
        }
        self.contacts[contact["id"]] = contact
        if not self.index_lag:
            self._indexed.add(contact["id"])
        return contact

    def serve(self, request: Recorded) -> Reply:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return hubspot_error(
                401,
                "Authentication credentials not found. This API supports OAuth 2.0 "
                "authentication and you can find more details at "
                "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                "INVALID_AUTHENTICATION",
            )
        if request.method == "POST" and request.path == "/crm/v3/objects/contacts":
            return self._create(request.json)
        if request.method == "POST" and request.path == "/crm/v3/objects/contacts/search":
            return self._search(request.json)
        return hubspot_error(404, "resource not found", "OBJECT_NOT_FOUND")

    def _create(self, body: Any) -> Reply:
        properties = (body or {}).get("properties")
        if not isinstance(properties, dict):
            return hubspot_error(
                400, "Invalid input JSON: 'properties' is required", "VALIDATION_ERROR"
            )
        problems = []
        for name, value in properties.items():
            if name not in PROPERTIES:
                problems.append(
                    {
                        "isValid": False,
                        "message": f'Property "{name}" does not exist',
                        "error": "PROPERTY_DOESNT_EXIST",
                        "name": name,
                    }
                )
            elif name == "lifecyclestage" and value not in LIFECYCLE:
                problems.append(
                    {
                        "isValid": False,
                        "message": f"{value} was not one of the allowed options",
                        "error": "INVALID_OPTION",
                        "name": name,
                    }
                )
            elif name == "hs_lead_status" and value not in LEAD_STATUS:
                problems.append(
                    {
                        "isValid": False,
                        "message": f"{value} was not one of the allowed options",
                        "error": "INVALID_OPTION",
                        "name": name,
                    }
                )
        if problems:
            return hubspot_error(
                400, f"Property values were not valid: {json.dumps(problems)}", "VALIDATION_ERROR"
            )
        email = str(properties.get("email", "")).lower()
        for contact in self.contacts.values():
            if email and contact["properties"].get("email", "").lower() == email:
                return hubspot_error(
                    409, f"Contact already exists. Existing ID: {contact['id']}", "CONFLICT"
                )
        return Reply(201, self._store(dict(properties)))

    def _search(self, body: Any) -> Reply:
        wanted = ""
        for group in (body or {}).get("filterGroups") or []:
            for item in group.get("filters") or []:
                if item.get("propertyName") == "email" and item.get("operator") == "EQ":
                    wanted = str(item.get("value", "")).lower()
        results = [
            contact
            for cid, contact in self.contacts.items()
            if cid in self._indexed and contact["properties"].get("email", "").lower() == wanted
        ]
        limit = int((body or {}).get("limit") or 10)
        return Reply(200, {"total": len(results), "results": results[:limit]})
