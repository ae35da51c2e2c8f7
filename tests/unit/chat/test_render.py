"""What the chat shows, without a browser: citation links, card ids, times, triage rows, the mail
page (escaped)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

from graph.approval import code_span
from memory.mail_tables import TriageRecord
from tools.mail.model import Email
from ui.chat.mail_page import message_page
from ui.chat.render import (
    answer_markdown,
    card_markdown,
    first_rows,
    mail_url,
    slot_offer,
    time_span,
    triage_rows,
    triage_summary,
)

BERLIN = ZoneInfo("Europe/Berlin")


def _email(n: int, **fields: object) -> Email:
    values: dict[str, object] = {
        "id": f"m{n}@mail.example",
        "source": "maildir:/x",
        "folder": "INBOX",
        "key": f"k{n}",
        "from_name": f"Sender {n}",
        "from_addr": f"s{n}@mail.example",
        "subject": f"Subject {n}",
        "date": f"2026-11-{10 + n:02d}T09:00:00+01:00",
        "body": f"Body {n}",
    }
    values.update(fields)
    return Email(**values)  # type: ignore[arg-type]


def _triage(email: Email, priority: str, action: str = "archive") -> TriageRecord:
    return TriageRecord(
        email_id=email.id,
        priority=priority,
        category="other",
        action=action,
        reason="short reason",
        engine="rules",
    )


def test_citations_become_numbered_links_that_open_the_exact_message() -> None:
    ids = ["a@x.example", "(b)]@x.example", "a@x.example"]
    text = f"One [msg:{ids[0]}], two [msg:.Q1road@x.example] and again [msg:{ids[0]}]."
    shown = answer_markdown(text)
    links = re.findall(r"\[(mail \d+)\]\(([^)\s]+)\)", shown)
    assert [label for label, _ in links] == ["mail 1", "mail 2", "mail 1"]
    opened = [parse_qs(urlparse(url).query)["id"][0] for _, url in links]
    assert opened == ["a@x.example", ".Q1road@x.example", "a@x.example"]
    assert "[msg:" not in shown


def test_a_hostile_id_cannot_break_out_of_its_link() -> None:
    url = mail_url("x) [evil](https://evil.example")
    assert "(" not in url and ")" not in url and " " not in url
    assert parse_qs(urlparse(url).query)["id"] == ["x) [evil](https://evil.example"]


def test_card_ids_are_code_never_links() -> None:
    shown = card_markdown("In reply to: Roadmap [msg:.Q1road.2026@mail.northwind.example]")
    assert "`.Q1road.2026@mail.northwind.example`" in shown
    assert "[open](/mail/view?id=.Q1road.2026%40mail.northwind.example)" in shown
    assert code_span("a`b") == "``a`b``"
    assert code_span("`x") == "`` `x ``"


def test_times_read_as_people_write_them_in_the_users_zone() -> None:
    span = time_span("2026-11-19T14:00:00+00:00", "2026-11-19T14:45:00+00:00", BERLIN)
    assert span == "Thu 19 Nov, 15:00–15:45"
    across = time_span("2026-11-19T22:30:00+00:00", "2026-11-20T00:30:00+00:00", BERLIN)
    assert across == "Thu 19 Nov, 23:30 – Fri 20 Nov, 01:30"
    assert time_span("soon", "later", BERLIN) == "soon – later"


def test_a_slot_offer_lists_numbered_times_and_what_was_asked() -> None:
    data = {
        "title": "Q1 roadmap",
        "attendees": ["Sofia Marchetti <sofia@x.example>"],
        "duration_minutes": 30,
        "slots": [
            {
                "start": "2026-11-24T10:00:00+01:00",
                "end": "2026-11-24T10:30:00+01:00",
                "asked_for": True,
            },
            {
                "start": "2026-11-25T14:00:00+01:00",
                "end": "2026-11-25T14:30:00+01:00",
                "asked_for": False,
            },
        ],
        "requested": [{"text": "Mon 23 Nov", "problem": "you are busy then"}],
        "notes": [],
    }
    offer = slot_offer(data, BERLIN)
    assert "1. Tue 24 Nov, 10:00–10:30 — the time they asked for" in offer
    assert "2. Wed 25 Nov, 14:00–14:30" in offer
    assert "They asked for Mon 23 Nov: you are busy then" in offer
    assert "[" not in offer and "T10:00" not in offer, "no raw ISO intervals"


def test_triage_rows_put_errors_and_high_first_and_offer_replies_only_where_due() -> None:
    low, high, normal = _email(1), _email(2), _email(3)
    broken = _email(4, error="malformed MIME", subject="")
    pairs = [
        (low, _triage(low, "low")),
        (high, _triage(high, "high", "reply")),
        (normal, _triage(normal, "normal", "create_ticket")),
        (broken, None),
    ]
    rows = triage_rows(pairs, BERLIN)
    assert [r.priority for r in rows] == ["error", "high", "normal", "low"]
    assert rows[0].reason == "unreadable: malformed MIME"
    assert rows[0].subject == "(no subject)"
    assert rows[1].reply_to == "Sender 2" and rows[2].reply_to == ""
    assert rows[2].action == "open a ticket"
    assert rows[1].day == "Thu 12 Nov"
    assert triage_summary(rows) == "**4 messages triaged**: 1 high, 1 normal, 1 low, 1 unreadable."


def test_show_more_keeps_every_urgent_row_in_view() -> None:
    many = [_email(n) for n in range(20)]
    rows = triage_rows([(e, _triage(e, "high")) for e in many], BERLIN)
    assert first_rows(rows) == 20
    assert first_rows(rows[:3]) == 3


def test_the_mail_page_escapes_everything_from_the_mail() -> None:
    email = _email(
        1,
        subject="<script>alert(1)</script>",
        from_name='"><img src=x onerror=alert(2)>',
        body="<b>not bold</b>\n</pre><script>alert(3)</script>",
    )
    page = message_page(email, None)
    assert "<script>" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;/pre&gt;" in page


def test_the_mail_page_of_an_unreadable_message_says_why() -> None:
    page = message_page(_email(1, error="boundary never appears", body=""), None)
    assert "could not be read: boundary never appears" in page
