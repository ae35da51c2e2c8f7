"""Offline, deterministic triage of one message: priority, category, next action and reason.

Each category is scored from weighted signals of the rule files (headers, sender, subject,
body, and combinations of flags such as "credential request + threat"), the best category
wins, and confidence comes from the margin over the runner-up and the strength of the evidence;
the decision follows, and a model learned from labelled mail (`prior.py`) may change it where
it is sure. A language model is only consulted where the rules are unsure (`UNSURE_BELOW`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime

from graph.engines.triage.calendars import a_calendar_invitation
from graph.engines.triage.dates import has_time_expression, parse_date
from graph.engines.triage.decision import (
    applies_for_a_job,
    decide,
    looks_cold,
    not_a_pitch,
)
from graph.engines.triage.phishing import login_links_home, suspicion
from graph.engines.triage.phrases import Phrase
from graph.engines.triage.prior import weigh
from graph.engines.triage.priority import action_for, filed_under, priority_for
from graph.engines.triage.profile import MailboxProfile, replace_owner
from graph.engines.triage.reading import (
    SUBJECT_CHARS,
    asks_a_question,
    header,
    offers_unsubscribe,
    sent_to_a_list,
    visible_body,
)
from graph.engines.triage.reasons import Signal, lead, reason, unreadable_reason
from graph.engines.triage.rulebook import RuleBook, default_rules
from graph.engines.triage.senders import base_domain, domain_of, sender_flags
from graph.engines.triage.verdict import (
    UNREADABLE_CATEGORY,
    UNREADABLE_PRIORITY,
    UNSURE_BELOW,
    RuleTriage,
)
from graph.engines.triage.writers import (
    Writer,
    answers_in_thread,
    owner_named,
    read_writer,
    to_private_address,
)
from tools.language.categories import CATEGORIES, Action, Category, TriageDecision
from tools.mail.model import Email

logger = logging.getLogger(__name__)

SURE_COLD = 0.6
"""A stranger's mail the phrases call cold with this confidence is skipped; below, it is shown."""
RULED_COLD = 0.7
"""How sure the category is when the cold-outreach rules (`decision.looks_cold`) set it."""
RULED_SUSPICIOUS = 0.8
"""How sure the category is when the phishing rules set it."""
PRIVATE_PERSONAL = 0.6
"""How sure `personal` is for a person's mail to the owner's private address on no other
evidence (most such mail in the dev part is family, school, friends; some is a household bill)."""
COMPANY_ANNOUNCEMENT = 0.6
"""How sure `other` is for a colleague's mail to the company's list that reads like a
newsletter: an announcement of the owner's own company (a policy, an office notice), not news."""
CALENDAR_MEETING = 0.7
"""How sure `meeting_request` is for a calendar invitation, update or cancellation that is not
a mailing: whatever its words are about, the mail is about a meeting."""
PROGRAM_NOTICE = 0.6
"""How sure `notification` is for a program's message that only its list headers and footer
called a newsletter: an unsubscribe link says how mail was sent, not what it is about."""
MIN_SCORE = 1.5
"""A category needs at least this much evidence; below it the message is `other`."""
_NEWS_WORDS = frozenset({"newsletter", "promotion"})
"""How `rules/phrases.toml` names the words of news and promotions (not the unsubscribe footer)."""
_CALENDAR_MAIL = frozenset({"calendar_invite", "calendar_update"})
"""A calendar's invitation, update or cancellation (not an answer to one, which is noise)."""
_WRAPPED_LINE_RE = re.compile(r"(?<=[^\n])\n(?=[^\n])")
"""A line break inside a paragraph: mail wrapped at 72 columns splits phrases across lines."""
_JIRA_KEY_RE = re.compile(r"[(\[]\s*[A-Z][A-Z0-9]{1,9}-\d{1,6}\s*[)\]]")
"""A ticket key such as `(ABC-123)` in a subject: written in upper case, so read as written."""


@dataclass
class _Reading:
    """What one message says, as the rules see it, and what they have found in it so far."""

    subject_raw: str
    subject: str
    both: str
    subject_hits: set[Phrase]
    body_hits: set[Phrase]
    evidence: list[Signal] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    header_says: list[str] = field(default_factory=list)
    """How the priority-only headers (no category) are named, for the reason."""

    @property
    def any_hits(self) -> set[Phrase]:
        return self.subject_hits | self.body_hits


def _read(email: Email, rules: RuleBook) -> _Reading:
    subject_raw = (email.subject or "")[:SUBJECT_CHARS]
    subject = subject_raw.casefold()
    body = _WRAPPED_LINE_RE.sub(" ", visible_body(email.body or "")).casefold()
    return _Reading(
        subject_raw,
        subject,
        f"{subject}\n{body}",
        rules.index.matching(subject),
        rules.index.matching(body),
    )


def _weigh_headers(email: Email, rules: RuleBook, seen: _Reading) -> None:
    headers = {str(k).lower(): str(v or "") for k, v in (email.headers or {}).items()}
    for rule in rules.headers:
        value = headers.get(rule.header)
        if value and rule.pattern.search(value.casefold()):
            if rule.flag:
                seen.flags.add(rule.flag)
            if rule.category is not None:
                seen.evidence.append(Signal(rule.category, rule.weight, rule.says))
            else:
                seen.header_says.append(rule.says)


def _weigh_sender(sender: str, rules: RuleBook, seen: _Reading) -> None:
    for rule in rules.senders:
        if sender and rule.pattern.search(sender):
            if rule.flag:
                seen.flags.add(rule.flag)
            if rule.category is not None:
                seen.evidence.append(Signal(rule.category, rule.weight, rule.says))


def _weigh_phrases(rules: RuleBook, seen: _Reading) -> None:
    # Only the rules of the phrases found, in the rule files' order (it orders the reason).
    positions = {p for hit in seen.any_hits for p in rules.phrase_rules.get(hit, ())}
    for position in sorted(positions):
        rule = rules.phrases[position]
        if rule.subject and rule.pattern in seen.subject_hits:
            seen.evidence.append(Signal(rule.category, rule.subject, rule.says))
        elif rule.body and rule.pattern in seen.body_hits:
            seen.evidence.append(Signal(rule.category, rule.body, rule.says))
    if _JIRA_KEY_RE.search(seen.subject_raw):
        seen.evidence.append(Signal("notification", 3.0, "ticket update"))


def _weigh_flags(
    rules: RuleBook, seen: _Reading, colleague: bool, email: Email, profile: MailboxProfile
) -> None:
    """Raise the phrase flags and the ones read from the whole message, then the combinations."""
    any_hits = seen.any_hits
    hits_in = {"subject": seen.subject_hits, "body": seen.body_hits, "any": any_hits}
    flags = seen.flags
    # A reply to the owner's own mail keeps her subject: its question is hers (or one she
    # answered), not this writer's ("Re: would you be interested?" / "Great, fine by us").
    answering = answers_in_thread(email, profile)
    for hit in any_hits:  # only the flag rules of the phrases found (a set: order is no matter)
        for rule in rules.flag_rules.get(hit, ()):
            if answering and rule.flag in _ASKS and hit not in seen.body_hits:
                continue
            if hit in hits_in[rule.where]:
                flags.add(rule.flag)
    if has_time_expression(seen.both, any_hits):
        flags.add("time_expression")
    words = seen.both.partition("\n")[2] if answering else seen.both
    if "?" in words and asks_a_question(words):
        flags.add("request")  # a question mark in the words, not a link's nor a help line's
        flags.add("question")
    if any(e.category == "billing" and e.weight >= 2.0 for e in seen.evidence):
        flags.add("billing_claim")
    _implied_flags(flags, email, colleague)
    for combo in rules.combos:
        if combo.flags <= flags and not (combo.unless & flags):
            seen.evidence.append(Signal(combo.category, combo.weight, combo.says))


_ASKS = frozenset({"request", "question", "meeting_ask", "fault_report"})
"""The flags that say the writer asks something of the owner (or reports a fault to her)."""


def _implied_flags(flags: set[str], email: Email, colleague: bool) -> None:
    """Flags that follow from others: what one phrase implies, what another cancels."""
    if "paid_out" in flags:
        flags.add("receipt")  # an expense report paid out is a receipt too
    if "owed_work" in flags:
        flags.add("action_required")  # "2 reviews still to write"
    if "login_host" in flags and not login_links_home(email, flags):
        flags.add("ip_link")  # `secure-login.example-pay.com`, not Google's own account page
    if "call_minutes" in flags and "rate_minutes" not in flags:
        flags.add("cold_line")  # "30 minutes next week?", not "every 30 minutes"
    if colleague:
        flags.discard("cold_line")
    if "no_outage" in flags:
        flags.discard("outage")


def _apply_context(scores: dict[Category, float], flags: set[str], colleague: bool) -> None:
    """Adjust scores for the context (bulk, robot, colleague, leisure) rather than one signal."""
    if flags & {"bulk", "automated", "tool", "shop_sender"}:
        # Bulk and robot mail talk about bugs, meetings and outages too; it is still bulk. A
        # web form is automated yet carries a real lead, so sales inquiries are not damped.
        for category in ("bug_report", "feature_request", "meeting_request", "personal"):
            scores[category] *= 0.5
        alerting = {"alert", "prod"} <= flags or ("outage" in flags and "bulk" not in flags)
        if not alerting:
            scores["urgent_incident"] *= 0.5
    else:
        scores["notification"] *= 0.5  # tool phrases typed by a person do not make a robot
    if "bulk" in flags:
        scores["sales_inquiry"] *= 0.5
        if not flags & {"ip_link", "lookalike", "brand_spoof", "owner_lookalike"}:
            scores["spam_or_cold"] *= 0.6  # cold-outreach lines are common in newsletters
    if colleague:
        scores["spam_or_cold"] *= 0.3
        scores["sales_inquiry"] *= 0.5
    if applies_for_a_job(flags):
        scores["spam_or_cold"] = 0.0  # an applicant's "quick call" sells nothing
    if "personal_word" in flags and "work_word" not in flags:
        scores["meeting_request"] *= 0.6  # brunch on Saturday is a plan, not a meeting
    if "no_outage" in flags:
        scores["urgent_incident"] *= 0.5


def _pick(evidence: list[Signal], flags: set[str], colleague: bool) -> tuple[Category, float]:
    """The best-scoring category and how sure that is: strength of evidence times margin."""
    scores: dict[Category, float] = dict.fromkeys(CATEGORIES, 0.0)
    for item in evidence:
        scores[item.category] += item.weight
    _apply_context(scores, flags, colleague)
    # Highest score first, ties in the order of CATEGORIES (a reversed sort stays stable).
    ranked = sorted(CATEGORIES, key=scores.__getitem__, reverse=True)
    top_score, second_score = scores[ranked[0]], max(scores[ranked[1]], 0.0)
    if top_score < MIN_SCORE:
        return "other", 0.4 if top_score <= 0 else 0.45
    strength = top_score / (top_score + 3.0)
    margin = (top_score - second_score) / top_score
    return ranked[0], min(0.97, 0.25 + 0.75 * strength * margin**0.5)


def _categorise(
    email: Email, rules: RuleBook, profile: MailboxProfile, vip_senders: Sequence[str]
) -> tuple[_Reading, Category, float, Writer, str]:
    """What the message is about and how sure, who wrote it, and any phishing warning."""
    seen = _read(email, rules)
    _weigh_headers(email, rules, seen)
    sender = (email.from_addr or "").strip().casefold()
    _weigh_sender(sender, rules, seen)
    colleague = sender_flags(email, sender, profile.owner_addresses, vip_senders, rules, seen.flags)
    trusted = (
        colleague
        or profile.knows(sender)
        or profile.answers_owner(email)
        or base_domain(domain_of(sender)) in profile.known_domains  # a partner's, a customer's
    )
    list_id = header(email, "List-Id")
    if (list_id and profile.lists_for_a_known_org(list_id)) or profile.relays_a_known_org(
        email.from_name or ""
    ):
        seen.flags.add("known_list")  # the news of an organisation the owner writes to
    _weigh_phrases(rules, seen)
    _weigh_flags(rules, seen, trusted, email, profile)
    category, confidence = _pick(seen.evidence, seen.flags, trusted)
    writer = read_writer(email, profile, seen.flags)
    if _reads_like_news(seen.evidence):
        seen.flags.add("news_words")  # news or a promotion in the words, not only the footer
    owner_named(profile, seen.flags, seen.both, writer, bool(list_id))
    if a_calendar_invitation(email, seen.flags, writer):
        seen.flags.add("calendar_invite")
    if looks_cold(email, seen.flags, writer):
        seen.flags.add("looks_cold")
    suspicious = suspicion(email, profile, seen.flags, writer.known)
    if (suspicious and category != "urgent_incident") or "looks_cold" in seen.flags:
        # The sender and structure rules decided it, not the words: their confidence counts.
        ruled = RULED_SUSPICIOUS if suspicious else RULED_COLD
        confidence = confidence if category == "spam_or_cold" else 0.0
        category, confidence = "spam_or_cold", max(confidence, ruled)
    elif seen.flags & _CALENDAR_MAIL and not sent_to_a_list(email):
        category, confidence = "meeting_request", max(confidence, CALENDAR_MEETING)
    elif category == "other" and writer.person and to_private_address(email, profile, rules):
        category, confidence = "personal", PRIVATE_PERSONAL
    elif category == "newsletter" and "colleague" in seen.flags and not offers_unsubscribe(email):
        category, confidence = "other", COMPANY_ANNOUNCEMENT
    elif category == "newsletter" and writer.robot and not _reads_like_news(seen.evidence):
        category, confidence = "notification", PROGRAM_NOTICE
    elif category == "spam_or_cold" and (unpitched := not_a_pitch(seen.flags, writer)):
        category, confidence = unpitched, PROGRAM_NOTICE
    return seen, category, confidence, writer, suspicious


def _reads_like_news(evidence: list[Signal]) -> bool:
    """Whether the words make it news or a promotion, not only its list headers and footer."""
    return any(e.category == "newsletter" and e.says in _NEWS_WORDS for e in evidence)


def triage_by_rules(
    email: Email,
    *,
    owner_addresses: Sequence[str] = (),
    vip_senders: Sequence[str] = (),
    now: datetime | None = None,
    rules: RuleBook | None = None,
    profile: MailboxProfile | None = None,
) -> RuleTriage:
    """Triage one message by the rule files: what it is, how urgent, and what to do with it.

    The row has priority, category, action, reason and confidence, and the decision (respond /
    notify / ignore) with its own confidence and any phishing warning.

    `owner_addresses` are the mailbox owner's addresses (mail from their own domain is never
    cold outreach, and domains imitating it are suspicious); `vip_senders` are addresses or
    `@domain`s whose deadlines make a message high priority; `now` is when the message is
    read (default: the message's own date) and decides whether a proposed meeting is soon;
    `rules` default to the shipped rule files; `profile` is what the mailbox says about its
    owner (`profile.build_profile`: the people they know), by default only `owner_addresses`.
    """
    if email.error:
        return RuleTriage(
            UNREADABLE_PRIORITY, UNREADABLE_CATEGORY, "none", unreadable_reason(email.error), 1.0
        )
    rules = rules or default_rules()
    if profile is None or (owner_addresses and not profile.owner_addresses):
        profile = replace_owner(profile, owner_addresses)
    row, flags, writer = rules_verdict(email, rules, profile, vip_senders, now)
    return row if rules.prior is None else weigh(rules.prior, email, row, flags, writer, profile)


def rules_verdict(
    email: Email,
    rules: RuleBook,
    profile: MailboxProfile,
    vip_senders: Sequence[str],
    now: datetime | None,
) -> tuple[RuleTriage, Set[str], Writer]:
    """The rules' own row, before `prior.weigh`, with the flags raised and who wrote it."""
    seen, category, confidence, writer, suspicious = _categorise(email, rules, profile, vip_senders)
    reference = now.date() if now is not None else parse_date(email.date)
    priority, why = priority_for(
        category,
        rules.priority_by_category,
        seen.flags,
        seen.both,
        seen.any_hits,
        reference,
        seen.header_says,
    )
    action = action_for(category, rules.action_by_category, seen.flags)
    decision, sure, action = _decision(
        email, category, confidence, action, seen, writer, suspicious
    )
    said = reason(
        category, seen.evidence, seen.flags, why, lead(category, seen.flags, seen.both, why)
    )
    logger.debug("triage %s: %s/%s/%s/%s %s", email.id, priority, category, action, decision, said)
    person = writer.person and "looks_cold" not in seen.flags and not suspicious
    row = RuleTriage(
        priority, filed_under(category, seen.flags), action, said, round(confidence, 2),
        decision, round(sure, 2), suspicious, person,
    )  # fmt: skip
    return row, seen.flags, writer


def _decision(
    email: Email,
    category: Category,
    confidence: float,
    action: Action,
    seen: _Reading,
    writer: Writer,
    suspicious: str,
) -> tuple[TriageDecision, float, Action]:
    """The decision, how sure, and the action it leaves.

    A suspicious mail gets no action but archive (no reply, ticket or lead), and nothing the
    rules are unsure of is archived.
    """
    cold = "looks_cold" in seen.flags
    company = "freemail" not in seen.flags  # a pitch comes from a company; people write from home
    # A stranger asking for help with their own work (a thesis, a story) is shown, unsure.
    sure_cold = (
        category == "spam_or_cold"
        and "help_ask" not in seen.flags
        and (confidence >= SURE_COLD or (company and confidence >= SURE_COLD - 0.1))
    )
    decision, sure = decide(email, category, seen.flags, writer, suspicious, cold, sure_cold)
    if (suspicious and action != "archive") or (action == "archive" and sure < UNSURE_BELOW):
        action = "none"
    return decision, sure, action
