"""A person on a mailing list who turns to the owner by name writes to her, not to the list."""

from __future__ import annotations

from graph.engines.triage.profile import MailboxProfile, build_profile
from tests.unit.triage.owner_mail import OWNER, PRIVATE, mail, triage

PROFILE = MailboxProfile(owner_addresses=(OWNER, PRIVATE), owner_names=frozenset({"priya raman"}))
GROUP = {
    "List-Id": "<em-circle-ams.groups.example>",
    "List-Unsubscribe": "<mailto:em-circle-ams+unsubscribe@groups.example>",
    "Precedence": "list",
}


def post(body: str, headers: dict[str, str] = GROUP, sender: str = "wouter@gmail.com") -> str:
    row = triage(
        mail(
            "Re: [em-circle-ams] Holiday on-call: how do you handle it?",
            body,
            sender=sender,
            to="em-circle-ams@groups.example",
            headers=headers,
        ),
        PROFILE,
    )
    return row.decision


def test_an_at_mention_with_a_question_is_answered() -> None:
    body = (
        "Thanks all, really useful thread.\n\n@Priya Raman - at the last meetup you said you cap "
        "it at 4 days. Any chance you could share a blank template of that?\n\nWouter\n"
    )
    assert post(body) == "respond"


def test_a_reply_that_greets_her_is_shown() -> None:
    body = (
        "Hi Priya,\n\nWhat you describe is expected in 3.x. Two options: a smaller commit "
        "interval, or your own idempotency key table.\n\nOla\n"
    )
    assert post(body) in {"notify", "respond"}


def test_the_same_post_to_everyone_is_only_shown() -> None:
    # A person's post to a discussion list the owner is in is worth seeing, not answering.
    body = "Thanks all, really useful thread. We cap it at 4 days per person.\n\nWouter\n"
    assert post(body) == "notify"


def test_a_longer_name_that_starts_like_hers_is_someone_else() -> None:
    # Walks around the check: "Priyanka," greets someone else.
    body = "Priyanka, could you share your rota template with the group?\n\nWouter\n"
    assert not PROFILE.turns_to_owner(body.casefold())
    assert post(body) == "notify"  # the list's post, not a word to her


def test_a_personalised_marketing_mailing_is_still_marketing() -> None:
    # Walks around the check: a mailing that greets every reader by name.
    marketing = {
        "List-Id": "<news.shop.example>",
        "List-Unsubscribe": "<https://shop.example/u>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Precedence": "bulk",
    }
    body = "Hi Priya,\n\nOur Black Friday deals are live: 40% off everything. Shop now?\n"
    assert post(body, marketing, "deals@shop.example") == "ignore"


def test_the_owners_name_is_learned_from_her_sent_mail() -> None:
    sent = mail("Re: on-call", "Sure.\n", sender=OWNER, to="wouter@gmail.com")
    sent = type(sent)(**{**sent.__dict__, "folder": "Sent", "from_name": "Priya Raman"})
    profile = build_profile([sent], (OWNER,))
    assert profile.owner_names == frozenset({"priya raman"})
    assert profile.turns_to_owner("thanks!\n@priya - could you share it?")
    assert not profile.turns_to_owner("ask priya about it later.")


def test_a_coachs_post_to_the_parents_group_is_shown() -> None:
    body = "Hoi ouders,\n\nZaterdag uit bij Almere, verzamelen 9:15. Ik heb nog 2 auto's nodig!! wie kan?\n"
    assert post(body, sender="ronaldsmit1974@gmail.com") in {"notify", "respond"}


def test_a_newsletter_sent_with_list_precedence_to_each_reader_is_skipped() -> None:
    # Walks around the check: a newsletter that says "Precedence: list" too, but is addressed
    # to each subscriber rather than to a list.
    row = triage(
        mail(
            "Vacuum, but make it boring | Relational Weekly #612",
            "This week: autovacuum tuning, a new release, and three talks worth your time.\n",
            sender="newsletter@weekly.example",
            to=OWNER,
            headers={
                "List-Id": "<weekly.example>",
                "List-Unsubscribe": "<https://weekly.example/u>",
                "Precedence": "list",
            },
        ),
        PROFILE,
    )
    assert row.decision == "ignore"
