"""The Gmail batch body and answer, read offline: parts paired by Content-ID, never by order."""

from __future__ import annotations

import httpx
import pytest

from tools.google.api import GoogleApi, GoogleApiError
from tools.http import HttpSettings
from tools.mail.gmail.batch import BATCH_LIMIT, batch_body, parse_batch_answer, read_batch
from tools.oauth.tokens import StaticTokens

PATHS = ["/gmail/v1/users/me/messages/a?format=raw", "/gmail/v1/users/me/messages/b?format=raw"]


def answer(boundary: str, *parts: tuple[str, str]) -> bytes:
    """A batch answer: (Content-ID, the HTTP response) each."""
    chunks = [
        f"--{boundary}\r\nContent-Type: application/http\r\nContent-ID: <{cid}>\r\n\r\n{http}\r\n"
        for cid, http in parts
    ]
    return ("".join(chunks) + f"--{boundary}--\r\n").encode()


def test_the_body_holds_one_get_per_path_with_its_content_id() -> None:
    body = batch_body(PATHS, "b0").decode()
    assert body.count("--b0\r\nContent-Type: application/http\r\n") == 2
    assert "Content-ID: <item-1>\r\n\r\nGET /gmail/v1/users/me/messages/b?format=raw\r\n" in body
    assert body.endswith("--b0--\r\n")


def test_answers_are_paired_by_content_id_whatever_their_order() -> None:
    body = answer(
        "zz",
        ("response-item-1", "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n\r\n{}"),
        ("response-item-0", 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{"id":"a"}'),
    )
    parts = parse_batch_answer('multipart/mixed; boundary="zz"', body)
    assert parts[0].status == 200 and parts[0].body == b'{"id":"a"}'
    assert parts[1].status == 404 and parts[1].line == "404 Not Found"


def test_a_part_without_an_id_or_a_status_pairs_with_nothing() -> None:
    body = answer(
        "zz",
        ("", "HTTP/1.1 200 OK\r\n\r\n{}"),
        ("response-item-0", "garbage\r\n\r\n{}"),
        ("response-item-x", "HTTP/1.1 200 OK\r\n\r\n{}"),
    )
    assert parse_batch_answer("multipart/mixed; boundary=zz", body) == {}


def test_an_answer_that_is_not_multipart_is_refused() -> None:
    with pytest.raises(ValueError, match="application/json, not multipart/mixed"):
        parse_batch_answer("application/json", b"{}")


def api_on(handler: httpx.MockTransport, retries: int = 2) -> tuple[GoogleApi, list[float]]:
    sleeps: list[float] = []
    settings = HttpSettings(timeout=5, retries=retries, max_wait=5, backoff=0)
    tokens = StaticTokens("work", "google", "tok", "me@example.com")
    api = GoogleApi(
        "http://127.0.0.1:9", tokens, name="Gmail", retry=settings, transport=handler,
        sleep=sleeps.append,
    )  # fmt: skip
    return api, sleeps


def test_a_part_asked_too_long_a_wait_ends_the_batch() -> None:
    def reply(request: httpx.Request) -> httpx.Response:
        body = answer("q", ("response-item-0", "HTTP/1.1 429 Too Many\r\nRetry-After: 600\r\n\r\n"))
        return httpx.Response(
            200, content=body, headers={"Content-Type": "multipart/mixed; boundary=q"}
        )

    api, sleeps = api_on(httpx.MockTransport(reply))
    with pytest.raises(GoogleApiError, match="longer than INTEGRATION_MAX_WAIT"):
        read_batch(api, PATHS[:1])
    assert sleeps == []


def test_a_part_left_out_of_the_answer_is_asked_again_then_reported() -> None:
    def reply(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=answer("q"), headers={"Content-Type": "multipart/mixed; boundary=q"}
        )

    api, sleeps = api_on(httpx.MockTransport(reply))
    [part] = read_batch(api, PATHS[:1])
    assert part.status == 0 and part.line == "no answer in the batch"
    assert len(api.calls) == 3 and len(sleeps) == 2, "asked again, within the bound"


def test_more_than_the_limit_is_a_programming_error() -> None:
    api, _ = api_on(httpx.MockTransport(lambda r: httpx.Response(500)))
    with pytest.raises(ValueError, match="at most 50"):
        read_batch(api, PATHS[:1] * (BATCH_LIMIT + 1))
