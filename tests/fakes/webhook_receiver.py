"""A webhook receiver that verifies signatures the way the README tells receivers to.

It recomputes HMAC-SHA256(secret, timestamp + "." + raw body) itself (not with the product's
code), compares in constant time, refuses timestamps more than five minutes off, and answers
`401` to anything it cannot verify.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from tests.fakes.http_api import FakeApi, Recorded, Reply

TOLERANCE_SECONDS = 300


class WebhookReceiver(FakeApi):
    """Receives events at `/hooks/inbox`; keeps the verified ones."""

    name = "webhook receiver"
    path = "/hooks/inbox"

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret
        self.events: list[dict[str, Any]] = []
        self.rejected: list[str] = []

    @property
    def url(self) -> str:
        """Where to deliver."""
        return self.base_url + self.path

    def credentials(self, request: Recorded) -> list[str]:
        """An echo repeats the signing secret (a receiver that explains a signature it refused
        by showing the secret it used)."""
        return [self.secret]

    def verify(self, request: Recorded) -> str:
        """Why the request cannot be trusted, or '' when its signature is good."""
        timestamp = request.headers.get("x-smart-inbox-timestamp", "")
        signature = request.headers.get("x-smart-inbox-signature", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
            return "stale or missing timestamp"
        expected = hmac.new(
            self.secret.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(signature, f"sha256={expected}"):
            return "bad signature"
        return ""

    def serve(self, request: Recorded) -> Reply:
        if request.method != "POST" or request.path != self.path:
            return Reply(404, "not found")
        problem = self.verify(request)
        if problem:
            self.rejected.append(problem)
            return Reply(401, problem)
        self.events.append(request.json)
        return Reply(200, "ok")
