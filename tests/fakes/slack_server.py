"""A local stand-in for Slack's Web API method `chat.postMessage`, as documented.

Slack answers most errors with HTTP 200 and `{"ok": false, "error": "<code>"}`
(`not_authed`, `invalid_auth`, `channel_not_found`, `not_in_channel`, `no_text`,
`invalid_blocks`); rate limits are HTTP 429 with `Retry-After` and `"error": "ratelimited"`.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.http_api import FakeApi, Recorded, Reply

BLOCK_TYPES = frozenset(
    {"section", "header", "context", "divider", "actions", "image", "rich_text"}
)


def rate_limited(retry_after: str = "1") -> Reply:
    """Slack's 429."""
    return Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": retry_after})


def _block_errors(blocks: Any) -> list[str]:
    if not isinstance(blocks, list):
        return ["must be an array [json-pointer:/blocks]"]
    errors = []
    for index, block in enumerate(blocks):
        where = f"[json-pointer:/blocks/{index}]"
        if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
            errors.append(f"unsupported type {where}")
            continue
        text = block.get("text")
        if block["type"] == "header" and (
            not isinstance(text, dict) or text.get("type") != "plain_text"
        ):
            errors.append(f"must be a plain_text object {where}/text")
        if isinstance(text, dict) and len(str(text.get("text", ""))) > 3000:
            errors.append(f"must be less than 3001 characters {where}/text")
        if isinstance(text, dict) and not str(text.get("text", "")):
            errors.append(f"must be more than 0 characters {where}/text")
    return errors


class FakeSlack(FakeApi):
    """A workspace with a bot token and some channels (name → id)."""

    name = "fake slack"

    def __init__(
        self,
        token: str,
        channels: dict[str, str] | None = None,
        not_member: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__()
        self.token = token
        self.channels = channels or {"ops": "C0OPS0001", "inbox-alerts": "C0ALRT002"}
        self.not_member = not_member
        self.posted: list[dict[str, Any]] = []

    def _channel_id(self, value: str) -> str | None:
        name = value.lstrip("#")
        if name in self.channels:
            return self.channels[name]
        return value if value in self.channels.values() else None

    def serve(self, request: Recorded) -> Reply:
        if request.path not in ("/api/chat.postMessage", "/api/auth.test"):
            return Reply(404, {"ok": False, "error": "unknown_method"})
        auth = request.headers.get("authorization", "")
        if not auth:
            return Reply(200, {"ok": False, "error": "not_authed"})
        if auth != f"Bearer {self.token}":
            return Reply(200, {"ok": False, "error": "invalid_auth"})
        if request.path == "/api/auth.test":
            return Reply(200, {"ok": True, "team": "Northwind", "user": "smart-inbox"})
        body = request.json
        if not isinstance(body, dict):
            return Reply(200, {"ok": False, "error": "invalid_json"})
        channel = self._channel_id(str(body.get("channel") or ""))
        if channel is None:
            return Reply(200, {"ok": False, "error": "channel_not_found"})
        if channel in self.not_member:
            return Reply(200, {"ok": False, "error": "not_in_channel"})
        if not body.get("text") and not body.get("blocks"):
            return Reply(200, {"ok": False, "error": "no_text"})
        if "blocks" in body:
            errors = _block_errors(body["blocks"])
            if errors:
                return Reply(200, {"ok": False, "error": "invalid_blocks", "errors": errors})
        ts = f"1795250000.{len(self.posted) + 1:06d}"
        message = {"type": "message", "text": body.get("text", ""), "ts": ts, "bot_id": "B0BOT"}
        if "blocks" in body:
            message["blocks"] = body["blocks"]
        self.posted.append({**body, "channel": channel})
        return Reply(200, {"ok": True, "channel": channel, "ts": ts, "message": message})
