"""A look-alike domain that answers the owner's real thread is still a look-alike."""

from __future__ import annotations

from dataclasses import replace

from graph.engines.triage.profile import build_profile
from tests.unit.triage.owner_mail import OWNER, mail, triage
from tools.mail.model import SENT

ASK = replace(
    mail(
        "Pentest quote",
        "Hi Jan, could you send a quote for the January pentest?\nPriya",
        sender=OWNER,
        to="jan@securify.example",
    ),
    folder=SENT,
    message_id="<ask-1@lumenhive.com>",
)
GENUINE = replace(
    mail(
        "Re: Pentest quote",
        "Hi Priya, quote attached: EUR 14,500 for two weeks. Jan",
        sender="jan@securify.example",
    ),
    message_id="<quote-1@securify.example>",
    in_reply_to="<ask-1@lumenhive.com>",
)
HIJACK = replace(
    mail(
        "Re: Pentest quote",
        "Hi Priya, before we schedule the scoping call please pay the 30% deposit. Note our "
        "new bank details: IBAN LT12 1000 0111 0100 1000, our old account is closed.\nJan",
        sender="jan@securifv.example",
    ),
    message_id="<quote-2@securifv.example>",
    in_reply_to="<ask-1@lumenhive.com>",
)


def test_a_look_alike_answering_the_owners_thread_is_suspicious() -> None:
    profile = build_profile([ASK, GENUINE, HIJACK], configured=[OWNER])
    row = triage(HIJACK, profile)
    assert "securify.example" in row.suspicious
    assert row.decision == "ignore"


def test_the_genuine_answer_is_not_taken_for_an_imitation_of_the_look_alike() -> None:
    # Walks around the check the other way: both domains only answered the owner (she wrote to
    # neither address's domain herself), so either could look like the "real" one.
    ask = replace(ASK, to=("quotes@pentest-brokers.example",))
    profile = build_profile([ask, GENUINE, HIJACK], configured=[OWNER])
    assert not triage(GENUINE, profile).suspicious


def test_the_genuine_answer_in_the_same_mailbox_is_not_suspicious() -> None:
    profile = build_profile([ASK, GENUINE, HIJACK], configured=[OWNER])
    row = triage(GENUINE, profile)
    assert not row.suspicious
    assert row.decision != "ignore"
