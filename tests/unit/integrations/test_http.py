"""The shared HTTP layer's retry rule, in process (httpx's mock transport: no sockets)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from tools.api_requests import ApiRequest, IntegrationError, retry_after, send
from tools.http import (
    HttpSettings,
    HttpSettingsError,
    _hide_secret_urls_in_logs,
    register_secret_url,
    service_url,
)

URL = "https://hooks.example/T0SECRET/B0PATH/xyzzy"
SETTINGS = HttpSettings(timeout=1, retries=3, max_wait=10, backoff=0.5)

Handler = Callable[[httpx.Request], httpx.Response]


class Script:
    """Answers in order (a response, or an exception to raise); records what was sent."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.sent: list[httpx.Request] = []
        self.slept: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


async def call(script: Script, method: str = "POST", **options: object) -> httpx.Response:
    request = ApiRequest(
        integration="Slack",
        method=method,
        url=URL,
        action="post the message",
        json={"text": "hi"},
        **options,  # type: ignore[arg-type]
    )
    async with httpx.AsyncClient(transport=httpx.MockTransport(script)) as client:
        return await send(request, SETTINGS, client=client, sleep=script.sleep)


def status(code: int, body: str = "", **headers: str) -> httpx.Response:
    return httpx.Response(
        code, text=body, headers={k.replace("_", "-"): v for k, v in headers.items()}
    )


async def test_429_waits_what_retry_after_asks_then_succeeds() -> None:
    script = Script(status(429, retry_after="2"), status(200, '{"ok": true}'))
    response = await call(script)
    assert response.status_code == 200
    assert script.slept == [2.0]
    assert len(script.sent) == 2
    assert script.sent[0].content == script.sent[1].content


async def test_retry_after_as_an_http_date() -> None:
    now = datetime(2026, 11, 21, 10, 0, 0, tzinfo=UTC)
    response = status(503, **{"retry-after": "Sat, 21 Nov 2026 10:00:07 GMT"})
    assert retry_after(response, now) == 7.0
    assert retry_after(status(503, **{"retry-after": "soon"}), now) is None
    assert retry_after(status(503), now) is None


async def test_a_retry_after_longer_than_allowed_is_given_up_at_once() -> None:
    script = Script(status(429, "slow down", retry_after="600"))
    with pytest.raises(IntegrationError) as caught:
        await call(script)
    assert script.slept == [] and len(script.sent) == 1
    assert str(caught.value) == (
        "Slack could not post the message: 429 Too Many Requests: slow down; it asks to wait "
        "600 s, longer than the 10 s allowed (INTEGRATION_MAX_WAIT); try again later"
    )
    assert not caught.value.outcome_unknown


async def test_without_retry_after_the_backoff_doubles_and_is_bounded() -> None:
    script = Script(*[status(503)] * 4)
    with pytest.raises(IntegrationError, match="gave up after 4 attempts"):
        await call(script)
    assert len(script.sent) == 4
    first, second, third = script.slept
    assert 0.5 <= first <= 0.75 and 1.0 <= second <= 1.25 and 2.0 <= third <= 2.25


@pytest.mark.parametrize("code", [500, 502, 504])
async def test_a_5xx_on_a_write_is_not_sent_again(code: int) -> None:
    script = Script(status(code, "oops"))
    with pytest.raises(IntegrationError) as caught:
        await call(script)
    assert len(script.sent) == 1
    assert caught.value.outcome_unknown and caught.value.status == code
    assert "may or may not have happened; check Slack before trying again" in str(caught.value)


async def test_a_5xx_on_a_read_or_an_idempotent_write_is_retried() -> None:
    script = Script(status(500), status(502), status(200, "[]"))
    assert (await call(script, method="GET")).status_code == 200
    script = Script(status(504), status(201, "{}"))
    assert (await call(script, idempotent=True)).status_code == 201
    assert len(script.sent) == 2


async def test_connection_errors_before_sending_are_retried_for_writes() -> None:
    script = Script(
        httpx.ConnectError("[Errno 111] Connection refused"),
        httpx.ConnectTimeout("timed out"),
        status(200),
    )
    assert (await call(script)).status_code == 200
    assert len(script.sent) == 3


@pytest.mark.parametrize(
    "error",
    [
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.WriteError("broken pipe"),
    ],
)
async def test_an_unknown_outcome_of_a_write_is_never_retried(error: Exception) -> None:
    script = Script(error)
    with pytest.raises(IntegrationError) as caught:
        await call(script)
    assert len(script.sent) == 1 and caught.value.outcome_unknown


async def test_a_read_that_timed_out_is_retried() -> None:
    script = Script(httpx.ReadTimeout("timed out"), status(200))
    assert (await call(script, method="GET")).status_code == 200


@pytest.mark.parametrize("code", [400, 401, 403, 404, 422])
async def test_client_errors_are_not_retried(code: int) -> None:
    script = Script(status(code, '{"error": "nope"}'))
    with pytest.raises(IntegrationError) as caught:
        await call(script)
    assert len(script.sent) == 1 and not caught.value.outcome_unknown
    assert str(caught.value).startswith(f"Slack could not post the message: {code} ")
    assert '{"error":"nope"}' in str(caught.value)


async def test_accepted_statuses_come_back_and_redirects_are_not_followed() -> None:
    script = Script(status(409, "exists"))
    assert (await call(script, accept=frozenset({409}))).status_code == 409
    script = Script(status(302, location="https://elsewhere.example/"))
    with pytest.raises(IntegrationError, match="a redirect, which is not followed"):
        await call(script)


async def test_errors_never_carry_the_url_or_the_headers() -> None:
    script = Script(httpx.ConnectError(f"cannot reach {URL}"), *[status(401, "bad")] * 1)
    with pytest.raises(IntegrationError) as caught:
        await call(script, headers={"Authorization": "Bearer xoxb-secret-value"})
    assert URL not in str(caught.value) and "xoxb" not in str(caught.value)


def test_secret_urls_are_hidden_in_httpx_logs(caplog: pytest.LogCaptureFixture) -> None:
    register_secret_url(URL)
    _hide_secret_urls_in_logs()
    with caplog.at_level(logging.INFO, logger="httpx"):
        logging.getLogger("httpx").info(
            'HTTP Request: %s %s "%s %d %s"', "POST", httpx.URL(URL), "HTTP/1.1", 200, "OK"
        )
    assert "T0SECRET" not in caplog.text
    assert 'HTTP Request: POST [a secret URL] "HTTP/1.1 200 OK"' in caplog.text


def test_settings_from_the_environment() -> None:
    assert HttpSettings.from_env({}) == HttpSettings()
    settings = HttpSettings.from_env(
        {"INTEGRATION_TIMEOUT": "5", "INTEGRATION_RETRIES": "0", "INTEGRATION_MAX_WAIT": "2.5"}
    )
    assert (settings.timeout, settings.retries, settings.max_wait) == (5.0, 0, 2.5)
    with pytest.raises(HttpSettingsError, match="INTEGRATION_RETRIES must be a number, not 'x'"):
        HttpSettings.from_env({"INTEGRATION_RETRIES": "x"})
    with pytest.raises(HttpSettingsError, match="INTEGRATION_TIMEOUT must be positive"):
        HttpSettings.from_env({"INTEGRATION_TIMEOUT": "0"})


def test_service_urls_are_https_or_this_machine() -> None:
    assert service_url("X", "https://site.atlassian.net/") == "https://site.atlassian.net"
    assert service_url("X", "http://127.0.0.1:8080/api") == "http://127.0.0.1:8080/api"
    with pytest.raises(HttpSettingsError, match="X must use https://"):
        service_url("X", "http://jira.example.com")
    with pytest.raises(HttpSettingsError) as caught:
        service_url("TEAMS_WEBHOOK_URL", "ftp://secret-token@host/path")
    assert "secret-token" not in str(caught.value)
