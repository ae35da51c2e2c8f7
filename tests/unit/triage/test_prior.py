"""The model of labelled mail (`prior.py`, `regression.py`): trained as committed, and bounded."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from bench.train_prior import trained
from bench.triage_eval import Labelled, load_sent, load_split, rules_alone
from graph.engines.triage import RuleFileError, load_rules, triage_by_rules
from graph.engines.triage.learning import Correction, Learner
from graph.engines.triage.prior import SURE, prior_features, weigh
from graph.engines.triage.profile import MailboxProfile, build_profile
from graph.engines.triage.regression import (
    PRIOR_FILE,
    PriorFileError,
    PriorModel,
    load_prior,
    train,
)
from graph.engines.triage.rulebook import RULES_DIR, default_rules
from graph.engines.triage.scorer import rules_verdict
from graph.engines.triage.verdict import RuleTriage
from tests.unit.triage.owner_mail import PROFILE, mail


@pytest.fixture(scope="module")
def dev_inbox() -> tuple[list[Labelled], MailboxProfile]:
    """The dev part, with the profile the eval reads it in."""
    items = load_split("dev")
    return items, build_profile([*(i.email for i in items), *load_sent()])


def test_the_committed_model_is_what_training_on_the_dev_part_makes(
    dev_inbox: tuple[list[Labelled], MailboxProfile],
) -> None:
    # A hand-edited weight, or rules / corpus changed without retraining, fails here.
    committed = load_prior(RULES_DIR)
    assert committed is not None
    retrained = trained()
    assert committed.same_as(retrained), "stale: run python -m bench.train_prior"
    assert committed.trained_on["examples"] == len(dev_inbox[0])
    assert default_rules().prior is not None


def test_training_is_deterministic_and_learns_what_the_examples_say() -> None:
    examples = [(["t:invoice", f"t:a{n}"], "notify") for n in range(30)] + [  # fmt: skip
        (["t:question", f"t:b{n}"], "respond") for n in range(30)
    ]
    first, second = train(examples), train(examples)
    assert first.same_as(second, tolerance=0.0)
    assert first.choice(["t:invoice"])[0] == "notify"
    assert first.choice(["t:question"])[0] == "respond"
    # Seen once each: left out, so a name or a one-off word carries no weight.
    assert "t:a1" not in first.weights and "t:b1" not in first.weights
    assert first.trained_on["examples"] == 60


def test_training_refuses_nothing_and_labels_that_are_no_decision() -> None:
    with pytest.raises(ValueError, match="no labelled examples"):
        train([])
    with pytest.raises(ValueError, match="not decisions"):
        train([(["t:x"], "archive")])  # type: ignore[list-item]


def test_the_file_round_trips_and_a_broken_one_is_a_clear_error(tmp_path: Path) -> None:
    model = train([(["t:a", "t:b"], "notify"), (["t:a", "t:c"], "respond")] * 5)
    (tmp_path / PRIOR_FILE).write_text(model.to_json(), "utf-8")
    loaded = load_prior(tmp_path)
    assert loaded is not None and loaded.same_as(model, tolerance=0.0)
    assert load_prior(tmp_path / "nowhere") is None
    data = json.loads(model.to_json())
    for broken, says in [
        ("{not json", "not a readable model"),
        (json.dumps({**data, "feature_version": 0}), "other features"),
        (json.dumps({**data, "bias": [1, 2]}), "three weights"),
        (json.dumps({k: v for k, v in data.items() if k != "weights"}), "weights"),
    ]:
        (tmp_path / PRIOR_FILE).write_text(broken, "utf-8")
        with pytest.raises(PriorFileError, match=says):
            load_prior(tmp_path)


def test_the_rule_files_with_a_broken_model_do_not_load(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    (rules / PRIOR_FILE).write_text('{"feature_version": 1}', "utf-8")
    with pytest.raises(RuleFileError, match=PRIOR_FILE):
        load_rules(rules)
    (rules / PRIOR_FILE).unlink()
    assert load_rules(rules).prior is None


def _voting(decision: str, strength: float) -> PriorModel:
    """A model that says `decision` for every message, with this much weight."""
    bias = tuple(strength if d == decision else 0.0 for d in ("respond", "notify", "ignore"))
    return PriorModel({}, bias)  # type: ignore[arg-type]


ALERT = mail(
    "CPU above 95% on db-3 for 10 minutes",
    "Alert firing: cpu_high on db-3. Runbook: https://wiki.example/cpu\n",
    sender="alerts@monitoring.example",
    headers={"Auto-Submitted": "auto-generated"},
)


ALERT_ROW, ALERT_FLAGS, ALERT_WRITER = rules_verdict(ALERT, rules_alone(), PROFILE, (), None)


def _weighed(model: PriorModel, row: RuleTriage) -> RuleTriage:
    return weigh(model, ALERT, row, ALERT_FLAGS, ALERT_WRITER, PROFILE)


def test_a_sure_model_changes_the_decision_and_says_so() -> None:
    row = ALERT_ROW
    other = "respond" if row.decision != "respond" else "notify"
    changed = _weighed(_voting(other, 5.0), row)
    assert changed.decision == other
    assert changed.reason.startswith(row.reason) and "mail like it is usually" in changed.reason
    assert changed.decision_confidence >= SURE
    assert changed.category == row.category  # it seconds the decision, not the reading


def test_an_unsure_model_leaves_the_row() -> None:
    row = ALERT_ROW
    other = "respond" if row.decision != "respond" else "notify"
    assert _weighed(_voting(other, 0.5), row) == row  # about 0.45: below SURE


def test_the_model_never_hides_mail_nor_lifts_a_phishing_verdict() -> None:
    # The walk-arounds: a model as sure as can be of ignore, and of respond on a phish.
    row = dataclasses.replace(ALERT_ROW, decision="notify")
    assert _weighed(_voting("ignore", 50.0), row).decision == "notify"
    phish = dataclasses.replace(row, decision="ignore", suspicious="a lookalike domain")
    assert _weighed(_voting("respond", 50.0), phish) == phish


def test_on_the_dev_part_the_model_shows_mail_and_never_hides_it(
    dev_inbox: tuple[list[Labelled], MailboxProfile],
) -> None:
    items, profile = dev_inbox
    alone = rules_alone()
    moved = []
    for item in items[::7]:
        before = triage_by_rules(item.email, profile=profile, rules=alone)
        after = triage_by_rules(item.email, profile=profile)
        if after != before:
            moved.append((before, after))
            assert after.decision != "ignore" and after.decision != before.decision
            assert "mail like it is usually" in after.reason
            assert not before.suspicious
    assert moved, "the shipped model changed no decision: is it loaded?"


def test_the_users_rule_wins_over_the_model(
    dev_inbox: tuple[list[Labelled], MailboxProfile],
) -> None:
    items, profile = dev_inbox
    alone = rules_alone()
    item = next(
        i
        for i in items
        if triage_by_rules(i.email, profile=profile).decision
        != triage_by_rules(i.email, profile=profile, rules=alone).decision
    )
    row = triage_by_rules(item.email, profile=profile)
    wanted = "ignore" if row.decision != "ignore" else "notify"
    correction = Correction.of(item.email, profile, decision=wanted, scope="message")
    assert Learner([correction]).apply(item.email, row, profile).decision == wanted


def test_features_name_the_verdict_the_flags_the_writer_and_the_words() -> None:
    found = prior_features(ALERT, ALERT_ROW, ALERT_FLAGS, ALERT_WRITER, PROFILE)
    assert f"d:{ALERT_ROW.decision}" in found and f"c:{ALERT_ROW.category}" in found
    assert {f"f:{flag}" for flag in ALERT_FLAGS} <= set(found)
    assert "w:robot" in found
    assert "t:runbook" in found
    assert found == sorted(set(found))
