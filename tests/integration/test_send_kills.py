"""Kills inside the SMTP exchange: the command dies mid-send, and the next run says what it finds.

Every kill is a real SIGKILL of the `smart-inbox` process while it talks to a real SMTP server:
either the process kills itself right after recording a stage of the exchange
(`SMART_INBOX_CRASH_AT_SEND_STAGE`), or the server kills it at one of its commands (before
the data, after the data but before its 250, after the 250), while other sends of the same
run are wherever they happen to be. After each kill, the next run shows a card per
interrupted call, and the tests check it against what the server really received:

- a message the card calls "not sent" never reached the server; one it calls delivered did;
- the card says where it looked (Sent) and how far the exchange got;
- without a decision nothing is sent again; a rejection sends nothing; an acceptance sends
  the same message again, with the same Message-ID, so deliveries per Message-ID only grow
  when the person accepted a card that said what was found.
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from graph.policy import ApprovalPolicy, policy_path, save_policy
from memory.ledger import CRASH_AT_SEND_STAGE
from tests.fakes.smtp_server import SmtpCommand, SmtpSink
from tests.integration.cli_runner import ROOT, cli_env, run_cli
from tests.unit.conftest import write_script

pytestmark = pytest.mark.integration

ME = "dana@northwind.example"
VERDICTS = {
    "it was delivered.": "delivered",
    "it was delivered there.": "delivered",
    "it was most likely delivered.": "likely",
    "it may or may not have been delivered.": "maybe",
    "it was not sent.": "not_sent",
    "it was not delivered.": "not_sent",
}
"""How a card ends its sentence about one message, and what that sentence claims."""
CARD_LINE = re.compile(r"^- Message-ID `<(?P<id>[^`]+)>` to (?P<to>[^:]+): (?P<text>.+)$", re.M)


@dataclass
class ServerKill:
    """Kill the running command when the server handles its `occurrence`-th `command`."""

    process: subprocess.Popen[str] | None = None
    command: SmtpCommand | None = None
    occurrence: int = 1
    seen: int = 0

    def on_command(self, command: SmtpCommand) -> None:
        if self.process is None or command != self.command:
            return
        self.seen += 1
        if self.seen == self.occurrence:
            self.process.kill()
            self.process.wait(timeout=30)
            self.command = None


@dataclass
class Sink:
    """One SMTP server for the whole module, with the kill its hook carries out."""

    server: SmtpSink
    kill: ServerKill = field(default_factory=ServerKill)


@pytest.fixture(scope="module")
def sink() -> Iterator[Sink]:
    kill = ServerKill()
    with SmtpSink(on_command=lambda command: kill.on_command(command)) as server:
        yield Sink(server, kill)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A data directory where `send_email` runs without asking (level 2)."""
    save_policy(policy_path(tmp_path), ApprovalPolicy(tools={"send_email": 2}))
    return tmp_path


def env_for(sink: Sink, **extra: str) -> dict[str, str]:
    return {"SMTP_URL": sink.server.url, "SMART_INBOX_USER_EMAILS": ME, **extra}


def run_killed(sink: Sink, home: Path, env: dict[str, str], *args: str) -> None:
    """Run the command until it is killed (by itself or by the server), and check it was."""
    process = subprocess.Popen(
        [sys.executable, "-m", "ui.cli", *args, "--json"],
        cwd=ROOT,
        env=cli_env(home, env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    sink.kill.process = process
    try:
        _, stderr = process.communicate(timeout=120)
    finally:
        sink.kill.process, sink.kill.command, sink.kill.seen = None, None, 0
    assert process.returncode == -9, f"not killed (exit {process.returncode}):\n{stderr}"


def resume(home: Path, env: dict[str, str], thread: str, *decision: str) -> dict[str, Any]:
    import json

    result: dict[str, Any] = json.loads(
        run_cli(home, "resume", "--thread", thread, *decision, "--json", env=env).stdout
    )
    return result


@dataclass(frozen=True)
class Finding:
    """What a card says about one message."""

    message_id: str
    to: str
    text: str
    verdict: str


def findings(card: dict[str, Any]) -> list[Finding]:
    """Each message a card talks about, with the verdict its sentence ends on (exactly one)."""
    found = []
    for match in CARD_LINE.finditer(card["description"]):
        text = match["text"]
        verdicts = {verdict for ending, verdict in VERDICTS.items() if ending in text}
        assert len(verdicts) == 1, f"no single verdict in: {text}"
        found.append(Finding(match["id"], match["to"], text, verdicts.pop()))
    return found


def sent_folder_ids(home: Path) -> set[str]:
    folder = home / "inbox" / ".Sent"
    ids = set()
    for path in [*folder.glob("cur/*"), *folder.glob("new/*")]:
        match = re.search(r"(?mi)^Message-ID:\s*<([^>]+)>", path.read_text("utf-8", "replace"))
        if match:
            ids.add(match[1])
    return ids


def check_cards(sink: Sink, home: Path, cards: list[dict[str, Any]]) -> dict[str, Finding]:
    """Every card's claims agree with the server and the Sent folder; returns them by id."""
    in_sent = sent_folder_ids(home)
    by_id: dict[str, Finding] = {}
    for card in cards:
        assert [f["kind"] for f in card["flags"]] == ["unknown_outcome"]
        for finding in findings(card):
            received = sink.server.deliveries(finding.message_id)
            if finding.verdict == "not_sent":
                assert received == 0, f"called not sent, but the server has it: {finding}"
            if finding.verdict == "delivered":
                assert received >= 1, f"called delivered, but the server never had it: {finding}"
            if finding.message_id in in_sent:
                assert "is in your Sent folder" in finding.text, finding
            else:
                assert "No copy in Sent." in finding.text, finding
            by_id[finding.message_id] = finding
    return by_id


def counts(sink: Sink, ids: Iterator[str] | list[str] | set[str]) -> dict[str, int]:
    return {message_id: sink.server.deliveries(message_id) for message_id in ids}


def nothing_more_arrives(sink: Sink, before: dict[str, int], wait: float = 0.5) -> None:
    time.sleep(wait)
    assert counts(sink, before) == before


# -- one send, killed by itself at each stage in turn -------------------------------------------

STAGE_CARDS = [
    ("prepared", "not_sent", "before its session with the mail server was ready"),
    ("envelope", "not_sent", "after connecting, while naming the sender and recipients"),
    ("data", "maybe", "while the message was being transmitted"),
    ("data_sent", "likely", "its answer (250) was received"),
    ("accepted", "delivered", "The server accepted it (answered 250)"),
    ("copied", "delivered", "is in your Sent folder"),
]
"""(the stage the process dies at, the card's verdict, what the card says) — each retry gets
further, so the card describes the stage of the latest kill."""


def test_one_send_killed_at_every_stage_is_retried_only_when_accepted(
    sink: Sink, home: Path
) -> None:
    """Six kills of the same send, one per stage; each accepted retry carries the same id."""
    env, thread = env_for(sink), "one-send"
    ask = ("ask", "send an email to lena@partner.example saying the contract is signed")
    run_killed(
        sink, home, {**env, CRASH_AT_SEND_STAGE: STAGE_CARDS[0][0]}, *ask, "--thread", thread
    )
    message_id = ""
    for n, (_, verdict, says) in enumerate(STAGE_CARDS):
        asked = resume(home, env, thread)
        [card] = asked["pending"]
        [finding] = check_cards(sink, home, [card]).values()
        assert (finding.verdict, finding.to) == (verdict, "lena@partner.example"), finding
        assert says in finding.text, finding
        if n:
            assert f"({n + 1} attempts began" in finding.text
        message_id = message_id or finding.message_id
        assert finding.message_id == message_id, "one Message-ID for every attempt"
        before = counts(sink, [message_id])
        nothing_more_arrives(sink, before, wait=0.2)
        if n + 1 < len(STAGE_CARDS):
            next_stage = STAGE_CARDS[n + 1][0]
            crash = {**env, CRASH_AT_SEND_STAGE: next_stage}
            run_killed(sink, home, crash, "resume", "--thread", thread, "--accept")
    # Attempts that got to the data sent it: data_sent, accepted and copied.
    assert sink.server.deliveries(message_id) == 3
    done = resume(home, env, thread, "--reject")
    assert [e["status"] for e in done["executed"]] == ["unknown"]
    assert "May have happened" in done["answer"]
    nothing_more_arrives(sink, {message_id: 3})


# -- three sends at once, killed by the server and then by itself -------------------------------

SERVER_KILLS: list[SmtpCommand] = ["MAIL", "RCPT", "DATA", "QUIT"]
RETRY_KILLS = ["prepared", "envelope", "data", "data_sent", "accepted"]
"""Stages every retried send goes through (a retry keeps no second Sent copy, so not `copied`)."""


def three_sends(home: Path, seed: int) -> tuple[str, list[str]]:
    """A scripted turn proposing three sends; the request that asks for them, and the recipients."""
    to = [f"{name}{seed}@partner.example" for name in ("ana", "ben", "cy")]
    write_script(
        home / "three.jsonl",
        [
            {
                "tool_calls": [
                    {
                        "name": "send_email",
                        "args": {"to": address, "subject": f"Note {n}", "body": f"note {n}"},
                    }
                    for n, address in enumerate(to, 1)
                ]
            }
        ],
    )
    return f"send {', '.join(to)} a note each", to


@pytest.mark.parametrize("seed", range(7))
def test_three_sends_killed_at_random_points_are_each_described_truly(
    sink: Sink, home: Path, seed: int
) -> None:
    """Two kills per seed: by the server at one of its commands, then by the process itself.

    The seeds go round every server command and every retry stage; which of the three
    concurrent sends the server kill lands on, and where the others are then, is chance.
    Odd seeds end with a rejection, even ones with an acceptance.
    """
    rng = random.Random(seed)
    text, recipients = three_sends(home, seed)
    env, thread = env_for(sink), f"three-{seed}"
    model = ("--model", f"replay:{home / 'three.jsonl'}")
    sink.kill.command = SERVER_KILLS[seed % len(SERVER_KILLS)]
    sink.kill.occurrence = rng.randint(1, 3)
    run_killed(sink, home, env, "ask", text, "--thread", thread, *model)

    accepted: dict[str, int] = {}
    ids_by_recipient: dict[str, str] = {}
    for kill in (RETRY_KILLS[seed % len(RETRY_KILLS)], None):
        asked = resume(home, env, thread, *model)
        found = check_cards(sink, home, asked["pending"])
        assert found, "a killed send is always asked about"
        for finding in found.values():
            # The same recipient's message keeps its Message-ID from attempt to attempt.
            assert ids_by_recipient.setdefault(finding.to, finding.message_id) == (
                finding.message_id
            )
        before = counts(sink, found)
        nothing_more_arrives(sink, before, wait=0.2)
        if kill is not None:
            crash = {**env, CRASH_AT_SEND_STAGE: kill}
            run_killed(sink, home, crash, "resume", "--thread", thread, "--accept", *model)
            for message_id in found:
                accepted[message_id] = accepted.get(message_id, 0) + 1
            continue
        asked_about = {finding.to for finding in found.values()}
        if seed % 2:
            done = resume(home, env, thread, "--reject", *model)
            nothing_more_arrives(sink, before)
        else:
            done = resume(home, env, thread, "--accept", *model)
            for message_id in found:
                accepted[message_id] = accepted.get(message_id, 0) + 1
            after = {m: n + 1 for m, n in before.items()}
            assert counts(sink, found) == after, "each accepted card sends its message once more"
        statuses = {e["args"]["to"]: e["status"] for e in done["executed"]}
        assert statuses == {
            address: ("unknown" if seed % 2 and address in asked_about else "ok")
            for address in recipients
        }
    for address in recipients:
        ids = {
            str(m.message["Message-ID"]).strip("<>")
            for m in sink.server.messages
            if m.rcpt_tos == [address]
        }
        assert len(ids) <= 1, f"{address} got different messages: {ids}"
        for message_id in ids:
            # A copy beyond the first only when the person accepted a card about it.
            assert sink.server.deliveries(message_id) <= 1 + accepted.get(message_id, 0)
