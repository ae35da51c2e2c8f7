"""What the reader pays changes (a premium, an instalment, a yearly statement): worth seeing."""

from __future__ import annotations

from tests.unit.triage.owner_mail import ROBOT, mail, triage

MARKETING = {
    "List-Unsubscribe": "<https://mail.shop.example/u/77>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    "Precedence": "bulk",
}


def test_an_insurers_premium_for_next_year_is_shown() -> None:
    row = triage(
        mail(
            "Your home insurance in 2027",
            "Dear Ms Raman,\n\nFrom 1 January your annual premium will change to EUR 312.40, "
            "collected in monthly instalments as before. Your cover stays the same.\n",
            sender="service@insurer.example",
            headers={"List-Unsubscribe": "<https://insurer.example/u/1>"},
        )
    )
    assert row.decision == "notify"


def test_a_utilitys_new_instalment_is_shown_though_it_is_paid_by_direct_debit() -> None:
    row = triage(
        mail(
            "Je nieuwe termijnbedrag",
            "Beste Priya,\n\nJe jaarafrekening staat klaar: je krijgt EUR 41 terug. Je "
            "termijnbedrag wordt vanaf januari EUR 96 per maand, via automatische incasso.\n",
            sender="noreply@energie.example",
            headers=ROBOT,
        )
    )
    assert row.decision == "notify"


def test_a_shops_marketing_about_a_price_increase_is_still_marketing() -> None:
    # Walks around the check: a sale that names a price increase to hurry the reader.
    row = triage(
        mail(
            "Last chance before our price increase!",
            "Prices go up on Monday. Stock up now with 20% off everything this weekend.\n"
            "Shop now: https://shop.example/sale\n",
            sender="deals@shop.example",
            headers=MARKETING,
        )
    )
    assert row.decision == "ignore"


def test_a_premium_change_sent_with_a_mailings_headers_is_still_shown() -> None:
    # The insurer sends each customer's new premium through its mailing system.
    row = triage(
        mail(
            "Uw zorgverzekering in 2027: nieuwe premie",
            "Beste mevrouw Raman,\n\nVanaf 1 januari 2027 verandert de premie van uw "
            "basisverzekering.\n\nUw polis 2027: Basis Restitutie EUR 162,45 p.p./mnd (was "
            "154,10)\n\nWilt u niets veranderen? Dan hoeft u niets te doen.\n",
            sender="service@zorgverzekeraar.example",
            headers=MARKETING,
        )
    )
    assert row.decision == "notify"


def test_a_subscription_that_renews_next_week_is_shown() -> None:
    row = triage(
        mail(
            "Your subscription renews soon",
            "Hi Priya,\n\nYour annual learning platform subscription renews\nautomatically on "
            "December 1, 2026. Amount: USD 499.00. Nothing to do if you'd like to keep it.\n",
            sender="billing@learning.example",
            headers={"List-Unsubscribe": "<https://learning.example/u>"},
        )
    )
    assert row.decision == "notify"


def test_a_receipt_for_a_renewal_already_made_is_not_a_renewal_to_come() -> None:
    # Walks around the check: the same words in the past tense, on a receipt.
    row = triage(
        mail(
            "Receipt for your renewal",
            "Your subscription has been renewed. Amount paid: USD 20.00 with the card on file. "
            "Thank you for your payment.\n",
            sender="billing@cdn.example",
            headers={**ROBOT, "List-Unsubscribe": "<https://cdn.example/u>"},
        )
    )
    assert row.decision == "ignore"


def test_a_vendors_account_manager_writing_through_a_sales_crm_is_not_a_mailing() -> None:
    row = triage(
        mail(
            "Your renewal (15 Dec) - options",
            "Hi Priya,\n\nYour annual contract renews on 15 December. Option A: EUR 2,940/month; "
            "option B: EUR 2,350/month. If I don't hear back, it auto-renews as option A.\n\n"
            "Hannah\nAccount Manager\n",
            sender="hannah@observability.example",
            headers={"X-Mailer": "HubSpot Sales"},
        )
    )
    assert row.decision != "ignore"
