"""A local stand-in for a Microsoft Teams incoming webhook, as documented.

The URL's path is the credential. An Office 365 connector webhook answers a good card with
`200` and the text `1`, a malformed one with `400` and a text error, throttling with `429`;
a Workflows webhook (`workflows=True`) answers `202 Accepted` with no body.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.http_api import FakeApi, Recorded, Reply

WEBHOOK_PATH = (
    "/webhookb2/5f0c1e2a-1111-4c2d-9e3f-7a6b5c4d3e2f@0a1b2c3d/IncomingWebhook/9c8b7a6f5e4d/3e2d1c0b"
)
CARD_TYPE = "application/vnd.microsoft.card.adaptive"


def throttled() -> Reply:
    """Teams' 429, text body."""
    return Reply(
        429,
        "Microsoft Teams endpoint returned HTTP error 429 with ContextId "
        "tcid=0,server=msgapi-production-eus-azsc2-4-170,cv=deadbeef.0..",
        {"Retry-After": "1"},
    )


def _card_error(body: Any) -> str:
    if not isinstance(body, dict):
        return "Bad payload received by generic incoming webhook."
    if body.get("type") == "message":
        attachments = body.get("attachments")
        if not isinstance(attachments, list) or not attachments:
            return "Bad payload received by generic incoming webhook."
        for item in attachments:
            content = item.get("content") if isinstance(item, dict) else None
            if item.get("contentType") != CARD_TYPE or not isinstance(content, dict):
                return "Bad payload received by generic incoming webhook."
            if content.get("type") != "AdaptiveCard" or not content.get("body"):
                return "Bad payload received by generic incoming webhook."
        return ""
    if not body.get("text") and not body.get("summary"):
        return "Summary or Text is required."
    return ""


class FakeTeams(FakeApi):
    """One channel's incoming webhook."""

    name = "fake teams"

    def __init__(self, *, workflows: bool = False) -> None:
        super().__init__()
        self.workflows = workflows
        self.cards: list[dict[str, Any]] = []

    @property
    def webhook_url(self) -> str:
        """The full webhook URL (the secret)."""
        return self.base_url + WEBHOOK_PATH

    def credentials(self, request: Recorded) -> list[str]:
        """The webhook URL is the credential: an echo repeats its path."""
        return [request.path]

    def serve(self, request: Recorded) -> Reply:
        if request.path != WEBHOOK_PATH or request.method != "POST":
            return Reply(404, "")
        error = _card_error(request.json)
        if error:
            return Reply(400, error)
        self.cards.append(request.json)
        return Reply(202, None) if self.workflows else Reply(200, "1")
