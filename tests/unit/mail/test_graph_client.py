"""The Microsoft Graph client's rules, on a transport in memory: refresh, throttling, errors."""

from __future__ import annotations

import httpx
import pytest

from tools.http import HttpSettings
from tools.msgraph.client import GraphClient, GraphError
from tools.oauth.tokens import StaticTokens

BASE = "https://graph.microsoft.com/v1.0"


class Tokens(StaticTokens):
    def __init__(self) -> None:
        super().__init__("work", "microsoft", "old-token", "dana@contoso.example")
        self.refreshes = 0

    def refreshed(self) -> str:
        self.refreshes += 1
        return "new-token"


def client_for(answer: object, tokens: Tokens | None = None) -> tuple[GraphClient, list[float]]:
    waits: list[float] = []
    client = GraphClient(
        tokens or Tokens(),
        BASE,
        HttpSettings(timeout=5, retries=2, max_wait=30),
        waits.append,
        httpx.MockTransport(answer),  # type: ignore[arg-type]
    )
    return client, waits


def error(status: int, code: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": "no"}}, headers=headers)


def test_a_401_refreshes_once_and_sends_again_with_the_new_token() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        if request.headers["authorization"] == "Bearer old-token":
            return error(401, "InvalidAuthenticationToken")
        return httpx.Response(200, json={"value": []})

    tokens = Tokens()
    client, _ = client_for(answer, tokens)
    assert client.json("GET", "me/messages", action="list") == {"value": []}
    assert seen == ["Bearer old-token", "Bearer new-token"] and tokens.refreshes == 1


def test_a_second_401_is_not_refreshed_again_and_says_what_to_run() -> None:
    tokens = Tokens()
    client, _ = client_for(lambda r: error(401, "InvalidAuthenticationToken"), tokens)
    with pytest.raises(GraphError, match="smart-inbox accounts add microsoft work") as caught:
        client.json("GET", "me/messages", action="list")
    assert tokens.refreshes == 1
    assert "old-token" not in str(caught.value) and "new-token" not in str(caught.value)


def test_429_waits_for_retry_after_then_gives_up_after_the_retries() -> None:
    client, waits = client_for(lambda r: error(429, "TooManyRequests", {"Retry-After": "3"}))
    with pytest.raises(GraphError, match="gave up after 3 attempts"):
        client.json("GET", "me/messages", action="list")
    assert waits == [3.0, 3.0]


def test_a_send_is_not_repeated_when_its_outcome_is_unknown() -> None:
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        raise httpx.ReadTimeout("slow", request=request)

    client, _ = client_for(answer)
    with pytest.raises(GraphError, match="may or may not have happened"):
        client.request("POST", "me/sendMail", action="send the message", content=b"x")
    assert calls == ["POST"]


def test_errors_carry_no_token_and_no_link_query() -> None:
    client, _ = client_for(lambda r: error(400, "BadRequest"))
    link = f"{BASE}/me/mailFolders/inbox/messages/delta?$deltatoken=SECRETSTATE"
    with pytest.raises(GraphError) as caught:
        client.json("GET", link, action="list the mail")
    text = str(caught.value)
    assert "Microsoft Graph could not list the mail: 400 BadRequest" in text
    assert "SECRETSTATE" not in text and "old-token" not in text


def test_a_link_to_another_server_is_not_followed() -> None:
    client, _ = client_for(lambda r: pytest.fail("no request may be sent"))
    with pytest.raises(GraphError, match="another server"):
        client.json("GET", "https://evil.example/v1.0/me/messages", action="list")
