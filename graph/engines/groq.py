"""Build the Groq-hosted chat model the product uses when a Groq key is set or stored.

Retries are deliberately switched off in the SDK: `invoke_with_recovery` does them,
because Groq's failures (malformed tool calls, long rate-limit waits) each need a
different answer than the SDK's blanket back-off.
"""

from __future__ import annotations

import logging

from langchain_core.language_models import BaseChatModel
from langchain_groq import ChatGroq
from pydantic import SecretStr

logger = logging.getLogger(__name__)

DEFAULT_GROQ_MODEL = "llama-3.3-70b-versatile"


def build_groq_chat_model(
    model: str,
    *,
    api_key: str,
    base_url: str | None = None,
    timeout: float = 60.0,
    temperature: float = 0.0,
) -> BaseChatModel:
    """Return a `ChatGroq` for `model` with the SDK's own retries off.

    `base_url` points the client somewhere other than the public API (the caller
    reads it from `GROQ_BASE_URL`; tests use it for a local fake). Note that when it
    is None the groq SDK itself still honours `GROQ_BASE_URL` from the environment.
    A `temperature` of 0 is sent as 1e-8, which is how langchain-groq encodes it.
    The key is held as a secret and never logged.
    """
    if not model.strip():
        raise ValueError("a Groq model name is required (e.g. 'llama-3.3-70b-versatile')")
    if not api_key.strip():
        raise ValueError("the Groq API key is empty; set GROQ_API_KEY or store groq.api_key")
    if timeout <= 0:
        raise ValueError(f"timeout must be positive, got {timeout}")

    chat_model = ChatGroq(
        model=model,
        api_key=SecretStr(api_key),
        base_url=base_url,
        timeout=timeout,
        temperature=temperature,
        max_retries=0,
    )
    logger.debug(
        "Built Groq chat model %s (base_url=%s, timeout=%ss)",
        model,
        base_url or "default",
        timeout,
    )
    return chat_model
