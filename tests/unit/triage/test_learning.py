"""Corrections: the user's exact rules first, then what their examples generalise to."""

from __future__ import annotations

import dataclasses

from graph.engines.triage import triage_by_rules
from graph.engines.triage.learning import Correction, Learner, NaiveBayes
from graph.engines.triage.profile import MailboxProfile
from tools.mail.model import Email

PROFILE = MailboxProfile(owner_addresses=("priya@lumenhive.com",))


def mail(subject: str, body: str, sender: str, headers: dict[str, str] | None = None) -> Email:
    return Email(
        id=f"m-{abs(hash((subject, sender))) % 10**8}",
        source="test",
        folder="INBOX",
        key=subject,
        from_addr=sender,
        to=("priya@lumenhive.com",),
        subject=subject,
        body=body,
        headers=headers or {},
    )


def test_a_sender_rule_wins_over_the_rules() -> None:
    digest = mail(
        "Your weekly digest",
        "Top posts this week. Unsubscribe.",
        "digest@forum.example",
        {"List-Unsubscribe": "<mailto:u@forum.example>"},
    )
    before = triage_by_rules(digest, profile=PROFILE)
    assert before.decision == "ignore"
    learner = Learner([Correction.of(digest, PROFILE, decision="notify", priority="normal")])
    after = learner.apply(digest, before, PROFILE)
    assert (after.decision, after.priority, after.action) == ("notify", "normal", "none")
    assert "your rule" in after.reason
    other = mail("Your weekly digest", "Top posts.", "digest@other.example")
    assert learner.rule_for(other) is None


def test_a_list_rule_covers_every_sender_on_the_list() -> None:
    headers = {"List-Id": "Postgres general <pgsql-general.lists.postgresql.org>"}
    first = mail("vacuum question", "How do I ...", "alice@example.org", headers)
    second = mail("re: vacuum question", "Try ...", "bob@example.net", headers)
    correction = Correction.of(first, PROFILE, decision="ignore")
    assert correction.scope == "list"
    assert Learner([correction]).rule_for(second) is correction


def test_a_domain_rule_when_asked_for() -> None:
    one = mail("hello", "x", "a@shop.example")
    correction = Correction.of(one, PROFILE, decision="ignore", scope="domain")
    assert correction.matches(mail("sale", "y", "b@news.shop.example"))
    assert not correction.matches(mail("sale", "y", "b@shop.example.evil.org"))


def test_the_latest_correction_wins() -> None:
    one = mail("hello", "x", "a@shop.example")
    learner = Learner(
        [
            Correction.of(one, PROFILE, decision="ignore"),
            Correction.of(one, PROFILE, decision="respond"),
        ]
    )
    assert learner.apply(one, triage_by_rules(one, profile=PROFILE), PROFILE).decision == "respond"


def test_examples_settle_unsure_mail_of_the_same_kind_and_nothing_else() -> None:
    footer = {"List-Unsubscribe": "<https://x.example/u>"}

    def release_notes(i: int) -> Email:
        return mail(
            f"Release notes {i}",
            f"Version {i}.2 of the API client adds filters to the v1 "
            f"export endpoint and a faster sync. Unsubscribe.",
            f"updates@vendor{i}.example",
            footer,
        )

    def promo(i: int) -> Email:
        return mail(
            f"Black Friday {i}",
            f"Save {i}0% on all plans this week only, upgrade "
            f"today and get a free month. Unsubscribe.",
            f"deals@shop{i}.example",
            footer,
        )

    corrections = [Correction.of(release_notes(i), PROFILE, decision="notify") for i in range(4)]
    corrections += [Correction.of(promo(i), PROFILE, decision="ignore") for i in range(4)]
    learner = Learner(corrections)
    new = release_notes(9)
    sure = triage_by_rules(new, profile=PROFILE)
    assert sure.decision == "ignore" and not sure.unsure  # mass mail, by the rules
    assert learner.apply(new, sure, PROFILE) == sure, "a sure row is left to the rules"
    unsure = dataclasses.replace(sure, decision_confidence=0.4)
    after = learner.apply(new, unsure, PROFILE)
    assert after.decision == "notify"
    assert after.action != "archive"
    assert "like mail you corrected" in after.reason
    unsure_promo = dataclasses.replace(
        triage_by_rules(promo(9), profile=PROFILE), decision_confidence=0.4
    )
    assert learner.apply(promo(9), unsure_promo, PROFILE).decision == "ignore"
    unlike = mail("Quarterly board pack", "Attached the board pack for Thursday.", "cfo@x.example")
    unlike_row = dataclasses.replace(
        triage_by_rules(unlike, profile=PROFILE), decision_confidence=0.4
    )
    assert learner.apply(unlike, unlike_row, PROFILE) == unlike_row, "nothing like it was corrected"


def test_a_vote_never_lets_a_suspicious_mail_through() -> None:
    phish = mail(
        "Verify",
        "Your mailbox will be suspended within 24 hours. Verify your password "
        "here https://mail-verify.example/login",
        "admin@mailhost.example",
    )
    row = triage_by_rules(phish, profile=PROFILE)
    assert row.suspicious
    corrections = [
        Correction.of(
            mail(f"verify {i}", "verify your password here", f"it{i}@corp.example"),
            PROFILE,
            decision="respond",
        )
        for i in range(3)
    ] + [Correction.of(mail("news", "unsubscribe", "n@news.example"), PROFILE, decision="ignore")]
    assert Learner(corrections).apply(phish, row, PROFILE).decision == "ignore"


def test_naive_bayes_needs_two_classes_and_prefers_the_evidence() -> None:
    assert not NaiveBayes([(["a"], "x")]).usable
    model = NaiveBayes([(["invoice", "due"], "respond"), (["sale", "offer"], "ignore")])
    votes = model.probabilities(["offer", "sale", "sale"])
    assert votes["ignore"] > 0.8
    assert abs(sum(votes.values()) - 1.0) < 1e-9


def test_ignoring_a_known_persons_mail_covers_only_that_message() -> None:
    # "Ignore this" about a contact's one-off (or their hacked account's phishing) must not
    # silence the next thing they write.
    profile = MailboxProfile(
        owner_addresses=("priya@lumenhive.com",), known_people=frozenset({"henrik@nordkap.example"})
    )
    shared = mail("Shared document", "Open the document here.", "henrik@nordkap.example")
    correction = Correction.of(shared, profile, decision="ignore")
    assert correction.scope == "message"
    later = mail("export broken", "Can you call me? The export fails.", "henrik@nordkap.example")
    learner = Learner([correction])
    assert learner.rule_for(later) is None
    assert learner.apply(later, triage_by_rules(later, profile=profile), profile).decision == (
        "respond"
    )
    stranger = mail("Shared document", "Open the document here.", "x@promo.example")
    assert Correction.of(stranger, profile, decision="ignore").scope == "sender"


def test_a_vote_never_ignores_a_persons_mail() -> None:
    def chat(i: int) -> Email:
        return mail(
            f"lunch {i}", f"Lunch on Friday {i}? The usual place.", f"friend{i}@x{i}.example"
        )

    corrections = [Correction.of(chat(i), PROFILE, decision="ignore") for i in range(5)]
    corrections += [
        Correction.of(
            mail(f"invoice {i}", "Invoice due", f"ap@v{i}.example"), PROFILE, decision="respond"
        )
        for i in range(3)
    ]
    new = chat(9)
    row = triage_by_rules(new, profile=PROFILE)
    assert row.from_person
    assert Learner(corrections).apply(new, row, PROFILE).decision != "ignore"
