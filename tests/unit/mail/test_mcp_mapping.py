"""An `mcp:` inbox fitted to other servers' styles, from result shapes written after their docs.

Three styles besides our own: an IMAP/SMTP server that wants an account on every call, ids as a
list and nests results (`{"emails": [...]}`, paged); a Gmail-style one (cursor paging, base64url
raw messages); a Microsoft Graph-style one (`value`, `emailAddress` objects, nested body).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest

from memory.db import AppDatabase
from tools.mail.limits import MAX_BODY_CHARS, TRUNCATED_MARKER
from tools.mail.mcp_source import parse_mcp_spec, sync_mcp_source
from tools.mail.source_protocol import MailSourceError, SyncResult
from tools.mcp.hub import McpHub
from tools.mcp.results import McpCallError, McpResult, McpToolInfo, ServerStatus

Handler = Callable[[dict[str, Any]], Any]


class FakeMailServer:
    """Stands in for the hub: one server's tools, their schemas, and every call made."""

    def __init__(self, name: str, tools: dict[str, tuple[dict[str, Any], Handler]]) -> None:
        self.name = name
        self.handlers = {tool: handler for tool, (_, handler) in tools.items()}
        self.infos = [
            McpToolInfo(name, tool, "", schema, {}, "f") for tool, (schema, _) in tools.items()
        ]
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def statuses(self) -> list[ServerStatus]:
        return [ServerStatus(self.name, "connected")]

    def tools(self) -> list[McpToolInfo]:
        return self.infos

    async def call(self, server: str, tool: str, args: dict[str, Any]) -> McpResult:
        self.calls.append((tool, args))
        if tool not in self.handlers:
            known = ", ".join(sorted(self.handlers))
            raise McpCallError(server, tool, "unknown_tool", f"no such tool (it has: {known})")
        answer = self.handlers[tool](args)
        if isinstance(answer, McpCallError):
            raise answer
        return McpResult(text=answer) if isinstance(answer, str) else McpResult("", answer)


def schema(required: list[str], **properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required}


def sync(tmp_path: Path, spec: str, server: FakeMailServer) -> SyncResult:
    db = AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")
    return asyncio.run(sync_mcp_source(db, spec, cast(McpHub, server)))


# ------------------------------------------------------------------ IMAP/SMTP, account per call

STRING = {"type": "string"}
ACCOUNT_SPEC = (
    "mcp:mail?search=list_emails_metadata&get=get_emails_content&id=email_ids&page=page"
    "&search.account_name=work&get.account_name=work"
)


def account_server(count: int, *, body: str = "Can we meet Tuesday?") -> FakeMailServer:
    """Messages 1..count by UID, newest first, 100 a page at most, read 50 ids at a time."""
    uids = list(range(count, 0, -1))

    def listing(args: dict[str, Any]) -> Any:
        assert args["account_name"] == "work"
        size = args.get("page_size", 10)  # the server's own default
        start = (args["page"] - 1) * size
        page = uids[start : start + size]
        return {"page": args["page"], "total": count, "emails": [
            {"email_id": str(uid), "subject": f"m{uid}", "sender": "a@x.example"} for uid in page
        ]}  # fmt: skip

    def content(args: dict[str, Any]) -> Any:
        assert args["account_name"] == "work" and len(args["email_ids"]) <= 50
        return {"emails": [
            {"email_id": uid, "message_id": f"<m{uid}@x.example>", "subject": f"m{uid}",
             "sender": "Sofia Marchetti <sofia@x.example>", "recipients": ["dana@x.example"],
             "date": "2026-11-16T09:00:00+01:00", "attachments": ["a.pdf"], "body": body}
            for uid in args["email_ids"]
        ], "failed_ids": []}  # fmt: skip

    return FakeMailServer("mail", {
        "list_emails_metadata": (schema(
            ["account_name"], account_name=STRING, page={"type": "integer", "default": 1},
            page_size={"type": "integer", "maximum": 100}, mailbox=STRING,
        ), listing),
        "get_emails_content": (schema(
            ["account_name", "email_ids"], account_name=STRING,
            email_ids={"type": "array", "items": STRING, "maxItems": 50},
        ), content),
    })  # fmt: skip


def test_an_account_server_is_paged_and_read_in_batches(tmp_path: Path) -> None:
    server = account_server(250)
    result = sync(tmp_path, ACCOUNT_SPEC + "&limit=230", server)
    assert len(result.new) == 230 and not result.errors
    lists = [args for tool, args in server.calls if tool == "list_emails_metadata"]
    assert [(a["page"], a["page_size"]) for a in lists] == [(1, 100), (2, 100), (3, 100)]
    reads = [args["email_ids"] for tool, args in server.calls if tool == "get_emails_content"]
    assert [len(ids) for ids in reads] == [20] * 11 + [10], "batch=20 by default"
    newest = result.new[0]
    assert (newest.id, newest.key, newest.from_addr, newest.to, newest.subject) == (
        "m250@x.example",
        "250",
        "sofia@x.example",
        ("dana@x.example",),
        "m250",
    )
    server.calls.clear()
    again = sync(tmp_path, ACCOUNT_SPEC + "&limit=230", server)
    assert again.new == [] and {tool for tool, _ in server.calls} == {"list_emails_metadata"}


def test_a_short_page_ends_the_listing_and_an_empty_mailbox_is_no_error(tmp_path: Path) -> None:
    server = account_server(130)
    assert len(sync(tmp_path, ACCOUNT_SPEC + "&batch=50", server).new) == 130
    assert [a["page"] for t, a in server.calls if t == "list_emails_metadata"] == [1, 2]
    empty = account_server(0)
    assert sync(tmp_path / "empty", ACCOUNT_SPEC, empty).new == []


def test_a_server_the_first_listing_connects_is_listed_again_by_its_schema(
    tmp_path: Path,
) -> None:
    server = account_server(150)
    infos, server.infos = server.infos, []
    handler = server.handlers["list_emails_metadata"]

    def connecting(args: dict[str, Any]) -> Any:
        server.infos = infos  # as the hub's tools once the call has connected the server
        return handler(args)

    server.handlers["list_emails_metadata"] = connecting
    assert len(sync(tmp_path, ACCOUNT_SPEC, server).new) == 150
    lists = [args for tool, args in server.calls if tool == "list_emails_metadata"]
    assert lists[0] == {"limit": 200, "page": 1, "account_name": "work"}, "blind, at first"
    assert [a.get("page_size") for a in lists[1:]] == [100, 100]


@pytest.mark.parametrize(
    ("spec", "line"),
    [
        (
            "mcp:mail?search=list_emails_metadata&get=get_emails_content&id=email_ids",
            "MCP server 'mail', tool 'list_emails_metadata': it needs argument(s) account_name, "
            "which the spec does not give (search.account_name=VALUE)",
        ),
        (
            ACCOUNT_SPEC + "&search.acount=work",
            "tool 'list_emails_metadata': it takes no argument 'acount' (it takes: account_name, "
            "page, page_size, mailbox)",
        ),
        (
            ACCOUNT_SPEC.replace("get=get_emails_content", "get=get_email"),
            "MCP server 'mail', tool 'get_email': no such tool (it has: get_emails_content, "
            "list_emails_metadata)",
        ),
        (
            ACCOUNT_SPEC + "&list=messages",
            "tool 'list_emails_metadata': the listing: 'messages' matches nothing in the result",
        ),
        (
            ACCOUNT_SPEC + "&list=emails.0.subject",
            "the listing: 'emails.0.subject' is a string, not a list of messages",
        ),
        (
            ACCOUNT_SPEC + "&field.id=uid",
            "the listing: none of the 3 listed message(s) has an id (looked for uid; the first "
            "has: email_id, subject, sender); name it with field.id=PATH",
        ),
        (
            ACCOUNT_SPEC + "&message=emails.0.body.text",
            "tool 'get_emails_content': the messages read: the result.emails.0.body is a string",
        ),
    ],
)
def test_a_spec_that_does_not_fit_is_one_line_naming_server_and_tool(
    tmp_path: Path, spec: str, line: str
) -> None:
    with pytest.raises(MailSourceError) as caught:
        sync(tmp_path, spec, account_server(3))
    message = str(caught.value)
    assert message.startswith(f"inbox {spec}: ") and "\n" not in message
    assert line.replace("the result.emails.0.body", "emails.0.body") in message


def test_fixed_arguments_take_the_type_the_schema_asks_for(tmp_path: Path) -> None:
    server = account_server(3)
    server.infos[0].input_schema["properties"]["seen"] = {"anyOf": [{"type": "boolean"}, {}]}
    server.infos[0].input_schema["properties"]["tags"] = {"type": "array"}
    sync(tmp_path, ACCOUNT_SPEC + "&search.seen=false&search.tags=a,b&search.page_size=7", server)
    first = server.calls[0][1]
    assert (first["seen"], first["tags"]) == (False, ["a", "b"])
    with pytest.raises(MailSourceError, match="argument 'seen' must be true or false"):
        sync(tmp_path, ACCOUNT_SPEC + "&search.seen=maybe", server)
    server.infos[0].input_schema["additionalProperties"] = True
    sync(tmp_path, ACCOUNT_SPEC + "&search.folder=Work", server)
    last = [args for tool, args in server.calls if tool == "list_emails_metadata"][-1]
    assert last["folder"] == "Work", "a schema open to more arguments takes it as text"


# ------------------------------------------------------------------ adversaries


def test_a_listing_of_100000_items_is_read_within_the_limit(tmp_path: Path) -> None:
    flood = [{"id": n} for n in range(100_000)]
    server = FakeMailServer("mail", {
        "search_emails": (schema([], limit={"type": "integer"}), lambda args: {"messages": flood}),
        "get_email": (schema(["email_id"], email_id=STRING), lambda a: {"body": a["email_id"]}),
    })  # fmt: skip
    result = sync(tmp_path, "mcp:mail?limit=50", server)
    assert [e.key for e in result.new] == [str(n) for n in range(50)], "ids that are numbers"
    assert len(server.calls) == 51


def test_ids_that_are_not_ids_and_a_huge_body(tmp_path: Path) -> None:
    huge = "x" * (MAX_BODY_CHARS + 10)
    listing = {"messages": [{"id": True}, {"id": {"n": 1}}, {"id": None}, {"id": "<ok@x>"}]}
    server = FakeMailServer("mail", {
        "search_emails": (schema([]), lambda args: listing),
        "get_email": (schema(["email_id"], email_id=STRING), lambda a: {"body": huge}),
    })  # fmt: skip
    (email,) = sync(tmp_path, "mcp:mail", server).new
    assert email.id == "ok@x"
    assert len(email.body) < MAX_BODY_CHARS + 100 and email.body.endswith(TRUNCATED_MARKER)
    bad = {"messages": [{"id": False}, {"id": [1]}]}
    server.handlers["search_emails"] = lambda args: bad
    with pytest.raises(MailSourceError, match="none of the 2 listed message"):
        sync(tmp_path / "bad", "mcp:mail", server)


def test_a_server_that_hangs_or_fails_every_read_is_an_error(tmp_path: Path) -> None:
    hang = McpCallError("mail", "search_emails", "timeout", "timed out after 2 s")
    server = FakeMailServer("mail", {
        "search_emails": (schema([]), lambda args: hang),
        "get_email": (schema([]), lambda a: {}),
    })  # fmt: skip
    with pytest.raises(MailSourceError, match="tool 'search_emails': timed out after 2 s"):
        sync(tmp_path, "mcp:mail", server)
    refused = McpCallError("mail", "get_email", "tool_error", "the server reported an error: no")
    server.handlers["search_emails"] = lambda args: [{"id": "a@x"}, {"id": "b@x"}]
    server.handlers["get_email"] = lambda args: refused
    with pytest.raises(MailSourceError, match="no message could be read: .*reported an error"):
        sync(tmp_path, "mcp:mail", server)
    # One message the server cannot give is that message's error; the rest are read.
    server.handlers["get_email"] = lambda a: refused if a["email_id"] == "a@x" else {"body": "hi"}
    result = sync(tmp_path, "mcp:mail", server)
    assert {e.key: bool(e.error) for e in result.new} == {"a@x": True, "b@x": False}


def test_text_that_is_no_listing_is_an_error_not_an_empty_inbox(tmp_path: Path) -> None:
    server = FakeMailServer("mail", {
        "search_emails": (schema([]), lambda args: "No emails found."),
        "get_email": (schema([]), lambda a: {}),
    })  # fmt: skip
    with pytest.raises(MailSourceError, match="the listing: the result is not JSON"):
        sync(tmp_path, "mcp:mail", server)


# ------------------------------------------------------------------ Gmail and Graph styles


def test_a_gmail_style_server_with_cursor_paging_and_base64url_raw(tmp_path: Path) -> None:
    pages = {None: (["18c1", "18c2"], "tok2"), "tok2": (["18c3"], None)}

    def listing(args: dict[str, Any]) -> Any:
        ids, token = pages[args.get("pageToken")]
        return {"messages": [{"id": i, "threadId": "t1"} for i in ids], "nextPageToken": token}

    def message(args: dict[str, Any]) -> Any:
        raw = (
            f"From: Bob <bob@y.example>\r\nSubject: about {args['messageId']}\r\n"
            f"Message-ID: <{args['messageId']}@y.example>\r\n\r\nhello é\r\n"
        )
        encoded = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
        return {"id": args["messageId"], "threadId": "t1", "raw": encoded}

    server = FakeMailServer("gmail", {
        "search_emails": (schema(
            ["query"], query=STRING, maxResults={"type": "integer", "maximum": 500},
            pageToken=STRING,
        ), listing),
        "get_message": (schema(["messageId"], messageId=STRING, format=STRING), message),
    })  # fmt: skip
    spec = (
        "mcp:gmail?get=get_message&id=messageId&cursor=pageToken&next=nextPageToken"
        "&search.query=in:inbox&get.format=raw"
    )
    result = sync(tmp_path, spec, server)
    assert [(e.id, e.key, e.from_addr) for e in result.new] == [
        ("18c1@y.example", "18c1", "bob@y.example"),
        ("18c2@y.example", "18c2", "bob@y.example"),
        ("18c3@y.example", "18c3", "bob@y.example"),
    ]
    assert "hello é" in result.new[0].body
    assert server.calls[0] == ("search_emails", {"maxResults": 200, "query": "in:inbox"})
    assert server.calls[1][1]["pageToken"] == "tok2"


def test_a_graph_style_server_with_nested_fields(tmp_path: Path) -> None:
    message = {
        "id": "AAMkAD1",
        "internetMessageId": "<graph.1@contoso.example>",
        "subject": "Budget",
        "from": {"emailAddress": {"name": "Lee, Ana", "address": "Ana@Contoso.example"}},
        "toRecipients": [{"emailAddress": {"name": "Dana", "address": "dana@x.example"}}],
        "receivedDateTime": "2026-11-20T10:00:00Z",
        "body": {"contentType": "text", "content": "Numbers attached."},
    }
    server = FakeMailServer("outlook", {
        "list_messages": (schema([], top={"type": "integer", "maximum": 50}),
                          lambda args: {"value": [{"id": "AAMkAD1"}]}),
        "get_message": (schema(["message_id"], message_id=STRING),
                        lambda args: {"message": message}),
    })  # fmt: skip
    spec = (
        "mcp:outlook?search=list_messages&get=get_message&id=message_id&message=message"
        "&field.body=body.content"
    )
    (email,) = sync(tmp_path, spec, server).new
    assert (email.id, email.from_name, email.from_addr, email.to, email.body, email.date) == (
        "graph.1@contoso.example",
        "Lee, Ana",
        "ana@contoso.example",
        ("dana@x.example",),
        "Numbers attached.",
        "2026-11-20T10:00:00Z",
    )
    assert server.calls[0] == ("list_messages", {"top": 50})


def test_spec_options_are_checked_before_anything_runs() -> None:
    mail = parse_mcp_spec(ACCOUNT_SPEC + "&batch=5&field.from=sender")
    assert mail.mapping.search_args == {"account_name": "work"}
    assert (mail.mapping.batch, mail.mapping.fields) == (5, {"from": "sender"})
    assert parse_mcp_spec("mcp:x?limit=999999").limit == 10_000
    for bad in ("mcp:x?field.colour=c", "mcp:x?cursor=token", "mcp:x?page=p&cursor=c&next=n"):
        with pytest.raises(MailSourceError):
            parse_mcp_spec(bad)
