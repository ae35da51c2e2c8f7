"""The conversation tools on mail written for the tests (German, French, Spanish, terse English)."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.context import Context
from graph.services import Services, build_services
from memory.ledger import SideEffectLedger
from tests.unit.answer_fixtures import MARA, OWN_MAIL, ask, context_for, copy_mailbox
from tools.toolkit import ToolFailure

JONAS_REPORT = "stoerung-1@fernhill.example"
JONAS_UPDATE = "stoerung-2@fernhill.example"
CAMILLE = "lumen-pdf-42@atelier-lumen.example"
LUCIA = "alba-contrato-2027@grupo-alba.example"
THEO = "theo-deck@fernhill.example"
NEWSLETTER = "lw-88@ledgerweekly.example"
FYI = "ines-office@fernhill.example"
POSING = "desk-1@fernhill-finance.example"


@pytest.fixture
async def services(tmp_path: Path) -> Services:
    context: Context = context_for(
        copy_mailbox(OWN_MAIL, tmp_path / "mbox"), tmp_path / "home", MARA
    )
    await ask(context, "what is new?")  # a chat turn fetches and triages the mailbox
    return build_services(context)


async def test_one_message_per_conversation_with_its_own_words(services: Services) -> None:
    result = await services.tools.invoke("list_conversations", {"limit": 30})
    ids = [m["id"] for m in result["messages"]]
    assert JONAS_UPDATE in ids and JONAS_REPORT not in ids, "the newest of the thread stands for it"
    update = next(m for m in result["messages"] if m["id"] == JONAS_UPDATE)
    assert update["thread_size"] == 2
    assert update["conversation"] == JONAS_REPORT
    # Beyond a 200-character preview, and without the quoted report under it.
    assert "Kannst du das Thema im Jour fixe am Donnerstag kurz" in update["text"]
    assert "> der Rechnungsexport" not in update["text"]
    assert result["completeness"] == "PREVIEW"
    assert "conversation of 2 message(s)" in result["content"]


async def test_a_whole_conversation_oldest_first_in_full(services: Services) -> None:
    result = await services.tools.invoke("get_conversation", {"email_id": JONAS_UPDATE})
    assert [m["id"] for m in result["messages"]] == [JONAS_REPORT, JONAS_UPDATE]
    assert result["completeness"] == "COMPLETE"
    assert "Betroffen sind bisher 312 Rechnungen" in result["messages"][0]["text"]
    with pytest.raises(ToolFailure, match="no message with id 'nope@x'"):
        await services.tools.invoke("get_conversation", {"email_id": "nope@x"})


async def test_who_waits_people_with_questions_not_lists_or_answered_ones(
    services: Services,
) -> None:
    result = await services.tools.invoke("list_awaiting_reply", {"limit": 30})
    ids = {m["id"] for m in result["messages"]}
    assert {JONAS_UPDATE, CAMILLE, LUCIA} <= ids
    assert THEO not in ids, "answered: Mara's reply is in Sent"
    assert NEWSLETTER not in ids, "a newsletter's questions wait on nobody"
    assert FYI not in ids, "nothing was asked"
    assert POSING not in ids


async def test_a_reply_sent_from_here_takes_the_conversation_off_the_list(
    services: Services,
) -> None:
    ledger = SideEffectLedger(services.db)
    args = {"email_id": LUCIA, "body": "Sí, es correcto."}
    assert ledger.begin("thread-1", "call-1", "reply_to_email", args) is None
    ledger.finish("thread-1", "call-1", "done", {"content": "Sent", "data": {"in_reply_to": LUCIA}})
    result = await services.tools.invoke("list_awaiting_reply", {"limit": 30})
    ids = {m["id"] for m in result["messages"]}
    assert LUCIA not in ids
    assert CAMILLE in ids
