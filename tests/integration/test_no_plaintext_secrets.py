"""No credential reaches the disk or the terminal in the clear.

Secrets are stored through the command line, rotated, read back by a process logging at DEBUG,
and used: a reply is sent through a real SMTP server that demands the stored password, and a chat
turn runs on the Groq engine (a local server speaking its API) with the stored key, so
checkpoints, the audit log and the logs exist; then every file of the data directory (the key
file excepted) and everything the commands printed is searched for each secret in the forms it
could take: UTF-8, UTF-16, JSON escapes, hex and base64 at any alignment.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from memory.keys import KEY_FILE
from tests.fakes.groq_server import FakeGroqServer, completion
from tests.fakes.smtp_server import SmtpSink
from tests.integration.cli_runner import ROOT, cli_env, run_cli

pytestmark = pytest.mark.integration

# Shaped so that no redaction pattern would hide a leak: the search must find them raw.
SECRETS = {
    "jira.api_token": "CANARY-jira-7Qz1-Tq93-c1e9",
    "slack.bot_token": "CANARY-slack-Mw4k-22Pz-a0b7",
    "imap.password:dana@imap.northwind.example": "Kanarienvögel-Ωmega-0815-päss",
    "webhook.secret:deploy": "CANARY-hook-9f3e-0c2d-4aa1",
    # SMTP AUTH in smtplib is ASCII only.
    "smtp.password:dana@northwind.example@127.0.0.1": "CANARY-smtp-Xw2r-68Kd-f3a0",
    "groq.api_key": "CANARY-groq-Lp7n-35Vc-d8e6",
}
ME = "dana@northwind.example"

READER = """
import hashlib, json, logging, os, sys
logging.basicConfig(level=logging.DEBUG, filename=sys.argv[1])
# SQLAlchemy keeps its own loggers quiet unless asked: ask, so every statement, its parameters
# and the rows it returns are logged too.
logging.getLogger("sqlalchemy.engine").setLevel(logging.DEBUG)
from memory.vault import secret
expected = json.loads(os.environ["EXPECTED_DIGESTS"])
for name, digest in expected.items():
    value = secret(name, "UNSET_VARIABLE_FOR_THIS_TEST")
    assert value is not None, name
    assert hashlib.sha256(value.encode()).hexdigest() == digest, name
print(f"read {len(expected)} credentials")
"""


def forms(secret: str) -> dict[str, bytes]:
    """The byte strings that would give `secret` away, whatever encoded it."""
    raw = secret.encode("utf-8")
    found = {
        "utf-8": raw,
        "utf-16-le": secret.encode("utf-16-le"),
        "utf-16-be": secret.encode("utf-16-be"),
        "json-escaped": json.dumps(secret)[1:-1].encode("ascii"),
        "hex": raw.hex().encode("ascii"),
    }
    for shift in range(3):
        # Base64 of the secret starting at byte `shift` of a 3-byte group: keep only the
        # characters made from the secret's bits alone.
        padded = bytes(shift) + raw
        whole = len(padded) // 3 * 4
        skip = (0, 2, 3)[shift]
        for alphabet, encode in (
            ("base64", base64.b64encode),
            ("base64url", base64.urlsafe_b64encode),
        ):
            found[f"{alphabet}+{shift}"] = encode(padded)[skip:whole]
    return found


def find_plaintext(root: Path, secrets: dict[str, str]) -> list[tuple[str, str, str]]:
    """(file, credential name, form) for every secret found in a file under `root`."""
    hits = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.name == KEY_FILE:
            continue
        content = path.read_bytes()
        for name, value in secrets.items():
            for form, needle in forms(value).items():
                if needle in content:
                    hits.append((str(path.relative_to(root)), name, form))
    return hits


def find_in_output(outputs: list[str], secrets: dict[str, str]) -> list[tuple[int, str, str]]:
    hits = []
    for number, text in enumerate(outputs):
        data = text.encode("utf-8")
        for name, value in secrets.items():
            hits.extend(
                (number, name, form) for form, needle in forms(value).items() if needle in data
            )
    return hits


@pytest.mark.parametrize(
    "encode",
    [
        lambda s: ("log line: token=" + s + "\n").encode(),
        lambda s: ("prefix " + s).encode("utf-16-le"),
        lambda s: ("prefix " + s).encode("utf-16-be"),
        lambda s: json.dumps({"token": s}).encode(),
        lambda s: base64.b64encode(b"a" + s.encode()),
        lambda s: base64.b64encode(b"ab" + s.encode()),
        lambda s: base64.urlsafe_b64encode(b"user:" + s.encode()),
        lambda s: b"\x00\x01" + s.encode().hex().encode(),
    ],
    ids=["utf-8", "utf-16-le", "utf-16-be", "json", "b64+1", "b64+2", "b64url", "hex"],
)
def test_the_search_finds_a_planted_secret(tmp_path: Path, encode: Callable[[str], bytes]) -> None:
    value = SECRETS["imap.password:dana@imap.northwind.example"]
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "planted.log").write_bytes(b"noise " + encode(value) + b" noise")
    (tmp_path / KEY_FILE).write_text(value)
    hits = find_plaintext(tmp_path, SECRETS)
    assert {file for file, _name, _form in hits} == {"logs/planted.log"}, "the key file is skipped"
    assert {name for _file, name, _form in hits} == {"imap.password:dana@imap.northwind.example"}


def test_the_search_finds_a_printed_secret() -> None:
    value = SECRETS["jira.api_token"]
    assert (1, "jira.api_token", "utf-8") in find_in_output(["", f"DEBUG x: {value}"], SECRETS)
    assert find_in_output(["nothing here"], SECRETS) == []


def test_no_secret_is_on_disk_or_printed(tmp_path: Path) -> None:
    home = tmp_path
    logs = home / "logs"
    logs.mkdir()
    outputs: list[str] = []

    def cli(
        *args: str, stdin: str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        result = run_cli(home, "-vv", *args, stdin=stdin, env=env)
        outputs.extend((result.stdout, result.stderr))
        (logs / f"{len(outputs) // 2:02d}-{args[0]}.log").write_text(result.stderr)
        return result

    for name, value in SECRETS.items():
        cli("credentials", "set", name, "--stdin", stdin=value + "\n")
    cli("credentials", "list")
    listed = json.loads(cli("credentials", "list", "--json").stdout)
    assert [row["name"] for row in listed] == sorted(SECRETS)
    cli("credentials", "rotate-key")
    # Set one again after the rotation, so the newest key encrypted a value too.
    name, value = next(iter(SECRETS.items()))
    cli("credentials", "set", name, "--stdin", stdin=value + "\n")

    cli("triage", "--model", "rules")
    smtp_password = SECRETS["smtp.password:dana@northwind.example@127.0.0.1"]
    with SmtpSink(auth={ME: smtp_password}) as sink:
        sending = {
            "SMTP_URL": f"smtp://dana%40northwind.example@{sink.host}:{sink.port}",
            "SMART_INBOX_USER_EMAILS": ME,
            "MODEL": "rules",
        }
        reply = "reply to the meeting request from Sofia and say Thursday works"
        asked = json.loads(cli("ask", reply, "--json", env=sending).stdout)
        thread = asked["thread_id"]
        sent = json.loads(
            cli("resume", "--thread", thread, "--accept", "--json", env=sending).stdout
        )
        assert ("reply_to_email", "ok") in [(e["action"], e["status"]) for e in sent["executed"]]
        [received] = sink.wait_for(1)
    assert received.authenticated_as == ME, "the stored SMTP password logged in"

    groq = FakeGroqServer(api_key=SECRETS["groq.api_key"]).start()
    try:
        groq.script(
            completion(tool_calls=[("list_inbox", {"category": "billing"})]),
            completion("I have what I need."),
            completion("Nothing is overdue [msg:no-such-message@example.com]."),
            completion("Nothing is overdue [msg:no-such-message@example.com]."),
        )
        # No MODEL and no GROQ_API_KEY: the default engine finds the stored key.
        chat = cli(
            "ask",
            "any invoices?",
            "--thread",
            "vault-check",
            "--json",
            env={"GROQ_BASE_URL": groq.base_url},
        )
    finally:
        groq.stop()
    turn = json.loads(chat.stdout)
    assert turn["answer"], "the chat turn ran"
    assert groq.unused_responses == 0 and len(groq.requests) == 4, "on the Groq engine"
    assert all(request.authorized for request in groq.requests), "with the stored key"
    assert "groq._base_client: Request options" in chat.stderr, "the Groq client logged at DEBUG"
    assert "read credential smtp.password:" in "".join(outputs), "the password came from the vault"
    assert json.loads(cli("audit", "--json").stdout), "the audit log has rows"

    reader = subprocess.run(
        [sys.executable, "-c", READER, str(logs / "reader-debug.log")],
        cwd=ROOT,
        env=cli_env(
            home,
            {
                "EXPECTED_DIGESTS": json.dumps(
                    {n: hashlib.sha256(v.encode()).hexdigest() for n, v in SECRETS.items()}
                )
            },
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    outputs.extend((reader.stdout, reader.stderr))
    assert reader.returncode == 0, reader.stderr
    assert reader.stdout.strip() == f"read {len(SECRETS)} credentials"

    searched = {p.name for p in home.rglob("*") if p.is_file()}
    assert {"app.db", "checkpoints.db", "reader-debug.log", KEY_FILE} <= searched
    reader_log = (logs / "reader-debug.log").read_text()
    assert "read credential jira.api_token" in reader_log, "the reader logged at DEBUG"
    assert "FROM credential" in reader_log, "with every SQL statement and row"
    assert any("DEBUG" in text for text in outputs), "the commands logged at DEBUG"

    assert find_plaintext(home, SECRETS) == []
    assert find_in_output(outputs, SECRETS) == []
