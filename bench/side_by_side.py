"""`smart-inbox triage` side by side with `mu index` and `notmuch new` on one generated Maildir.

Installs nothing: `mu` and `notmuch` are used when they are on the PATH and left out of the
table otherwise (on Debian or Ubuntu: `apt-get install maildir-utils notmuch`). Each round runs
every tool once, in a rotating order, each on a fresh database of its own, so the load of a
shared machine falls on all of them alike:

* ours: `python -m ui.cli triage` with a new data directory (fetch, parse, triage, write the
  cache and the triage, print the inbox), the command a new user runs first;
* mu: `mu index` after `mu init` (the init is not timed);
* notmuch: `notmuch new` with its database outside the Maildir.

Each command runs under a small wrapper process that reports the wall time, the CPU time of
the command and everything it started, and the peak RSS of its largest process
(`ru_maxrss` of the children). Then, at `--big` messages, one first triage of ours and a
re-fetch of the unchanged mailbox (in process: the cursor check a triage starts with, and a
full listing compared with the cache, which is what a changed cursor costs).

Run alone: `python -m bench.side_by_side --n 10000 --rounds 3 --big 100000`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import log, table
from bench.mailgen import generate_maildir

ROOT = Path(__file__).resolve().parent.parent
INSTALL_HINT = "apt-get install maildir-utils notmuch"
TARGET_WALL_RATIO = 1.0
TARGET_MIB = 200.0
TARGET_BIG_MIB = 300.0
TARGET_SCALING = 10.5
TARGET_REFETCH_SHARE = 0.01
_WRAPPER = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
                  "rss_mib": usage.ru_maxrss / 1024, "rc": done.returncode,
                  "stderr": done.stderr.decode(errors="replace")[-2000:]}))
"""


def _measure(argv: Sequence[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run `argv` under the wrapper; raise if it failed (an error must not look fast)."""
    done = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    if result["rc"] != 0:
        raise RuntimeError(f"{argv[0]} exited {result['rc']}: {result['stderr']}")
    return result


def _ours(maildir: Path, work: Path) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="home-", dir=work))
    env = dict(os.environ, SMART_INBOX_HOME=str(home), INBOX=f"maildir:{maildir}")
    env.pop("MODEL", None)
    result = _measure([sys.executable, "-m", "ui.cli", "triage"], env)
    result["home"] = home
    return result


def _mu(maildir: Path, work: Path) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="mu-", dir=work))
    subprocess.run(
        ["mu", "init", f"--muhome={home}", f"--maildir={maildir}"],
        check=True,
        capture_output=True,
    )
    result = _measure(["mu", "index", f"--muhome={home}"])
    shutil.rmtree(home)
    return result


def _notmuch(maildir: Path, work: Path) -> dict[str, Any]:
    database = Path(tempfile.mkdtemp(prefix="notmuch-", dir=work))
    config = database / "config"
    config.write_text(
        f"[database]\npath={database}\nmail_root={maildir}\n"
        "[user]\nname=Bench\nprimary_email=bench@example.com\n"
        "[new]\ntags=unread;inbox;\n[maildir]\nsynchronize_flags=true\n",
        "utf-8",
    )
    result = _measure(["notmuch", f"--config={config}", "new", "--quiet"])
    shutil.rmtree(database)
    return result


TOOLS = {"ours": _ours, "mu": _mu, "notmuch": _notmuch}


def _versions() -> dict[str, str]:
    found = {}
    for tool, flag in (("mu", "--version"), ("notmuch", "--version")):
        if shutil.which(tool):
            out = subprocess.run([tool, flag], capture_output=True, text=True).stdout
            line = out.strip().splitlines()[0] if out.strip() else "present"
            found[tool] = line.split()[-1]
    return found


def side_by_side(maildir: Path, work: Path, rounds: int) -> dict[str, list[dict[str, Any]]]:
    """`rounds` rounds of every available tool, the order rotating each round."""
    names = ["ours", *(t for t in ("mu", "notmuch") if shutil.which(t))]
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for number in range(rounds):
        order = names[number % len(names) :] + names[: number % len(names)]
        for name in order:
            result = TOOLS[name](maildir, work)
            log(f"round {number + 1} {name}: {result['wall']:.1f} s, {result['rss_mib']:.0f} MiB")
            if name == "ours":
                shutil.rmtree(result.pop("home"))
            runs[name].append(result)
    return runs


def refetch(maildir: Path, home: Path) -> dict[str, float]:
    """Seconds for a fetch of the unchanged mailbox into the cache `home` already holds."""
    from memory.db import AppDatabase
    from tools.mail.maildir import MaildirSource
    from tools.mail.sync import canonical_spec

    spec = canonical_spec(f"maildir:{maildir}")
    db = AppDatabase(f"sqlite:///{home / 'app.db'}")
    try:
        source = MaildirSource(maildir, spec)
        checks = []
        for _ in range(3):  # the first includes the database's first query of the process
            started = time.perf_counter()
            skipped = source.sync(db).skipped
            checks.append(time.perf_counter() - started)
        cursor_s = _median(checks)
        started = time.perf_counter()
        listed = source.fetch_new(db.known_keys(spec))
        listing_s = time.perf_counter() - started
    finally:
        db.engine.dispose()
    if not skipped or listed.emails:
        raise RuntimeError("the unchanged mailbox was read again")
    return {"cursor_s": cursor_s, "listing_s": listing_s, "read": float(listed.read_count)}


def _median(values: Sequence[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def markdown(n: int, runs: dict[str, list[dict[str, Any]]], big: dict[str, Any] | None) -> str:
    """The report section."""
    versions = _versions()
    rows = []
    for number in range(len(runs["ours"])):
        for name, results in runs.items():
            r = results[number]
            rows.append(
                [number + 1, name, f"{r['wall']:.1f}", f"{r['cpu']:.1f}", f"{r['rss_mib']:.0f}"]
            )
    ours = runs["ours"]
    ratio_rows = []
    for name in [t for t in runs if t != "ours"]:
        walls = [o["wall"] / t["wall"] for o, t in zip(ours, runs[name], strict=True)]
        cpus = [o["cpu"] / t["cpu"] for o, t in zip(ours, runs[name], strict=True)]
        ratio_rows.append([f"ours / {name}", f"{_median(walls):.2f}", f"{_median(cpus):.2f}"])
    peak = max((r["rss_mib"] for r in ours), default=0.0)
    missing = [t for t in ("mu", "notmuch") if t not in runs]
    absent = (
        f"Not installed here, so not measured: {', '.join(missing)} (`{INSTALL_HINT}`).\n\n"
        if missing
        else ""
    )
    mu_ratio = (
        _median([o["wall"] / m["wall"] for o, m in zip(ours, runs["mu"], strict=True)])
        if "mu" in runs
        else None
    )
    targets = [
        [
            f"ours / mu wall <= {TARGET_WALL_RATIO}",
            "—" if mu_ratio is None else f"{mu_ratio:.2f}",
            "—" if mu_ratio is None else _verdict(mu_ratio <= TARGET_WALL_RATIO),
        ],
        [f"our peak RSS <= {TARGET_MIB:.0f} MiB", f"{peak:.0f}", _verdict(peak <= TARGET_MIB)],
    ]
    text = f"""## Side by side: first triage vs `mu index` and `notmuch new`

One generated Maildir of {n:,} messages (`bench.mailgen`), {len(ours)} rounds; in each round
every tool runs once on a fresh database of its own, the order rotating from round to round.
Versions: {", ".join(f"{k} {v}" for k, v in versions.items()) or "none installed"}. Wall and
CPU time in seconds (CPU counts every process the command started); peak RSS in MiB, of the
command's largest process (ours parses a first fetch, and runs the triage rules over it, in
forked worker processes, each smaller than the main one).

{absent}{table(["round", "tool", "wall (s)", "CPU (s)", "peak RSS (MiB)"], rows)}

Ratios, median of the rounds (each round's ratio from runs made minutes apart):

{table(["ratio", "wall", "CPU"], ratio_rows) if ratio_rows else "(no other tool installed)"}

"""
    if big and not ours:  # --rounds 0: the large run alone
        text = ""
        targets = []
    if big:
        reference = _median([r["wall"] for r in ours]) if ours else float("nan")
        scaling = big["wall"] / reference
        share = big["refetch"]["listing_s"] / big["wall"]
        targets += [
            [
                f"{big['n']:,} messages: first triage <= {TARGET_SCALING}x the {n:,} time",
                f"{scaling:.1f}x",
                _verdict(scaling <= TARGET_SCALING),
            ],
            [
                f"{big['n']:,} messages: peak RSS <= {TARGET_BIG_MIB:.0f} MiB",
                f"{big['rss_mib']:.0f}",
                _verdict(big["rss_mib"] <= TARGET_BIG_MIB),
            ],
            [
                "re-fetch of the unchanged mailbox < 1 % of the first",
                f"{100 * share:.2f} %",
                _verdict(share < TARGET_REFETCH_SHARE),
            ],
        ]
        text += f"""{big["n"]:,} messages: the first `smart-inbox triage` took {big["wall"]:.1f} s
wall, {big["cpu"]:.1f} s CPU, peak RSS {big["rss_mib"]:.0f} MiB. A re-fetch of the unchanged
mailbox into that cache: the cursor check {1000 * big["refetch"]["cursor_s"]:.1f} ms (median
of 3; what a triage run starts with); listing the whole Maildir and comparing it with the cache
{1000 * big["refetch"]["listing_s"]:.0f} ms ({big["refetch"]["read"]:.0f} files opened), the
cost when the cursor changed; the share below compares the listing with the first triage.

"""
    return text + table(["target", "measured", ""], targets) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="messages in the Maildir")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    parser.add_argument("--big", type=int, default=100_000, help="large run (0: none)")
    parser.add_argument(
        "--maildir", type=Path, help="use this Maildir of --n generated messages, read only"
    )
    parser.add_argument(
        "--big-maildir", type=Path, help="use this Maildir of --big generated messages, read only"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="side-by-side-") as tmp:
        work = Path(tmp)
        maildir = args.maildir.resolve() if args.maildir else work / "Maildir"
        if not args.maildir:
            log(f"generating {args.n:,} messages")
            generate_maildir(maildir, args.n)
        runs = side_by_side(maildir, work, args.rounds)
        if not args.maildir:
            shutil.rmtree(maildir)
        big = None
        if args.big:
            large = args.big_maildir.resolve() if args.big_maildir else work / "Big"
            if not args.big_maildir:
                log(f"generating {args.big:,} messages")
                generate_maildir(large, args.big)
            big = _ours(large, work)
            log(f"{args.big:,}: {big['wall']:.1f} s, {big['rss_mib']:.0f} MiB")
            big["n"] = args.big
            big["refetch"] = refetch(large, big.pop("home"))
    print(markdown(args.n, runs, big))
    return 0


if __name__ == "__main__":
    sys.exit(main())
