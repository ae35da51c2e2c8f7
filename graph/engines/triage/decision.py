"""The decision a person acts on: respond, notify or ignore, and how sure it is.

The category says what a message is about; the decision says what its reader does with it, and
that depends on who wrote it and how as much as on its words. In order, first match wins:

1. suspicious (phishing or fraud): `ignore`, with the warning; never a reply, link or lead;
2. a bounce of the owner's mail: `notify`; an automatic reply: `ignore`, or `notify` when it
   names someone else to write to (an out-of-office's stand-in), unless a colleague's;
3. cold outreach from someone the owner does not know: `ignore`;
4. a person writing to the owner (not a robot, not a mass mailing): `respond` when it asks
   something of them (in `To`, or in a blind copy such as a party invitation; on `Cc`
   only `notify`) or is a request by its kind (meeting, bug, feature, purchase), else
   `notify`; a person's message is never `ignore`d;
5. a robot or a mass mailing: `respond` when it asks the owner to act (a review requested, an
   expense report due, a bill to pay, a failed payment, an approval or a signature waiting),
   unless a marketing list or a mailing from an organisation the owner never wrote to says it
   to every subscriber (a bill, a failed payment and a developer tool's request still ask);
   `ignore` for what every customer is sent (new terms, a survey) and for a digest of a period
   (a weekly summary), whatever alerts it counts; `notify` for a change in what the owner
   pays even when it offers a change before a date; `notify`
   for alerts, incidents, failures, security notices and mail from the owner's own company
   (`respond` for its deadlines, unless it says FYI);
   `notify` for planned maintenance or an end of support of something the owner runs, and for
   the news of an organisation the owner writes to (a partner, a customer, a child's school;
   not a marketing list's promotion)
   or of a group's own list (a `List-Id` without an unsubscribe link: a club, a class), for
   the owner's parcel on its way (a carrier's unsubscribe footer aside), and
   for a change in what the owner pays (a premium, an instalment, a yearly statement);
   `ignore` for other newsletters, receipts, money taken by itself (a direct debit) and the
   rest of the mass mail; `notify` for other transactional mail. A monitor's message that its
   alert is over ("[RESOLVED]", "Recovered", "is back up") is one step lower: `notify` for
   what would be `respond`, else `ignore`, unless people worked on it (who resolved it, its
   root cause: `notify`).

Whatever the step, a message whose writer says the reader need do nothing ("no action needed",
"u hoeft niets te doen") is never `respond`: `notify` at most.

docs/engines.md has the same table; `rules/flags.toml` holds the phrases behind each flag.
"""

from __future__ import annotations

import dataclasses

from graph.engines.triage.writers import (
    PAID_BY_ITSELF,
    PITCH_SIGNS,
    Writer,
    is_auto_reply,
    is_bounce,
    names_a_stand_in,
    pretends_a_thread,
    says_it_is_a_program,
    sent_as_a_sequence,
)
from tools.language.categories import Category, TriageDecision
from tools.mail.model import Email

_ALERT_FLAGS = frozenset({"alert", "failure", "outage", "payment_failed"})
_BILL_FLAGS = frozenset({"amount_due", "overdue", "payment_failed"})
_UNPAID = frozenset({"payment_failed", "overdue"})
_OWN_WORK = frozenset(
    {
        "payment_failed",
        "overdue",
        "amount_due",
        "billing_claim",
        "tool",
        "approval_ask",
        "owed_work",
        "parent_meeting",
    }
)
"""A mailing's words that are the reader's own work all the same: a bill, a review, an approval."""

Verdict = tuple[TriageDecision, float]
"""A decision and how sure of it the rules are (0..1)."""


def applies_for_a_job(flags: set[str]) -> bool:
    """Someone applying for a job with the owner ("my CV", "I am applying"), not selling."""
    return "applies" in flags and "pitch_offer" not in flags


_SELLS = frozenset({"pitch_offer", "outreach_tool"})
"""Words that sell: an offer of services, an outreach tool's mark (a cold-outreach line such
as "je me permets de vous écrire" is a courtesy a customer writes too)."""
_NOT_SELLING = frozenset({"buyer_ask", "fault_report", "says_customer", "help_desk"})
"""A prospect's or a customer's words: asking the price, reporting a fault, a ticket raised;
and a help desk answering the reader's ticket."""
PITCH_FLAGS = frozenset({"pitch_offer", "pitch_call"})
"""A stranger's offer of services or ask for the right person: a pitch on its own."""


def asks_for_help(flags: set[str]) -> bool:
    """Someone asking for help with their own work, or applying for a job, selling nothing.

    A student's thesis, a journalist's story, a host's episode of their show, an applicant's CV,
    a recruiter's reference check for someone the owner knows.
    """
    helped = "help_ask" in flags and "pitch_offer" not in flags
    return helped or "reference_ask" in flags or applies_for_a_job(flags)


def not_a_pitch(flags: set[str], writer: Writer) -> Category | None:
    """What pitch-like words are in mail that is no pitch, the phishing checks having cleared it.

    Scam-like words ("verify", a link to an address) in a program's own notice: a service's
    `notification` (nobody pitches as a robot). A pitch's words ("a 15-min call") in a host's
    invitation onto their show or a student's ask for an interview: their own work, `other`.
    A stranger telling the owner her product broke ("who should I talk to?"): a `bug_report`;
    one asking what it costs: a `sales_inquiry`; one a colleague sent: `other`.
    """
    if _a_programs_notice(flags, writer):
        return "notification"
    if not writer.person:
        return None
    if asks_for_help(flags):
        return "other"
    if flags & _SELLS:
        return None
    if "fault_report" in flags or {"failure", "says_customer"} <= flags:
        return "bug_report"
    if flags & {"says_customer", "help_desk"} or ("referred" in flags and "buyer_ask" not in flags):
        return "other"  # a customer's word, a help desk's; someone a colleague sent
    return "sales_inquiry" if "buyer_ask" in flags else None


def _a_programs_notice(flags: set[str], writer: Writer) -> bool:
    """A program's own mail to the owner, not a mailing, offering nothing and booking no call.

    A person a program relays counts too: a host's message through a booking site.
    """
    relayed = writer.robot or "relayed_person" in flags
    return relayed and not writer.bulk and not flags & PITCH_FLAGS


def looks_cold(email: Email, flags: set[str], writer: Writer) -> bool:
    """Unsolicited outreach: a stranger's pitch, a fake "Re:", a chain of bumps.

    Someone the owner knows (or a colleague), or anyone at the domain of someone the owner
    writes to (a customer, a partner; free mail aside), is never cold; nor is someone asking
    for help with their own work or applying for a job, unless they also offer services. A
    stranger's mail that answers no mail of the owner is cold when it offers services (in a
    mailing too) or asks for "the right person" to the owner alone, pitches in two ways (an
    offer, a call to book, a cold-outreach line or tool, a hint such as an award), pretends to
    continue a conversation that never happened (a "Re:" without `In-Reply-To`) or pushes a
    meeting as a calendar invitation, with one pitch signal, or bumps its own unanswered mail
    ("following up on my last email"). One that answers the owner's mail is cold only when it
    pitches in two ways. A stranger asking a reward for a mail-record "finding" (a "beg
    bounty") is cold; one a colleague of the owner's sent ("Chloé said you are the right
    person") is not, unless they offer services.
    """
    if writer.known or writer.known_org:
        return False  # a partner's or customer's people (not free mail) are no strangers
    if flags >= {"bounty_ask", "trivial_finding"}:
        return True  # a "beg bounty": a reward asked for a stranger's DMARC "finding"
    if "referred" in flags and "pitch_offer" not in flags:
        return False  # "Chloé said you are the right person"; one who sells pitches all the same
    pitches = len(flags & PITCH_SIGNS)
    # A network relaying a stranger's message ("Brandon sent you a message") pitches as the
    # stranger does; a developer tool's mention is work.
    relayed_pitch = "relayed_person" in flags and "tool" not in flags and pitches >= 2
    if says_it_is_a_program(email, flags) and not PITCH_FLAGS <= flags and not relayed_pitch:
        return False  # a program's notice; one that offers services and books a call pitches
    if asks_for_help(flags):
        return False  # a student's, a journalist's, a host's or an applicant's ask sells nothing
    if flags & _NOT_SELLING and not flags & _SELLS:
        # A prospect asking what the owner's product costs, or a customer telling her it broke
        # ("we raised ticket #18467", "your calls fail since yesterday"), sells nothing.
        return False
    fake_reply = pretends_a_thread(email)
    if writer.answers_owner:
        return pitches >= 2  # it answers the owner's mail (or claims to): only a plain pitch
    if "pitch_bump" in flags:
        return True  # "following up on my last email", to someone who never answered
    # One to one, a pitch alone is enough; a mailing asks many readers for a call, but one
    # that offers a stranger's services is a pitch all the same.
    # A sales tool's one-to-one sequence adds an unsubscribe link, yet one person wrote it.
    one_to_one = not writer.bulk or sent_as_a_sequence(email, writer)
    alone = bool(flags & PITCH_FLAGS) and (one_to_one or "pitch_offer" in flags)
    # An invitation to a meeting the owner never agreed to (a pitch sent as a calendar event),
    # like a "Re:" without a thread, needs only one pitch signal beside it.
    pushed = fake_reply or "calendar_invite" in flags
    return pitches >= 2 or (pushed and pitches >= 1) or alone


def _calendar(flags: set[str]) -> Verdict | None:
    """Calendar mail: an invitation asks for an answer; an update informs; an answer is noise."""
    if "calendar_counter" in flags:
        return "respond", 0.65  # "New Time Proposed:": the organiser takes it or not
    if "calendar_reply" in flags and not flags & _UNPAID:  # "Declined: USD 1,254" is a card
        # An answer to the owner's invitation: a bare one is noise, one with a note is worth a
        # look, and one whose note asks the organiser something ("move it to 15:00?") wants
        # an answer.
        if "request" in flags:
            return "respond", 0.6
        return ("notify", 0.6) if "relayed_person" in flags else ("ignore", 0.6)
    if "calendar_update" in flags:
        return "notify", 0.75
    if "calendar_invite" in flags:
        return "respond", 0.7
    return None


def _from_person(category: Category, flags: set[str], writer: Writer) -> Verdict:
    # An applicant's own note ("I applied for the role, CV attached") waits on the owner too.
    asks = bool(flags & {"request", "meeting_ask", "action_required", "fault_report"})
    asks = asks or applies_for_a_job(flags)
    # A quote sent in answer to the owner's request waits on her yes or no.
    asks = asks or ("quote_sent" in flags and writer.answers_owner)
    if asks and (writer.direct or writer.blind):  # a blind copy asks each of its readers
        return "respond", 0.85 if writer.known else 0.75
    if writer.direct and "urgency" in flags:
        return "respond", 0.6  # something is on fire for them, and they wrote to the owner
    escalated = writer.known_org and "colleague" not in flags and flags & {"urgency", "blocked"}
    if escalated and not writer.blind:
        return "respond", 0.55  # a customer blocked, the owner on Cc: her team's to answer
    if writer.to_owner and "colleague" in flags and "deadline" in flags and "fyi" not in flags:
        return "respond", 0.6  # a colleague's "one page by Wed EOD", written to the owner
    if asks:
        return "notify", 0.55  # on Cc, though something is asked: perhaps of someone else
    return "notify", 0.7 if writer.known else 0.6


def _program_asks_or_warns(category: Category, flags: set[str], writer: Writer) -> Verdict | None:
    """A program's mail that asks the owner to act, warns them, or is sent to every customer."""
    if "tax_statement" in flags and not writer.marketing:
        return "notify", 0.6  # a statement to keep for the tax return, though it reads as a digest
    if "digest" in flags and not flags & {"failure", "outage", "payment_failed"}:
        # A round-up of a period, read at leisure if at all: the alerts it counts were sent one
        # by one, and what it says waits for the reader (a mention, a review) was too.
        return "ignore", 0.8
    if "secret_exposed" in flags and category != "newsletter":
        return "respond", 0.7  # a live key of the owner's in the open: revoke it now
    if "relayed_person" in flags and writer.robot and flags & PITCH_FLAGS and "tool" not in flags:
        return "ignore", 0.6  # a stranger's pitch relayed by a network ("open to a 20-min demo?")
    if "relayed_person" in flags and writer.robot:
        # A tool relaying a person: a mention, a comment, a direct message.
        asked = flags & {"request", "action_required"} and "fyi" not in flags
        return ("respond", 0.65) if asked else ("notify", 0.65)
    promotion = _promotion(flags, writer)
    if "price_change" in flags and not flags & _UNPAID and not promotion:
        # What the owner pays changes (a premium, an instalment), even with an offer to change
        # before a date ("wilt u iets wijzigen? dat kan tot 31 december") or a mailing's
        # headers: worth seeing, not work to do; unless its words are a promotion.
        return "notify", 0.55
    # Money paid out or paid already ("your expense report was reimbursed") closes the task
    # its words name; a failed or overdue payment does not.
    settled = "paid_out" in flags and not flags & _UNPAID
    asks = (
        ("action_required" in flags and not settled)
        or "payment_failed" in flags
        or (category == "billing" and flags & _BILL_FLAGS)
    )
    mailing = "newsletter_subject" in flags and "payment_failed" not in flags
    if asks and not writer.marketing and not _subscribers_call(flags, writer) and not mailing:
        return "respond", 0.7
    if "customer_notice" in flags and not flags & _ALERT_FLAGS:
        return "ignore", 0.7  # new terms, a survey: what every customer is sent
    if _routine_failure(flags):
        return "ignore", 0.55  # the nightly tests failed again: the team's on-call watches them
    if flags & _ALERT_FLAGS or category == "urgent_incident":
        return "notify", 0.8
    if "crash_named" in flags and not writer.marketing and category != "newsletter":
        return "notify", 0.65  # an error tracker's "KeyError: 'site_id'", not a mailing's tip
    return None


def _routine_failure(flags: set[str]) -> bool:
    """A scheduled test run that failed, nothing shipped, saved or in production at stake."""
    if "failure" not in flags or "routine_run" not in flags:
        return False
    return not flags & {"prod", "routine_guard", "outage", "payment_failed"}


def _promotion(flags: set[str], writer: Writer) -> bool:
    """A marketing list's mail whose words sell ("prices go up Monday: 20% off")."""
    return writer.marketing and "news_words" in flags


def _subscribers_call(flags: set[str], writer: Writer) -> bool:
    """A mass mailing's call to act, said to every subscriber ("register now", "donate").

    Mail with an unsubscribe link from an organisation the owner has never written to; a bill
    or a failed payment is the reader's own whoever sends it, and so is a developer tool's
    review request or mention, or an expense tool's reports to approve (their notices carry an
    unsubscribe link too).
    """
    return writer.bulk and writer.unsubscribe and not writer.known_org and not flags & _OWN_WORK


def _from_program(category: Category, flags: set[str], writer: Writer) -> Verdict:
    urgent = _program_asks_or_warns(category, flags, writer)
    if urgent:
        return urgent
    if "colleague" in flags:
        # The company's own announcements: a deadline makes them work to do, unless they say
        # they are for information ("FYI, no action needed before Friday's rollout"), or the
        # date is only the party's RSVP, which each reader may let pass.
        only_rsvp = "rsvp" in flags and not flags & {"request", "action_required"}
        asks = "deadline" in flags and "fyi" not in flags and not only_rsvp
        return ("respond", 0.6) if asks else ("notify", 0.65)
    # A marketing list's reminders and changes ("last call", "your trial ends") are said to
    # every subscriber, unless they come from an organisation the owner deals with.
    listed = writer.marketing and not writer.known_org
    if ("reminder" in flags or "rostered" in flags) and not listed:
        return "notify", 0.55  # of something the owner signed up for, or a shift put down for
    if "service_change" in flags and not listed:
        return "notify", 0.6  # maintenance, an end of support: something the owner runs changes
    if flags & {"parcel", "message_waiting"} and not writer.marketing:
        # The owner's parcel on its way, or a letter in a secure inbox, though the sender adds
        # a mailing's footer.
        return "notify", 0.55
    paid = bool(flags & PAID_BY_ITSELF) and not flags & _UNPAID
    promotion = _promotion(flags, writer)
    if (writer.known_org or "known_list" in flags) and not paid and not promotion:
        return "notify", 0.55  # the news of an organisation the owner deals with
    if writer.group_list and not writer.robot:
        return "notify", 0.55  # a person writing to a group the owner is in: not marketing
    if category == "newsletter" or paid:
        return "ignore", 0.8
    if writer.bulk:
        return "ignore", 0.6
    return "notify", 0.6


def _by_writer(category: Category, flags: set[str], writer: Writer) -> Verdict:
    """The verdict for who wrote it: a person, or a program or mass mailing."""
    if "turns_to_owner" in flags and not writer.robot:
        # A person on a mailing list, or writing to someone else with the owner on Cc, turning
        # to her by name: their word to her, not the list's nor the other reader's.
        return _from_person(category, flags, dataclasses.replace(writer, direct=True))
    if writer.person:
        return _from_person(category, flags, writer)
    return _from_program(category, flags, writer)


def decide(
    email: Email,
    category: Category,
    flags: set[str],
    writer: Writer,
    suspicious: str,
    cold: bool = False,
    sure_cold: bool = False,
) -> Verdict:
    """Respond, notify or ignore, and how sure (0..1) the rules are of it."""
    if suspicious:
        return "ignore", 0.9
    if is_bounce(email, flags):
        # The owner's mail did not arrive: worth seeing (to send it again, or fix the address),
        # yet most readers do not count it as mail to answer. A report that the server is
        # still trying says only that it is late.
        return "notify", 0.85 if "delivery_delay" in flags else 0.6
    if is_auto_reply(email, flags):
        # A customer's or a vendor's absence, with someone to write to instead, is worth
        # knowing; a colleague's is on the team's calendar already.
        stand_in = names_a_stand_in(email) and "colleague" not in flags
        return ("notify", 0.6) if stand_in else ("ignore", 0.85)
    if cold:
        return "ignore", 0.75
    stranger = writer.person and not writer.known and not asks_for_help(flags)
    if category == "spam_or_cold" and stranger:
        # The words sound like a pitch: sure enough to skip, or shown, marked unsure.
        return ("ignore", 0.6) if sure_cold else ("notify", 0.45)
    calendar = _calendar(flags)
    verdict = calendar or _by_writer(category, flags, writer)
    if verdict[0] == "respond" and "nothing_to_do" in flags:
        verdict = "notify", 0.65  # "you need not do anything": the writer says so themselves
    elif verdict[0] == "respond" and "goes_on_without" in flags and "question" not in flags:
        verdict = "notify", 0.6  # "start standup without me pls": late, asking nothing of her
    elif calendar and "calendar_invite" in flags and writer.group_list and writer.blind:
        verdict = "notify", 0.6  # an invitation to a whole list (the all-hands): seen, not asked
    if "alert_over" in flags and not writer.person and calendar is None:
        # A monitor's "resolved" / "back up": the alert came before, and it is over now. An
        # incident people worked on (who resolved it, its cause) is worth reading still.
        if verdict[0] == "respond" or "incident_notes" in flags:
            return "notify", 0.6
        return "ignore", 0.6
    return verdict
