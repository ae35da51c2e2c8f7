"""Weighing only the rules of the phrases found, and remembering what a sender's domain, name
and links came to, change nothing: each is compared with the plain way (every rule, every
time) on generated input."""

from __future__ import annotations

import itertools
import random
import re

from graph.engines.triage.dates import has_time_expression
from graph.engines.triage.phishing import _imitation, imitated_domain
from graph.engines.triage.phrases import Phrase
from graph.engines.triage.profile import MailboxProfile
from graph.engines.triage.reasons import Signal
from graph.engines.triage.rulebook import RuleBook, default_rules
from graph.engines.triage.scorer import (
    MIN_SCORE,
    _apply_context,
    _pick,
    _Reading,
    _weigh_flags,
    _weigh_phrases,
)
from graph.engines.triage.senders import (
    _brand_claims,
    _brand_with_addon,
    _distinct_brands,
    base_domain,
    dressed_link,
)
from tools.language.categories import CATEGORIES, Category
from tools.mail.model import Email


def _plain_phrases(rules: RuleBook, seen: _Reading) -> None:
    for rule in rules.phrases:
        if rule.subject and rule.pattern in seen.subject_hits:
            seen.evidence.append(Signal(rule.category, rule.subject, rule.says))
        elif rule.body and rule.pattern in seen.body_hits:
            seen.evidence.append(Signal(rule.category, rule.body, rule.says))


def _plain_flags(rules: RuleBook, seen: _Reading) -> None:
    hits_in = {"subject": seen.subject_hits, "body": seen.body_hits, "any": seen.any_hits}
    for rule in rules.flags:
        if rule.pattern in hits_in[rule.where]:
            seen.flags.add(rule.flag)


def _reading(subject_hits: set[Phrase], body_hits: set[Phrase]) -> _Reading:
    return _Reading("", "", "", subject_hits, body_hits)


def test_weighing_the_phrases_found_gives_what_weighing_every_rule_gives() -> None:
    """Same evidence in the same order, same flags, for random hits in subject and body."""
    rules = default_rules()
    phrases = list(
        dict.fromkeys([r.pattern for r in rules.phrases] + [r.pattern for r in rules.flags])
    )
    rng = random.Random(13)
    for _ in range(2000):
        in_subject = rng.sample(phrases, rng.randint(0, 6))
        in_body = rng.sample(phrases, rng.randint(0, 12)) + in_subject[: rng.randint(0, 3)]
        subject, body = set(in_subject), set(in_body)
        fast, plain = _reading(subject, body), _reading(subject, body)
        _weigh_phrases(rules, fast)
        _plain_phrases(rules, plain)
        assert fast.evidence == plain.evidence
        _weigh_flags(
            rules,
            fast,
            colleague=False,
            email=Email(id="x", source="", folder="", key=""),
            profile=MailboxProfile(),
        )
        _plain_flags(rules, plain)
        # What `_weigh_flags` adds beyond the phrase flags, made the plain way.
        if has_time_expression(plain.both, plain.any_hits):
            plain.flags.add("time_expression")
        if any(e.category == "billing" and e.weight >= 2.0 for e in plain.evidence):
            plain.flags.add("billing_claim")
        plain.flags -= {"outage"} if "no_outage" in plain.flags else set()
        if "owed_work" in plain.flags:
            plain.flags.add("action_required")
        if "paid_out" in plain.flags:
            plain.flags.add("receipt")
        if "login_host" in plain.flags:  # no program's signed notice: a login host counts
            plain.flags.add("ip_link")
        if "call_minutes" in plain.flags and "rate_minutes" not in plain.flags:
            plain.flags.add("cold_line")
        assert fast.flags == plain.flags


def _plain_imitation(profile: MailboxProfile, sender_base: str) -> str:
    if not sender_base or sender_base in profile.written_domains:
        return ""
    written = [*profile.owner_domains, *(profile.written_domains & profile.sending_domains)]
    imitated = imitated_domain(sender_base, written, profile.owner_domains)
    if imitated or sender_base in profile.known_domains:
        return imitated
    answered = [
        d
        for d in sorted(profile.known_domains & profile.sending_domains)
        if not imitated_domain(d, written, profile.owner_domains)
    ]
    return imitated_domain(sender_base, answered, profile.owner_domains)


def test_a_senders_domain_imitates_what_the_plain_comparison_says() -> None:
    """Look-alikes of the owner's, written and answering domains, over several profiles."""
    names = ["lumenhive", "northwind", "acme", "contoso", "fabrikam", "globex", "initech"]
    rng = random.Random(17)

    def domain() -> str:
        name = rng.choice(names)
        shape = rng.choice(["", "1", "-hr", "rn", "x"])
        name = name.replace("m", "rn") if shape == "rn" else name + shape
        return f"{name}.{rng.choice(['com', 'example', 'de'])}"

    for _ in range(40):
        profile = MailboxProfile(
            owner_addresses=(f"me@{domain()}",),
            known_domains=frozenset(domain() for _ in range(rng.randint(0, 6))),
            written_domains=frozenset(domain() for _ in range(rng.randint(0, 4))),
            sending_domains=frozenset(domain() for _ in range(rng.randint(0, 8))),
        )
        for _ in range(60):
            base = rng.choice([domain(), "", "gmail.com"])
            assert _imitation(profile, base) == _plain_imitation(profile, base), base


def _plain_dressed_link(text: str, brands: frozenset[str]) -> bool:
    for found in itertools.islice(
        re.finditer(r"\bhttps?://([a-z0-9.-]+)", text, re.IGNORECASE), 50
    ):
        host = found.group(1).casefold().strip(".")
        base = base_domain(host)
        segments = base.split(".")[0].split("-")
        if len(segments) > 1 and any(segment in brands for segment in segments):
            return True
        if any(brand in base.split(".")[0] for brand in brands):
            continue
        outside = host[: -len(base)].split(".") if host.endswith(base) else []
        if any(label in brands for label in outside):
            return True
    return False


def test_links_and_display_names_read_as_the_plain_way_reads_them() -> None:
    """Brands as subdomains, with add-ons, in capitals, without a scheme; claimed names."""
    rules = default_rules()
    brands = _distinct_brands(rules.brands)
    genuine = sorted({name for _, name in rules.brands})
    rng = random.Random(19)

    def host() -> str:
        brand = rng.choice(genuine)
        return rng.choice(
            [
                f"{brand}.com",
                f"click.{brand}.com",
                f"{brand}.secure-login.net",
                f"mijn-{brand}-teruggaaf.nl",
                f"{brand}-signature.example",
                f"www.{brand}.co.uk.",
                "example.org",
                f"{brand}{brand}.io",
            ]
        )

    for _ in range(1500):
        links = [
            rng.choice(["https://", "HTTP://", "http://", "xhttps://", "www.", ""]) + host()
            for _ in range(rng.randint(0, 4))
        ]
        text = rng.choice([" ", "\n", " see "]).join(links)
        assert dressed_link(text, brands) == _plain_dressed_link(text, brands), text
        name = rng.choice(["", "support ", "the "]) + rng.choice(genuine) + rng.choice(["", " x"])
        domain = host().strip(".")
        claimed = [g for name_re, g in rules.brands if name_re.search(name)]
        base = base_domain(domain)
        plain = (
            any(g not in domain for g in claimed),
            any(_brand_with_addon(base, g) for g in claimed),
        )
        assert _brand_claims(name, domain, rules.brands) == plain, (name, domain)


def _plain_pick(evidence: list[Signal], flags: set[str], colleague: bool) -> tuple[str, float]:
    scores: dict[Category, float] = dict.fromkeys(CATEGORIES, 0.0)
    for item in evidence:
        scores[item.category] += item.weight
    _apply_context(scores, flags, colleague)
    ranked = sorted(CATEGORIES, key=lambda c: (-scores[c], CATEGORIES.index(c)))
    top_score, second_score = scores[ranked[0]], max(scores[ranked[1]], 0.0)
    if top_score < MIN_SCORE:
        return "other", 0.4 if top_score <= 0 else 0.45
    strength = top_score / (top_score + 3.0)
    margin = (top_score - second_score) / top_score
    return ranked[0], min(0.97, 0.25 + 0.75 * strength * margin**0.5)


def test_the_best_category_and_ties_are_picked_as_the_plain_sort_picks_them() -> None:
    """Equal scores (common with round weights) fall to the first of `CATEGORIES`."""
    context = ["bulk", "automated", "alert", "prod", "outage", "personal_word", "no_outage"]
    rng = random.Random(23)
    for _ in range(3000):
        evidence = [
            Signal(rng.choice(CATEGORIES), rng.choice([0.0, 1.0, 1.5, 2.0, 3.0]), "x")
            for _ in range(rng.randint(0, 6))
        ]
        flags = set(rng.sample(context, rng.randint(0, 3)))
        colleague = rng.random() < 0.3
        assert _pick(evidence, flags, colleague) == _plain_pick(evidence, flags, colleague)
