"""Typed doors into the few Chainlit calls the chat makes: Chainlit's own are untyped.

Each wrapper is one call with one precise `type: ignore`, so the chat's code stays checked.
"""

from __future__ import annotations

from typing import Any

import chainlit as cl
from chainlit.data import get_data_layer
from chainlit.data.base import BaseDataLayer


async def send(message: cl.Message, *, keep: bool = True) -> cl.Message:
    """Show `message` in the chat and, unless `keep` is false, keep it with the thread.

    A message not kept is shown to this browser only: it is not in the chat's history
    when the chat is opened again.
    """
    if not keep:
        message.persisted = True  # Chainlit writes a message once; this says "already written"
    await message.send()  # type: ignore[no-untyped-call]
    return message


async def say(text: str, *, elements: list[Any] | None = None) -> cl.Message:
    """Show a new message with `text` (and elements such as lists and buttons)."""
    return await send(cl.Message(content=text, elements=elements or []))


def recalled(key: str) -> Any:
    """What this chat's session holds under `key` (None when nothing)."""
    return cl.user_session.get(key)  # type: ignore[no-untyped-call]


def remember(key: str, value: Any) -> None:
    """Keep `value` under `key` in this chat's session."""
    cl.user_session.set(key, value)  # type: ignore[no-untyped-call]


async def remove_button(action: cl.Action) -> None:
    """Take one button off its message."""
    await action.remove()  # type: ignore[no-untyped-call]


def data_layer() -> BaseDataLayer | None:
    """Where the chats are kept (their messages and elements); None when nothing is kept."""
    layer: BaseDataLayer | None = get_data_layer()  # type: ignore[no-untyped-call]
    return layer
