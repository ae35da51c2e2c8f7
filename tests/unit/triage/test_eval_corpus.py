"""The evaluation corpus (`data/triage-eval`): the test part is frozen, the dev part guards.

The test part is only scored by `python -m bench.triage_eval`; here it is only hashed, so an
edit to it (which would make its figures worthless) fails. The dev part, which the rules were
tuned on, keeps the figures they reached, so a change that makes them worse fails here.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from bench.triage_eval import (
    by_the_same_authors,
    corrections,
    figures,
    load_sent,
    load_split,
    rules_alone,
    run,
)
from graph.engines.triage.profile import build_profile
from tools.language.categories import CATEGORIES, DECISIONS, PRIORITIES

CORPUS = Path(__file__).resolve().parents[3] / "data" / "triage-eval"
DEV_DECISION_ACCURACY = 0.87
"""0.92 to 0.93 before the j-* and i-* mail was added (680 of 761 with it; the i-* mail was
added after the rules were last tuned and scored as it came: 62 of 80); the k-* mail was
added the same way (65 of 80 as it came), then tuned on with the rest (757 of 841); the l-*
and m-* mail came next, scored as it came (59 and 55 of 80): 874 of 1,001 before tuning on
them, 884 after; the n-*, o-* and p-* mail came next, scored as it came (64, 59 and 62 of
80): 1,069 of 1,241 before tuning on them, 1,108 after; the q-*, r-* and s-* mail came next,
scored as it came (65, 66 and 67 of 80): 1,305 of 1,481, then 1,322 after tuning on them; the
t-* mail (63 of 80 as it came, 70 after), then u-* and v-* (58 and 64 as they came): 1,513
of 1,721, then 1,523 after tuning on them; y-* (59 of 80 as it came, 66 after), x-* and w-*
(66 and 68 as they came): 1,725 of 1,961, then 1,733 after tuning on them; z-* (69 of 80 as it came, 72 after): 1,805 of 2,041; za-*, zb-*, zc-* (63, 72 and 65 as they
came; 65, 73 and 67 after): 2,010 of 2,281; zd-*, ze-*, zf-* added untuned (70, 65 and 60
of 80): 2,205 of 2,521; zi-*, zh-* and zg-* (64, 67 and 65 of 80 as they came, each scored
before any rule was tuned on it; 67, 71 and 69 after): 2,443 of 2,761; zk-*, zl-* and zj-*
(69, 63 and 73 as they came; 71, 64 and 74 after): 2,654 of 3,001; zn-*, zo-* and zm-* (70,
65 and 70 as they came; 73, 67 and 71 after): 2,865 of 3,241; zp-*, zq-* and zr-* (65, 60 and
66 as they came; 66, 61 and 66 after; the family mail of zq-* is the hardest yet): 3,058 of
3,481 (0.878); zs-*, zt-*, zu-* and zv-* (money, a hard week, invitations, strangers writing
in: 66, 63, 66 and 63 as they came; 67, 63, 71 and 73 after): 3,337 of 3,801 (0.878); zw-*,
zx-* and zy-* (the automated side, lists and mailings, an ordinary week: 61, 67 and 73 as they
came; 61, 67 and 74 after): 3,545 of 4,041 (0.877); zz-*, zza-* and zzb-* (mail that looks
important but is not, the personal address, work threads: 73, 70 and 70 as they came; 73, 71
and 70 after): 3,759 of 4,281 (0.878); zzc-*, zzd-* and zze-* (the holidays, accounts and
security, customers across the world: 63, 64 and 69 as they came; 66, 66 and 74 after): 3,969
of 4,521 (0.878); zzf-*, zzg-* and zzh-* (back from a week off, life outside the day job,
hiring: 66, 64 and 68 as they came; 68, 67 and 70 after): 4,176 of 4,761 (0.877); zzi-*,
zzj-* and zzk-* (on the road, the commercial side, family logistics across countries: 65, 65
and 71 as they came; 67, 67 and 73 after): 4,384 of 5,001 (0.877); zzl-*, zzm-* and zzn-* (the
week between the holidays, hurried and non-native writing, people through tools and tools like
people: 73, 60 and 66 as they came; 73, 61 and 67 after): 4,585 of 5,241 (0.875); zzo-*,
zzp-*, zzq-* and zzr-* (the new year, look-alikes both ways, very short mail, people outside
the company: 66, 79, 76 and 67 as they came; 66, 79, 76 and 70 after): 4,878 of 5,561
(0.877); zzs-*, zzt-*, zzu-* and zzv-* (money and admin, an incident week, the people she
manages, the personal address: 69, 68, 72 and 73 as they came; 71, 72, 73 and 77 after, and
zzo-* 67): 5,177 of 5,881 (0.880); zzw-*, zzx-*, zzy-* and zzz-* (four languages, the
developer's inbox, travelling to speak, threads: 72, 64, 62 and 73 as they came; 72, 64, 62
and 75 after, and zzb-* one more): 5,449 of 6,201 (0.879); zzza-*, zzzb-*, zzzc-* and
zzzd-* (mail from above her manager, customers' business side, institutions' automated mail,
a quiet week of small talk: 67, 73, 66 and 71 as they came; 68, 74, 66 and 71 after, and
thirteen school newsletters of earlier authors): 5,736 of 6,521 (0.880)."""
DEV_COLD_PRECISION = 0.93
DEV_COLD_RECALL = 0.86
"""0.93 before the g-* and h-* mail was added, 0.85 before the j-* mail: each new author's
pitches are caught less often (0.82 with the i-* mail); 0.90 before the zw-* to zy-* mail, three
of whose pitches (a recruiter's InMail, a vendor's webinar, an agency's "kurze Frage" with an
unsubscribe link) are filed as newsletters, decided `ignore` all the same; 0.89 before the
zzi-* to zzk-* mail, whose trade-fair, consultancy, data-broker and comparison-site mailings
(six of them) are filed as newsletters or notifications, decided `ignore` all the same; 0.88
before the zzo-* to zzr-* mail, seven of whose pitches (sent with a mailing tool's
unsubscribe link: webinars, an award, agencies) are filed as newsletters, decided `ignore` all
the same, and two flagged as fraud (a predatory journal, an SEO agency); 0.87 before the
zzs-* to zzz-* mail, whose sponsors' booth invitations, seminars and agencies' first mails are
sent with a mailing tool's unsubscribe link (seven filed as newsletters, decided `ignore` all
the same), and whose beg bounty claims a "critical vulnerability" in a way a report does."""
DEV_PHISHING_RECALL = 0.97
DEV_REAL_PEOPLE_IGNORED = 21
"""d-080, a vendor's genuine change of bank details, which reads as the fraud does; f-103, a
stranger's genuine ask for "the right person" (a food bank asking for a free account), which
the cold-outreach rules take for a pitch; h-010, a recruiter's personal approach, which reads
as the recruiters' mass mail does; j-016, a former colleague reconnecting from a new company
(in Portuguese and English, asking for "30 minutes of your brain"); one of the l-* mail,
as it came; and one each of the s-*, v-*, zc-* and zl-* mail, as they came (the ze-* one, a
colleague's @-mention relayed by a developer tool, is answered now); and one of the zr-* mail,
an organiser's questions relayed by an event platform's mass mailer; and one of the zv-*
mail, a vendor answering the owner's demo request (made on its website, so no mail of hers is
in the thread) under a "Re:" as the pitches that fake one write; and two of the zz-* and zzb-*
mail as they came: a prospect referred by a customer asking "who should I talk to?" (a pitch's
line; the model of labelled mail shows it), and a new customer's integration lead whose name is
a colleague's, writing about a webhook secret (a colleague's name on an outside address asking
for a login reads as fraud: a namesake cannot be told apart without history); and one of the
zzc-* mail as it came: the account manager of a tool the company pays for, writing about the
renewal's price in a seller's words; and one of the zzk-* mail as it came: the family's tax
adviser, writing to both partners about the documents for their return and offering slots for
a call in January, which reads as an adviser's sales opener; and one each of the zzo-* and
zzr-* mail as they came: the account manager of a monitoring tool the company pays for about
its renewal and usage (as zzc-*'s), and a university researcher writing for the first time
to propose a student's research project with the company, in a pitch's words ("would you be
open to a 30-minute call"); and one each of the zzs-* and zzu-* mail as they came: the
family's tax adviser again (as zzk-*'s), and a prospect's developer whose name is a
colleague's, asking about sandbox credentials (as zz-*'s namesake); and one each of the
zzx-* and zzy-* mail as they came: an independent researcher's genuine security report from a
free-mail address, which reads as the beg bounties do, and a conference's speaker coordinator
whose "WhatsApp me" on the day reads as a fraud's move to a private channel."""


def test_the_test_part_is_exactly_what_was_frozen() -> None:
    digest = hashlib.sha256()
    for path in sorted((CORPUS / "test").iterdir()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    assert digest.hexdigest() == (CORPUS / "test.sha256").read_text().strip()


@pytest.mark.parametrize("split", ["dev", "test"])
def test_every_message_is_labelled_with_known_values(split: str) -> None:
    labels = json.loads((CORPUS / split / "labels.json").read_text("utf-8"))
    files = {p.name for p in (CORPUS / split).glob("*.eml")}
    assert set(labels) == files
    for name, label in labels.items():
        assert label["decision"] in DECISIONS, name
        assert label["priority"] in PRIORITIES, name
        assert label["category"] in CATEGORIES, name
        assert all(isinstance(label[k], bool) for k in ("cold", "phishing", "real_person")), name


def test_the_parts_do_not_share_a_message() -> None:
    dev = {p.name for p in (CORPUS / "dev").glob("*.eml")}
    test = {p.name for p in (CORPUS / "test").glob("*.eml")}
    assert dev and test and not dev & test
    assert len(dev) + len(test) >= 400


def test_the_rules_keep_their_figures_on_the_dev_part() -> None:
    # The rules alone: with their model of labelled mail the dev part is its training data.
    items = load_split("dev")
    profile = build_profile([*(i.email for i in items), *load_sent()])
    rows = run(items, profile, rules=rules_alone())
    right = sum(row.decision == item.label["decision"] for item, row in rows)
    phishing = [(i, r) for i, r in rows if i.label["phishing"]]
    people_ignored = sum(1 for i, r in rows if i.label["real_person"] and r.decision == "ignore")
    summary = figures(rows)
    assert right / len(rows) >= DEV_DECISION_ACCURACY, summary
    assert sum(bool(r.suspicious) for _, r in phishing) / len(phishing) >= DEV_PHISHING_RECALL
    assert people_ignored <= DEV_REAL_PEOPLE_IGNORED, summary
    said_cold = [i for i, r in rows if r.category == "spam_or_cold" and not r.suspicious]
    cold = [i for i, _ in rows if i.label["cold"]]
    hits = sum(bool(i.label["cold"]) for i in said_cold)
    assert hits / len(said_cold) >= DEV_COLD_PRECISION, summary
    assert hits / len(cold) >= DEV_COLD_RECALL, summary


def test_the_simulated_user_corrects_only_the_rules_mistakes() -> None:
    """A learning-curve correction is never a right row "corrected" to what it already was."""
    items = load_split("dev")
    profile = build_profile([*(i.email for i in items), *load_sent()])
    wrong = {i.email.id for i, row in run(items, profile) if row.decision != i.label["decision"]}
    assert wrong  # the rules make mistakes on the dev part, or this test says nothing
    made = corrections(items, profile, len(items))
    assert {c.email_id for c in made} == wrong  # asked for every row: only the mistakes come
    assert len(corrections(items, profile, 5)) == min(5, len(wrong))


def test_a_users_own_corrections_come_from_the_scored_mails_authors() -> None:
    dev = load_split("dev")
    scored = [i for i in dev if i.name.startswith(("a-", "c-"))]
    own = by_the_same_authors(dev, scored)
    assert own and {i.name[:2] for i in own} == {"a-", "c-"}
    assert len(by_the_same_authors(dev, dev)) == len(dev)
