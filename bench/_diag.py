import sys

from bench.triage_eval import load_sent, load_split
from graph.engines.triage import scorer, triage_by_rules
from graph.engines.triage.profile import build_profile
from graph.engines.triage.rulebook import default_rules

items = load_split("dev")
sent = load_sent()
profile = build_profile([*[i.email for i in items], *sent])
rules = default_rules()
only = sys.argv[1] if len(sys.argv) > 1 else ""
for it in items:
    row = triage_by_rules(it.email, profile=profile)
    want = it.label["decision"]
    if row.decision == want and not only:
        continue
    if only and only not in it.name and only != "all":
        continue
    seen, cat, conf, writer, susp = scorer._categorise(it.email, rules, profile, ())
    print(
        f"{it.name}: got {row.decision}/{row.category} want {want}/{it.label['category']} rp={it.label['real_person']} ph={it.label['phishing']} cold={it.label['cold']}"
    )
    print(
        f"   kind={it.label['kind']} | susp={row.suspicious!r} | {row.reason} | conf={row.confidence}"
    )
    print(
        f"   writer robot={writer.robot} bulk={writer.bulk} known={writer.known} direct={writer.direct} flags={sorted(seen.flags)}"
    )
