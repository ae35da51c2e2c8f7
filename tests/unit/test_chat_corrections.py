"""Teaching triage in the chat: the words become a card; approved, a rule kept with the mailbox."""

from __future__ import annotations

from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from graph.builder import build_graph
from graph.context import Context
from graph.services import build_services
from memory.triage_preferences import TriagePreferences
from tests.unit.conftest import NEWSLETTER_ID


async def _ask(context: Context, text: str, thread: str) -> tuple[object, RunnableConfig]:
    graph = build_graph(checkpointer=InMemorySaver())
    config: RunnableConfig = {"configurable": {"thread_id": thread}}
    await graph.ainvoke({"mode": "triage"}, config=config, context=context)
    await graph.ainvoke({"messages": [HumanMessage(text)]}, config=config, context=context)
    return graph, config


async def test_newsletters_from_a_sender_become_a_rule_once_approved(context: Context) -> None:
    graph, config = await _ask(context, "mail from news.example is not important", "t1")
    snapshot = await graph.aget_state(config)  # type: ignore[attr-defined]
    [pending] = snapshot.interrupts
    [request] = pending.value
    assert request["action_request"]["action"] == "correct_triage"
    args = request["action_request"]["args"]
    assert args["email_id"] == NEWSLETTER_ID
    assert (args["decision"], args["priority"], args["scope"]) == ("ignore", "low", "domain")
    assert "Remember a triage rule" in request["description"]
    services = build_services(context)
    assert TriagePreferences(services.db).all() == [], "nothing is kept before approval"

    result = await graph.ainvoke(  # type: ignore[attr-defined]
        Command(resume={"type": "accept"}), config=config, context=context
    )
    [rule] = TriagePreferences(services.db).all()
    assert (rule.scope, rule.key, rule.decision, rule.origin) == (
        "domain",
        "news.example",
        "ignore",
        "chat",
    )
    assert services.db.triage_for([NEWSLETTER_ID])[NEWSLETTER_ID].engine == "you"
    # The sender named is found by a search first, then the card names the message.
    assert [(e["action"], e["status"]) for e in result["executed"]] == [
        ("search_emails", "ok"),
        ("correct_triage", "ok"),
    ]
    assert "Remembered" in result["messages"][-1].text


async def test_a_declined_correction_keeps_nothing(context: Context) -> None:
    graph, config = await _ask(context, "mail from news.example is not important", "t2")
    await graph.ainvoke(  # type: ignore[attr-defined]
        Command(resume={"type": "ignore"}), config=config, context=context
    )
    assert TriagePreferences(build_services(context).db).all() == []


async def test_words_that_are_not_a_correction_are_not_taken_as_one(context: Context) -> None:
    graph, config = await _ask(context, "this is urgent, what is the outage about?", "t3")
    snapshot = await graph.aget_state(config)  # type: ignore[attr-defined]
    assert not snapshot.interrupts
    assert TriagePreferences(build_services(context).db).all() == []
