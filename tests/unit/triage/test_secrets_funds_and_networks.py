"""Signals found on the zzo-* to zzr-* mail (the new year, look-alikes, short mail, people
outside the company), each with an input that walks around it.
"""

from __future__ import annotations

from tests.unit.triage.owner_mail import ROBOT, answering_owner, mail, triage

SCANNER_ALERT = (
    "[lumenhive/warehouse-api-python] Secret scanning alert: Amazon AWS Access Key ID detected",
    "GitHub secret scanning found a secret in lumenhive/warehouse-api-python\n\n"
    "Secret type: Amazon AWS Access Key ID\nValidity: Active\nRepository: public\n\n"
    "Because the repository is public, we recommend that you revoke the secret with the "
    "provider immediately.\n\nYou are receiving this because you are an administrator.",
)


def test_a_live_key_found_in_a_repository_is_for_the_owner_to_revoke() -> None:
    alert = mail(*SCANNER_ALERT, sender="noreply@github.com", headers=ROBOT)
    assert triage(alert).decision == "respond"
    leaked = mail(
        "Exposed credentials detected in your workspace",
        "We found exposed credentials in a public snippet of your workspace: an API key for "
        "warehouse-api. Rotate it before it is misused.",
        sender="alerts@scanner-example.io",
        headers=ROBOT,
    )
    assert triage(leaked).decision == "respond"


def test_a_newsletter_about_leaked_secrets_is_only_a_story() -> None:
    # The walk-around: the same words in a mailing's article.
    story = mail(
        "SRE Weekly #512: how secret scanning found 10 million leaked credentials",
        "This week: secret scanning found 10 million leaked credentials on public repos; "
        "how one team learned to revoke the secret in minutes.\n\nUnsubscribe: "
        "https://sreweekly-example.com/unsubscribe",
        sender="newsletter@sreweekly-example.com",
        headers={"List-Id": "<sre.sreweekly-example.com>", "List-Unsubscribe": "<https://x>"},
    )
    assert triage(story).decision != "respond"


def test_a_funds_associate_on_a_list_is_cold() -> None:
    fund = mail(
        "Lumenhive caught our eye",
        "Hi Priya, I'm an associate at Peak River Capital. Lumenhive came up in our research "
        "on supply-chain software and we're impressed by the traction you've built. We'd love "
        "to learn more, just a 20-minute intro call. Would any time next week work?",
        sender="ethan@peakriver-example.capital",
    )
    row = triage(fund)
    assert (row.category, row.decision) == ("spam_or_cold", "ignore")


def test_an_investor_answering_the_owner_is_no_pitch() -> None:
    # The walk-around: the same words from an investor the owner wrote to first.
    answer, profile = answering_owner(
        mail(
            "Re: Lumenhive seed extension",
            "Hi Priya, thanks for the deck. Lumenhive came up in our research before, and we're "
            "impressed by the traction. Could we do a 20-minute intro call with our partner on "
            "Thursday?",
            sender="ethan@peakriver-example.capital",
        )
    )
    row = triage(answer, profile)
    assert row.category != "spam_or_cold" and row.decision == "respond"


def test_a_networks_weekly_counts_are_a_digest() -> None:
    counts = mail(
        "Priya, you appeared in 41 searches this week",
        "You appeared in 41 searches this week.\nAlso this week: Nadine Ouali mentioned you "
        "in a post.\n\nUnsubscribe: https://www.linkedin.com/comm/unsubscribe",
        sender="notifications-noreply@linkedin.com",
        headers={**ROBOT, "List-Unsubscribe": "<https://www.linkedin.com/comm/unsubscribe>"},
    )
    assert triage(counts).decision == "ignore"
    # The walk-around: the network relaying one person's message to the owner alone.
    message = mail(
        "Nadine Ouali sent you a message",
        "Nadine Ouali sent you a message: 'Hi Priya, could you review my talk proposal "
        "before Friday?'",
        sender="messages-noreply@linkedin.com",
        headers=ROBOT,
    )
    assert triage(message).decision == "respond"
