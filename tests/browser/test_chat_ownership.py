"""A chat stays its owner's: another user who connects with its id, deleted or not, is refused
on connect, on every message and on every button, and a deleted chat's graph state is gone.

The other user speaks Chainlit's own protocol (Socket.IO and the action endpoint) with their
own login, as a modified browser would, choosing the chat id themselves.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
import socketio
from playwright.sync_api import Browser, Page, expect

from tests.browser.chat_driver import ChatPage
from tests.browser.conftest import USERS, ChatServer
from tests.integration.cli_runner import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.timeout(300)]

REPLY = "reply to the meeting request from Sofia and say Thursday works"


def _in_own_loop(work: Callable[[], Any]) -> Any:
    """Run a coroutine function in a thread with its own event loop (Playwright holds this one)."""
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = asyncio.run(work())
        except BaseException as err:  # noqa: BLE001 — re-raised in the test's thread
            result["error"] = err

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(120)
    if "error" in result:
        raise result["error"]
    return result.get("value")


def _token(browser: Browser, server: ChatServer, user: str) -> str:
    context = browser.new_context()
    try:
        response = context.request.post(
            f"{server.base_url}/login", form={"username": user, "password": USERS[user]}
        )
        assert response.ok, response.text()
        [cookie] = [c for c in context.cookies() if c["name"] == "access_token"]
        return cookie["value"]
    finally:
        context.close()


def _as_other_user(server: ChatServer, token: str, chat_id: str) -> dict[str, Any]:
    """Connect to `chat_id` as another user, say something, press Approve; what came back."""

    async def work() -> dict[str, Any]:
        client = socketio.AsyncClient()
        said: list[str] = []
        client.on("new_message", lambda data: said.append(str(data.get("output", ""))))
        session = str(uuid.uuid4())
        outcome: dict[str, Any] = {"said": said, "connected": False}
        try:
            await client.connect(
                server.base_url,
                socketio_path="/ws/socket.io",
                transports=["websocket"],
                headers={"Cookie": f"access_token={token}"},
                auth={"clientType": "webapp", "sessionId": session, "threadId": chat_id},
                wait_timeout=20,
            )
        except socketio.exceptions.ConnectionError as err:
            outcome["refused"] = str(err)
            return outcome
        outcome["connected"] = True
        await client.emit("connection_successful")
        await asyncio.sleep(2)
        message = {
            "threadId": chat_id,
            "id": str(uuid.uuid4()),
            "name": "bob",
            "type": "user_message",
            "output": "approve it",
            "createdAt": datetime.now(UTC).isoformat(),
        }
        await client.emit("client_message", {"message": message, "fileReferences": None})
        await asyncio.sleep(2)
        # The Approve button of the card, pressed in this session.
        action = {"name": "approve", "payload": {"call_id": "any"}, "id": "x", "forId": ""}
        async with aiohttp.ClientSession(headers={"Cookie": f"access_token={token}"}) as http:
            async with http.post(
                f"{server.base_url}/project/action",
                json={"sessionId": session, "action": action},
            ) as response:
                outcome["approve_status"] = response.status
        await asyncio.sleep(1)
        await client.disconnect()
        return outcome

    return dict(_in_own_loop(work))


def test_a_deleted_chat_cannot_be_taken_over(
    chat_server: ChatServer, page: Page, browser: Browser
) -> None:
    alice = ChatPage(page)
    alice.open(chat_server.base_url, "alice", USERS["alice"])
    alice.ask(REPLY)
    expect(page.get_by_text("Send a reply").first).to_be_visible()
    page.wait_for_url(re.compile(r"/thread/"), timeout=30_000)
    chat_id = page.url.rsplit("/thread/", 1)[1]

    # Alice deletes the chat that holds her pending reply.
    deleted = page.context.request.delete(
        f"{chat_server.base_url}/project/thread", data={"threadId": chat_id}
    )
    assert deleted.ok, deleted.text()

    bob = _token(browser, chat_server, "bob")
    outcome = _as_other_user(chat_server, bob, chat_id)
    said = " ".join(outcome["said"])
    assert outcome["connected"], "Chainlit itself no longer knows the chat: the product refuses"
    assert "This chat cannot be used: this chat was deleted" in said
    assert "Send a reply" not in said and "Sofia" not in said, "the card is never shown"
    assert outcome["approve_status"] == 200
    assert said.count("This chat cannot be used") == 3, outcome["said"]
    page.wait_for_timeout(1000)
    assert chat_server.smtp is not None and chat_server.smtp.messages == []

    # The graph's state of the deleted chat is gone, not only Chainlit's rows.
    history = _history(chat_server, f"ui-{chat_id}")
    assert history.returncode == 2 and "no thread" in history.stderr


def test_another_users_live_chat_refuses_them(
    chat_server: ChatServer, page: Page, browser: Browser
) -> None:
    alice = ChatPage(page)
    alice.open(chat_server.base_url, "alice", USERS["alice"])
    alice.ask(REPLY)
    page.wait_for_url(re.compile(r"/thread/"), timeout=30_000)
    chat_id = page.url.rsplit("/thread/", 1)[1]
    outcome = _as_other_user(chat_server, _token(browser, chat_server, "bob"), chat_id)
    if outcome["connected"]:
        assert "belongs to another user" in " ".join(outcome["said"])
    else:
        assert "authorization failed" in outcome["refused"] or outcome["refused"]
    assert chat_server.smtp is not None and chat_server.smtp.messages == []
    # Alice's card is still hers to decide.
    alice.click(alice.button("Approve"))
    [received] = chat_server.smtp.wait_for(1, timeout=60)
    assert received.rcpt_tos == ["sofia.marchetti@northwind.example"]


def test_other_origins_get_no_access_with_the_login_cookie(
    chat_server: ChatServer, browser: Browser
) -> None:
    token = _token(browser, chat_server, "alice")
    context = browser.new_context()
    try:
        for origin in ("http://evil.example", f"http://127.0.0.1:{chat_server.port + 1}"):
            response = context.request.get(
                f"{chat_server.base_url}/project/settings?language=en-US",
                headers={"Origin": origin, "Cookie": f"access_token={token}"},
            )
            assert "access-control-allow-origin" not in response.headers, origin
            preflight = context.request.fetch(
                f"{chat_server.base_url}/project/thread",
                method="OPTIONS",
                headers={"Origin": origin, "Access-Control-Request-Method": "DELETE"},
            )
            assert "access-control-allow-origin" not in preflight.headers, origin
    finally:
        context.close()


def _history(server: ChatServer, thread: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ui.cli", "history", "--thread", thread],
        cwd=ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
