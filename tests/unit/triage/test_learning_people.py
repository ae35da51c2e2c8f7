"""A correction of a person's mail: it lifts their later mail, and leaves its reading to the rules.

Found on the dev part: a user who corrected a mother's message to `notify` had her next
question (and a customer's next bug report, after one of his was corrected) made mere news by
the sender rule the correction used to make.
"""

from __future__ import annotations

from graph.corrections import covered_by
from graph.engines.triage import triage_by_rules
from graph.engines.triage.learning import Correction, Learner
from memory.db import AppDatabase
from memory.triage_preferences import TriagePreferences
from tests.unit.triage.owner_mail import PROFILE
from tests.unit.triage.owner_mail import mail as owner_mail
from tools.mail.model import Email

MOTHER = "amma.raman@example.in"


def mail(subject: str, body: str, sender: str = MOTHER, **headers: str) -> Email:
    """`owner_mail.mail` with the headers given as keywords."""
    return owner_mail(subject, body, sender=sender, headers=headers)


NEWS = mail("Back home", "We reached home safely last night. The ceremony went well.")
QUESTION = mail(
    "Visit dates?",
    "Kanna, can you confirm the dates you are coming in January? Please send the photos too.",
)


def test_the_persons_rule_keeps_their_next_question_a_question() -> None:
    rule = Correction.of(NEWS, PROFILE, decision="notify")
    assert rule.scope == "person"
    learner = Learner([rule])
    row = triage_by_rules(QUESTION, profile=PROFILE)
    assert row.decision == "respond"
    assert learner.apply(QUESTION, row, PROFILE) == row
    # The corrected message itself takes the user's word.
    news = learner.apply(NEWS, triage_by_rules(NEWS, profile=PROFILE), PROFILE)
    assert (news.decision, news.reason) == ("notify", "your rule for this person")


def test_the_persons_rule_lifts_their_mail_the_rules_would_hide_or_call_cold() -> None:
    first = mail(
        "Partnership",
        "Hi Priya, we met at the meetup. Could we talk about the integration next week?",
        "jonas@brightwater.example",
    )
    rule = Correction.of(first, PROFILE, decision="respond", category="sales_inquiry")
    assert rule.scope == "person"
    # Their follow-up reads like the pitches the rules hide: the person's rule lifts it.
    follow_up = mail(
        "Quick follow-up",
        "Just bumping this to the top of your inbox. Do you have 15 minutes this week for a "
        "quick call? If you're not the right person, who should I talk to?",
        "jonas@brightwater.example",
    )
    row = triage_by_rules(follow_up, profile=PROFILE)
    assert row.decision == "ignore" or row.category == "spam_or_cold"
    lifted = Learner([rule]).apply(follow_up, row, PROFILE)
    assert (lifted.decision, lifted.category) == ("respond", "sales_inquiry")
    assert lifted.reason == "your rule for this person"


def test_hiding_a_persons_message_still_hides_the_sender() -> None:
    # The walk-around: a pitcher writing as a person is silenced by the user's "ignore".
    pitch = mail(
        "Idea for Lumenhive",
        "Hi Priya, I noticed your team is hiring. We place senior engineers in 10 days.",
        "sam@talentreach.example",
    )
    rule = Correction.of(pitch, PROFILE, decision="ignore")
    assert rule.scope == "sender"
    again = mail(
        "Re: Idea for Lumenhive",
        "Hi Priya, can you tell me who decides on hiring at Lumenhive?",
        "sam@talentreach.example",
    )
    row = triage_by_rules(again, profile=PROFILE)
    assert Learner([rule]).apply(again, row, PROFILE).decision == "ignore"


def test_automated_mail_keeps_its_template_or_sender_rule() -> None:
    receipt = mail(
        "Your receipt #4411",
        "Thanks for your payment of EUR 12.00.",
        "no-reply@shop.example",
        **{"Auto-Submitted": "auto-generated"},
    )
    assert Correction.of(receipt, PROFILE, decision="notify").scope == "template"


def test_a_persons_rule_is_stored_listed_and_loaded(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = AppDatabase(f"sqlite:///{tmp_path / 'app.db'}")
    rule = Correction.of(NEWS, PROFILE, decision="notify")
    TriagePreferences(db).add(
        scope=rule.scope,
        key=rule.key,
        decision="notify",
        priority="",
        category="",
        words=rule.words,
        email_id=NEWS.id,
        origin="cli",
    )
    (stored,) = TriagePreferences(db).all()
    assert (stored.scope, stored.key) == ("person", MOTHER)
    assert (
        covered_by(stored.scope, stored.key) == f"mail from {MOTHER}, never hidden nor called cold"
    )
