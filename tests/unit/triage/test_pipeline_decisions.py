"""The fetch-and-triage pipeline decides exactly as it did before it was made faster.

The dev part of the labelled corpus (with the owner's sent mail in `.Sent`) and the demo inbox
go through what `smart-inbox triage` runs: the Maildir sync into a fresh cache, then the rules
over every untriaged message with the mailbox profile. Each message's whole triage row is
compared with `pipeline_decisions.json`, written by the code before the fetch was reworked;
only a deliberate change to the rules may rewrite it (`python -m
tests.unit.triage.test_pipeline_decisions`).
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from graph.nodes.classify import _rules_triage
from memory.db import AppDatabase
from tools.mail.maildir import MaildirSource

ROOT = Path(__file__).resolve().parents[3]
EVAL = ROOT / "data" / "triage-eval"
DEMO = ROOT / "data" / "demo-inbox"
EXPECTED = Path(__file__).with_name("pipeline_decisions.json")
DEMO_OWNER = ("dana@northwind.example",)


def _eval_maildir(root: Path) -> Path:
    """The dev split in `cur/`, the owner's sent mail in `.Sent/cur/`."""
    for sub in ("cur", "new", "tmp", ".Sent/cur", ".Sent/new", ".Sent/tmp"):
        (root / sub).mkdir(parents=True)
    for path in sorted((EVAL / "dev").glob("*.eml")):
        shutil.copyfile(path, root / "cur" / f"{path.stem}:2,S")
    for path in sorted((EVAL / "sent").glob("*.eml")):
        shutil.copyfile(path, root / ".Sent" / "cur" / f"{path.stem}:2,S")
    return root


def pipeline_decisions(maildir: Path, home: Path, owners: tuple[str, ...]) -> dict[str, Any]:
    """Every triaged message's key → its whole rules triage row, after a fresh sync."""
    db = AppDatabase(f"sqlite:///{home / 'app.db'}")
    try:
        source = MaildirSource(maildir, f"maildir:{maildir}")
        source.sync(db)
        emails = db.emails_by_ids(db.untriaged_ids(source.spec))
        emails.sort(key=lambda e: e.date, reverse=True)
        rows, _, _ = _rules_triage(db, source.spec, emails, owners)
        return {email.key: asdict(row) for email, row in zip(emails, rows, strict=True)}
    finally:
        db.engine.dispose()


def all_decisions(tmp: Path) -> dict[str, dict[str, Any]]:
    """The decisions on the dev split and on the demo inbox."""
    demo = tmp / "demo"
    shutil.copytree(DEMO, demo, ignore=shutil.ignore_patterns("*.json", "*.md"))
    (tmp / "home-eval").mkdir()
    (tmp / "home-demo").mkdir()
    return {
        "triage-eval/dev": pipeline_decisions(_eval_maildir(tmp / "eval"), tmp / "home-eval", ()),
        "demo-inbox": pipeline_decisions(demo, tmp / "home-demo", DEMO_OWNER),
    }


def test_pipeline_decides_as_before(tmp_path: Path) -> None:
    expected = json.loads(EXPECTED.read_text("utf-8"))
    found = all_decisions(tmp_path)
    for corpus, rows in expected.items():
        assert len(found[corpus]) == len(rows), corpus
        changed = sorted(key for key, row in rows.items() if found[corpus].get(key) != row)
        assert not changed, f"{corpus}: {len(changed)} decision(s) changed, e.g. {changed[:5]}"


def test_a_changed_decision_is_caught(tmp_path: Path) -> None:
    """The comparison above is not vacuous: one altered row in the file is reported."""
    expected = json.loads(EXPECTED.read_text("utf-8"))
    assert len(expected["triage-eval/dev"]) >= 200
    assert len(expected["demo-inbox"]) >= 20
    found = all_decisions(tmp_path)
    key = sorted(expected["triage-eval/dev"])[0]
    altered = dict(expected["triage-eval/dev"][key], decision="no such decision")
    assert found["triage-eval/dev"][key] != altered


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        decisions = all_decisions(Path(tmp))
    EXPECTED.write_text(json.dumps(decisions, indent=1, sort_keys=True) + "\n", "utf-8")
    sys.stdout.write(f"wrote {EXPECTED.name}: {sum(map(len, decisions.values()))} rows\n")
