"""Offline, deterministic triage of one message: priority, category and next action.

Every message gets a fast, explainable answer from these rules before any model is asked;
a model is only consulted where the rules are unsure (confidence below `UNSURE_BELOW`).

How it works: each category is scored from weighted signals that live in the tables
below (headers, sender, subject, body, and combinations of flags such as "credential
request + threat"), the best category wins, and confidence comes from the margin over the
runner-up and the strength of the evidence. Priority starts from the category's default
and is moved by `_priority_for`; the action comes from the category, with the exceptions
documented in `_action_for`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from tools.mail.model import (
    EMPTY_BODY_MARKER,
    QUOTE_END,
    QUOTE_START,
    SIGNATURE_END,
    SIGNATURE_START,
    Email,
)

logger = logging.getLogger(__name__)

Priority = Literal["high", "normal", "low"]
Category = Literal[
    "urgent_incident",
    "bug_report",
    "feature_request",
    "meeting_request",
    "sales_inquiry",
    "billing",
    "newsletter",
    "notification",
    "personal",
    "spam_or_cold",
    "other",
]
Action = Literal[
    "reply",
    "schedule_meeting",
    "create_ticket",
    "notify_team",
    "create_lead",
    "archive",
    "none",
]

PRIORITIES: tuple[Priority, ...] = ("high", "normal", "low")
CATEGORIES: tuple[Category, ...] = (
    "urgent_incident",
    "bug_report",
    "feature_request",
    "meeting_request",
    "sales_inquiry",
    "billing",
    "newsletter",
    "notification",
    "personal",
    "spam_or_cold",
    "other",
)
ACTIONS: tuple[Action, ...] = (
    "reply",
    "schedule_meeting",
    "create_ticket",
    "notify_team",
    "create_lead",
    "archive",
    "none",
)

UNSURE_BELOW = 0.55
"""Below this confidence the caller may ask a model for a second opinion."""

BODY_CHARS = 4_000
"""Visible body text (outside quotes and signatures) that is looked at."""
RAW_BODY_CHARS = 20_000
"""Raw body scanned for that visible text, so a huge quoted thread cannot slow us down."""
SUBJECT_CHARS = 300
MEETING_SOON_DAYS = 3
"""A meeting proposed within this many days of `now` is high priority."""
MIN_SCORE = 1.5
"""A category needs at least this much evidence; below it the message is `other`."""
REASON_CHARS = 60
"""A reason is read in a table cell: a short phrase, its least important parts left out."""

UnreadablePriority = Literal["unknown"]
UnreadableCategory = Literal["unreadable"]
UNREADABLE_PRIORITY: UnreadablePriority = "unknown"
"""The priority of a message that could not be read: only the person who opens it can tell.
Never one of `PRIORITIES`, so no view mistakes a broken message for ordinary mail."""
UNREADABLE_CATEGORY: UnreadableCategory = "unreadable"
"""The category of a message that could not be read; never one of `CATEGORIES`, which a model
may choose from."""


@dataclass(frozen=True)
class RuleTriage:
    """What the rules decided for one message, and how sure they are."""

    priority: Priority | UnreadablePriority
    category: Category | UnreadableCategory
    action: Action
    reason: str
    """A short phrase (about `REASON_CHARS`) naming the deciding signals in plain words; it
    never quotes the subject, which every view shows beside it."""
    confidence: float
    """0..1; below `UNSURE_BELOW` the caller may ask a model."""


# --------------------------------------------------------------------------------------
# Fast phrase matching
# --------------------------------------------------------------------------------------

_Variant = tuple[frozenset[str] | None, bool, re.Pattern[str]]
"""(first letters or None, check the word boundary before the match, literal-led regex)."""


@dataclass(frozen=True, eq=False)
class Phrase:
    r"""A compiled pattern, plus literal-led variants of it that `re` can search quickly.

    Python's `re` only skips quickly through text when a pattern starts with a literal; a
    leading `\b` or an alternation `(alt1|alt2|...)` makes it try every position, so a
    hundred rules would cost milliseconds per message. `_variants` rewrites a `\b`-anchored
    pattern into one literal-led regex per leading alternative (the word boundary is checked
    by hand) and notes the first letters each one starts with; `_PhraseIndex` then runs only
    the variants whose first letters begin some word of the text. `variants` is None when a
    pattern cannot be rewritten; it then runs as written.
    """

    regex: re.Pattern[str]
    variants: tuple[_Variant, ...] | None


_WORD_CHAR_RE = re.compile(r"\w")
_WORD_START_RE = re.compile(r"\b\w{1,3}")
_LITERAL_PUNCTUATION_RE = re.compile(r"\\[^\w\s]|[^\w\\()\[\]{}.|?*+^$]")


def _split_alternatives(source: str) -> list[str]:
    """Split a regex source at its top-level `|` (not inside groups or character classes)."""
    parts: list[str] = []
    depth, start, index, in_class = 0, 0, 0, False
    while index < len(source):
        char = source[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(source[start:index])
            start = index + 1
        index += 1
    parts.append(source[start:])
    return parts


def _group_end(source: str) -> int:
    """Return the index of the `)` closing the group that opens at `source[0]`, or -1."""
    depth, index, in_class = 0, 0, False
    while index < len(source):
        char = source[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return -1


def _expand(sequence: str, budget: list[int]) -> list[str] | None:
    r"""Rewrite `sequence` as alternatives that each start with a letter, digit or `\d`."""
    budget[0] -= 1
    if budget[0] < 0:
        return None
    if sequence.startswith("("):
        end = _group_end(sequence)
        if end < 0:
            return None
        inner, rest = sequence[1:end], sequence[end + 1 :]
        if inner.startswith("?:"):
            inner = inner[2:]
        elif inner.startswith("?"):
            return None  # look-arounds, flags, named groups: not worth understanding here
        optional = rest[:1] in ("?", "*")
        if optional:
            rest = rest[1:].removeprefix("?")
        elif rest[:1] in ("+", "{"):
            return None
        expanded: list[str] = []
        for alternative in _split_alternatives(inner) + ([""] if optional else []):
            found = _expand(alternative + rest, budget)
            if found is None:
                return None
            expanded += found
        return expanded
    if sequence.startswith(r"\d") or sequence[:1].isalnum():
        return [sequence]
    return None


def _variant_starts(sequence: str) -> frozenset[str] | None:
    """Return the first (up to three) letters every match of a literal-led `sequence` has."""
    if sequence.startswith(r"\d"):
        return frozenset("0123456789")
    length = 0
    while length < min(3, len(sequence)) and sequence[length].isalnum():
        length += 1
    if sequence[length : length + 1] in ("?", "*", "{"):
        length -= 1  # the last letter is optional
    return frozenset({sequence[:length]}) if length > 0 else None


def _variants(pattern: str) -> tuple[_Variant, ...] | None:
    r"""Literal-led variants of a pattern whose alternatives start with `\b` or a literal."""
    variants: dict[str, bool] = {}
    budget = [400]
    for alternative in _split_alternatives(pattern):
        if alternative.startswith(r"\b"):
            found = _expand(alternative[2:], budget)
            if found is None:
                return None
            variants.update(dict.fromkeys(found, True))
        elif _LITERAL_PUNCTUATION_RE.match(alternative):
            variants[alternative] = False  # already literal-led, no word boundary to check
        else:
            return None
    return tuple(
        (_variant_starts(seq) if boundary else None, boundary, re.compile(seq))
        for seq, boundary in variants.items()
    )


def _word_starts(text: str) -> set[str]:
    """Return the first one, two and three letters of every word in `text`."""
    threes = set(_WORD_START_RE.findall(text))
    return threes | {w[:2] for w in threes} | {w[:1] for w in threes}


def _occurs(regex: re.Pattern[str], text: str, boundary: bool) -> bool:
    """Whether `regex` matches in `text`, at the start of a word when `boundary` is set."""
    match = regex.search(text)
    while match is not None:
        start = match.start()
        if not boundary or start == 0 or not _WORD_CHAR_RE.match(text, start - 1):
            return True
        match = regex.search(text, start + 1)
    return False


class _PhraseIndex:
    """Finds which of many phrases occur in a text, running as few regexes as possible."""

    def __init__(self, phrases: Iterable[Phrase]) -> None:
        self._unindexed: list[Phrase] = []
        self._always: list[tuple[Phrase, bool, re.Pattern[str]]] = []
        self._by_start: dict[str, list[tuple[Phrase, bool, re.Pattern[str]]]] = {}
        for phrase in dict.fromkeys(phrases):
            if phrase.variants is None:
                self._unindexed.append(phrase)
                continue
            for starts, boundary, regex in phrase.variants:
                entry = (phrase, boundary, regex)
                if starts is None:
                    self._always.append(entry)
                for start in starts or ():
                    self._by_start.setdefault(start, []).append(entry)

    def matching(self, text: str) -> set[Phrase]:
        """Return the phrases that occur in `text`."""
        found: set[Phrase] = set()
        if not text:
            return found
        for phrase in self._unindexed:
            if phrase.regex.search(text):
                found.add(phrase)
        candidates = list(self._always)
        for start in _word_starts(text):
            candidates += self._by_start.get(start, ())
        for phrase, boundary, regex in dict.fromkeys(candidates):
            if phrase not in found and _occurs(regex, text, boundary):
                found.add(phrase)
        return found


def _phrase(pattern: str) -> Phrase:
    return Phrase(re.compile(pattern), _variants(pattern))


# --------------------------------------------------------------------------------------
# Rule tables
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextRule:
    """A phrase that counts towards a category when it appears in the subject or body."""

    category: Category
    pattern: Phrase
    subject: float
    """Weight when found in the subject."""
    body: float
    """Weight when found in the visible body."""
    says: str
    """How a reason names this signal, in a few plain words."""


@dataclass(frozen=True)
class FlagRule:
    """A phrase that raises a flag; flags feed the combinations and the priority."""

    flag: str
    pattern: Phrase
    where: Literal["subject", "body", "any"] = "any"


@dataclass(frozen=True)
class HeaderRule:
    """A header whose value matches `pattern` counts towards a category and/or sets a flag."""

    header: str
    pattern: re.Pattern[str]
    category: Category | None
    weight: float
    says: str
    flag: str = ""


@dataclass(frozen=True)
class SenderRule:
    """A sender address shape (`local@domain`) that counts towards a category."""

    pattern: re.Pattern[str]
    category: Category | None
    weight: float
    says: str
    flag: str = ""


@dataclass(frozen=True)
class ComboRule:
    """All of `flags` present (and none of `unless`) adds `weight` to `category`."""

    flags: frozenset[str]
    category: Category
    weight: float
    says: str
    unless: frozenset[str] = frozenset()


def _text(category: Category, pattern: str, subject: float, body: float, says: str) -> TextRule:
    return TextRule(category, _phrase(pattern), subject, body, says)


def _flag(flag: str, pattern: str, where: Literal["subject", "body", "any"] = "any") -> FlagRule:
    return FlagRule(flag, _phrase(pattern), where)


def _combo(flags: str, category: Category, weight: float, says: str, unless: str = "") -> ComboRule:
    return ComboRule(frozenset(flags.split()), category, weight, says, frozenset(unless.split()))


# Headers are the most reliable signal: bulk mail and robots announce themselves.
HEADER_RULES: tuple[HeaderRule, ...] = (
    HeaderRule(
        "list-unsubscribe",
        re.compile(r"\S"),
        "newsletter",
        3.0,
        "bulk mail with an unsubscribe link",
        "bulk",
    ),
    HeaderRule("list-id", re.compile(r"\S"), "newsletter", 2.0, "sent to a mailing list", "bulk"),
    HeaderRule(
        "precedence",
        re.compile(r"\b(bulk|list|junk)\b"),
        "newsletter",
        2.0,
        "bulk mail",
        "bulk",
    ),
    HeaderRule(
        "auto-submitted",
        re.compile(r"auto-(generated|replied|notified)"),
        "notification",
        3.0,
        "automated message",
        "automated",
    ),
    HeaderRule(
        "x-mailer",
        re.compile(
            r"mailchimp|sendgrid|campaign|hubspot|sendinblue|brevo|mailerlite|klaviyo|substack|mailjet|constant ?contact"
        ),
        "newsletter",
        1.5,
        "sent by a bulk mailer",
        "bulk",
    ),
    HeaderRule(
        "x-mailer",
        re.compile(
            r"lemlist|outreach\.io|mailshake|reply\.io|apollo|woodpecker|salesloft|instantly|smartlead"
        ),
        "spam_or_cold",
        2.5,
        "sent by a cold-outreach tool",
        "outreach_tool",
    ),
    HeaderRule(
        "x-priority", re.compile(r"^\s*[12]\b"), None, 0.0, "marked urgent", "high_importance"
    ),
    HeaderRule(
        "importance", re.compile(r"^\s*high"), None, 0.0, "marked important", "high_importance"
    ),
)

# Sender addresses: robots, billing departments, mass mailers. Domains are matched by their
# name, not their top-level domain, so `github.com` and a self-hosted `github.example` agree.
_TOOL_NAMES = (
    r"github|gitlab|bitbucket|atlassian|jira|circleci|travis-ci|vercel|netlify|sentry|pagerduty|"
    r"opsgenie|linear|asana|trello|notion|slack|calendly|zoom|docusign|statuspage|datadoghq|"
    r"datadog|newrelic|heroku|buildkite|dependabot|googlegroups|calendar"
)
_FREEMAIL_NAMES = (
    r"gmail|googlemail|yahoo|ymail|hotmail|outlook|live|msn|icloud|me|mac|aol|gmx|web|proton|"
    r"protonmail|pm|yandex|zoho|fastmail|t-online|orange|free|libero|qq|163|126|freemail|"
    r"homemail|mailbox|mail|email|inbox|posteo|tutanota|hey"
)
SENDER_RULES: tuple[SenderRule, ...] = (
    SenderRule(
        re.compile(
            r"(^|[._+-])(no-?reply|do-?not-?reply|donotreply|notifications?|notify|alerts?|mailer-daemon|postmaster|bounces?|root|cron|daemon|jenkins|ci|builds?|monitoring|alertmanager|nagios|zabbix|grafana)([._+-][^@]*)?@"
        ),
        "notification",
        2.0,
        "automated sender",
        "automated",
    ),
    SenderRule(
        re.compile(rf"@([\w-]+\.)*({_TOOL_NAMES})\.[a-z.]+$"),
        "notification",
        3.0,
        "from a developer tool",
        "tool",
    ),
    SenderRule(
        re.compile(
            r"^(billing|invoices?|invoicing|accounts?|accounting|accounts-?(payable|receivable)|payments?|finance|ar|receivables|collections|credit-?control|receipts?)([._+-][^@]*)?@"
        ),
        "billing",
        1.5,
        "from a billing address",
        "billing_sender",
    ),
    SenderRule(
        re.compile(
            r"^(newsletters?|news|digest|marketing|updates|weekly|editor|editorial|hello|info|community|events|promo(tions)?|offers|deals)([._+-][^@]*)?@"
        ),
        "newsletter",
        1.0,
        "from a mass-mail address",
        "mass_sender",
    ),
    SenderRule(
        re.compile(r"^(orders?|shipping|delivery|tracking|shop|store)([._+-][^@]*)?@"),
        "notification",
        1.0,
        "from a shop",
        "shop_sender",
    ),
    SenderRule(
        re.compile(rf"@({_FREEMAIL_NAMES})\.[a-z.]+$"), None, 0.0, "free-mail sender", "freemail"
    ),
)

# Phrases in the subject (weighted more) and the visible body.
TEXT_RULES: tuple[TextRule, ...] = (
    # --- urgent_incident: production down, outage, security incident
    _text(
        "urgent_incident",
        r"\b(production|prod|site|website|app|api|service|servers?|checkout|login|database|db|primary|platform|system|everything|cluster|payments?)\b[^.\n]{0,30}\b((is|are|went|goes|seems|looks|has gone|completely|totally)\s+(down|offline|unreachable|unavailable|not loading)|unreachable|unavailable|offline)\b",
        5.0,
        3.0,
        "production is down",
    ),
    _text(
        "urgent_incident",
        r"\b((failing|down|broken|unavailable|erroring) for (all|every|most) (users|customers|merchants|clients)|(nobody|no one|no customer) can (log ?in|check ?out|pay|access|sign ?in|use)|(all|every) (writes|reads|requests|payments|orders|logins|checkouts|transactions|api calls|deploys)\b[^.\n]{0,15}\b(fail|failing|failed|erroring|timing out|time out))\b",
        4.0,
        2.5,
        "down for all users",
    ),
    _text(
        "urgent_incident",
        r"\b(outages?|downtime|down for (everyone|all)|major incident|service disruption|partial outage)\b",
        4.0,
        2.0,
        "outage reported",
    ),
    _text(
        "urgent_incident",
        r"\b(returning|throwing|serving|getting|all)\s+(http\s+)?5\d\d(s| errors?)?\b|\b5\d\d errors?\b|\b5\d\ds\b|\b5xx\b",
        3.5,
        1.5,
        "server errors",
    ),
    _text(
        "urgent_incident",
        r"\b(sev[ -]?[01]|severity[ -]?1|p0|p1 incident|incident)\b",
        3.0,
        1.5,
        "incident declared",
    ),
    _text(
        "urgent_incident",
        r"\b(security (incident|breach)|data (breach|leak)|breach|compromised|ransomware|unauthori[sz]ed access|leaked (credentials|keys|secrets|api keys?|tokens?)|ddos|intrusion|exfiltrat\w+)\b",
        4.0,
        2.0,
        "security incident",
    ),
    _text(
        "urgent_incident",
        r"\b(all|every|no|none of the|nobody|most)\s+(users?|customers?|one|merchants?)\b[^.\n]{0,40}\b(can(no|')?t|unable|affected|able to|locked out|failing)\b",
        3.0,
        2.0,
        "customers affected",
    ),
    _text(
        "urgent_incident",
        r"\b(on fire|emergency|critical alert|firing|triggered|is failing in production|roll(ing)? ?back|hotfix|war room)\b",
        2.0,
        1.0,
        "emergency",
    ),
    _text(
        "urgent_incident",
        r"\b(störung|ausfall|panne|caída|incidente|hors service|en panne)\b",
        3.5,
        2.0,
        "outage reported",
    ),
    # --- bug_report
    _text("bug_report", r"\b(bugs?|defect|glitch|regression)\b", 3.0, 1.5, "reports a bug"),
    _text(
        "bug_report",
        r"\b(error|errors|exception|crash(es|ed|ing)?|stack ?trace|traceback|segfault|typeerror|nullpointer\w*|err_\w+|undefined is not)\b",
        2.0,
        1.0,
        "error or crash",
    ),
    _text(
        "bug_report",
        r"\b(does ?n[o']?t|do ?n[o']?t|is ?n[o']?t|wo ?n[o']?t|can ?n?[o']?t|cannot|unable to|no longer|stopped|not)\s+(work(ing|s)?|load(ing|s)?|sav(e|ing)|open(ing)?|show(ing)?|display(ing)?|sync(ing)?|respond(ing)?|log ?in|sign ?in|login|upload(ing)?|download(ing)?|connect(ing)?|print(ing)?|validat(e|ing)|import(ing)?|export(ing)?)\b",
        2.5,
        1.5,
        "something does not work",
    ),
    _text(
        "bug_report",
        r"\b(broken|breaks|fails?|failing|failed|wrong|incorrect|blank (page|screen)|freez(es|ing)|hangs|misaligned|locked out|(login|redirect|infinite|reload|crash) loop|drops? (rows|data|events|records)|off by|shows? (the )?(wrong|incorrect))\b",
        1.5,
        1.0,
        "broken behaviour",
    ),
    _text(
        "bug_report",
        r"\b(steps to reproduce|to reproduce|repro steps|expected (behaviou?r|result)|actual (behaviou?r|result)|reproducible|browser version|app version|workaround)\b",
        3.0,
        2.5,
        "steps to reproduce",
    ),
    _text(
        "bug_report",
        r"\b(since|after) (your |the |our |we |you )?(\d+\.\d+(\.\d+)?|last|latest|new|recent|yesterday'?s|today'?s|this morning'?s)\b[^.\n]{0,20}\b(release|update|version|deploy|upgrade|rollout)",
        2.0,
        2.0,
        "broke after a release",
    ),
    _text(
        "bug_report",
        r"\b(fehler|funktioniert nicht|erreur|ne fonctionne pas|no funciona)\b",
        2.5,
        1.5,
        "reports a bug",
    ),
    # --- feature_request
    _text(
        "feature_request",
        r"\b(feature requests?|feature idea|feature suggestion|enhancement|wish ?list|suggestion|funktionswunsch|verbesserungsvorschlag|demande de fonctionnalité|nouvelle fonctionnalité|solicitud de función|nueva función)\b",
        4.0,
        2.5,
        "asks for a feature",
    ),
    _text(
        "feature_request",
        r"\b(would (it )?be (great|nice|useful|helpful|awesome|possible)|it would (help|be great)|would love (to see|it if)|could you (add|support|consider)|can you add|please (add|consider adding)|any plans? (to|for)|on your roadmap|is there a way to|we'?d (like|love) (to be able|the ability)|(wäre|waere) (es )?(schön|toll|super|hilfreich|praktisch|möglich)|wir wünschen uns|serait-il possible|ce serait (très |vraiment )?(utile|pratique|bien)|pourriez-vous ajouter|sería (posible|útil|genial)|podrían (añadir|agregar|incluir))\b",
        2.5,
        2.5,
        "asks for a feature",
    ),
    _text(
        "feature_request",
        r"\b((add|adding|support for|option to|ability to|possibility to|way to)\s+(an? |the )?(option|setting|toggle|export|import|integration|dark mode|api|shortcut|filter|bulk|support)|dark mode|keyboard shortcuts?|integration with|support for|bulk (add|edit|delete|remove|update|actions?))\b",
        2.0,
        1.5,
        "asks for a feature",
    ),
    # --- meeting_request
    _text(
        "meeting_request",
        r"\b(meeting|meet( up)?|catch[- ]up|sync|1:1|one-on-one|call|coffee|get together|workshop|kick-?off|video call|google meet)\b",
        2.0,
        1.0,
        "mentions a meeting",
    ),
    _text(
        "meeting_request",
        r"\b(are you (free|available)|(is|are) (also )?free|do you have time|(\d+|half an hour|an hour) ?(min|mins|minutes)? with you|time with you|your availability|find a (time|slot)|time slot|schedule (a|an|our|the)|reschedule|move (our|the) (call|meeting)|calendar invite|send (you )?an? invite|let'?s (meet|talk|schedule|set up|find)|can we (meet|talk|hop on|set up|schedule)|set up (a|an) (call|meeting|time)|if (that|this|it|the time|monday|tuesday|wednesday|thursday|friday|\w+day) (does ?n[o']?t|wo ?n[o']?t) work|happy to (meet|jump on)|free for a (call|chat)|meeting request)\b",
        3.0,
        3.0,
        "asks for a meeting",
    ),
    _text(
        "meeting_request",
        r"^\s*(invitation|einladung|invitación|updated invitation):",
        3.0,
        0.0,
        "calendar invitation",
    ),
    _text(
        "meeting_request",
        r"\b(besprechung|termin|treffen|réunion|rendez-vous|reunión)\b",
        2.5,
        1.5,
        "mentions a meeting",
    ),
    # --- sales_inquiry (they want to buy from us)
    _text(
        "sales_inquiry",
        r"\b(your pricing|pricing (for|of|plans?|page|information|details)|price (list|quote)|(send|share|get|need|request(ing)?|provide) (us |me )?(a |an )?(quote|quotation|pricing|proposal|price)|quote (for|request)|request for (a )?(quote|quotation|proposal|pricing)|rfq|rfp|how much (does|would|is|will|do)|what (does|would) it cost|cost (for|of) \d+)\b",
        3.5,
        2.5,
        "asks about pricing",
    ),
    _text(
        "sales_inquiry",
        r"\b(interested in (buying|purchasing|your|using|a license|licen[cs]ing|upgrading)|looking (to buy|to purchase|for a (tool|solution|vendor|platform) (to|that))|we('re| are) evaluating|evaluate your|considering your|(request|schedule|arrange|book|get|see|like|love|want) (a |an )?(product )?demo|demo (request|of your)|trial (for|of) (our|your)|pilot (for|with) (our|your))\b",
        3.5,
        3.0,
        "wants to buy or see a demo",
    ),
    _text(
        "sales_inquiry",
        r"\b((more|additional|extra|buy|add|purchase) (\d+ )?(seats|licen[cs]es)|(seats|licen[cs]es) for|team of \d+|for (our )?\d+ (users|people|employees|agents|staff)|enterprise (plan|tier|license|pricing|agreement)|volume discount|annual (plan|contract|billing)|procurement|purchase order|upgrade (to|our) (the )?(pro|business|enterprise|team)|sign (a |the )?contract)\b",
        2.5,
        2.0,
        "buying seats or plans",
    ),
    _text(
        "sales_inquiry",
        r"\b(angebot|preise|kaufen|devis|tarifs?|cotización|precios)\b|見積|価格|購入|ライセンス|报价|价格|購買",
        2.5,
        2.0,
        "asks about pricing",
    ),
    # --- billing
    _text(
        "billing",
        r"\b(invoices?|receipts?|billing|your bill|statement of account|amount due|balance due|payment (due|reminder|received|confirmation|failed|declined|method)|remittance|credit note|pro-?forma|vat|tax invoice|refund(ed)?|charged|subscription (renewal|renewed|will renew|payment)|renewal notice|card (was )?declined)\b",
        4.0,
        2.0,
        "invoice or payment",
    ),
    _text(
        "billing",
        r"\b(overdue|past due|final (notice|reminder|demand)|unpaid|outstanding (balance|amount|invoice|payment)|late (fee|payment)|dunning|collections?)\b",
        4.0,
        2.5,
        "payment overdue",
    ),
    _text(
        "billing",
        r"\b(rechnung|zahlung|mahnung|zahlungserinnerung|facture|paiement|relance|impayée?|factura|pago|factuur|betaling|fattura|pagamento)\b|請求書",
        4.0,
        2.0,
        "invoice or payment",
    ),
    _text("billing", r"\$\s?\d|€|£|\b(usd|eur|gbp|chf)\b", 0.5, 0.5, "names an amount"),
    # --- newsletter
    _text(
        "newsletter",
        r"\b(newsletter|digest|weekly|monthly|this week in|roundup|round-up|issue #?\d+|edition|bulletin|top stories|what'?s new (in|at)|release notes)\b",
        3.0,
        1.0,
        "newsletter",
    ),
    _text(
        "newsletter",
        r"\b(unsubscribe|view (this email |it )?in (your |a )?browser|manage (your )?(email )?preferences|you('re| are) receiving this (email )?because|update your preferences|opt[- ]out|abbestellen|se désabonner|darse de baja)\b",
        0.0,
        2.5,
        "unsubscribe link",
    ),
    _text(
        "newsletter",
        r"% off\b|\b(sale|save \d+|limited time|early[- ]bird|webinar|register now|new arrivals|free shipping|flash sale|black friday|cyber monday|exclusive offer|last chance)\b",
        2.0,
        1.0,
        "promotion",
    ),
    # --- notification: automated tool mail
    _text("notification", r"^\s*(re:\s*)?\[[\w.-]+/[\w.-]+\]", 4.0, 0.0, "repository update"),
    _text(
        "notification",
        r"\b(pr|pull request|merge request|mr|issue)\s*#\d+|\(#\d+\)|\bpull request\b|\bmerge request\b",
        3.0,
        1.5,
        "pull request update",
    ),
    _text(
        "notification",
        r"\b(assigned to you|assigned you|has been assigned|was assigned|mentioned you (in|on)|requested your review|review requested|requested changes|approved (your|this|the) (pull|merge) request|commented on|new comment|left a comment|replied to your comment|status changed|transitioned|was (merged|closed|reopened)|has been (merged|closed|resolved|updated|created))\b",
        3.5,
        2.0,
        "tool update",
    ),
    _text(
        "notification",
        r"\b(build|pipeline|workflow|job|run|deploy(ment)?|tests?|check(s)?|ci)\s+(#?\d+\s+)?(failed|failing|passed|succeeded|successful|fixed|broken|cancell?ed|errored|is green|is red|started|finished|completed)\b|\bworkflow run\b|\bcron\b",
        4.0,
        2.0,
        "build or job report",
    ),
    _text(
        "notification",
        r"\b(has shipped|have shipped|been shipped|is on (its|the) way|out for delivery|was delivered|has been delivered|tracking (number|code|link)|your (order|package|parcel|shipment)|order (confirmation|#?\d+))\b",
        3.5,
        2.0,
        "shipping update",
    ),
    _text(
        "notification",
        r"^\s*(accepted|declined|tentative|tentatively accepted|canceled|cancelled|updated invitation|invitation updated|reminder|new event|event reminder)\s*:",
        4.0,
        0.0,
        "calendar update",
    ),
    _text(
        "notification",
        r"\b(new sign-?in|new login|signed in from|password (was|has been) (changed|reset)|your (verification|security|one-time|login|sign-?in|2fa|confirmation) code|sign-?in code|verification code|two-factor|security alert for your)\b",
        3.0,
        2.0,
        "account notice",
    ),
    _text(
        "notification",
        r"\b(this is an automated|automatically generated|automated (message|notification|email)|do not reply to this (email|message)|please do not reply|notification settings|manage (your )?notifications|you('re| are) receiving this because (you|your)|view it on (github|gitlab)|reply to this email directly)\b",
        0.0,
        2.5,
        "automated message",
    ),
    _text(
        "notification",
        r"\b(ticket|case|request)\s*#?\s*\d+\b|\bjira\b|\bshared .{1,60} with you\b",
        2.0,
        1.0,
        "ticket or share notice",
    ),
    # --- personal
    _text(
        "personal",
        r"\b(mom|mum|dad|mama|papa|grandma|grandpa|granny|aunt|uncle|cousin|sis|bro|honey|sweetie|darling|kids|family|wedding|birthday|bday|anniversary|baby|christening|funeral)\b",
        3.0,
        1.5,
        "family",
    ),
    _text(
        "personal",
        r"\b(dinner|lunch|brunch|bbq|barbecue|party|drinks|beers?|weekend|holiday|vacation|trip|photos|pics|hike|hiking|climbing|bouldering|gym|tent|camping|picnic|cycling|skiing|festival|cinema|pub|game night|board games?|movie|concert|housewarming|long time no see|how are you( doing)?|how have you been|miss you|love you|hugs|xoxo|xx|haha|lol)\b",
        2.0,
        1.0,
        "personal note",
    ),
    _text(
        "personal",
        r"\b(geburtstag|familie|abendessen|anniversaire|famille|dîner|cumpleaños|familia|cena)\b",
        2.5,
        1.5,
        "personal note",
    ),
    # --- other: announcements and FYIs that need no action
    _text(
        "other",
        r"\b(fyi|for your information|no action (is )?(needed|required)|heads[- ]up|just (a quick note|to let you know)|running (\d+ (min|mins|minutes) |a (bit|few minutes) )?late|(policy|policies) (update|change)|updated .{0,40}polic(y|ies)|announcement|office (will be )?closed|(notes|minutes|recap|summary) (from|of) (the |our |today'?s |yesterday'?s )?(call|meeting|sync|workshop|session))\b",
        2.5,
        1.5,
        "FYI or recap",
    ),
    # --- spam_or_cold: scams, phishing, cold outreach
    _text(
        "spam_or_cold",
        r"\b(gift ?cards?|itunes cards?|google play cards?|steam cards?|lottery|lotto|you('ve| have)? won|winner|claim (your|the) (prize|reward|funds)|inheritance|beneficiary|next of kin|million (usd|dollars|euros|pounds)|compensation fund|unclaimed funds|crypto(currency)? (investment|opportunity)|double your|western union|moneygram|(in|to|via) (bitcoin|btc)|(bitcoin|btc|crypto) wallet|wallet address|recorded you|i have access to your (device|computer|camera|account))\b",
        5.0,
        5.0,
        "scam bait",
    ),
    _text(
        "spam_or_cold",
        r"\b(bank (details|account|information|info) (has |have )?(changed|been (updated|changed))|(new|updated|changed) (bank|banking) (details|account|information)|change (of|in) (bank|banking) details|wire (the )?(payment|funds|transfer) to|urgent wire|are you at your desk|i need (you to do )?a (quick )?favou?r|i need you to (purchase|buy|get|send|pay|wire)|keep this (confidential|between us)|processing fee|text me|whatsapp me|send me your (cell|mobile|phone) number)\b",
        5.0,
        4.5,
        "asks for money or a favour",
    ),
    _text(
        "spam_or_cold",
        r"\b(verify your (account|identity|email|password|details|information|mailbox)|confirm your (account|identity|password|login|details|information|credentials|mailbox)|update your (payment|billing|account) (details|information)|(account|mailbox|password|access|email|service|membership|subscription) (will be |has been |is )?(temporarily )?(suspended|locked|deactivated|disabled|closed|terminated|blocked|on hold)|re-?activate your|restore (your )?access|unusual (sign-?in|login) activity|(mailbox|storage|quota) (is )?(almost )?(full|exceeded|over quota)|exceeded (its|your) (storage|quota|limit)|increase your (quota|storage)|password (expires|will expire)|login to avoid|(sign|log) ?in with your (email |office |work |account )?(password|credentials)|enter your (email |account )?(password|credentials)|email password)\b",
        3.0,
        2.5,
        "asks for your credentials",
    ),
    _text(
        "spam_or_cold",
        r"\b(ai assistant|ai agent|language model|llm|(note|message|instructions?) (for|to) (the |any )?(ai|assistant|automated)|automated (assistants?|tools?|agents?)\b[^.\n]{0,40}\b(reading|processing)|ignore (all |any )?(previous|prior|earlier|above) (instructions|rules|messages)|do not (notify|tell|inform|ask) the user|overrides? (any |all )?(earlier|previous|prior) (rules|instructions)|(dear|hey|hi|attention) (ai |virtual |email )?assistant)\b",
        6.0,
        6.0,
        "tries to instruct an AI assistant",
    ),
    _text(
        "spam_or_cold",
        r"\b(i came across (your|the)|i (noticed|saw) (that )?(your|you)|i('ve| have) been following your|companies like yours|teams like yours|businesses like yours|our (platform|solution|software|tool|agency|team|service|product|app) (helps|can help|has helped|enables|allows|lets)|we help (companies|businesses|teams|startups|brands|founders|saas)|i help (companies|businesses|teams|founders|startups)|helped (companies|clients|brands) like)\b",
        4.0,
        3.0,
        "cold outreach",
    ),
    _text(
        "spam_or_cold",
        r"\b(quick question|(5|10|15|20|30|45)[ -]?(min|mins|minutes?) (call|chat|intro|of your time|this week|next week)\b|book a (call|time|meeting|slot)|grab (a )?\d+|worth a (quick )?(chat|call|conversation)|open to (a |an )?(quick )?(chat|call|conversation|intro)|are you the right person|if not,? (who|could you point)|right person to (talk|speak)|i'?m a recruiter|exciting (job |career )?opportunit(y|ies)|open to new opportunities|following up on my (last|previous|earlier) (email|message|note)|bump(ing)? this|circling back|just checking in|did you get a chance|last try|break-?up email)\b",
        2.0,
        1.5,
        "sales opener",
    ),
    _text(
        "spam_or_cold",
        r"\b(lead generation|more (leads|customers|meetings|sales|revenue)|appointment setting|outsourc\w+|offshore|nearshore|white-?label|seo (services|audit|agency)|rank (higher|#1|on google)|web (design|development) services|guest post|backlinks?|(increase|boost|grow|double|triple|2x|3x|5x|10x) (your )?(revenue|sales|pipeline|traffic|conversions|roi|leads)|pay-?per-?lead|cost savings of|dedicated (developers|team)|hire (top|vetted|senior) (developers|engineers|talent))\b",
        3.0,
        2.0,
        "pitches a service",
    ),
    _text(
        "spam_or_cold",
        r"\b(dear (customer|user|client|valued|sir|madam|account ?holder|beneficiary|friend)|act now|urgent(ly)? (response|attention|action) (needed|required)|immediate(ly)? action required|you have been selected|congratulations!?)\b",
        2.5,
        2.0,
        "scam phrasing",
    ),
)

# Flags: facts that only matter in combination (see COMBO_RULES) or for the priority.
FLAG_RULES: tuple[FlagRule, ...] = (
    _flag(
        "urgency",
        r"\b(urgent(ly)?|immediately|asap|as soon as possible|right away|act now|within (24|48|72) ?(hours|hrs|h)\b|final (warning|notice)|last (warning|chance)|expire[sd]?|today only|before \d{1,2}[:.]\d\d today|dringend|urgente)\b",
    ),
    _flag(
        "deadline",
        r"\b(today|tonight|by (tomorrow|end of (the )?day|eod|cob|noon|mon(day)?|tue(sday)?|wed(nesday)?|thu(rsday)?|fri(day)?|\d{1,2}(:\d\d)?\s?(am|pm)?|the end of)|at the latest|no later than|asap|as soon as possible|urgent(ly)?|eod|deadline|time[- ]sensitive|before (the|our) (meeting|call|board))\b",
    ),
    _flag(
        "credential",
        r"\b(password|passcode|credentials?|log ?in|sign ?in|verify|verification|confirm your|account (details|information)|ssn|social security|security question|one-time code|security code|6-digit|mfa|2fa)\b",
    ),
    _flag(
        "threat",
        r"\b((account|mailbox|password|access|email|profile|service|membership|subscription)s?\b[^.\n]{0,40}\b(will be|has been|have been|is being|are being) (temporarily |permanently )?(suspended|locked|deactivated|disabled|terminated|closed|deleted|blocked|restricted)|will be (locked|suspended|deactivated|disabled|deleted|closed|restricted)|permanently (deleted|closed|lost)|legal action|failure to (comply|verify|confirm|respond|update)|or (your|the) account)\b",
    ),
    _flag(
        "link",
        r"\bhttps?://|\bwww\.|\bclick (here|the link|below|this link)\b|\b(login|log in|sign in|verify|open|view) (here|now|below|document|file)\b",
        "body",
    ),
    _flag(
        "ip_link",
        r"\bhttps?://\d{1,3}(\.\d{1,3}){3}|\bhttps?://[^\s/]*(bit\.ly|tinyurl|t\.co|goo\.gl|is\.gd|ow\.ly|rb\.gy|cutt\.ly)/|\bhttps?://[^\s/]*\.(xyz|top|click|country|gq|ml|cf|tk|zip|mov|rest)\b|\bhttps?://[^\s/]*(login|verify|secure|account|signin|reset)[^\s/]*\.",
        "body",
    ),
    _flag(
        "lookalike",
        r"\b(paypa1|paypai|micros0ft|rnicrosoft|arnazon|amaz0n|app1e|g00gle|netfiix|faceb00k|linkedln)\b",
    ),
    _flag(
        "bank_change",
        r"\b(bank (details|account|information|info) (has |have )?(changed|been (updated|changed))|(new|updated|changed) (bank|banking|payment|remittance) (details|account|information|instructions)|new iban|change (of|in) (bank|banking) details)\b",
    ),
    _flag(
        "payment_words",
        r"\b(invoice|payment|wire|transfer|bank|remit|pay|paid|amount|iban|swift|routing number)\b",
    ),
    _flag(
        "money_request",
        r"\b(wire|transfer|send|pay|remit)\b[^.\n]{0,40}\b(today|immediately|now|asap|urgently|new account|this account)\b",
    ),
    _flag(
        "overdue",
        r"\b(overdue|past due|final (notice|reminder|demand)|unpaid|outstanding (balance|amount|invoice|payment)|late (fee|payment)|second reminder|payment reminder|mahnung|zahlungserinnerung|relance|impayée?)\b",
    ),
    _flag(
        "payment_failed",
        r"\b(payment (failed|declined|was declined|unsuccessful)|card (was )?declined|could not (charge|process) your|unable to (charge|process) your)\b",
    ),
    _flag(
        "receipt",
        r"\b(receipts?|payment (received|confirmation|successful)|thank(s| you) for your (payment|purchase)|has been paid|was paid|paid in full|successfully (charged|processed)|quittung|reçu|recibo)\b",
    ),
    _flag(
        "amount_due",
        r"\b(amount due|balance due|due date|due (on|by)|payment due|please pay|net \d+|payable (by|within))\b",
    ),
    _flag(
        "blocked",
        r"\b(block(ed|ing|er)|can ?no?[o']?t (log ?in|sign ?in|access|use|pay|check ?out|ship|work|release|launch|take)|unable to (log ?in|access|use|work|pay|ship|release)|locked out|completely (blocked|broken|stuck)|show-?stopper|dead in the water|losing (money|sales|customers|data|orders)|data loss|customers? (are )?(complaining|affected|impacted)|urgent(ly)?|asap|critical|as soon as (you see|possible))\b",
    ),
    _flag(
        "outage",
        r"\b(outage|(is|are|went|has gone|completely) (down|offline|unreachable)|down for (everyone|all)|sev[ -]?[01]|severity[ -]?1|p0|security (incident|breach)|data (breach|leak)|ransomware|compromised|ddos|(returning|throwing) (http )?5\d\ds?)\b",
    ),
    _flag(
        "no_outage",
        r"\b(not|no|isn'?t|without) (a |an |any )?(full |complete |total |major |real )?(outage|downtime)\b",
    ),
    _flag(
        "alert",
        r"\b(firing|triggered|alerts? firing|severity ?[=:]? ?(critical|high)|critical|sev[ -]?[12]|p1|p2)\b",
    ),
    _flag("prod", r"\b(production|prod|live site|all (users|customers))\b"),
    _flag(
        "cold_line",
        r"\b(i came across|companies like yours|our (platform|solution|software|agency|service) (helps|can help)|we help (companies|businesses|teams)|book a (call|time)|(5|10|15|20|30) ?(min|minutes)\b|quick (call|chat)|open to a|offshore|outsourc\w+)\b",
    ),
    _flag(
        "buying",
        r"\b(your (pricing|product|platform|tool|software|service|solution|api|plans?)|(we|i)('d| would| are|'re)? (like|want|looking|interested|planning) to (buy|purchase|subscribe|upgrade|sign up|get a quote|license)|quote for|pricing for|licen[cs]es? for|seats for|for our (team|company|organi[sz]ation|staff|firm|school|department)|demo request)\b",
    ),
    _flag(
        "failure",
        r"\b(failed|failing|broken|errored|error|red|down|firing|triggered|critical)\b",
        "subject",
    ),
    _flag(
        "personal_word",
        r"\b(mom|mum|dad|mama|papa|grandma|grandpa|aunt|uncle|cousin|honey|love|hugs|xoxo|xx|birthday|wedding|dinner|brunch|bbq|weekend|vacation|holiday|kids|family|photos|party|climbing|hike|gym|miss you|how are you|how have you been|long time)\b",
    ),
    _flag(
        "work_word",
        r"\b(customers?|clients?|invoice|project|deadline|release|deploy|sprint|ticket|contract|proposal|quarter|roadmap|pricing|api|production|account manager|vendor|board|budget)\b",
    ),
    _flag(
        "greeting_generic",
        r"^\s*(dear (customer|user|client|valued|sir|madam|account ?holder|friend|beneficiary)|hello dear|greetings)\b",
        "body",
    ),
    _flag(
        "fyi",
        r"\b(fyi|for your information|no action (is )?(needed|required)|heads[- ]up|running (\d+ (min|mins|minutes) |a (bit|few minutes) )?late|(policy|policies) (update|change)|updated .{0,40}polic(y|ies)|announcement)\b",
    ),
    _flag(
        "request",
        r"\b(can you|could you|would you|will you|please (send|share|provide|confirm|review|reply|let me know|check|advise|approve|update|get back)|i need|we need|let me know|get back to me|send me|need (you|your|the))\b",
    ),
)

# Combinations of flags: the shapes of scams, cold outreach, alerts and meeting proposals.
COMBO_RULES: tuple[ComboRule, ...] = (
    _combo("credential threat", "spam_or_cold", 4.0, "phishing: a password request with a threat"),
    _combo(
        "credential urgency link",
        "spam_or_cold",
        3.5,
        "phishing: an urgent login link",
        unless="tool",
    ),
    _combo("ip_link", "spam_or_cold", 4.0, "suspicious link"),
    _combo("lookalike", "spam_or_cold", 6.0, "look-alike brand domain"),
    _combo("owner_lookalike", "spam_or_cold", 5.0, "sender domain imitates yours"),
    _combo("digit_domain", "spam_or_cold", 3.0, "look-alike sender domain"),
    _combo("brand_spoof", "spam_or_cold", 5.0, "fake brand name on the sender"),
    _combo(
        "reply_to_mismatch payment_words",
        "spam_or_cold",
        3.0,
        "payment mail, replies go elsewhere",
        unless="bulk",
    ),
    _combo(
        "reply_to_mismatch credential",
        "spam_or_cold",
        2.5,
        "login mail, replies go elsewhere",
        unless="bulk",
    ),
    _combo(
        "reply_to_mismatch urgency",
        "spam_or_cold",
        1.5,
        "urgent, replies go elsewhere",
        unless="bulk",
    ),
    _combo("freemail billing_claim", "spam_or_cold", 3.5, "invoice from a free-mail account"),
    _combo(
        "bank_change billing_claim",
        "spam_or_cold",
        3.0,
        "changed bank details (payment fraud)",
    ),
    _combo("money_request urgency", "spam_or_cold", 2.5, "urgent request to move money"),
    _combo("greeting_generic link", "spam_or_cold", 2.0, "generic greeting with a link"),
    _combo(
        "cold_line unknown_sender",
        "spam_or_cold",
        2.0,
        "cold outreach",
        unless="buying",
    ),
    _combo("outreach_tool", "spam_or_cold", 2.0, "sent by a cold-outreach tool"),
    _combo("buying", "sales_inquiry", 1.5, "wants our product", unless="cold_line"),
    _combo("meeting_word time_expression request", "meeting_request", 2.0, "proposes a time"),
    _combo("meeting_ask time_expression", "meeting_request", 2.0, "proposes a time"),
    _combo(
        "freemail personal_word",
        "personal",
        2.0,
        "from a private address",
        unless="work_word",
    ),
    _combo("personal_word time_expression", "personal", 1.5, "personal plans", unless="work_word"),
    _combo("automated failure", "notification", 1.5, "automated failure report", unless="alert"),
    _combo("bulk colleague", "other", 1.5, "internal announcement", unless="tool automated"),
    _combo("alert prod", "urgent_incident", 5.0, "critical alert firing in production"),
)

_BRANDS: tuple[tuple[str, str], ...] = (
    # (word in the display name, what the sender domain must contain for it to be genuine)
    ("paypal", "paypal"),
    ("apple", "apple"),
    ("icloud", "apple"),
    ("microsoft", "microsoft"),
    ("office 365", "microsoft"),
    ("outlook", "microsoft"),
    ("amazon", "amazon"),
    ("netflix", "netflix"),
    ("google", "google"),
    ("dhl", "dhl"),
    ("fedex", "fedex"),
    ("ups", "ups"),
    ("docusign", "docusign"),
    ("dropbox", "dropbox"),
    ("linkedin", "linkedin"),
    ("facebook", "facebook"),
    ("instagram", "instagram"),
    ("wells fargo", "wellsfargo"),
    ("chase", "chase"),
    ("bank of america", "bankofamerica"),
    ("irs", "irs"),
    ("hmrc", "gov.uk"),
    ("coinbase", "coinbase"),
    ("binance", "binance"),
    ("stripe", "stripe"),
)
_BRAND_RES = tuple((re.compile(rf"\b{re.escape(word)}\b"), domain) for word, domain in _BRANDS)
_DIGIT_FOR_LETTER_RE = re.compile(r"[a-z][01][a-z]")

# Meeting words that only count as a proposal when a time is named too.
_MEETING_WORD = _phrase(
    r"\b(meet|meeting|call|sync|catch[- ]up|coffee|demo|interview|workshop|review session|1:1|besprechung|termin|réunion|reunión)\b"
)
_MEETING_ASK = _phrase(
    r"\b(are you (free|available)|(is|are) (also )?free|works? for you|(would|does|do) .{0,30} work for you|your availability|would you be available|shall we|how about|what about|with you on)\b"
)

PRIORITY_BY_CATEGORY: dict[Category, Priority] = {
    "urgent_incident": "high",
    "bug_report": "normal",
    "feature_request": "normal",
    "meeting_request": "normal",
    "sales_inquiry": "normal",
    "billing": "normal",
    "newsletter": "low",
    "notification": "low",
    "personal": "normal",
    "spam_or_cold": "low",
    "other": "normal",
}

ACTION_BY_CATEGORY: dict[Category, Action] = {
    "urgent_incident": "notify_team",
    "bug_report": "create_ticket",
    "feature_request": "create_ticket",
    "meeting_request": "schedule_meeting",
    "sales_inquiry": "create_lead",
    "billing": "none",
    "newsletter": "archive",
    "notification": "archive",
    "personal": "reply",
    "spam_or_cold": "archive",
    "other": "none",
}

# --------------------------------------------------------------------------------------
# Time expressions (for meeting requests)
# --------------------------------------------------------------------------------------

_WEEKDAYS: dict[str, int] = {}
for _index, _names in enumerate(
    (
        "monday mon montag lundi lunes",
        "tuesday tue tues dienstag mardi martes",
        "wednesday wed mittwoch mercredi miércoles miercoles",
        "thursday thu thur thurs donnerstag jeudi jueves",
        "friday fri freitag vendredi viernes",
        "saturday sat samstag samedi sábado sabado",
        "sunday sun sonntag dimanche domingo",
    )
):
    for _name in _names.split():
        _WEEKDAYS[_name] = _index

_MONTHS: dict[str, int] = {}
for _index, _names in enumerate(
    (
        "january jan januar janvier enero",
        "february feb februar février fevrier febrero",
        "march mar märz mars marzo",
        "april apr avril abril",
        "may mai mayo",
        "june jun juni juin junio",
        "july jul juli juillet julio",
        "august aug août agosto",
        "september sep sept septembre septiembre",
        "october oct oktober octobre octubre",
        "november nov novembre noviembre",
        "december dec dezember décembre decembre diciembre",
    ),
    start=1,
):
    for _name in _names.split():
        _MONTHS[_name] = _index

_MONTH_ALT = "|".join(sorted(_MONTHS, key=len, reverse=True))
_WEEKDAY_ALT = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))

# Relative day expressions and how many days ahead they point.
RELATIVE_DAYS: tuple[tuple[Phrase, int], ...] = (
    (
        _phrase(
            r"\b(today|tonight|this (morning|afternoon|evening)|heute|aujourd'hui|hoy|later today)\b"
        ),
        0,
    ),
    (_phrase(r"\b(tomorrow|tmrw|demain|mañana|übermorgen)\b"), 1),
    (
        _phrase(
            r"\b(this week|later this week|end of (the|this) week|before the weekend|diese woche|cette semaine|esta semana)\b"
        ),
        3,
    ),
    (
        _phrase(
            r"\b(next week|nächste woche|semaine prochaine|la semaine prochaine|próxima semana|la semana que viene)\b"
        ),
        7,
    ),
    (
        _phrase(
            r"\b(in (two|2) weeks|in a couple of weeks|in (three|3|four|4) weeks|in a fortnight)\b"
        ),
        14,
    ),
    (
        _phrase(
            r"\b(next month|later this month|in a month|nächsten monat|le mois prochain|el próximo mes)\b"
        ),
        30,
    ),
)
_WEEKDAY = _phrase(rf"\b(next |this |coming |on )?({_WEEKDAY_ALT})\b\.?")
_ISO_DATE = _phrase(r"\b(20\d\d)-(\d{1,2})-(\d{1,2})\b")
_MONTH_DAY = _phrase(rf"\b({_MONTH_ALT})\.?\s+(\d{{1,2}})(st|nd|rd|th)?\b(,?\s+(20\d\d))?")
_MONTH_NAME = _phrase(rf"\b({_MONTH_ALT})\b")
_CLOCK = _phrase(
    r"\b([01]?\d|2[0-3])[:.h]([0-5]\d)\b|\b(1[0-2]|0?[1-9])\s?(am|pm|a\.m\.|p\.m\.)|\b(noon|midday)\b"
)
# Digit-led, so slow to search: only run once a month name or a meeting has been seen.
_DAY_MONTH_RE = re.compile(
    rf"\b(\d{{1,2}})(st|nd|rd|th|\.)?\s+(of\s+)?({_MONTH_ALT})\b\.?(\s+(20\d\d))?"
)
_NUMERIC_DATE_RE = re.compile(r"\b(\d{1,2})[./](\d{1,2})(?:[./](20\d\d|\d\d))?\b(?!\.\d)")
# "Due date: 16 Dec 2026", "due on December 18", "due by 2026-12-18" (billing reasons only).
_DUE_RE = re.compile(
    rf"\bdue(?:\s+date)?\s*(?:on|by|:)?\s*(?:(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH_ALT})\b"
    rf"|({_MONTH_ALT})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b|(20\d\d)-(\d{{1,2}})-(\d{{1,2}})\b)"
)
_MONTH_ABBREVIATIONS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
_TIME_PHRASES: frozenset[Phrase] = frozenset(
    {_WEEKDAY, _ISO_DATE, _MONTH_DAY, _CLOCK, *(phrase for phrase, _ in RELATIVE_DAYS)}
)

_INDEX = _PhraseIndex(
    [rule.pattern for rule in TEXT_RULES]
    + [rule.pattern for rule in FLAG_RULES]
    + [_MEETING_WORD, _MEETING_ASK, _MONTH_NAME, *_TIME_PHRASES]
)

# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------

_MARKER_RE = re.compile(
    "|".join(re.escape(m) for m in (QUOTE_START, QUOTE_END, SIGNATURE_START, SIGNATURE_END))
)
_QUOTED_LINE_RE = re.compile(r"^[ \t]*>.*$", re.MULTILINE)
_JIRA_KEY_RE = re.compile(r"[(\[]\s*[A-Z][A-Z0-9]{1,9}-\d{1,6}\s*[)\]]")


def _visible_body(body: str) -> str:
    """Return the body without quoted replies, signatures and `>` lines, capped at `BODY_CHARS`."""
    if not body or body.strip() == EMPTY_BODY_MARKER:
        return ""
    window = body[:RAW_BODY_CHARS]
    parts: list[str] = []
    depth = 0
    position = 0
    for marker in _MARKER_RE.finditer(window):
        if depth == 0:
            parts.append(window[position : marker.start()])
        depth += 1 if marker.group() in (QUOTE_START, SIGNATURE_START) else -1
        depth = max(depth, 0)
        position = marker.end()
    if depth == 0:
        parts.append(window[position:])
    text = _QUOTED_LINE_RE.sub("", "".join(parts))
    return text[:BODY_CHARS]


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[1].strip().lower() if "@" in address else ""


def _base_domain(domain: str) -> str:
    """Return the registrable part of a domain: `mail.eu.example.co.uk` -> `example.co.uk`."""
    labels = [label for label in domain.split(".") if label]
    if len(labels) >= 3 and labels[-2] in {"co", "com", "org", "net", "ac", "gov", "ne"}:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _parse_date(value: str) -> date | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00")).date()
    except ValueError:
        return None


def _make_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _days_until_proposed(text: str, hits: set[Phrase], reference: date | None) -> int | None:
    """Days from `reference` to the earliest future day named in `text`, or None if none is."""
    candidates = [days for phrase, days in RELATIVE_DAYS if phrase in hits]
    if reference is not None:
        dated: list[date | None] = []
        if _ISO_DATE in hits:
            for m in _ISO_DATE.regex.finditer(text):
                dated.append(_make_date(int(m[1]), int(m[2]), int(m[3])))
        if _MONTH_NAME in hits:
            for m in _DAY_MONTH_RE.finditer(text):
                year = int(m[6]) if m[6] else reference.year
                dated.append(_make_date(year, _MONTHS[m[4]], int(m[1])))
            for m in _MONTH_DAY.regex.finditer(text):
                year = int(m[5]) if m[5] else reference.year
                dated.append(_make_date(year, _MONTHS[m[1]], int(m[2])))
        for m in _NUMERIC_DATE_RE.finditer(text):
            first, second = int(m[1]), int(m[2])
            year = int(m[3]) if m[3] else reference.year
            year = year + 2000 if year < 100 else year
            # Day first unless that is impossible (14/05 and 05/14 both read as 14 May).
            day_of_month, month = (second, first) if second > 12 else (first, second)
            dated.append(_make_date(year, month, day_of_month))
        if _WEEKDAY in hits and not any(dated):
            # With an explicit date around ("Thu 26 Nov ... if Thursday doesn't work"),
            # weekday names refer back to it, so they only count on their own.
            for m in _WEEKDAY.regex.finditer(text):
                ahead = (_WEEKDAYS[m[2]] - reference.weekday()) % 7 or 7
                if (m[1] or "").strip() == "next" and ahead < 3:
                    ahead += 7
                candidates.append(ahead)
        for when in dated:
            if when is None:
                continue
            delta = (when - reference).days
            if delta < -60:  # "3 January" written in December means next year
                next_year = _make_date(when.year + 1, when.month, when.day)
                delta = (next_year - reference).days if next_year else delta
            if delta >= 0:
                candidates.append(delta)
    elif _WEEKDAY in hits:
        candidates.append(7)  # a weekday with no reference date: assume "not in the next days"
    if not candidates and _CLOCK in hits:
        candidates.append(1)  # a clock time with no day: today or tomorrow
    return min(candidates) if candidates else None


def _has_time_expression(text: str, hits: set[Phrase]) -> bool:
    if not _TIME_PHRASES.isdisjoint(hits):
        return True
    return _MONTH_NAME in hits and _DAY_MONTH_RE.search(text) is not None


def _snippet(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


_ERROR_DETAIL_RE = re.compile(r"\s*(\([^()]*\)|'[^']*'|\"[^\"]*\")")


def unreadable_reason(error: str) -> str:
    """The reason of a message that could not be read: `unreadable: <why>`, short.

    Quoted and parenthesised details (a MIME boundary, a list of headers) are left out: the
    full error stays on the message for whoever needs it.
    """
    why = _ERROR_DETAIL_RE.sub("", error).strip() or error
    return _snippet(f"unreadable: {why}", REASON_CHARS + 20)


@dataclass
class _Evidence:
    category: Category
    weight: float
    says: str


# --------------------------------------------------------------------------------------
# The triage
# --------------------------------------------------------------------------------------


def triage_by_rules(
    email: Email,
    *,
    owner_addresses: Sequence[str] = (),
    vip_senders: Sequence[str] = (),
    now: datetime | None = None,
) -> RuleTriage:
    """Triage one message with the rule tables: priority, category, action, reason, confidence.

    `owner_addresses` are the mailbox owner's addresses (mail from their own domain is never
    cold outreach, and domains imitating it are suspicious); `vip_senders` are addresses or
    `@domain`s whose deadlines make a message high priority; `now` is when the message is
    read (default: the message's own date) and decides whether a proposed meeting is soon.
    """
    if email.error:
        return RuleTriage(
            priority=UNREADABLE_PRIORITY,
            category=UNREADABLE_CATEGORY,
            action="none",
            reason=unreadable_reason(email.error),
            confidence=1.0,
        )

    subject_raw = (email.subject or "")[:SUBJECT_CHARS]
    subject = subject_raw.casefold()
    body = _visible_body(email.body or "").casefold()
    both = f"{subject}\n{body}"
    subject_hits, body_hits = _INDEX.matching(subject), _INDEX.matching(body)
    any_hits = subject_hits | body_hits
    headers = {str(k).lower(): str(v or "") for k, v in (email.headers or {}).items()}

    evidence: list[_Evidence] = []
    flags: set[str] = set()
    header_says: list[str] = []

    # 1. Headers.
    for rule in HEADER_RULES:
        value = headers.get(rule.header)
        if value and rule.pattern.search(value.casefold()):
            if rule.flag:
                flags.add(rule.flag)
            if rule.category is not None:
                evidence.append(_Evidence(rule.category, rule.weight, rule.says))
            else:
                header_says.append(rule.says)

    # 2. Sender.
    sender = (email.from_addr or "").strip().casefold()
    sender_domain = _domain(sender)
    for srule in SENDER_RULES:
        if sender and srule.pattern.search(sender):
            if srule.flag:
                flags.add(srule.flag)
            if srule.category is not None:
                evidence.append(_Evidence(srule.category, srule.weight, srule.says))
    colleague = _sender_flags(email, sender, sender_domain, owner_addresses, vip_senders, flags)

    # 3. Subject and body phrases.
    for trule in TEXT_RULES:
        if trule.subject and trule.pattern in subject_hits:
            evidence.append(_Evidence(trule.category, trule.subject, trule.says))
        elif trule.body and trule.pattern in body_hits:
            evidence.append(_Evidence(trule.category, trule.body, trule.says))
    if _JIRA_KEY_RE.search(subject_raw):  # upper case, so looked for in the subject as written
        evidence.append(_Evidence("notification", 3.0, "ticket update"))

    # 4. Flags and their combinations.
    hits_in = {"subject": subject_hits, "body": body_hits, "any": any_hits}
    for frule in FLAG_RULES:
        if frule.pattern in hits_in[frule.where]:
            flags.add(frule.flag)
    if _MEETING_WORD in any_hits:
        flags.add("meeting_word")
    if _MEETING_ASK in any_hits:
        flags.add("meeting_ask")
    if _has_time_expression(both, any_hits):
        flags.add("time_expression")
    if "?" in both:
        flags.add("request")
    if any(e.category == "billing" and e.weight >= 2.0 for e in evidence):
        flags.add("billing_claim")
    if colleague:
        flags.discard("cold_line")
    if "no_outage" in flags:
        flags.discard("outage")
    for crule in COMBO_RULES:
        if crule.flags <= flags and not (crule.unless & flags):
            evidence.append(_Evidence(crule.category, crule.weight, crule.says))

    # 5. Score and pick.
    scores: dict[Category, float] = dict.fromkeys(CATEGORIES, 0.0)
    for item in evidence:
        scores[item.category] += item.weight
    _apply_context(scores, flags, colleague)
    ranked = sorted(CATEGORIES, key=lambda c: (-scores[c], CATEGORIES.index(c)))
    top_score, second_score = scores[ranked[0]], max(scores[ranked[1]], 0.0)
    if top_score < MIN_SCORE:
        category: Category = "other"
        confidence = 0.4 if top_score <= 0 else 0.45
    else:
        category = ranked[0]
        strength = top_score / (top_score + 3.0)
        margin = (top_score - second_score) / top_score
        confidence = min(0.97, 0.25 + 0.75 * strength * margin**0.5)

    # 6. Priority and action.
    reference = now.date() if now is not None else _parse_date(email.date)
    priority, priority_why = _priority_for(category, flags, both, any_hits, reference, header_says)
    action = _action_for(category, flags)
    lead = _lead(category, flags, both, priority_why)
    reason = _reason(category, evidence, flags, priority_why, lead)
    logger.debug(
        "triage %s: %s/%s/%s %.2f %s", email.id, priority, category, action, confidence, reason
    )
    return RuleTriage(priority, category, action, reason, round(confidence, 2))


def _sender_flags(
    email: Email,
    sender: str,
    sender_domain: str,
    owner_addresses: Sequence[str],
    vip_senders: Sequence[str],
    flags: set[str],
) -> bool:
    """Add the flags that compare the sender with the owner; return whether it is a colleague."""
    owner_domains = {_base_domain(_domain(a.casefold())) for a in owner_addresses if "@" in a}
    vip = {v.casefold().strip() for v in vip_senders}
    base = _base_domain(sender_domain) if sender_domain else ""
    is_vip = bool(sender) and (sender in vip or f"@{sender_domain}" in vip or sender_domain in vip)
    colleague = bool(base) and base in owner_domains
    if is_vip:
        flags.add("vip")
    if colleague:
        flags.add("colleague")
    if not (is_vip or colleague):
        flags.add("unknown_sender")
    if base and not colleague:
        label = base.split(".")[0]
        if any(
            owner.split(".")[0] in label for owner in owner_domains if len(owner.split(".")[0]) >= 4
        ):
            flags.add("owner_lookalike")  # "northwind-secure.example" next to "northwind.example"
        if _DIGIT_FOR_LETTER_RE.search(label):
            flags.add("digit_domain")  # "mai1box", "paypa1"
    reply_to_domain = _domain((email.reply_to or "").casefold())
    if reply_to_domain and base and _base_domain(reply_to_domain) != base:
        flags.add("reply_to_mismatch")
    if sender_domain:
        sender_name = (email.from_name or "").casefold()
        for brand_re, genuine in _BRAND_RES:
            if brand_re.search(sender_name) and genuine not in sender_domain:
                flags.add("brand_spoof")
                break
    return colleague


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
    if "personal_word" in flags and "work_word" not in flags:
        scores["meeting_request"] *= 0.6  # brunch on Saturday is a plan, not a meeting
    if "no_outage" in flags:
        scores["urgent_incident"] *= 0.5


def _priority_for(
    category: Category,
    flags: set[str],
    text: str,
    hits: set[Phrase],
    reference: date | None,
    header_says: list[str],
) -> tuple[Priority, list[str]]:
    """Return the priority and, when it differs from the category's default, why (short phrases).

    Bulk mail, robots and spam keep their default (low) whatever they say; an outage is
    high in any category that can carry one; billing is high when overdue or a payment
    failed and low for a receipt; a meeting is high when proposed within
    `MEETING_SOON_DAYS`; an FYI is low. Otherwise two of these make it high: a blocked
    customer (counts twice, bug reports only), a deadline, a high-importance header, a VIP
    sender, a direct request from outside the company (`other` only).
    """
    base = PRIORITY_BY_CATEGORY[category]
    if category in ("newsletter", "spam_or_cold"):
        return base, []
    if "outage" in flags and category in ("urgent_incident", "bug_report", "notification", "other"):
        return "high", ["outage or security incident"]
    if category in ("urgent_incident", "notification"):
        return base, []
    if category == "billing":
        if "overdue" in flags:
            return "high", ["overdue"]
        if "payment_failed" in flags:
            return "high", ["payment failed"]
        if "receipt" in flags and "amount_due" not in flags:
            return "low", ["already paid"]
    if category == "meeting_request":
        days = _days_until_proposed(text, hits, reference)
        if days is not None and days <= MEETING_SOON_DAYS:
            return "high", [f"proposed {_in_days(days)}"]
    if category == "other" and "fyi" in flags and "vip" not in flags:
        return "low", ["no action needed"]
    points = 0
    why: list[str] = []
    if "blocked" in flags and category == "bug_report":
        points += 2
        why.append("customer blocked")
    if "deadline" in flags:
        points += 1
        why.append("deadline")
    if "high_importance" in flags:
        points += 1
        why.append(header_says[0] if header_says else "marked important")
    if "vip" in flags:
        points += 1
        why.append("from a VIP")
    elif category == "other" and {"request", "unknown_sender"} <= flags:
        points += 1
        why.append("from outside the company")
    if points >= 2:
        return "high", why
    return base, []


def _in_days(days: int) -> str:
    return {0: "for today", 1: "for tomorrow"}.get(days, f"in {days} days")


def _action_for(category: Category, flags: set[str]) -> Action:
    """Return the category's action (`ACTION_BY_CATEGORY`), with these exceptions.

    - billing: an overdue notice -> `reply` (confirm payment or dispute it); a receipt with
      nothing left to pay -> `archive`; other invoices -> `none` (paid through the usual
      process, not by mail);
    - other: an FYI -> `none`; a question or request -> `reply`; anything else -> `none`.

    Notifications are always archived, even when they ask for a review or name you as
    assignee: the work happens in the tool, and replying to a robot reaches nobody.
    """
    if category == "billing":
        if "overdue" in flags:
            return "reply"
        if "receipt" in flags and "amount_due" not in flags:
            return "archive"
    if category == "other" and "request" in flags and "fyi" not in flags:
        return "reply"
    return ACTION_BY_CATEGORY[category]


def _lead(category: Category, flags: set[str], text: str, why: list[str]) -> str:
    """What the mail is in a few words where the rule signals say it poorly, else ''.

    A bill gets its state and due date; a meeting proposed soon gets when.
    """
    if category == "billing":
        return _billing_lead(flags, text)
    if category == "meeting_request" and why and why[0].startswith("proposed "):
        return f"meeting {why[0]}"
    return ""


def _billing_lead(flags: set[str], text: str) -> str:
    """What a billing mail is in a few words, with its due date when it names one."""
    due = _due_date(text)
    if "overdue" in flags:
        return f"overdue payment, was due {due}" if due else "overdue payment"
    if "payment_failed" in flags:
        return "payment failed"
    if "receipt" in flags and "amount_due" not in flags:
        return "receipt, already paid"
    return f"invoice due {due}" if due else ""


def _due_date(text: str) -> str:
    """The first due date the text names ("due date: 16 Dec 2026"), as "Dec 16"; '' if none.

    Month first, so a reason never ends on a month name: a list that puts the next line's
    number after it ("... Dec" + "3. ...") would read as another date.
    """
    for m in _DUE_RE.finditer(text):
        if m[1]:
            day, month = int(m[1]), _MONTHS[m[2]]
        elif m[3]:
            day, month = int(m[4]), _MONTHS[m[3]]
        else:
            day, month = int(m[7]), int(m[6])
        if _make_date(2000, month, day) is not None:  # a leap year: 29 Feb is a real day
            return f"{_MONTH_ABBREVIATIONS[month - 1]} {day}"
    return ""


def _reason(
    category: Category, evidence: list[_Evidence], flags: set[str], why: list[str], lead: str
) -> str:
    """A short phrase: what the mail is, why its priority moved, then a second signal if it fits.

    Parts are plain words from the rule tables (never the subject, which is shown beside the
    reason); a part that repeats one already said, or that would make the phrase longer than
    `REASON_CHARS`, is left out.
    """
    mine = sorted((e for e in evidence if e.category == category), key=lambda e: -e.weight)
    signals = list(dict.fromkeys(item.says for item in mine))
    if lead:
        parts, more = [lead], why
    elif signals:
        parts, more = [signals[0]], [*why, *signals[1:2]]
    else:
        direct = "asks you something directly" if "request" in flags else "no clear signal"
        parts, more = [direct], why
    if category == "urgent_incident":
        more = [part for part in more if part not in why]  # high is what an incident always is
    for part in more:
        if any(_repeats(part, said) for said in parts):
            continue
        if len(", ".join([*parts, part])) <= REASON_CHARS:
            parts.append(part)
    return _snippet(", ".join(parts), REASON_CHARS + 20)


def _repeats(part: str, said: str) -> bool:
    """Whether `part` adds nothing to `said`.

    One holds the other, or both end on the same noun ("asks for a meeting", "mentions a meeting").
    """
    return part in said or said in part or part.split()[-1] == said.split()[-1]
