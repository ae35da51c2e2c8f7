"""A whole chat turn on the Groq engine, against a local server that speaks the Groq API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from graph.builder import build_graph
from graph.context import Context
from graph.engines import load_engine
from tests.fakes.groq_server import (
    FakeGroqServer,
    completion,
    rate_limited,
    tool_use_failed,
)
from tests.integration.conftest import FAKE_GROQ_API_KEY

pytestmark = pytest.mark.integration

INVOICE = """From: Billing <billing@vendor.example>
To: dana@northwind.example
Subject: Invoice INV-2026-0412 is overdue
Date: Thu, 19 Nov 2026 10:00:00 +0100
Message-ID: <inv-1@vendor.example>

Your invoice INV-2026-0412 for $4,250.00 is 30 days overdue. Please pay by Friday.
"""
NEWSLETTER = """From: Weekly Digest <news@digest.example>
To: dana@northwind.example
Subject: This week in databases
Date: Wed, 18 Nov 2026 07:00:00 +0000
Message-ID: <digest-77@digest.example>
List-Unsubscribe: <mailto:unsubscribe@digest.example>
Precedence: bulk

Ten articles about indexes.
"""


@pytest.fixture
def mailbox(tmp_path: Path) -> Path:
    root = tmp_path / "mbox"
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    (root / "new" / "1.test").write_text(INVOICE)
    (root / "new" / "2.test").write_text(NEWSLETTER)
    return root


@pytest.fixture
def groq_env(groq_server: FakeGroqServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("GROQ_API_KEY", FAKE_GROQ_API_KEY)
    monkeypatch.setenv("GROQ_BASE_URL", groq_server.base_url)
    load_engine.cache_clear()
    yield
    load_engine.cache_clear()


async def _pre_triage(mailbox: Path, home: Path) -> None:
    """Triage with the rules first, so the Groq turn below classifies nothing."""
    graph = build_graph(checkpointer=InMemorySaver())
    await graph.ainvoke(
        {"mode": "triage", "messages": []},
        {"configurable": {"thread_id": "pre"}},
        context=Context(model="rules", inbox=f"maildir:{mailbox}", home=str(home)),
    )


async def test_groq_turn_with_tool_call_rate_limit_and_tool_use_failed(
    mailbox: Path, tmp_path: Path, groq_server: FakeGroqServer, groq_env: None
) -> None:
    home = tmp_path / "home"
    await _pre_triage(mailbox, home)
    grounded = (
        'The invoice "Invoice INV-2026-0412 is overdue" asks for $4,250.00 '
        "[msg:inv-1@vendor.example]."
    )
    groq_server.script(
        rate_limited(retry_after=1),
        completion(tool_calls=[("search_emails", {"query": "invoice"})]),
        tool_use_failed('<function=search_emails{"query": }'),
        completion("I have what I need."),
        completion(grounded),
    )
    graph = build_graph(checkpointer=InMemorySaver())
    result = await graph.ainvoke(
        {"messages": [HumanMessage("any overdue invoices?")], "mode": "chat"},
        {"configurable": {"thread_id": "t"}},
        context=Context(
            model="groq:llama-3.3-70b-versatile", inbox=f"maildir:{mailbox}", home=str(home)
        ),
    )
    assert result["messages"][-1].content == grounded
    assert result["citations"] == ["inv-1@vendor.example"]
    assert [e["action"] for e in result["executed"]] == ["search_emails"]
    assert groq_server.unused_responses == 0
    requests = groq_server.requests
    assert len(requests) == 5
    assert all(r.authorized for r in requests)
    tool_names = [t["function"]["name"] for t in requests[0].body["tools"]]
    assert {"search_emails", "get_email", "list_inbox", "save_draft"} <= set(tool_names)
    feedback = requests[3].messages[-1]["content"]
    assert "tool_use_failed" in feedback or "malformed" in feedback
    # The search result reached the model inside evidence markers, as data.
    answer_system = requests[4].messages[0]["content"]
    assert "<<<EVIDENCE" in answer_system
    assert "INV-2026-0412" in answer_system


async def test_groq_answer_that_invents_is_replaced(
    mailbox: Path, tmp_path: Path, groq_server: FakeGroqServer, groq_env: None
) -> None:
    home = tmp_path / "home"
    await _pre_triage(mailbox, home)
    invented = (
        'Mallory Fox <mallory@evil.example> sent "Q4 board pack" asking for $98,765.43 '
        "[msg:inv-1@vendor.example]."
    )
    groq_server.script(
        completion(tool_calls=[("list_inbox", {"category": "billing"})]),
        completion("done"),
        completion(invented),
        completion(invented),
    )
    graph = build_graph(checkpointer=InMemorySaver())
    result = await graph.ainvoke(
        {"messages": [HumanMessage("any invoices?")], "mode": "chat"},
        {"configurable": {"thread_id": "t"}},
        context=Context(
            model="groq:llama-3.3-70b-versatile", inbox=f"maildir:{mailbox}", home=str(home)
        ),
    )
    final = result["messages"][-1].content
    for fabricated in ("Mallory", "mallory@evil.example", "Q4 board pack", "98,765.43"):
        assert fabricated not in final
    assert "Invoice INV-2026-0412 is overdue" in final
    assert result["answer_note"]
    # The retry told the model what was wrong.
    retry_system = groq_server.requests[3].messages[0]["content"]
    assert "98,765.43" in retry_system or "98765.43" in retry_system


async def test_groq_unavailable_gives_an_honest_offline_answer(
    mailbox: Path, tmp_path: Path, groq_server: FakeGroqServer, groq_env: None
) -> None:
    home = tmp_path / "home"
    await _pre_triage(mailbox, home)
    # Four 429s exhaust the retries; after that the fake answers 500 to everything.
    groq_server.script(*(rate_limited(retry_after=0) for _ in range(4)))
    graph = build_graph(checkpointer=InMemorySaver())
    result = await graph.ainvoke(
        {"messages": [HumanMessage("any invoices?")], "mode": "chat"},
        {"configurable": {"thread_id": "t"}},
        context=Context(
            model="groq:llama-3.3-70b-versatile", inbox=f"maildir:{mailbox}", home=str(home)
        ),
    )
    final = result["messages"][-1].content
    # The offline engine still looked the invoices up and listed them, with citations.
    assert [e["action"] for e in result["executed"]] == ["list_inbox"]
    assert "inv-1@vendor.example" in result["citations"]
    assert "could not answer" in final or "built from the retrieved messages alone" in final
