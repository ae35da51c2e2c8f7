"""The Groq chat model and its recovery, end to end against a local fake Groq API."""

from __future__ import annotations

import logging
import time
from typing import Literal

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.tools import tool
from pydantic import BaseModel, Field

from graph.engines.groq import DEFAULT_GROQ_MODEL, build_groq_chat_model
from graph.engines.recovery import ModelCallError, invoke_with_recovery
from tests.fakes.groq_server import (
    CHAT_COMPLETIONS_PATH,
    FakeGroqServer,
    completion,
    error,
    invalid_api_key,
    rate_limited,
    server_error,
    tool_use_failed,
)

pytestmark = pytest.mark.integration

MALFORMED_CALL = '<function=search_mail{"query": "invoices", "limit": three}</function>'


class RecordingSleep:
    """Stands in for `asyncio.sleep`: records the waits instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@tool
def search_mail(query: str, limit: int = 5) -> str:
    """Search the mailbox and return matching message summaries."""
    return f"{limit} results for {query}"


class Triage(BaseModel):
    """How an email should be handled."""

    category: Literal["action", "fyi", "spam"] = Field(description="What kind of email this is")
    urgent: bool = Field(description="Whether it needs a reply today")
    summary: str = Field(description="One sentence summary")


@pytest.fixture
def model(groq_server: FakeGroqServer) -> BaseChatModel:
    return build_groq_chat_model(
        DEFAULT_GROQ_MODEL, api_key=groq_server.api_key, base_url=groq_server.base_url, timeout=5
    )


@pytest.fixture
def fake_sleep() -> RecordingSleep:
    return RecordingSleep()


def conversation() -> list[BaseMessage]:
    return [
        SystemMessage(content="You are an inbox assistant."),
        HumanMessage(content="Find my unpaid invoices."),
    ]


def test_model_is_built_without_sdk_retries_and_hides_the_key(
    model: BaseChatModel, groq_server: FakeGroqServer
) -> None:
    assert getattr(model, "max_retries", None) == 0
    assert groq_server.api_key not in repr(model)
    assert groq_server.api_key not in str(model.model_dump())


async def test_plain_completion(
    model: BaseChatModel, groq_server: FakeGroqServer, fake_sleep: RecordingSleep
) -> None:
    groq_server.script(completion("You have two unpaid invoices."))

    result = await invoke_with_recovery(model, conversation(), sleep=fake_sleep)

    assert isinstance(result, AIMessage)
    assert result.content == "You have two unpaid invoices."
    assert result.usage_metadata is not None and result.usage_metadata["total_tokens"] == 49
    [request] = groq_server.requests
    assert request.method == "POST"
    assert request.path == CHAT_COMPLETIONS_PATH
    assert request.authorized
    assert request.body["model"] == DEFAULT_GROQ_MODEL
    assert request.messages == [
        {"role": "system", "content": "You are an inbox assistant."},
        {"role": "user", "content": "Find my unpaid invoices."},
    ]
    assert "tools" not in request.body
    assert not request.body.get("stream")
    assert fake_sleep.calls == []


async def test_tool_calls_send_the_schema_and_parse_the_calls(
    model: BaseChatModel, groq_server: FakeGroqServer, fake_sleep: RecordingSleep
) -> None:
    groq_server.script(
        completion(tool_calls=[("search_mail", {"query": "unpaid invoices", "limit": 3})])
    )

    result = await invoke_with_recovery(
        model.bind_tools([search_mail]), conversation(), sleep=fake_sleep
    )

    [request] = groq_server.requests
    [sent_tool] = request.body["tools"]
    assert sent_tool["type"] == "function"
    assert sent_tool["function"]["name"] == "search_mail"
    assert sent_tool["function"]["description"].startswith("Search the mailbox")
    assert set(sent_tool["function"]["parameters"]["properties"]) == {"query", "limit"}
    assert sent_tool["function"]["parameters"]["required"] == ["query"]
    assert isinstance(result, AIMessage)
    assert result.tool_calls == [
        {
            "name": "search_mail",
            "args": {"query": "unpaid invoices", "limit": 3},
            "id": "call_1",
            "type": "tool_call",
        }
    ]


async def test_structured_output_uses_a_forced_tool_call(
    model: BaseChatModel, groq_server: FakeGroqServer, fake_sleep: RecordingSleep
) -> None:
    # langchain-groq's default method is "function_calling": the schema goes out as
    # a tool and tool_choice forces it, so the fake answers with a tool call.
    groq_server.script(
        completion(
            tool_calls=[
                ("Triage", {"category": "action", "urgent": True, "summary": "Pay invoice 42."})
            ]
        )
    )

    result = await invoke_with_recovery(
        model.with_structured_output(Triage), conversation(), sleep=fake_sleep
    )

    assert result == Triage(category="action", urgent=True, summary="Pay invoice 42.")
    [request] = groq_server.requests
    assert [t["function"]["name"] for t in request.body["tools"]] == ["Triage"]
    assert request.body["tool_choice"] == {"type": "function", "function": {"name": "Triage"}}
    assert "response_format" not in request.body


async def test_rate_limit_waits_for_retry_after_then_succeeds(
    model: BaseChatModel,
    groq_server: FakeGroqServer,
    fake_sleep: RecordingSleep,
    caplog: pytest.LogCaptureFixture,
) -> None:
    groq_server.script(rate_limited(retry_after=7), completion("done"))
    caplog.set_level(logging.WARNING, logger="graph.engines.recovery")

    result = await invoke_with_recovery(model, conversation(), sleep=fake_sleep)

    assert result.content == "done"
    assert fake_sleep.calls == [7.0]
    assert len(groq_server.requests) == 2
    # Both attempts are ours: the SDK made no retry of its own.
    assert [r.headers["x-stainless-retry-count"] for r in groq_server.requests] == ["0", "0"]
    [warning] = [r for r in caplog.records if r.name == "graph.engines.recovery"]
    assert warning.levelno == logging.WARNING
    assert "429" in warning.getMessage() and "7s" in warning.getMessage()


async def test_rate_limit_prefers_retry_after_ms(
    model: BaseChatModel, groq_server: FakeGroqServer, fake_sleep: RecordingSleep
) -> None:
    groq_server.script(rate_limited(retry_after=2, retry_after_ms=1500), completion("done"))

    await invoke_with_recovery(model, conversation(), sleep=fake_sleep)

    assert fake_sleep.calls == [1.5]


async def test_rate_limit_without_header_backs_off_exponentially(
    model: BaseChatModel, groq_server: FakeGroqServer, fake_sleep: RecordingSleep
) -> None:
    groq_server.script(*[rate_limited(retry_after=None)] * 3, completion("done"))

    result = await invoke_with_recovery(model, conversation(), sleep=fake_sleep)

    assert result.content == "done"
    assert fake_sleep.calls == [1.0, 2.0, 4.0]


async def test_rate_limit_gives_up_after_the_retries(
    model: BaseChatModel, groq_server: FakeGroqServer, fake_sleep: RecordingSleep
) -> None:
    groq_server.script(*[rate_limited(retry_after=1)] * 5)

    with pytest.raises(ModelCallError) as caught:
        await invoke_with_recovery(
            model, conversation(), max_rate_limit_retries=3, sleep=fake_sleep
        )

    message = str(caught.value)
    assert message.startswith("the Groq model is rate-limited: gave up after 4 tries")
    assert "retry-after 1s" in message
    assert caught.value.status_code == 429
    assert len(groq_server.requests) == 4  # the first try and three retries
    assert fake_sleep.calls == [1.0, 1.0, 1.0]
    assert groq_server.unused_responses == 1


async def test_rate_limit_longer_than_max_wait_fails_at_once(
    model: BaseChatModel, groq_server: FakeGroqServer, fake_sleep: RecordingSleep
) -> None:
    groq_server.script(rate_limited(retry_after=600), completion("never reached"))

    with pytest.raises(ModelCallError, match=r"rate-limited: the API asked to wait 600s"):
        await invoke_with_recovery(model, conversation(), max_wait=60, sleep=fake_sleep)

    assert fake_sleep.calls == []
    assert len(groq_server.requests) == 1


async def test_rate_limit_honours_retry_after_with_the_real_sleep(
    model: BaseChatModel, groq_server: FakeGroqServer
) -> None:
    groq_server.script(rate_limited(retry_after=1), completion("after a real wait"))

    started = time.monotonic()
    result = await invoke_with_recovery(model, conversation())
    elapsed = time.monotonic() - started

    assert result.content == "after a real wait"
    assert elapsed >= 0.9
    assert len(groq_server.requests) == 2


async def test_tool_use_failed_is_fed_back_and_retried(
    model: BaseChatModel, groq_server: FakeGroqServer, fake_sleep: RecordingSleep
) -> None:
    groq_server.script(
        tool_use_failed(MALFORMED_CALL),
        completion(tool_calls=[("search_mail", {"query": "invoices", "limit": 3})]),
    )

    result = await invoke_with_recovery(
        model.bind_tools([search_mail]), conversation(), sleep=fake_sleep
    )

    assert result.tool_calls[0]["args"] == {"query": "invoices", "limit": 3}
    first, second = groq_server.requests
    assert second.messages[:-1] == first.messages
    feedback = second.messages[-1]
    assert feedback["role"] == "user"
    assert feedback["content"].startswith(
        "Your previous tool call was malformed: Failed to call a function."
    )
    assert f"failed generation: {MALFORMED_CALL}." in feedback["content"]
    assert feedback["content"].endswith(
        "Call the tool again with valid JSON arguments, or answer without tools."
    )
    assert second.body["tools"] == first.body["tools"]
    assert fake_sleep.calls == []


async def test_tool_use_failed_feedback_truncates_the_generation(
    model: BaseChatModel, groq_server: FakeGroqServer, fake_sleep: RecordingSleep
) -> None:
    long_generation = "<function=search_mail>" + "x" * 700 + "TAIL"
    groq_server.script(tool_use_failed(long_generation), completion("answered without tools"))

    await invoke_with_recovery(model.bind_tools([search_mail]), conversation(), sleep=fake_sleep)

    feedback = groq_server.requests[1].messages[-1]["content"]
    assert long_generation[:500] in feedback
    assert long_generation[:501] not in feedback
    assert "TAIL" not in feedback


async def test_tool_use_failed_twice_raises(
    model: BaseChatModel, groq_server: FakeGroqServer, fake_sleep: RecordingSleep
) -> None:
    groq_server.script(
        tool_use_failed(MALFORMED_CALL), tool_use_failed(MALFORMED_CALL), completion("unused")
    )

    with pytest.raises(ModelCallError, match="malformed tool call twice") as caught:
        await invoke_with_recovery(
            model.bind_tools([search_mail]), conversation(), sleep=fake_sleep
        )

    assert caught.value.code == "tool_use_failed"
    assert len(groq_server.requests) == 2


@pytest.mark.parametrize("status", [401, 403])
async def test_rejected_key_fails_without_retry_or_leaking_it(
    groq_server: FakeGroqServer,
    fake_sleep: RecordingSleep,
    caplog: pytest.LogCaptureFixture,
    status: int,
) -> None:
    wrong_key = "gsk_wrongKeyThatMustNeverBeShown9876543210"
    caplog.set_level(logging.DEBUG)  # everything: ours, the groq SDK's, httpx's
    model = build_groq_chat_model(
        DEFAULT_GROQ_MODEL, api_key=wrong_key, base_url=groq_server.base_url, timeout=5
    )
    if status == 403:
        groq_server.api_key = wrong_key  # accept the key, then answer 403 as scripted
        groq_server.script(
            error(403, "Forbidden", type_="permission_error", code="forbidden"), completion("x")
        )

    with pytest.raises(ModelCallError) as caught:
        await invoke_with_recovery(model, conversation(), sleep=fake_sleep)

    err = caught.value
    assert str(err) == (
        f"the Groq API rejected the key ({status}); check GROQ_API_KEY or the credential "
        "groq.api_key"
    )
    assert err.status_code == status
    assert len(groq_server.requests) == 1
    assert fake_sleep.calls == []
    # No chained SDK error either: it references the request, whose headers hold the key.
    assert err.__cause__ is None and err.__context__ is None
    assert wrong_key not in repr(err)
    assert caplog.records, "expected the SDK's debug logging to be captured"
    assert wrong_key not in caplog.text
    assert all(wrong_key not in str(record.args) for record in caplog.records)


async def test_unscripted_wrong_key_gets_groqs_401_body(groq_server: FakeGroqServer) -> None:
    # Sanity check of the fake itself: a key mismatch answers like Groq does.
    model = build_groq_chat_model(
        DEFAULT_GROQ_MODEL, api_key="gsk_other", base_url=groq_server.base_url, timeout=5
    )
    groq_server.script(invalid_api_key())  # must not be consumed by the rejected request

    with pytest.raises(ModelCallError, match=r"\(401\)"):
        await invoke_with_recovery(model, conversation())

    assert groq_server.unused_responses == 1
    assert not groq_server.requests[0].authorized


async def test_server_error_is_retried_once(
    model: BaseChatModel, groq_server: FakeGroqServer, fake_sleep: RecordingSleep
) -> None:
    groq_server.script(server_error(500), completion("recovered"))

    result = await invoke_with_recovery(model, conversation(), sleep=fake_sleep)

    assert result.content == "recovered"
    assert fake_sleep.calls == [1.0]
    assert len(groq_server.requests) == 2


async def test_server_error_twice_raises_with_status_and_message(
    model: BaseChatModel, groq_server: FakeGroqServer, fake_sleep: RecordingSleep
) -> None:
    groq_server.script(server_error(503), server_error(503), completion("unused"))

    with pytest.raises(ModelCallError) as caught:
        await invoke_with_recovery(model, conversation(), sleep=fake_sleep)

    assert str(caught.value) == "Groq returned 503: Internal Server Error. Please try again later."
    assert len(groq_server.requests) == 2


async def test_other_client_errors_are_not_retried(
    model: BaseChatModel, groq_server: FakeGroqServer, fake_sleep: RecordingSleep
) -> None:
    groq_server.script(
        error(
            404,
            "The model `llama-9000` does not exist or you do not have access to it.",
            type_="invalid_request_error",
            code="model_not_found",
        ),
        completion("unused"),
    )

    with pytest.raises(ModelCallError) as caught:
        await invoke_with_recovery(model, conversation(), sleep=fake_sleep)

    assert str(caught.value) == (
        "Groq returned 404: The model `llama-9000` does not exist or you do not have access to it."
    )
    assert caught.value.code == "model_not_found"
    assert len(groq_server.requests) == 1
    assert fake_sleep.calls == []


async def test_connection_error_is_retried_once_then_raises(fake_sleep: RecordingSleep) -> None:
    # A port that was just free and is now closed: nothing listens there.
    server = FakeGroqServer(api_key="gsk_unused").start()
    dead_url = server.base_url
    server.stop()
    model = build_groq_chat_model(
        DEFAULT_GROQ_MODEL, api_key="gsk_unused", base_url=dead_url, timeout=5
    )

    with pytest.raises(ModelCallError, match="could not reach the Groq API"):
        await invoke_with_recovery(model, conversation(), sleep=fake_sleep)

    assert fake_sleep.calls == [1.0]
