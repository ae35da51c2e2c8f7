"""MCP tools in the catalogue: names, approval defaults from annotations, changed definitions,
and mail read from an MCP server's results."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from memory.db import AppDatabase
from memory.mcp_tools import McpToolFingerprints
from tools.mail.mailbox import MailboxEnv
from tools.mail.mcp_source import email_from_result, listed_ids, parse_mcp_spec
from tools.mail.source_protocol import MailSourceError
from tools.registry import ToolRegistry


@dataclass(frozen=True)
class Info:
    server: str
    name: str
    description: str = "does a thing"
    input_schema: dict[str, Any] = field(
        default_factory=lambda: {"type": "object", "properties": {"text": {"type": "string"}}}
    )
    annotations: dict[str, Any] = field(default_factory=dict)
    fingerprint: str = "f1"


@dataclass(frozen=True)
class Result:
    text: str
    structured: Any = None
    is_error: bool = False


class Hub:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    async def call(self, server: str, tool: str, args: dict[str, Any]) -> Result:
        self.calls.append((server, tool, args))
        return Result(text=f"{tool} ran", structured={"ok": True})


def catalogue(hub: Hub, infos: list[Info], **kwargs: Any) -> ToolRegistry:
    base = ToolRegistry.for_mailbox(MailboxEnv(db=None, source="maildir:/x"))  # type: ignore[arg-type]
    options = {"auto_approve": {}, "changed": {}, **kwargs}
    return base.with_mcp(hub, infos, **options)  # type: ignore[arg-type]


def test_levels_come_from_annotations_and_auto_approve() -> None:
    tools = catalogue(
        Hub(),
        [
            Info("files", "read_file", annotations={"readOnlyHint": True}),
            Info("files", "delete_file", annotations={"destructiveHint": True}),
            Info("files", "touch"),
            Info("files", "append_log"),
        ],
        auto_approve={"files": frozenset({"append_log"})},
    )
    assert [(n, tools.default_level(n), tools.is_read_only(n)) for n in list(tools.mcp)] == [
        ("read_file", 0, True),
        ("delete_file", 1, False),
        ("touch", 1, False),
        ("append_log", 2, False),
    ]
    assert tools.server_of("read_file") == "files"
    assert tools.server_of("get_email") is None


def test_clashing_names_get_their_server_prefix() -> None:
    tools = catalogue(Hub(), [Info("a", "echo"), Info("b", "echo"), Info("gmail", "get_email")])
    assert {name: (e.server, e.tool) for name, e in tools.mcp.items()} == {
        "a__echo": ("a", "echo"),
        "b__echo": ("b", "echo"),
        "gmail__get_email": ("gmail", "get_email"),
    }
    assert tools.names().count("get_email") == 1, "the native tool keeps its name"


async def test_a_call_goes_to_the_right_server_and_keeps_structured_content() -> None:
    hub = Hub()
    tools = catalogue(hub, [Info("a", "echo"), Info("b", "echo")])
    result = await tools.invoke("b__echo", {"text": "hi"})
    assert hub.calls == [("b", "echo", {"text": "hi"})]
    assert result["content"] == 'echo ran\n{"ok": true}'


def test_a_changed_definition_suspends_auto_approval(tmp_path: Path) -> None:
    fingerprints = McpToolFingerprints(AppDatabase(f"sqlite:///{tmp_path / 'app.db'}"))
    assert fingerprints.observe("files", {"append_log": "f1", "read_file": "r1"}) == set()
    assert fingerprints.observe("files", {"append_log": "f2", "read_file": "r1"}) == {"append_log"}
    assert fingerprints.observe("files", {"append_log": "f2", "read_file": "r1"}) == {"append_log"}
    tools = catalogue(
        Hub(),
        [Info("files", "append_log", fingerprint="f2")],
        auto_approve={"files": frozenset({"append_log"})},
        changed={"files": {"append_log"}},
    )
    assert "smart-inbox mcp trust files" in tools.suspended("append_log")
    assert fingerprints.trust("files") == ["append_log"]
    assert fingerprints.observe("files", {"append_log": "f2", "read_file": "r1"}) == set()


def test_mcp_inbox_spec() -> None:
    mail = parse_mcp_spec("mcp:gmail?search=search_messages&get=get_message&id=message_id")
    assert (mail.server, mail.search_tool, mail.get_tool, mail.id_arg) == (
        "gmail",
        "search_messages",
        "get_message",
        "message_id",
    )
    assert parse_mcp_spec("mcp:smart-inbox").get_tool == "get_email"
    for bad in ("mcp:", "mcp:x?colour=red", "mcp:x?limit=lots"):
        with pytest.raises(MailSourceError):
            parse_mcp_spec(bad)


def test_listing_and_message_results_become_emails() -> None:
    listing = Result(text="", structured={"messages": [{"id": "<a@x>"}, {"email_id": "b@x"}, {}]})
    assert listed_ids(listing) == ["a@x", "b@x"]
    assert listed_ids(Result(text='[{"id": "c@x"}]')) == ["c@x"]
    with pytest.raises(MailSourceError):
        listed_ids(Result(text="no json here"))
    email = email_from_result(
        Result(
            text="",
            structured={
                "id": "a@x",
                "from": "Sofia Marchetti <Sofia@Northwind.example>",
                "to": ["dana@northwind.example"],
                "subject": "Q1",
                "date": "2026-11-16T09:00:00+01:00",
                "body": "Tuesday?",
                "attachments": [
                    {"filename": "a.pdf", "content_type": "application/pdf", "size": 3}
                ],
            },
        ),
        message_id="a@x",
        spec="mcp:mail",
    )
    assert (email.id, email.from_name, email.from_addr, email.to, email.body) == (
        "a@x",
        "Sofia Marchetti",
        "sofia@northwind.example",
        ("dana@northwind.example",),
        "Tuesday?",
    )
    assert email.attachments[0].filename == "a.pdf"
    raw = "From: a@b.example\r\nSubject: raw\r\nMessage-ID: <r@b>\r\n\r\nhello\r\n"
    parsed = email_from_result(Result(text="", structured={"raw": raw}), message_id="r@b", spec="s")
    assert (parsed.id, parsed.subject) == ("r@b", "raw")


def test_a_providers_thread_id_and_reply_headers_are_kept() -> None:
    gmail = email_from_result(
        Result(
            text="",
            structured={
                "id": "b@x",
                "threadId": "18c2f",
                "in_reply_to": "<a@x>",
                "references": "<root@x> <a@x>",
            },
        ),
        message_id="b@x",
        spec="mcp:gmail",
    )
    assert (gmail.thread_id, gmail.in_reply_to, gmail.references) == (
        "18c2f",
        "a@x",
        ("root@x", "a@x"),
    )
    raw = "From: a@b.example\r\nMessage-ID: <r@b>\r\n\r\nhello\r\n"
    outlook = email_from_result(
        Result(text="", structured={"raw": raw, "conversationId": "AAQk="}),
        message_id="r@b",
        spec="mcp:outlook",
    )
    assert outlook.thread_id == "AAQk="
    plain = email_from_result(Result(text="", structured={"id": "c@x"}), message_id="c@x", spec="s")
    assert plain.thread_id == ""
