"""Corrections generalise to mail of their kind, and the inputs that would walk around them."""

from __future__ import annotations

import dataclasses

from graph.engines.triage import triage_by_rules
from graph.engines.triage.learning import HIDE_NEAR, NEAR, Correction, Learner
from graph.engines.triage.likeness import Likeness, content_words
from graph.engines.triage.profile import MailboxProfile
from graph.engines.triage.verdict import RuleTriage
from tools.mail.model import Email

OWNER = "priya@lumenhive.com"
PROFILE = MailboxProfile(
    owner_addresses=(OWNER,), known_people=frozenset({"henrik@nordkap.example"})
)


def mail(subject: str, body: str, sender: str, headers: dict[str, str] | None = None) -> Email:
    return Email(
        id=f"m-{abs(hash((subject, body, sender))) % 10**8}",
        source="test",
        folder="INBOX",
        key=subject,
        from_addr=sender,
        to=(OWNER,),
        subject=subject,
        body=body,
        headers=headers or {},
    )


def unsure(email: Email, **changes: object) -> RuleTriage:
    """The rules' row for the message, made unsure (the only rows a vote may settle)."""
    row = triage_by_rules(email, profile=PROFILE)
    return dataclasses.replace(row, decision_confidence=0.4, **changes)  # type: ignore[arg-type]


def pitch(vendor: str) -> Email:
    return mail(
        f"{vendor} team offsite 2027",
        f"We organise team offsites and seminar venues for engineering teams; {vendor} "
        "handles catering, venue booking and workshop facilitation. Book a discovery call "
        "this month for our early booking discount.",
        f"sales@{vendor.lower()}.example",
    )


def other_kinds() -> list[Correction]:
    """Corrections of other kinds, so the classifier has seen more than one decision."""
    return [
        Correction.of(
            mail(
                "Expense report overdue",
                "Your expense report for November is overdue; submit the receipts by Friday.",
                "concierge@expenses.example",
            ),
            PROFILE,
            decision="respond",
        ),
        Correction.of(
            mail(
                "Invoice paid",
                "Your card was charged for the monthly plan. No action is needed.",
                "billing@cloud.example",
            ),
            PROFILE,
            decision="notify",
        ),
    ]


def test_one_corrected_pitch_settles_unsure_pitches_like_it() -> None:
    learner = Learner([Correction.of(pitch("Atelier"), PROFILE, decision="ignore"), *other_kinds()])
    new = pitch("Seminarium")
    row = unsure(new, decision="notify", from_person=False)
    after = learner.apply(new, row, PROFILE)
    assert (after.decision, after.action) == ("ignore", "archive")
    assert "like mail you corrected" in after.reason
    sure = dataclasses.replace(row, decision_confidence=0.9, confidence=0.9)
    assert learner.apply(new, sure, PROFILE) == sure, "a sure row is left to the rules"
    board = mail("Board pack", "Attached the board pack for Thursday's meeting.", "cfo@x.example")
    board_row = unsure(board)
    assert learner.apply(board, board_row, PROFILE) == board_row, "nothing like it was corrected"


def test_words_every_example_shares_make_nothing_alike() -> None:
    # "the", "de", "und" or a shared footer are the examples' own stopwords, in any language.
    footer = "the and you this with your please regards unsubscribe"
    examples = [
        f"{footer} invoice amount due payment",
        f"{footer} webinar starts join link",
        f"{footer} standup notes sprint",
    ]
    likeness = Likeness([content_words(text.split()) for text in examples])
    only_footer = likeness.ranked(f"{footer} holiday party cake".split())
    assert only_footer[0][0] < NEAR
    same_kind = likeness.ranked(f"{footer} webinar starts soon join".split())
    assert same_kind[0] == (same_kind[0][0], 1) and same_kind[0][0] >= HIDE_NEAR


def test_a_vote_for_ignore_needs_a_closer_example_than_a_vote_to_show() -> None:
    base = "quarterly partner update roadmap integration pricing"
    example = mail("Partner update", f"{base} webinar", "news@partner.example")
    new = mail("Partner update", f"{base} alpha beta", "x@partner2.example")
    learner = Learner([Correction.of(example, PROFILE, decision="ignore")])
    [(likeness, _)] = learner.likeness.ranked(content_words(learner_words(new)))
    assert NEAR <= likeness < HIDE_NEAR, likeness
    row = unsure(new, decision="notify", from_person=False)
    assert learner.apply(new, row, PROFILE) == row
    shows = Learner([Correction.of(example, PROFILE, decision="notify")])
    ignored = dataclasses.replace(row, decision="ignore", action="archive")
    assert shows.apply(new, ignored, PROFILE).decision == "notify"


def learner_words(email: Email) -> list[str]:
    from graph.engines.triage.learning import features

    return features(email, PROFILE)


def test_a_domain_rule_never_covers_a_look_alike_domain() -> None:
    real = mail("Invoice", "Your invoice", "billing@datadoghq.com")
    rule = Correction.of(real, PROFILE, decision="notify", scope="domain")
    assert rule.matches(mail("Invoice", "x", "ar@eu.datadoghq.com"))
    for attacker in (
        "billing@datadoghq-invoices.com",
        "billing@datadoghq.com.invoices.example",
        "billing@evildatadoghq.com",
        "billing@datadoghq.co",
    ):
        assert not rule.matches(mail("Invoice", "x", attacker)), attacker


def test_a_rule_for_a_sender_never_lifts_a_phishing_verdict_on_their_next_mail() -> None:
    # The vendor's bank-detail change was real; the next one, from their hacked or spoofed
    # account, is what the phishing checks are for.
    sender = "finance@qualitylane.example"
    first = mail("New invoice", "Please find invoice 2231 attached.", sender)
    rule = Correction.of(first, PROFILE, decision="notify")
    assert rule.scope == "person"  # a person's mail, not known yet
    phish = mail(
        "Urgent: our bank details changed",
        "Our bank account has changed. Pay the outstanding invoice to the new IBAN "
        "NL91ABNA0417164300 today; do not call us, we are in an audit.",
        sender,
    )
    row = triage_by_rules(phish, profile=PROFILE)
    assert row.suspicious and row.decision == "ignore"
    for wide in (rule, Correction.of(first, PROFILE, decision="notify", scope="sender")):
        assert Learner([wide]).apply(phish, row, PROFILE) == row, wide.scope
    # The user's word about that very message still counts.
    itself = Learner([rule, Correction.of(phish, PROFILE, decision="notify", scope="message")])
    assert itself.apply(phish, row, PROFILE).decision == "notify"


def test_a_domain_or_list_rule_never_silences_someone_the_owner_knows() -> None:
    spam = mail("Freight offers", "Cheap freight this week.", "promo@nordkap.example")
    by_domain = Learner([Correction.of(spam, PROFILE, decision="ignore", scope="domain")])
    henrik = mail("Export broken", "Can you call me? The export fails.", "henrik@nordkap.example")
    colleague = mail("Lunch?", "Lunch on Friday?", "aisha@lumenhive.com")
    for person in (henrik, colleague):
        row = triage_by_rules(person, profile=PROFILE)
        assert row.decision != "ignore"
        assert by_domain.apply(person, row, PROFILE) == row, person.from_addr
    stranger = mail("More offers", "Cheap freight.", "deals@nordkap.example")
    row = triage_by_rules(stranger, profile=PROFILE)
    assert by_domain.apply(stranger, row, PROFILE).decision == "ignore"

    listed = {"List-Id": "Freight forum <forum.nordkap.example>"}
    digest = mail("Forum digest", "Top posts.", "forum@nordkap.example", listed)
    by_list = Learner([Correction.of(digest, PROFILE, decision="ignore")])
    assert by_list.corrections[0].scope == "list"
    on_list = mail("Re: customs", "Can you check my question?", "henrik@nordkap.example", listed)
    row = triage_by_rules(on_list, profile=PROFILE)
    assert by_list.apply(on_list, row, PROFILE) == row, "the rules decide a known person's mail"


def test_a_rule_naming_a_known_sender_is_the_users_own_word() -> None:
    shared = mail("Shared document", "Open the document here.", "henrik@nordkap.example")
    rule = Correction.of(shared, PROFILE, decision="ignore", scope="sender")
    later = mail("Export broken", "Can you call me?", "henrik@nordkap.example")
    row = triage_by_rules(later, profile=PROFILE)
    assert Learner([rule]).apply(later, row, PROFILE).decision == "ignore"


def test_a_vote_never_silences_a_known_person_nor_lets_phishing_through() -> None:
    learner = Learner([Correction.of(pitch("Atelier"), PROFILE, decision="ignore"), *other_kinds()])
    hacked = dataclasses.replace(pitch("Seminarium"), from_addr="henrik@nordkap.example")
    row = unsure(hacked, decision="notify", from_person=False)
    assert learner.apply(hacked, row, PROFILE).decision == "notify"
    shows = Learner([Correction.of(pitch("Atelier"), PROFILE, decision="notify"), *other_kinds()])
    phish = pitch("Seminarium")
    flagged = unsure(phish, decision="ignore", suspicious="asks for a payment to new details")
    assert shows.apply(phish, flagged, PROFILE) == flagged
