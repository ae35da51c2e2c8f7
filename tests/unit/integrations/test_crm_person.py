"""The person a CRM record is made for, shared by Salesforce leads and HubSpot contacts."""

from __future__ import annotations

import pytest

from tools.integrations.crm_person import split_name


@pytest.mark.parametrize(
    ("name", "lead", "contact"),
    [
        ("Jorge Alvarez", ("Jorge", "Alvarez"), ("Jorge", "Alvarez")),
        ("Alvarez, Jorge", ("Jorge", "Alvarez"), ("Jorge", "Alvarez")),
        ('"Jorge  Maria   Alvarez"', ("Jorge", "Maria Alvarez"), ("Jorge", "Maria Alvarez")),
        # The one difference: a single name is Salesforce's required last name, HubSpot's first.
        ("Cher", ("", "Cher"), ("Cher", "")),
        ('"Cher"', ("", "Cher"), ("Cher", "")),
        ("", ("", ""), ("", "")),
        # A comma makes the part before it the last name, even a single word.
        ("Alvarez,", ("", "Alvarez"), ("", "Alvarez")),
    ],
)
def test_a_name_splits_the_same_but_for_a_single_word(
    name: str, lead: tuple[str, str], contact: tuple[str, str]
) -> None:
    assert split_name(name, single="last") == lead
    assert split_name(name, single="first") == contact
