"""Triage quality on the labelled corpus (`data/triage-eval`), offline rules engine.

The engine is the rules and their model of labelled mail (`graph/engines/triage/prior.py`),
which `bench.train_prior` trains on the dev part only; `--rules-alone` scores the rules
without it (on the dev part, the model's own training data, that is the honest figure).

The corpus is one person's inbox over ten days, written for this project by people who did not
read the rules, and split once, before any tuning, into a dev part (which the rules may be tuned
on; `tests/unit/triage/test_eval_corpus.py` guards it) and a frozen test part (its hash is in
`data/triage-eval/test.sha256`, checked by the tests; it is scored only here).

Reported: decision accuracy; precision and recall per decision and per category; cold-outreach
and phishing precision and recall; how many real people's mails were marked ignore; the share
of rows marked unsure; and a learning curve (the same figures after up to 10, 25 and 50
corrections a user made on the dev part, in a fixed order; only of the rows the rules got wrong,
as a user corrects only mistakes).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import hashlib
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.common import table
from graph.engines.triage import RuleTriage, triage_by_rules
from graph.engines.triage.kinds import is_automated, template_key
from graph.engines.triage.learning import Correction, Learner
from graph.engines.triage.profile import MailboxProfile, build_profile
from graph.engines.triage.rulebook import RuleBook, default_rules
from graph.engines.triage.senders import base_domain, domain_of
from tools.mail.mime import parse_email
from tools.mail.model import SENT, Email

CORPUS = Path(__file__).resolve().parents[1] / "data" / "triage-eval"
DECISIONS = ("respond", "notify", "ignore")
CORRECTION_STEPS = (0, 10, 25, 50)
WITH_MODEL = "rules engine and its model of labelled mail (trained on the dev part)"


@dataclass(frozen=True)
class Labelled:
    """One message of the corpus and what a person said it is."""

    name: str
    email: Email
    label: dict[str, object]


def load_split(split: str, root: Path = CORPUS) -> list[Labelled]:
    """The labelled messages of one split (`dev` or `test`)."""
    folder = root / split
    labels: dict[str, dict[str, object]] = json.loads((folder / "labels.json").read_text("utf-8"))
    return [
        Labelled(
            name,
            parse_email(
                (folder / name).read_bytes(), source=f"eval:{split}", folder="INBOX", key=name
            ),
            labels[name],
        )
        for name in sorted(labels)
    ]


def load_sent(root: Path = CORPUS) -> list[Email]:
    """The owner's Sent folder, which the profile learns known people from."""
    return [
        parse_email(path.read_bytes(), source="eval:sent", folder=SENT, key=path.name)
        for path in sorted((root / "sent").glob("*.eml"))
    ]


def _ratio(part: int, whole: int) -> str:
    return f"{part / whole:.2f}" if whole else "–"


def _precision_recall(
    rows: Sequence[tuple[Labelled, RuleTriage]],
    said: Callable[[RuleTriage], bool],
    truth: Callable[[Labelled], bool],
) -> tuple[str, str, int]:
    hits = sum(1 for item, row in rows if said(row) and truth(item))
    predicted = sum(1 for _, row in rows if said(row))
    actual = sum(1 for item, _ in rows if truth(item))
    return _ratio(hits, predicted), _ratio(hits, actual), actual


def figures(rows: Sequence[tuple[Labelled, RuleTriage]]) -> dict[str, str]:
    """The headline figures of one run."""
    right = sum(row.decision == item.label["decision"] for item, row in rows)
    cold_p, cold_r, _ = _precision_recall(
        rows,
        lambda r: r.category == "spam_or_cold" and not r.suspicious,
        lambda i: bool(i.label["cold"]),
    )
    phish_p, phish_r, _ = _precision_recall(
        rows, lambda r: bool(r.suspicious), lambda i: bool(i.label["phishing"])
    )
    people = [(i, r) for i, r in rows if i.label["real_person"]]
    return {
        "decision accuracy": _ratio(right, len(rows)),
        "category accuracy": _ratio(
            sum(r.category == i.label["category"] for i, r in rows), len(rows)
        ),
        "cold precision / recall": f"{cold_p} / {cold_r}",
        "phishing precision / recall": f"{phish_p} / {phish_r}",
        "real people's mail marked ignore": (
            f"{sum(r.decision == 'ignore' for _, r in people)} of {len(people)}"
        ),
        "rows marked unsure": _ratio(sum(r.unsure for _, r in rows), len(rows)),
    }


def per_class(rows: Sequence[tuple[Labelled, RuleTriage]], field: str) -> list[list[object]]:
    """Precision and recall for each value of `decision` or `category`."""
    values = sorted({str(i.label[field]) for i, _ in rows} | {getattr(r, field) for _, r in rows})
    table_rows: list[list[object]] = []
    for value in values:
        p, r, n = _precision_recall(
            rows,
            lambda row, v=value: getattr(row, field) == v,
            lambda item, v=value: item.label[field] == v,
        )
        table_rows.append([value, n, p, r])
    return table_rows


@functools.cache
def rules_alone() -> RuleBook:
    """The shipped rules without their model of labelled mail: what the model seconds."""
    return dataclasses.replace(default_rules(), prior=None)


def run(
    items: Sequence[Labelled],
    profile: MailboxProfile,
    learner: Learner | None = None,
    rules: RuleBook | None = None,
) -> list[tuple[Labelled, RuleTriage]]:
    """Triage every message with this profile (and these corrections, and rule book)."""
    rows = []
    for item in items:
        row = triage_by_rules(item.email, profile=profile, rules=rules)
        if learner is not None:
            row = learner.apply(item.email, row, profile)
        rows.append((item, row))
    return rows


def corrections(
    dev: Sequence[Labelled],
    profile: MailboxProfile,
    count: int,
    seed: int = 7,
    rules: RuleBook | None = None,
) -> list[Correction]:
    """The first `count` corrections a user makes on the dev part, in a fixed random order.

    A user corrects only what the rules got wrong: a row that was right is not "corrected", so
    there are never more corrections than mistakes (fewer than `count` when the rules make
    fewer mistakes).
    """
    order = list(dev)
    random.Random(seed).shuffle(order)
    wrong = [
        i
        for i in order
        if triage_by_rules(i.email, profile=profile, rules=rules).decision != i.label["decision"]
    ]
    return [Correction.from_label(item.email, item.label, profile) for item in wrong[:count]]


def same_kind(
    before: Sequence[tuple[Labelled, RuleTriage]],
    rows: Sequence[tuple[Labelled, RuleTriage]],
    dev: Sequence[Labelled],
    made: Sequence[Correction],
) -> dict[str, str]:
    """Decision accuracy on mail like the corrected dev mail, before → after.

    Two neighbourhoods: mail from the corrected senders' domains (wide: a domain sends mail of
    many kinds), and mail of the corrected mail's kind (`kind_of`: the same template of
    automated mail, else the same sender).
    """
    by_id = {item.email.id: item.email for item in dev}
    corrected = [by_id[c.email_id] for c in made if c.email_id in by_id]
    domains = {base_domain(domain_of(email.from_addr.casefold())) for email in corrected}
    kinds = {kind_of(email) for email in corrected}

    def accuracy(pairs: list[tuple[Labelled, RuleTriage]]) -> str:
        return _ratio(sum(r.decision == i.label["decision"] for i, r in pairs), len(pairs))

    def change(alike: Callable[[Email], bool]) -> str:
        then = [(i, r) for i, r in before if alike(i.email)]
        now = [(i, r) for i, r in rows if alike(i.email)]
        return f"{accuracy(then)} → {accuracy(now)} ({len(now)})"

    return {
        "mail from the corrected senders' domains: accuracy before → after (messages)": change(
            lambda email: base_domain(domain_of(email.from_addr.casefold())) in domains
        ),
        "mail of the corrected mail's kind: before → after (messages)": change(
            lambda email: kind_of(email) in kinds
        ),
    }


def kind_of(email: Email) -> str:
    """The kind a message is of: its template when automated, else its sender's address."""
    if is_automated(email):
        return "template " + template_key(email)
    return "sender " + email.from_addr.casefold()


def markdown(
    split: str,
    learned: MailboxProfile,
    rows_by_setting: dict[str, list],
    curve: list[tuple[int, dict[str, str]]],
    corrections_from: str = "all",
    engine: str = WITH_MODEL,
) -> str:
    """The RESULTS.md section."""
    whose = (
        "the dev mail of the same authors as the scored mail (a user corrects their own mail)"
        if corrections_from == "same-authors"
        else "the dev mail of every author"
    )
    headline = list(rows_by_setting.items())
    keys = list(figures(headline[0][1]))
    compare = table(
        ["", *[name for name, _ in headline]],
        [[k, *[figures(rows)[k] for _, rows in headline]] for k in keys],
    )
    rows = headline[0][1]
    curve_keys = list(curve[0][1])
    curve_table = table(["corrections", *curve_keys], [[n, *f.values()] for n, f in curve])
    return f"""## Triage quality on mail it has never seen

`data/triage-eval/{split}`: {len(rows)} messages of one person's inbox, written without reading
the rules and frozen before tuning (hash in `data/triage-eval/test.sha256`). Offline
{engine}; the owner ({", ".join(learned.owner_addresses) or "nobody"}) learned from the Sent
folder ({len(learned.known_people)} known people) unless the addresses are configured.

{compare}

Per decision (owner learned):

{table(["decision", "messages", "precision", "recall"], per_class(rows, "decision"))}

Per category (owner learned):

{table(["category", "messages", "precision", "recall"], per_class(rows, "category"))}

Learning curve: corrections a user made on {whose}, applied to the {split} part. A user
corrects only what the rules got wrong, so the corrections are the rules' mistakes on that
mail in a fixed random order, never a right row "corrected" to what it already was; the row
count is how many were made (at most the number of mistakes). The last two columns are the
decision accuracy on mail from the corrected senders' domains, then on mail of the corrected
mail's kind (the same template of automated mail, else the same sender), before and after:

{curve_table}
"""


def author_of(name: str) -> str:
    """The corpus author of a file: its name's prefix (`a-042-...` is by author `a`)."""
    return name.split("-", 1)[0]


def by_the_same_authors(dev: Sequence[Labelled], scored: Sequence[Labelled]) -> list[Labelled]:
    """The dev mail written by the authors of the scored mail.

    Each author labelled as one person would, and the authors disagree on some kinds of mail
    (a bounce, a customer-service reply). A user corrects their own mail, so the learning curve
    takes its corrections from the dev mail of the same authors as the mail it scores.
    """
    authors = {author_of(item.name) for item in scored}
    return [item for item in dev if author_of(item.name) in authors]


def hash_half(name: str) -> int:
    """0 or 1, by a hash of the file name: a fixed split of the dev part into two halves."""
    return int(hashlib.sha256(name.encode()).hexdigest(), 16) >> 7 & 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="test", choices=["dev", "test"])
    parser.add_argument("--misses", action="store_true", help="list every wrong decision")
    parser.add_argument(
        "--corrections-from",
        choices=["all", "same-authors"],
        default="all",
        help="whose dev mail the learning curve's corrections come from: every author's (the "
        "default) or only the scored mail's authors' (a user correcting their own mail)",
    )
    parser.add_argument(
        "--names",
        default="",
        metavar="PREFIX",
        help="score only the dev messages whose file name starts with PREFIX (a batch of mail "
        "added later, scored before any rule was tuned on it); the profile still reads the "
        "whole inbox",
    )
    parser.add_argument(
        "--rules-alone",
        action="store_true",
        help="score the rules without their model of labelled mail (rules/prior.json); on the "
        "dev part, which the model was trained on, this is the figure the rules are tuned by",
    )
    args = parser.parse_args(argv)
    rules = rules_alone() if args.rules_alone else None
    if (args.misses or args.names) and args.split != "dev":
        parser.error(
            "--misses and --names read the dev part only: the test part is never looked into"
        )
    whole = load_split(args.split)
    items = [i for i in whole if i.name.startswith(args.names)]
    if not items:
        parser.error(f"no {args.split} message's name starts with {args.names!r}")
    sent = load_sent()
    inbox = [i.email for i in whole]
    learned = build_profile([*inbox, *sent])
    configured = build_profile([*inbox, *sent], ("priya@lumenhive.com", "priya.raman@fastmail.com"))
    bare = MailboxProfile()
    settings = {
        "owner learned": run(items, learned, rules=rules),
        "owner configured": run(items, configured, rules=rules),
        "no profile": run(items, bare, rules=rules),
    }
    dev = load_split("dev")
    scored = items
    if args.split == "dev":
        # Tuning the learner on the dev part: corrections from one half, scored on the other.
        dev = [i for i in items if hash_half(i.name) == 0]
        scored = [i for i in items if hash_half(i.name) == 1]
    if args.corrections_from == "same-authors":
        dev = by_the_same_authors(dev, scored)
    curve = []
    before = run(scored, learned, rules=rules)
    for count in CORRECTION_STEPS:
        made = corrections(dev, learned, count, rules=rules)
        if curve and len(made) == curve[-1][0]:
            break  # every mistake is corrected already
        rows = run(scored, learned, Learner(made), rules)
        curve.append((len(made), {**figures(rows), **same_kind(before, rows, dev, made)}))
    engine = "rules engine alone" if args.rules_alone else WITH_MODEL
    print(markdown(args.split, learned, settings, curve, args.corrections_from, engine))
    if args.misses:
        for item, row in settings["owner learned"]:
            if row.decision != item.label["decision"]:
                print(
                    f"- {item.name}: {row.decision} (want {item.label['decision']}) "
                    f"{row.category} {row.reason} | {item.label['kind']}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
