"""The model engine's triage: asked only when the rules are unsure, told the user's rules, and
unable to clear a phishing warning."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from graph.engines.model import ModelEngine
from graph.engines.replay import ReplayChatModel
from graph.engines.triage import triage_by_rules
from graph.schemas import TriageOutput
from tools.mail.model import Email

MAIL = Email(
    id="m-1",
    source="test",
    folder="INBOX",
    key="m-1",
    from_addr="someone@vendor.example",
    to=("me@acme.example",),
    subject="hello",
    body="Some words.",
)
ANSWER = TriageOutput(
    priority="normal", category="other", action="reply", reason="asks", decision="respond"
)


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[ModelEngine, list[Any]]:
    (tmp_path / "none.jsonl").write_text("", encoding="utf-8")
    engine = ModelEngine(ReplayChatModel(path=tmp_path / "none.jsonl"), name="fake")
    seen: list[Any] = []

    async def answer(runnable: Any, messages: list[Any], node: str) -> TriageOutput:
        seen.append(messages)
        return ANSWER

    monkeypatch.setattr(engine, "_call", answer)
    return engine, seen


async def test_an_unsure_row_goes_to_the_model_with_the_users_rules(
    engine: tuple[ModelEngine, list[Any]],
) -> None:
    model, seen = engine
    rules = dataclasses.replace(triage_by_rules(MAIL), decision_confidence=0.3)
    result = await model.classify(
        MAIL, rules, "- mail from the sender a@b.example: decision ignore"
    )
    [messages] = seen
    assert "mail from the sender a@b.example: decision ignore" in messages[0].content
    assert "respond, notify, ignore" in messages[0].content
    assert (result.decision, result.engine) == ("respond", "fake")


async def test_a_sure_row_never_reaches_the_model(engine: tuple[ModelEngine, list[Any]]) -> None:
    model, seen = engine
    rules = dataclasses.replace(triage_by_rules(MAIL), confidence=0.9, decision_confidence=0.9)
    result = await model.classify(MAIL, rules, "- a rule")
    assert seen == []
    assert result.engine == "rules"


async def test_the_model_cannot_clear_a_phishing_warning(
    engine: tuple[ModelEngine, list[Any]],
) -> None:
    model, _ = engine
    rules = dataclasses.replace(
        triage_by_rules(MAIL), decision_confidence=0.3, suspicious="a look-alike domain"
    )
    result = await model.classify(MAIL, rules)
    assert result.suspicious == "a look-alike domain"
    assert result.action == "none", "no reply is offered on a suspicious mail"
